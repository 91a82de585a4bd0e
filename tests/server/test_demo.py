"""`hall demo`: the first command a newcomer runs must start a working hall and say how to use it."""

from __future__ import annotations

import os
import re
import subprocess
import time

import httpx
import pytest

from tests.support import ROOT, hall_cmd

pytestmark = pytest.mark.e2e


def test_demo_starts_a_hall_with_working_pages_and_accounts(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen(
        hall_cmd("demo", "--dir", str(tmp_path), "--port", "0"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(env, PYTHONUNBUFFERED="1"),
    )  # fmt: skip
    out: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if "listening on" in line:
                break
        text = "".join(out)
        base = re.search(r"listening on (http://\S+)", text)
        assert base, text
        url = base.group(1)
        assert "no display" in text  # it says how to see the kiosk instead
        display_token = re.search(r"/display\?access_token=([\w-]+)", text)
        assert display_token, text
        pages = ("/", "/staff", "/display", "/evaluator?window=1", "/window-screen?window=1")
        for page in (*pages, "/admin", "/docs"):
            assert httpx.get(url + page, timeout=10).status_code == 200, page
        assert re.search(r"/window-screen\?window=1&access_token=[\w-]+", text), text
        h = {"Authorization": f"Bearer {display_token.group(1)}"}
        assert len(httpx.get(f"{url}/api/v1/services", headers=h, timeout=10).json()) >= 8
        login = httpx.post(
            f"{url}/api/v1/login", json={"username": "staff01", "password": "Staff1234"}, timeout=30
        )
        assert login.status_code == 200 and login.json()["window"] == 1
        admin = httpx.post(
            f"{url}/api/v1/login", json={"username": "admin", "password": "Admin1234"}, timeout=30
        )
        assert admin.status_code == 200 and admin.json()["role"] == "admin"
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
