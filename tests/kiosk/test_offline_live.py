"""The kiosk's offline path against the real server (a subprocess): a paused server, a kiosk
restart with a real-name ticket in its outbox, and what a phone sees after sync."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from kiosk.core.api import HttpApi
from kiosk.core.app import KioskCore
from kiosk.core.settings import KioskSettings
from tests.support import LiveServer, make_token

from .conftest import ELDER, FakePrinter

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, str]]:
    db = tmp_path_factory.mktemp("kiosk-offline") / "hall.db"
    live = LiveServer(db)
    try:
        yield live, make_token(db, "kiosk"), make_token(db, "admin")
    finally:
        os.kill(live.proc.pid, signal.SIGCONT)
        live.stop()


def make_core(
    server: tuple[LiveServer, str, str], outbox: Path, printer: Any = None, timeout: float = 4.0
) -> KioskCore:
    live, token, _ = server
    core = KioskCore(
        HttpApi(live.url, token, timeout=(timeout, timeout)),
        KioskSettings(server=live.url, token=token, outbox_path=str(outbox)),
        printer=printer or FakePrinter(),
    )
    assert core.syncer.step(), "the kiosk cannot reach the server"
    return core


def server_tickets(server: tuple[LiveServer, str, str], service: str) -> list[dict[str, Any]]:
    live, _, admin = server
    r = requests.get(
        f"{live.url}/api/v1/tickets",
        params={"status": "waiting", "service": service},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=10,
    )
    r.raise_for_status()
    return list(r.json())


def test_a_paused_server_that_commits_late_calls_the_printed_number(
    server: tuple[LiveServer, str, str], tmp_path: Path
) -> None:
    core = make_core(server, tmp_path / "outbox.db", timeout=1.0)
    service = next(s for s in core.state.snap.services if s.code == "QYKB")
    before = len(server_tickets(server, "QYKB"))
    pid = server[0].proc.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        printed = core.issuer.issue("tap-paused", service)  # times out: a leased number
    finally:
        os.kill(pid, signal.SIGCONT)
    assert printed.offline
    # The server wakes up and commits the request the kiosk gave up on, with its own number.
    for _ in range(200):
        if len(server_tickets(server, "QYKB")) > before:
            break
        time.sleep(0.05)
    core.syncer.step()
    waiting = server_tickets(server, "QYKB")
    numbers = [t["number"] for t in waiting]
    assert printed.number in numbers
    assert len(waiting) == before + 1  # one ticket for one tap, under the printed number
    row = core.outbox.get("tap-paused")
    assert row is not None and row.status == "synced" and row.server_number == printed.number


def test_an_offline_real_name_ticket_survives_a_kiosk_restart(
    server: tuple[LiveServer, str, str], tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.db"
    core = make_core(server, outbox)
    core.state.mark_offline()  # the network is cut
    service = next(s for s in core.state.snap.services if s.code == "HJ")
    printed = core.issuer.issue("tap-card", service, ELDER)
    assert printed.offline
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("outbox.db*"))
    assert ELDER.id_number.encode() not in raw and ELDER.name.encode() not in raw
    assert ELDER.id_number[-6:].encode() not in raw
    del core  # the kiosk restarts: a new process finds only the outbox file

    again = make_core(server, outbox)
    counts = again.outbox.counts()
    assert counts["synced"] == 1 and counts["rejected"] == 0, again.outbox.tickets()
    on_server = {t["number"]: t for t in server_tickets(server, "HJ")}
    assert on_server[printed.number]["name_masked"] == "欧阳**"
    assert on_server[printed.number]["priority"] == "elderly"


def test_an_offline_ticket_is_in_the_outbox_before_it_is_printed(
    server: tuple[LiveServer, str, str], tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.db"
    seen: list[list[str]] = []

    class Watching(FakePrinter):
        def print_ticket(self, ticket: Any) -> Any:
            from kiosk.core.outbox import Outbox

            seen.append([t.number for t in Outbox(outbox).pending()])  # another process's view
            return super().print_ticket(ticket)

    core = make_core(server, outbox, printer=Watching())
    core.flow.refresh()
    core.state.mark_offline()
    core.flow.tap("service:SW", core.flow.screen.gen)
    assert core.flow.screen.name == "ticket"
    assert seen == [[core.flow.screen.big]]


def test_an_offline_qr_code_opens_the_ticket_page_after_sync(
    server: tuple[LiveServer, str, str], tmp_path: Path
) -> None:
    core = make_core(server, tmp_path / "outbox.db")
    core.state.mark_offline()
    service = next(s for s in core.state.snap.services if s.code == "SW")
    printed = core.issuer.issue("tap-qr", service)
    assert "/t/offline-" in printed.qr
    assert core.syncer.step()
    page = requests.get(printed.qr, timeout=10)
    assert page.status_code == 200 and printed.number in page.text
