"""The LED bridge: which strip shows what after each event, and the whole path from a real
server's event stream to the strips, with the bus's health in the device heartbeat."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drivers.led import (
    TEMPLATES,
    LedBridge,
    LedEmulator,
    LedTexts,
    open_led_bus,
    sse_events,
)
from hallcli import device
from tests.web.conftest import LiveServer, _start_server


def _until(cond: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_texts_follow_calls_pauses_and_the_window_address_map() -> None:
    texts = LedTexts(addresses={3: 12}, idle_text="欢迎")
    call = {"id": 7, "number": "A023", "window": 3}
    assert texts.for_event("ticket.called", call) == [(12, "A023 请到3号窗口")]
    assert texts.for_event("ticket.recalled", call) == [(12, "A023 请到3号窗口")]
    assert texts.for_event("ticket.finished", {"id": 8, "window": 3}) == []  # not its ticket
    assert texts.for_event("ticket.skipped", {"id": 7}) == [(12, "欢迎")]
    assert texts.for_event("window.paused", {"no": 5, "status": "paused"}) == [(5, "暂停服务")]
    resumed = {"no": 5, "status": "open", "current": None}
    assert texts.for_event("window.resumed", resumed) == [(5, "欢迎")]
    assert texts.for_event("ticket.issued", {"id": 9, "number": "A024"}) == []


def test_transfer_clears_the_strip_only_with_an_idle_text() -> None:
    texts = LedTexts()
    texts.for_event("ticket.called", {"id": 1, "number": "B001", "window": 2})
    assert texts.for_event("ticket.transferred", {"id": 1, "window": None}) == []
    assert texts.current == {}


def test_snapshot_shows_every_window_as_it_is() -> None:
    windows = [
        {"no": 1, "status": "open", "current": {"id": 4, "number": "A004"}},
        {"no": 2, "status": "paused", "current": None},
        {"no": 3, "status": "open", "current": None},
    ]
    assert LedTexts().for_snapshot(windows) == [(1, "A004 请到1号窗口"), (2, "暂停服务")]


def test_sse_lines_become_events() -> None:
    lines = ["retry: 2000", ": connected", "", "id: 5", "event: ticket.called", 'data: {"a":1}', ""]
    assert list(sse_events(lines)) == [("5", "ticket.called", '{"a":1}')]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = _start_server(tmp_path_factory.mktemp("led-bridge"))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.e2e
def test_bridge_shows_calls_and_pauses_on_the_strips_and_reports_health(
    server: LiveServer,
) -> None:
    template = TEMPLATES["cnqs"]
    staff = server.login("staff02", window=2)
    with server.api(staff) as c:  # a state from before the bridge starts: resync shows it
        assert c.post("/windows/2/pause").status_code == 200
    with LedEmulator(template) as emu:
        bus = open_led_bus(emu.url, template).start()
        bridge = LedBridge(server.url, server.tokens["display"], bus, LedTexts(addresses={1: 21}))
        runner = threading.Thread(target=bridge.run, daemon=True)
        runner.start()
        try:
            assert emu.wait_for(lambda e: e.screens.get(2) == "暂停服务", timeout=15)
            assert _until(lambda: bridge.online)
            ticket = server.issue("SB")
            staff1 = server.login("staff01", window=1)
            with server.api(staff1) as c:
                r = c.post("/windows/1/call-ticket", json={"ticket_id": ticket["id"]})
                assert r.status_code == 200, r.text
            want = f"{ticket['number']} 请到1号窗口"
            assert emu.wait_for(lambda e: e.screens.get(21) == want, timeout=15)
            with server.api(staff) as c:
                assert c.post("/windows/2/resume").status_code == 200
            admin = server.login("admin", "Admin1234")

            def reported() -> dict | None:
                with server.api(admin) as c:
                    rows = c.get("/devices").json()
                return next((r for r in rows if "led" in r["health"]), None)

            # the first report may come before the bus has opened its port ("not started"):
            # the next one, sent as soon as the health changes, says the bus is up
            def led_ok() -> bool:
                row = reported()
                return row is not None and row["health"]["led"]["status"] == "ok"

            assert _until(led_ok)
            row = reported()
            assert row is not None and row["device"] == "display-1"
            assert row["health"]["led"]["status"] == "ok"
            assert row["state"]["page"] == "led-bridge"
        finally:
            bridge.stop()
            bus.stop()
            # stop() ends the wait for the next event at once (the server's keep-alive is 15 s)
            runner.join(10)
        assert not runner.is_alive()


def test_bridge_health_shows_a_dead_bus_in_the_heartbeat(server: LiveServer) -> None:
    bus = open_led_bus("fake://?fail=1", TEMPLATES["cnqs"], reopen_after=0.01).start()
    bridge = LedBridge(server.url, server.tokens["display"], bus, LedTexts())
    try:
        bus.show(1, "A001")
        assert _until(lambda: bus.health().reason == "write_error")
        with bridge._client() as client:
            bridge.heartbeat(client)
        admin = server.login("admin", "Admin1234")
        with server.api(admin) as c:
            row = next(r for r in c.get("/devices").json() if r["device"] == "display-1")
        assert row["health"]["led"]["status"] == "error"
        assert "写入失败" in row["health"]["led"]["detail"]
    finally:
        bus.stop()


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hall")
    device.register(parser.add_subparsers())
    args = parser.parse_args(["device", *argv])
    return int(args.func(args))


def test_cli_send_writes_one_frame_to_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    with LedEmulator(TEMPLATES["cnqs"]) as emu:
        assert _cli(["led", "send", "--url", emu.url, "--address", "4", "--text", "C004"]) == 0
        assert emu.wait_for(lambda e: e.screens.get(4) == "C004")
    assert capsys.readouterr().out.startswith("ff 68 ")


def test_cli_send_to_a_dead_bus_is_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["led", "send", "--url", "fake://?fail=1", "--address", "4", "--text", "x"]) == 1
    assert "write_error" in capsys.readouterr().err


def test_cli_run_refuses_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from queue_server.base.config import DEMO_CONFIG

    bad = tmp_path / "hall.toml"
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    bad.write_text(text + '\n[led]\nlayout = "FF {addr} {cmd} {text} {check}"\n', encoding="utf-8")
    argv = ["led", "run", "--url", "fake://", "--server", "http://127.0.0.1:9", "--token", "t"]
    assert _cli([*argv, "--config", str(bad)]) == 1
    assert "end bytes" in capsys.readouterr().err


def test_cli_run_with_a_refused_token_is_exit_1(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["led", "run", "--url", "fake://", "--server", server.url, "--token", "not-a-token"]
    assert _cli(argv) == 1
    assert "refused the token" in capsys.readouterr().err
