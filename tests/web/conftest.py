"""Fixtures for the web pages: a real queue server subprocess and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.serverproc import HallServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM = os.environ.get("HALL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def id_number(seq: int, birth: str = "19800101", region: str = "440203") -> str:
    """A valid resident ID number (GB 11643-1999 check character) for test tickets."""
    body = f"{region}{birth}{seq % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(a) * w for a, w in zip(body, weights, strict=True)) % 11]


class LiveServer(HallServer):
    """`hall server --db TMP --port 0` as a subprocess (bench/serverproc.py), with the demo
    accounts' tokens; `stop()` then `start()` brings it back on the same port."""

    def __init__(self, db: Path, tokens: dict[str, str] | None = None) -> None:
        super().__init__(db)
        self.tokens = tokens or {}
        self._seq = 0

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=10)

    def login(self, username: str, password: str = "Staff1234", window: int | None = None) -> str:
        body: dict[str, object] = {"username": username, "password": password}
        if window is not None:
            body["window"] = window
        with self.api() as c:
            r = c.post("/login", json=body)
            r.raise_for_status()
            return str(r.json()["token"])

    def issue(self, service: str = "SW", **extra: object) -> dict[str, object]:
        """Issue a ticket from the kiosk (real-name services get a fresh valid ID number)."""
        body: dict[str, object] = {"service": service, "channel": "kiosk", **extra}
        if service in ("HJ", "SB", "YB", "BDC", "GJJ", "CRJ") and "id_card" not in body:
            self._seq += 1
            body["id_card"] = {"id_number": id_number(self._seq), "name": "张三"}
        with self.api(self.tokens["kiosk"]) as c:
            r = c.post("/tickets", json=body)
            assert r.status_code == 201, r.text
            return dict(r.json())


def _start_server(tmp: Path) -> LiveServer:
    from hallcli.demo import seed

    db = tmp / "hall.db"
    tokens = seed(db)
    server = LiveServer(db, tokens=tokens)
    server.start()
    return server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = _start_server(tmp_path_factory.mktemp("web-server"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of one's own, for tests that stop and restart it."""
    server = _start_server(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def pw() -> Iterator[Any]:
    """Playwright driving Debian's Chromium. Missing Chromium is a failure, never a skip:
    `./hall` installs it (apt-get install chromium) when run as root."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium "
            "(run ./hall as root, or apt-get install chromium; HALL_CHROMIUM=path overrides)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def launch(pw: Any, *extra: str) -> Any:
    return pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra])


@pytest.fixture(scope="module")
def browser(pw: Any) -> Iterator[Any]:
    """Chromium as the display runs in kiosk mode: sound may play without a click."""
    b = launch(pw, "--autoplay-policy=no-user-gesture-required")
    try:
        yield b
    finally:
        b.close()
