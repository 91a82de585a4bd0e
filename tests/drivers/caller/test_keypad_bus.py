"""Several caller and evaluator keypads on one shared RS-485 bus: one reader routes frames by
address, one writer keeps frames whole, one bridge process serves every keypad."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from drivers.caller.frame import Press
from drivers.evaluator.frame import Score
from drivers.keypadbus import BusEmulator, KeypadBus, as_press, open_bus
from hallcli.bridges import THANKS
from hallcli.busbridge import BusBridge, KeypadSpec, parse_spec
from tests.web.conftest import LiveServer, _start_server


def _wait_for(cond: Callable[[], Any], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def bus_and_emulator() -> Iterator[tuple[KeypadBus, BusEmulator]]:
    emulator = BusEmulator().start()
    bus = open_bus(emulator.url).start()
    _wait_for(lambda: bus.health().state == "ok")
    try:
        yield bus, emulator
    finally:
        bus.stop()
        emulator.stop()


def test_frames_are_routed_by_address_and_strays_counted(bus_and_emulator) -> None:
    bus, emu = bus_and_emulator
    got: dict[int, list[Any]] = {1: [], 2: [], 11: []}
    for addr, events in got.items():
        bus.attach(addr, events.append)
    with pytest.raises(ValueError):
        bus.attach(2, lambda e: None)  # one keypad per address
    emu.press("call", addr=1)
    emu.press("finish", addr=2)
    emu.score(5, addr=11)
    emu.press("call", addr=99)  # nobody at 99
    emu.press("recall", addr=1)
    _wait_for(lambda: bus.unrouted == 1 and len(got[1]) == 2)
    assert [as_press(e) for e in got[1]] == [Press(1, "call"), Press(1, "recall")]
    assert [as_press(e) for e in got[2]] == [Press(2, "finish")]
    assert got[11] == [Score(11, 5)]


def test_one_writer_keeps_every_keypads_frames_whole(bus_and_emulator) -> None:
    bus, emu = bus_and_emulator
    texts = {addr: [f"A{addr:02d}{i:02d}" for i in range(25)] for addr in (1, 2, 3, 4)}

    def show_all(addr: int) -> None:
        for text in texts[addr]:
            assert bus.show(addr, text)

    threads = [threading.Thread(target=show_all, args=(a,)) for a in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _wait_for(lambda: emu.shown_count() == 100)
    for addr, sent in texts.items():
        assert [d.text for d in emu.history if d.addr == addr] == sent  # in order, none torn
    assert emu.display == {1: "A0124", 2: "A0224", 3: "A0324", 4: "A0424"}
    assert bus.writer.written == 100 and bus.writer.lost == 0


def test_specs_on_the_command_line() -> None:
    assert parse_spec("caller", "3=tok@5") == KeypadSpec("caller", 3, "tok", 5)
    assert parse_spec("evaluator", "11=tok") == KeypadSpec("evaluator", 11, "tok", None)
    for bad in ("x=tok", "3", "3=", "3=tok@w"):
        with pytest.raises(ValueError):
            parse_spec("caller", bad)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = _start_server(tmp_path_factory.mktemp("bus-server"))
    try:
        yield live
    finally:
        live.stop()


def test_two_callers_and_an_evaluator_on_one_bus_through_one_bridge(server: LiveServer) -> None:
    staff1 = server.login("staff01", window=1)
    staff2 = server.login("staff02", window=2)
    emu = BusEmulator().start()
    specs = [
        KeypadSpec("caller", 1, staff1),
        KeypadSpec("caller", 2, staff2),
        KeypadSpec("evaluator", 21, server.tokens["evaluator"], 1),
    ]
    bridge = BusBridge(open_bus(emu.url), server.url, specs).start()
    try:
        _wait_for(lambda: {1, 2} <= set(emu.display))  # each caller shows its current number
        for staff, no in ((staff1, 1), (staff2, 2)):
            with server.api(staff) as c:
                while c.post(f"/windows/{no}/call-next").status_code == 200:
                    pass
        _wait_for(lambda: bridge.bridges[2].stream_ok)  # type: ignore[union-attr]
        a, b = server.issue("SB"), server.issue("SB")

        def press(key: str, addr: int) -> str:
            before = emu.shown_count()
            emu.press(key, addr=addr)
            _wait_for(lambda: any(d.addr == addr for d in emu.history[before:]))
            return [d.text for d in emu.history[before:] if d.addr == addr][-1]

        assert press("call", 1) == a["number"]
        assert press("call", 2) == b["number"]
        assert press("finish", 1) == f"{a['number']}办结"
        _wait_for(lambda: emu.display.get(21) == f"请评价{a['number']}")
        emu.score(5, addr=21)
        _wait_for(lambda: emu.display.get(21) == THANKS)
        with server.api(staff1) as c:
            ratings = [e for e in c.get("/evaluations").json() if e["ticket_id"] == a["id"]]
        assert [(r["level"], r["window"]) for r in ratings] == [(5, 1)]
        assert emu.display[2] == b["number"]  # window 2's LED untouched by window 1's work
        assert bridge.bus.unrouted == 0
    finally:
        bridge.stop()
        emu.stop()


def test_hall_device_bus_run_says_what_is_wrong() -> None:
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "hallcli.main", "device", "bus", "run", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    out = run("--url", "serial:///dev/null", "--server", "http://127.0.0.1:9")
    assert out.returncode == 1 and "at least one" in out.stderr
    out = run("--url", "serial:///dev/null", "--server", "http://127.0.0.1:9",
              "--caller", "1=a@1", "--evaluator", "1=b@1")  # fmt: skip
    assert out.returncode == 1 and "share a bus address" in out.stderr


def test_the_bus_emulator_takes_typed_lines(bus_and_emulator) -> None:
    from hallcli.busbridge import emulate_line

    bus, emu = bus_and_emulator
    got: list[Any] = []
    bus.attach(3, got.append)
    bus.attach(21, got.append)
    assert emulate_line(emu, "3 呼叫") is None
    assert emulate_line(emu, "21 score 4") is None
    assert emulate_line(emu, "21 reason 2") is None
    assert emulate_line(emu, "21 score 9") == "score out of range: 9"
    assert emulate_line(emu, "3 fly") == "unknown key 'fly'"
    assert emulate_line(emu, "call") is not None
    _wait_for(lambda: len(got) == 3)
    assert as_press(got[0]) == Press(3, "call") and got[1] == Score(21, 4)
    assert got[2].data == bytes([2])
