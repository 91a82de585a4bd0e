"""Caller keypad frames, the fake, the driver and the pty emulator."""

from __future__ import annotations

import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.caller import (
    KEYS,
    CallerCodec,
    CallerEmulator,
    Display,
    FakeCallerKeypad,
    Press,
    encode_display,
    encode_press,
    open_caller,
)

GB2312_TEXT = st.text(
    alphabet=st.sampled_from("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ-无人等候已暂停断网请评价过号办结"),
    max_size=8,
)


def test_key_and_display_frame_bytes() -> None:
    # FF 68 LEN LEN 68 ADDR FUNC SUM 16; SUM = 68 + 03 + 0C = 0x77
    assert encode_press(3, "call").hex(" ") == "ff 68 02 02 68 03 0c 77 16"
    assert encode_press(3, "finish").hex(" ") == "ff 68 02 02 68 03 0f 7a 16"
    # "A1" → 41 31; SUM = 68 + 03 + 21 + 41 + 31 = 0xFE
    assert encode_display(3, "A1").hex(" ") == "ff 68 04 04 68 03 21 41 31 fe 16"


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 255), st.sampled_from(sorted(KEYS)), GB2312_TEXT, st.binary(max_size=20))
def test_frames_round_trip_after_noise(addr: int, key: str, text: str, noise: bytes) -> None:
    stream = noise.replace(b"\x68", b"\x00") + encode_press(addr, key) + encode_display(addr, text)
    codec = CallerCodec()
    events = []
    for i in range(0, len(stream), 3):
        events += codec.feed(stream[i : i + 3])
    assert events == [Press(addr, key), Display(addr, text)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=10))
def test_random_bytes_never_raise(chunks: list[bytes]) -> None:
    codec = CallerCodec()
    for chunk in chunks:
        codec.feed(chunk)


def test_long_display_text_is_cut_at_a_character() -> None:
    (event,) = CallerCodec().feed(encode_display(1, "请到服务台咨询工作人员谢谢"))
    assert event == Display(1, "请到服务台咨询工")  # 8 characters = 16 bytes


def test_fake_keypad_presses_and_shows() -> None:
    presses: list[Press] = []
    keypad = open_caller("fake://", on_press=presses.append)
    assert isinstance(keypad, FakeCallerKeypad)
    keypad.start()
    try:
        keypad.press("call", addr=2)
        keypad.press("pause", addr=2)
        _wait_for(lambda: len(presses) == 2)
        assert keypad.show(2, "A023")
        assert keypad.health().state == "ok"
    finally:
        keypad.stop()
    assert [p.label for p in presses] == ["呼叫", "暂停"]
    assert keypad.shown() == ["A023"]


def test_driver_and_emulator_over_a_real_pty() -> None:
    emulator = CallerEmulator().start()
    got: list[Press] = []
    pressed = threading.Event()

    def on_press(press: Press) -> None:
        got.append(press)
        pressed.set()

    keypad = open_caller(emulator.url, on_press=on_press).start()
    try:
        _wait_for(lambda: keypad.health().state == "ok")
        emulator.write_raw(b"\x00\x16noise")
        emulator.press("recall", addr=5)
        assert pressed.wait(3)
        before = emulator.shown_count()
        assert keypad.show(5, "无人等候")
        shown = emulator.wait_display(before)
    finally:
        keypad.stop()
        emulator.stop()
    assert got == [Press(5, "recall")]
    assert shown == Display(5, "无人等候")
    assert emulator.display[5] == "无人等候"


def test_missing_port_is_an_error_health() -> None:
    keypad = open_caller("serial:///dev/no-such-caller").start()
    try:
        _wait_for(lambda: keypad.health().state == "error")
        assert not keypad.show(1, "A001")
    finally:
        keypad.stop()


def _wait_for(condition, timeout: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
