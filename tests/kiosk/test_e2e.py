"""The kiosk core against the real server (a subprocess), the serial ID card driver talking to
the emulator on a pseudo-terminal, and a file printer whose bytes are decoded back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from drivers.idcard import IdCardEmulator, open_reader
from drivers.idcard.samples import SAMPLES
from drivers.printer import decode, open_printer
from kiosk.core.api import HttpApi
from kiosk.core.app import KioskCore
from kiosk.core.settings import KioskSettings
from tests.support import LiveServer, make_token

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    db = tmp_path_factory.mktemp("kiosk-e2e") / "hall.db"
    live = LiveServer(db)
    try:
        yield live, make_token(db, "kiosk")
    finally:
        live.stop()


def make_core(server: tuple[LiveServer, str], tmp_path: Path, printer: Any) -> KioskCore:
    live, token = server
    core = KioskCore(
        HttpApi(live.url, token),
        KioskSettings(server=live.url, token=token, outbox_path=str(tmp_path / "outbox.db")),
        printer=printer,
    )
    assert core.syncer.step(), "the kiosk cannot reach the server"
    core.flow.refresh()
    return core


def test_card_on_the_reader_to_printed_ticket(
    server: tuple[LiveServer, str], tmp_path: Path
) -> None:
    out = tmp_path / "tickets.bin"
    core = make_core(server, tmp_path, open_printer(f"file://{out}"))
    card = SAMPLES["wangwu"]
    with IdCardEmulator(cards=[card], transport="pty") as emu:
        reader = open_reader(emu.url)
        try:
            core.flow.tap("service:HJ")
            assert core.flow.screen.name == "swipe"
            read = reader.read_card(timeout=3)
            assert read is not None and read.id_number == card.id_number
            core.flow.card(read)
        finally:
            reader.close()
    screen = core.flow.screen
    assert screen.name == "ticket", screen
    number = screen.big
    decoded = decode(out.read_bytes())
    assert any(number in line for line in decoded.text), decoded.text
    assert any("户籍业务" in line for line in decoded.text)
    assert any("王*" in line for line in decoded.text)
    assert not any(card.id_number in line for line in decoded.text)
    assert decoded.qr and decoded.qr[0].startswith(server[0].url)
    assert "老年人优先" in "".join(screen.lines)
    # a rating of the kiosk reaches the server
    core.flow.tap("rate")
    core.flow.tap("level:5")
    core.syncer.step()
    statuses = [r[0] for r in core.outbox.db.execute("SELECT status FROM evaluations").fetchall()]
    assert statuses == ["synced"]
    # and the lookup by card finds the ticket on the server
    core.flow.tap("home")
    core.flow.tap("lookup")
    core.flow.card(card)
    assert [t.title for t in core.flow.screen.tiles] == [number]


def test_qr_lookup_and_heartbeat(server: tuple[LiveServer, str], tmp_path: Path) -> None:
    from drivers.printer import FakePrinter

    printer = FakePrinter()
    core = make_core(server, tmp_path, printer)
    core.flow.tap("service:SW")
    ticket = core.flow.ctx["ticket"]
    core.flow.tap("home")
    core.flow.tap("lookup")
    core.flow.qr(ticket.qr)
    assert [t.title for t in core.flow.screen.tiles] == [ticket.number]
    printer.set_paper("out")
    core.flow.tap("home")
    core.flow.tap("service:SW")
    assert core.flow.screen.notice and core.flow.screen.qr
    body = core.syncer.heartbeat_body()
    assert body["health"]["printer"]["state"] == "error"
    core.syncer.heartbeat()  # accepted by the server


def test_network_cut_issue_restore_every_ticket_synced_once(
    server: tuple[LiveServer, str], tmp_path: Path
) -> None:
    from drivers.printer import FakePrinter

    live, token = server
    core = make_core(server, tmp_path, FakePrinter())
    api = core.api
    assert isinstance(api, HttpApi)
    good = api.api
    api.api = "http://127.0.0.1:9/api/v1"  # the cable is pulled: connection refused
    core.syncer.step()
    assert not core.state.snap.online
    issued: list[tuple[str, str]] = []
    for code, card in [("SW", None), ("QYKB", None), ("SB", SAMPLES["lisi"]), ("SW", None)]:
        core.flow.reset()
        core.flow.tap(f"service:{code}")
        if card is not None:
            core.flow.card(card)
        screen = core.flow.screen
        assert screen.name == "ticket" and not screen.notice, screen
        issued.append((screen.big, core.flow.ctx["ticket"].issued_at))
    assert core.outbox.counts()["pending"] == 4
    api.api = good  # restored
    assert core.syncer.step()
    core.syncer.step()
    assert core.outbox.counts()["pending"] == 0 and core.outbox.counts()["synced"] == 4
    check = HttpApi(live.url, make_token(live.db, "admin"))
    rows = check._call("GET", "/tickets?limit=1000")
    rows = rows["items"] if isinstance(rows, dict) else rows
    for number, issued_at in issued:
        matches = [r for r in rows if r["number"] == number]
        assert len(matches) == 1, (number, matches)
        assert matches[0]["issued_at"][:19] == issued_at[:19]
    # a second sync round sends nothing again
    before = len(rows)
    core.syncer.step()
    after = check._call("GET", "/tickets?limit=1000")
    after = after["items"] if isinstance(after, dict) else after
    assert len(after) == before


@pytest.mark.qt
def test_the_qt_app_with_fake_devices_and_the_real_server(
    qtbot: Any, server: tuple[LiveServer, str], tmp_path: Path
) -> None:
    """Driver threads → Qt bridge → flow → worker thread → printer, as `--simulate` runs it."""
    from kiosk.ui.app import KioskApp

    live, token = server
    settings = KioskSettings(server=live.url, token=token, outbox_path=str(tmp_path / "o.db"))
    urls = {"idcard": "fake://", "printer": "fake://", "camera": "fake://"}
    kiosk = KioskApp(HttpApi(live.url, token), settings, urls, voice=False)
    try:
        qtbot.addWidget(kiosk.window)
        kiosk.window.resize(1080, 1920)
        kiosk.window.show()
        kiosk.start()
        flow = kiosk.core.flow
        qtbot.waitUntil(lambda: "service:CRJ" in kiosk.window.buttons, timeout=10000)
        qtbot.mouseClick(kiosk.window.buttons["service:CRJ"], Qt.MouseButton.LeftButton)
        assert flow.screen.name == "swipe"
        kiosk.devices.place_card(SAMPLES["ouyang"])
        qtbot.waitUntil(lambda: flow.screen.name == "ticket", timeout=10000)
        number = flow.screen.big
        printed = kiosk.devices.printer.decoded()  # type: ignore[union-attr]
        assert any(number in line for line in printed.text)
        ticket = flow.ctx["ticket"]
        qtbot.mouseClick(kiosk.window.buttons["home"], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(kiosk.window.buttons["lookup"], Qt.MouseButton.LeftButton)
        kiosk.devices.show_qr(ticket.qr)
        qtbot.waitUntil(lambda: flow.screen.name == "lookup_result", timeout=10000)
        assert [t.title for t in flow.screen.tiles] == [number]
        qtbot.waitUntil(lambda: kiosk.core.loop is not None, timeout=10000)
    finally:
        kiosk.stop()
