"""The keypad bridges against a real queue server: presses call, the LED answers, ratings land."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from drivers.caller import CallerEmulator
from drivers.evaluator import FUNC_REASON, FakeKeypad, KeypadFrame, Score
from hallcli.bridges import (
    NOTHING_WAITING,
    OFFLINE,
    PAUSED,
    RESUMED,
    TELL_STAFF,
    THANKS,
    CallerBridge,
    EvaluatorBridge,
)
from hallcli.demo import DEMO_PASSWORD_ADMIN
from tests.web.conftest import LiveServer, _start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = _start_server(tmp_path_factory.mktemp("keypad-server"))
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def staff1(server: LiveServer) -> str:
    return server.login("staff01", window=1)


class Keypad:
    """The emulated keypad at address 1 and a bridge to window 1."""

    def __init__(self, server_url: str, token: str) -> None:
        self.emulator = CallerEmulator().start()
        self.bridge = CallerBridge(self.emulator.url, server_url, token, window=1).start()
        self.first = self.emulator.wait_display(0, 10)  # the bridge shows the current number

    def press(self, key: str) -> str:
        before = self.emulator.shown_count()
        self.emulator.press(key, addr=1)
        shown = self.emulator.wait_display(before, 15)
        assert shown is not None, f"no answer on the LED after {key}"
        return shown.text

    def stop(self) -> None:
        self.bridge.stop()
        self.emulator.stop()


@pytest.fixture
def keypad(server: LiveServer, staff1: str) -> Iterator[Keypad]:
    pad = Keypad(server.url, staff1)
    try:
        yield pad
    finally:
        pad.stop()


def _drain_window_1(server: LiveServer, token: str) -> None:
    with server.api(token) as c:
        while c.post("/windows/1/call-next").status_code == 200:
            pass


def test_call_recall_skip_finish_on_the_emulated_keypad(
    server: LiveServer, staff1: str, keypad: Keypad
) -> None:
    _drain_window_1(server, staff1)
    first, second = server.issue("SB"), server.issue("SB")
    assert keypad.press("call") == first["number"]
    assert keypad.press("recall") == first["number"]
    assert keypad.press("finish") == f"{first['number']}办结"
    assert keypad.press("call") == second["number"]
    assert keypad.press("evaluate") == "请先办结"
    assert keypad.press("skip") == f"{second['number']}过号"
    assert keypad.press("recall") == "无当前号"
    assert keypad.press("call") == NOTHING_WAITING
    with server.api(staff1) as c:
        assert c.get(f"/tickets/{first['id']}").json()["status"] == "done"
        assert c.get(f"/tickets/{second['id']}").json()["status"] == "no_show"


def test_pause_key_toggles_and_call_while_paused_says_so(
    server: LiveServer, staff1: str, keypad: Keypad
) -> None:
    assert keypad.press("pause") == PAUSED
    server.issue("SB")
    assert keypad.press("call") == PAUSED
    assert keypad.press("pause") == RESUMED
    with server.api(staff1) as c:
        assert c.get("/windows/1").json()["status"] == "open"


def test_a_token_of_another_window_shows_the_status_code(server: LiveServer) -> None:
    other = server.login("staff02", window=2)
    pad = Keypad(server.url, other)
    try:
        assert pad.press("call") == "E403"
    finally:
        pad.stop()


def test_server_down_shows_offline(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pad = Keypad(f"http://127.0.0.1:{port}", "no-server-token")
    try:
        assert pad.first is not None and pad.first.text == OFFLINE
        assert pad.press("call") == OFFLINE
        assert pad.press("pause") == OFFLINE
    finally:
        pad.stop()


def test_the_caller_bridge_reports_health(server: LiveServer, keypad: Keypad) -> None:
    _wait_for(lambda: keypad.bridge.heartbeat.sent >= 1)
    admin = server.login("admin", DEMO_PASSWORD_ADMIN)
    with server.api(admin) as c:
        devices = c.get("/devices").json()
    mine = [d for d in devices if d["device"] == "王芳" and "caller_keypad" in d["health"]]
    assert mine and mine[0]["health"]["caller_keypad"]["state"] == "ok"
    assert mine[0]["state"]["window"] == 1


def _finished_ticket(server: LiveServer, staff: str) -> dict:
    _drain_window_1(server, staff)
    ticket = server.issue("SB")
    with server.api(staff) as c:
        called = c.post("/windows/1/call-next").json()
        assert called["id"] == ticket["id"]
        assert c.post(f"/tickets/{ticket['id']}/finish").status_code == 200
    return ticket


@pytest.fixture
def evaluator(server: LiveServer) -> Iterator[EvaluatorBridge]:
    bridge = EvaluatorBridge("fake://", server.url, server.tokens["evaluator"], window=1)
    bridge.start()
    try:
        _wait_for(lambda: bridge.stream_ok)
        yield bridge
    finally:
        bridge.stop()


def _ratings(server: LiveServer, staff: str, ticket_id: int) -> list[dict]:
    with server.api(staff) as c:
        return [e for e in c.get("/evaluations").json() if e["ticket_id"] == ticket_id]


def test_evaluator_keypad_rating_is_stored(
    server: LiveServer, staff1: str, evaluator: EvaluatorBridge
) -> None:
    ticket = _finished_ticket(server, staff1)
    _wait_for(lambda: evaluator.shown == f"请评价{ticket['number']}")
    keypad = evaluator.keypad
    assert isinstance(keypad, FakeKeypad)
    keypad.press(5, addr=1)
    _wait_for(lambda: evaluator.shown == THANKS)
    (rating,) = _ratings(server, staff1, ticket["id"])
    assert rating["level"] == 5 and rating["channel"] == "window"
    keypad.press(4, addr=1)  # nothing left to rate: the LED says so, nothing is filed
    _wait_for(lambda: evaluator.shown == "无待评价")
    assert len(_ratings(server, staff1, ticket["id"])) == 1
    assert f"请评价{ticket['number']}" in keypad.shown()  # what the citizen saw


def test_bad_rating_without_reason_keys_asks_to_tell_the_staff(
    server: LiveServer, staff1: str, evaluator: EvaluatorBridge
) -> None:
    ticket = _finished_ticket(server, staff1)
    _wait_for(lambda: evaluator.pending is not None and evaluator.pending["id"] == ticket["id"])
    evaluator.keypad.press(1, addr=1)  # type: ignore[attr-defined]
    _wait_for(lambda: evaluator.shown == TELL_STAFF)
    (rating,) = _ratings(server, staff1, ticket["id"])
    assert rating["level"] == 1 and rating["reasons"] == ["other"]


def test_bad_rating_with_a_reason_key(server: LiveServer, staff1: str) -> None:
    bridge = EvaluatorBridge(
        "fake://", server.url, server.tokens["evaluator"], window=1, reason_keys=True
    ).start()
    try:
        _wait_for(lambda: bridge.stream_ok)
        ticket = _finished_ticket(server, staff1)
        _wait_for(lambda: bridge.pending is not None and bridge.pending["id"] == ticket["id"])
        keypad = bridge.keypad
        assert isinstance(keypad, FakeKeypad)
        keypad.press(2, addr=1)
        _wait_for(lambda: bridge.shown == "请选原因")
        assert _ratings(server, staff1, ticket["id"]) == []
        keypad.inject(KeypadFrameBytes.reason(1, 2))
        _wait_for(lambda: bridge.shown == THANKS)
    finally:
        bridge.stop()
    hall = httpx.get(
        f"{server.url}/api/v1/hall",
        headers={"Authorization": f"Bearer {server.tokens['evaluator']}"},
    ).json()
    window = [r["code"] for r in hall["ratings"]["reasons"] if "window" in r["channels"]]
    assert bridge.reasons == tuple(window)  # the hall's list, key 2 = its second reason
    (rating,) = _ratings(server, staff1, ticket["id"])
    assert rating["level"] == 2 and rating["reasons"] == [window[1]] == ["slow"]


class KeypadFrameBytes:
    @staticmethod
    def reason(addr: int, index: int) -> bytes:
        from drivers.evaluator import encode_frame

        return encode_frame(addr, FUNC_REASON, bytes([index]))


def test_implicit_finishes_and_other_windows_do_not_ask_for_a_rating() -> None:
    bridge = EvaluatorBridge("fake://", "http://127.0.0.1:9", "t", window=1)
    bridge.on_event("ticket.finished", {"id": 1, "number": "A001", "window": 1, "implicit": True})
    bridge.on_event("ticket.finished", {"id": 2, "number": "A002", "window": 2})
    bridge.on_event("ticket.finished", {"id": 3, "number": "A003", "window": 1})
    items = []
    while not bridge.inputs.empty():
        items.append(bridge.inputs.get())
    assert items == [("finished", {"id": 3, "number": "A003", "window": 1})]
    assert bridge.handle(items[0]) == "请评价A003"
    assert bridge.handle(("called", {"id": 4, "window": 1})) == ""
    assert bridge.pending is None
    assert bridge.handle(Score(1, 5)) == "无待评价"
    assert bridge.handle(KeypadFrame(1, FUNC_REASON, b"\x01")) == "请先评分"
    assert bridge.handle(Score(2, 5)) is None  # another keypad on the bus


def test_evaluator_offline_keeps_the_ticket_to_rate() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bridge = EvaluatorBridge("fake://", f"http://127.0.0.1:{port}", "t", window=1)
    bridge.handle(("finished", {"id": 3, "number": "A003", "window": 1}))
    assert bridge.handle(Score(1, 4)) == OFFLINE
    assert bridge.pending is not None and bridge.pending["id"] == 3
    bridge.server.close()


def _wait_for(condition, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_hall_device_caller_run_end_to_end(server: LiveServer, staff1: str) -> None:
    import subprocess
    import sys

    from tests.web.conftest import ROOT

    _drain_window_1(server, staff1)
    ticket = server.issue("SB")
    emulator = CallerEmulator().start()
    cmd = [sys.executable, "-m", "hallcli.main", "device", "caller", "run", "--url", emulator.url]
    cmd += ["--server", server.url, "--token", staff1, "--duration", "60"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = emulator.wait_display(0, 60)  # the window comes from the token (GET /me)
        assert first is not None
        assert first.text == "----"
        emulator.press("call", addr=1)
        shown = emulator.wait_display(1, 15)
        assert shown is not None and shown.text == ticket["number"]
    finally:
        proc.terminate()
        proc.wait(10)
        emulator.stop()


def test_hall_device_caller_run_without_a_server_says_why() -> None:
    import subprocess
    import sys

    from tests.web.conftest import ROOT

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "hallcli.main", "device", "caller", "run", "--url", "fake://"]
    cmd += ["--server", f"http://127.0.0.1:{port}", "--token", "t"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "server not reachable" in done.stderr


def test_the_first_answer_is_shown_once_the_port_opens() -> None:
    from drivers.base import Worker
    from drivers.caller import FakeCallerKeypad

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bridge = CallerBridge("fake://", f"http://127.0.0.1:{port}", "t", window=1)
    keypad = bridge.keypad
    assert isinstance(keypad, FakeCallerKeypad)
    Worker.start(bridge)  # the bridge's thread runs before the keypad's port is open
    try:
        _wait_for(lambda: bridge.shown == OFFLINE)
        assert keypad.shown() == []
        keypad.start()
        _wait_for(lambda: keypad.shown() == [OFFLINE])
    finally:
        bridge.stop()


def test_heartbeats_are_never_more_often_than_every_ten_seconds() -> None:
    from hallcli.bridges import Heartbeat

    beat = Heartbeat("http://127.0.0.1:9", "t", lambda: ({}, {}), every=1.0)
    assert beat.every == 10.0
    beat.server.close()


def test_serial_evaluator_keypad_over_a_pty(server: LiveServer, staff1: str) -> None:
    from drivers.evaluator import CnqsCodec

    pad = CallerEmulator().start()  # decodes the LED frames the evaluator keypad receives too
    bridge = EvaluatorBridge(pad.url, server.url, server.tokens["evaluator"], window=1).start()
    try:
        _wait_for(lambda: bridge.stream_ok and bridge.keypad.health().state == "ok")
        ticket = _finished_ticket(server, staff1)
        prompt = f"请评价{ticket['number']}"
        _wait_for(lambda: pad.display.get(1) == prompt)
        seen = pad.shown_count()
        pad.write_raw(CnqsCodec().encode_score(1, 4))
        answer = pad.wait_display(seen, 15)
    finally:
        bridge.stop()
        pad.stop()
    assert answer is not None and answer.text == THANKS
    (rating,) = _ratings(server, staff1, ticket["id"])
    assert rating["level"] == 4
