"""Evaluator keypad frames, resync on garbage, the fake and the serial driver over a pty."""

from __future__ import annotations

import os
import threading
import time
import tty

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.evaluator import (
    CnqsCodec,
    FakeKeypad,
    KeypadFrame,
    Score,
    encode_frame,
    open_keypad,
)


def test_score_frame_bytes() -> None:
    # FF 68 LEN LEN 68 ADDR FUNC DATA SUM 16; SUM = 68 + 03 + 11 + 05 = 0x81
    assert encode_frame(0x03, 0x11, b"\x05").hex(" ") == "ff 68 03 03 68 03 11 05 81 16"
    assert CnqsCodec().encode_score(3, 5) == encode_frame(3, 0x11, b"\x05")


def test_parser_resyncs_on_garbage_and_split_input() -> None:
    frame = encode_frame(7, 0x11, b"\x02")
    stream = b"\x68\x68\x00\x16garbage\x68\x03\x03" + frame + b"\xff\x68" + encode_frame(1, 0x0C)
    codec = CnqsCodec()
    events = []
    for i in range(0, len(stream), 2):
        events += codec.feed(stream[i : i + 2])
    assert events == [Score(7, 2), KeypadFrame(1, 0x0C, b"")]
    assert events[0].label == "不满意"  # type: ignore[union-attr]


def test_bad_sum_end_byte_or_level_is_not_a_score() -> None:
    good = encode_frame(1, 0x11, b"\x04")
    assert CnqsCodec().feed(good[:-2] + b"\x00\x16") == []
    assert CnqsCodec().feed(good[:-1] + b"\x17") == []
    assert CnqsCodec().feed(encode_frame(1, 0x11, b"\x09")) == [KeypadFrame(1, 0x11, b"\x09")]
    assert CnqsCodec().feed(good[1:]) == [Score(1, 4)]  # the wake byte may be lost


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=10))
def test_random_bytes_never_raise(chunks: list[bytes]) -> None:
    codec = CnqsCodec()
    for chunk in chunks:
        for event in codec.feed(chunk):
            assert isinstance(event, Score | KeypadFrame)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=30), st.integers(0, 255), st.integers(1, 5))
def test_a_score_after_noise_is_found(noise: bytes, addr: int, level: int) -> None:
    events = CnqsCodec().feed(
        noise.replace(b"\x68", b"\x00") + encode_frame(addr, 0x11, bytes([level]))
    )
    assert events == [Score(addr, level)]


def test_fake_keypad_delivers_presses_through_the_codec() -> None:
    scores: list[Score] = []
    keypad = open_keypad("fake://", on_score=scores.append)
    assert isinstance(keypad, FakeKeypad)
    keypad.start()
    try:
        keypad.press(5, addr=2)
        keypad.inject(b"\x00noise\x68")
        keypad.press(1, addr=2)
        _wait_for(lambda: len(scores) == 2)
        assert keypad.health().state == "ok"
    finally:
        keypad.stop()
    assert scores == [Score(2, 5), Score(2, 1)]


def test_serial_keypad_over_a_pseudo_terminal() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    scores: list[Score] = []
    got = threading.Event()

    def on_score(score: Score) -> None:
        scores.append(score)
        got.set()

    keypad = open_keypad(f"serial://{os.ttyname(slave)}?baud=9600", on_score=on_score).start()
    try:
        _wait_for(lambda: keypad.health().state == "ok")
        os.write(master, b"\xaa\x55" + encode_frame(9, 0x11, b"\x03"))
        assert got.wait(2)
    finally:
        keypad.stop()
        os.close(master)
        os.close(slave)
    assert scores == [Score(9, 3)]


def test_missing_port_is_an_error_health() -> None:
    keypad = open_keypad("serial:///dev/no-such-evaluator").start()
    try:
        _wait_for(lambda: keypad.health().state == "error")
        assert keypad.health().reason == "port_error"
    finally:
        keypad.stop()


def _wait_for(condition, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
