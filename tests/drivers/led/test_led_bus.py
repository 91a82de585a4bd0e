"""The bus writer: calling never waits for the bus, newest text wins, health on failure, and
the real serial path through a pseudo-terminal to the emulator."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.led import (
    TEMPLATES,
    FakeLedPort,
    LedBus,
    LedEmulator,
    decode_frame,
    open_led_bus,
)

CNQS = TEMPLATES["cnqs"]


def _until(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.005)
    return cond()


def _texts(port: FakeLedPort) -> list[tuple[int, str]]:
    out = []
    for raw in port.writes:
        frame = decode_frame(CNQS, raw)
        assert frame is not None
        out.append((frame.address, frame.text))
    return out


def test_show_returns_while_the_bus_is_stuck_and_the_newest_text_wins() -> None:
    port = FakeLedPort()
    port.gate.clear()  # the bus hangs on its first write until we let it go
    bus = LedBus(lambda: port, CNQS).start()
    try:
        bus.show(1, "A001 请到1号窗口")
        assert _until(lambda: bus.waiting == 0)  # the bus thread took it and is stuck writing
        for n in range(2, 500):  # opening time: every window calls, some several times
            bus.show(n % 100 + 1, f"A{n:03d} 请到{n % 100 + 1}号窗口")
        assert bus.waiting == 100  # one text per strip, not 499 frames
        assert bus.replaced == 398
        port.gate.set()
        assert bus.wait_idle(10.0)
    finally:
        bus.stop()
    shown = dict(_texts(port))
    assert len(port.writes) == 101
    for n in range(400, 500):  # each strip ends on its newest text
        assert shown[n % 100 + 1] == f"A{n:03d} 请到{n % 100 + 1}号窗口"


def test_a_full_queue_drops_the_oldest_waiting_strip_not_the_caller() -> None:
    port = FakeLedPort()
    port.gate.clear()
    bus = LedBus(lambda: port, CNQS, queue_size=3).start()
    try:
        bus.show(9, "first")
        assert _until(lambda: bus.waiting == 0)
        for address in (1, 2, 3, 4):
            bus.show(address, f"T{address}")
        assert bus.waiting == 3 and bus.dropped == 1
        port.gate.set()
        assert bus.wait_idle(10.0)
    finally:
        bus.stop()
    assert _texts(port) == [(9, "first"), (2, "T2"), (3, "T3"), (4, "T4")]


def test_a_slow_bus_sends_in_order_of_first_request() -> None:
    port = FakeLedPort(delay=0.02)
    bus = LedBus(lambda: port, CNQS).start()
    try:
        for address in range(1, 6):
            bus.show(address, f"A00{address}")
        assert bus.wait_idle(10.0)
    finally:
        bus.stop()
    assert [a for a, _ in _texts(port)] == [1, 2, 3, 4, 5]


def test_write_error_is_reported_and_the_text_is_sent_once_the_port_is_back() -> None:
    port = FakeLedPort(fail=True)
    bus = LedBus(lambda: port, CNQS, reopen_after=0.01)
    assert bus.health().state == "unknown"
    bus.start()
    try:
        assert _until(lambda: bus.health().state == "ok")  # the port opened
        bus.show(3, "A023 请到3号窗口")
        assert _until(lambda: bus.health().reason == "write_error")
        assert bus.health().state == "error" and "写入失败" in bus.health().message
        port.fail = False
        assert _until(lambda: bus.sent == 1)
        assert _until(lambda: bus.health().state == "ok")
    finally:
        bus.stop()
    assert _texts(port) == [(3, "A023 请到3号窗口")]


def test_a_port_that_cannot_open_is_reported() -> None:
    def broken() -> FakeLedPort:
        raise OSError("No such file or directory: '/dev/ttyUSB9'")

    bus = LedBus(broken, CNQS, reopen_after=0.01).start()
    try:
        bus.show(1, "x")
        assert _until(lambda: bus.health().reason == "port_unavailable")
        assert "ttyUSB9" in bus.health().message
        assert bus.waiting == 1  # kept for when the port comes back
    finally:
        bus.stop()


def test_a_strip_that_does_not_answer_is_named_in_health() -> None:
    port = FakeLedPort()
    bus = LedBus(lambda: port, CNQS, answer_timeout=0.01).start()
    try:
        port.answer = b"\x06"
        bus.show(1, "A001")
        assert _until(lambda: bus.sent == 1)
        assert _until(lambda: bus.health().state == "ok")
        port.answer = b""
        bus.show(7, "A002")
        assert _until(lambda: bus.sent == 2)
        bus.show(7, "A003")  # two frames in a row without an answer
        assert _until(lambda: bus.sent == 3)
        assert _until(lambda: bus.health().reason == "no_answer")
        assert "7" in bus.health().message
    finally:
        bus.stop()


def test_fake_url_gives_a_fake_port() -> None:
    bus = open_led_bus("fake://", CNQS).start()
    try:
        bus.show(2, "B002")
        assert bus.wait_idle(5.0)
        assert bus.port_for_tests is not None
        assert _texts(bus.port_for_tests) == [(2, "B002")]
    finally:
        bus.stop()


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_frames_reach_the_emulator_over_a_real_pty(name: str) -> None:
    template = TEMPLATES[name]
    with LedEmulator(template, answer=b"\x06") as emu:
        assert emu.url.startswith("serial:///dev/")
        # strips that acknowledge: each frame waits for the first answer byte, not the timeout
        bus = open_led_bus(emu.url, template, answer_timeout=3.0).start()
        try:
            for window in range(1, 21):
                bus.show(window, f"A{window:03d} 请到{window}号窗口")
            bus.show(10, "暂停服务")
            assert emu.wait_for(lambda e: len(e.screens) == 20 and e.screens[10] == "暂停服务")
            assert _until(lambda: bus.health().state == "ok")
        finally:
            bus.stop()
        assert emu.screens[3] == "A003 请到3号窗口"
        assert emu.bad_bytes == 0
