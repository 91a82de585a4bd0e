"""End to end: the real server's background uploader, a failing platform, and a kill -9."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.admin.helpers import FakeProvince
from tests.support import LiveServer, make_token

pytestmark = pytest.mark.e2e


def _wait(pred, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


def test_background_upload_survives_kill9_and_a_failing_platform(tmp_path):
    db = tmp_path / "hall.db"
    admin = make_token(db, "admin")
    a = {"Authorization": f"Bearer {admin}"}
    ev = {"Authorization": f"Bearer {make_token(db, 'evaluator', 11)}"}
    province = FakeProvince()
    province.failing = True
    server = LiveServer(db)
    try:
        cfg = httpx.get(f"{server.url}/api/v1/admin/config", headers=a).json()["config"]
        cfg["upload"].update(endpoint=province.url, backoff_base_s=0.5, backoff_max_s=1)
        assert (
            httpx.put(
                f"{server.url}/api/v1/admin/config", json={"config": cfg}, headers=a
            ).status_code
            == 200
        )
        ids = []
        for level in (5, 2):
            t = httpx.post(f"{server.url}/api/v1/tickets", json={"service": "SW"}, headers=a).json()
            httpx.post(f"{server.url}/api/v1/windows/11/call-next", headers=a)
            httpx.post(f"{server.url}/api/v1/tickets/{t['id']}/finish", headers=a)
            body = {"ticket_id": t["id"], "level": level, "reasons": ["long_wait"]}
            r = httpx.post(f"{server.url}/api/v1/evaluations", json=body, headers=ev)
            assert r.status_code == 201
            ids.append(t["number"])
        assert _wait(lambda: len(province.requests) >= 4)  # it keeps trying
        assert province.records == {}
        server.kill9()
        province.failing = False
        server = LiveServer(db)
        assert _wait(lambda: len(province.records) == 2)
        assert sorted(r["ticket_number"] for r in province.records.values()) == sorted(ids)
        q = httpx.get(f"{server.url}/api/v1/admin/uploads", headers=a).json()
        assert q["summary"] == {"pending": 0, "sent": 2, "retrying": 0}
    finally:
        server.stop()
        province.close()
