"""Evaluator keypad frames (pure code). No open standard exists; the default is CNQS's RS-485
frame, 9600 8N1:

    FF 68 LEN LEN 68 ADDR FUNC DATA… SUM 16

FF wakes the bus and may be lost; LEN counts ADDR, FUNC and DATA; SUM is the low byte of the sum
of the bytes from the second 68 through the last data byte. FUNC 0x11 is an evaluator score
with one data byte, the level 1–5 (5 = 非常满意 … 1 = 非常不满意, GB/T 39734). A vendor with
another frame plugs in its own codec with the same `feed`/`encode_score` methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

WAKE, START, END = 0xFF, 0x68, 0x16
FUNC_CALL, FUNC_RECALL, FUNC_EVALUATE = 0x0C, 0x0D, 0x0B
FUNC_PAUSE, FUNC_TRANSFER, FUNC_SCORE = 0x12, 0x13, 0x11
MAX_LEN = 64

LEVEL_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


@dataclass(frozen=True)
class KeypadFrame:
    addr: int
    func: int
    data: bytes = b""


@dataclass(frozen=True)
class Score:
    """A citizen pressed a rating button on the evaluator at bus address `addr`."""

    addr: int
    level: int

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]


KeypadEvent = Score | KeypadFrame


class KeypadCodec(Protocol):
    def feed(self, data: bytes) -> list[KeypadEvent]: ...

    def encode_score(self, addr: int, level: int) -> bytes: ...


def frame_sum(addr: int, func: int, data: bytes) -> int:
    return (START + addr + func + sum(data)) & 0xFF


def encode_frame(addr: int, func: int, data: bytes = b"") -> bytes:
    if not (0 <= addr <= 0xFF and 0 <= func <= 0xFF):
        raise ValueError("address and function are single bytes")
    length = 2 + len(data)
    if length > MAX_LEN:
        raise ValueError("frame data too long")
    body = bytes([addr, func]) + data
    return (
        bytes([WAKE, START, length, length, START])
        + body
        + bytes([frame_sum(addr, func, data), END])
    )


def event_for(frame: KeypadFrame) -> KeypadEvent:
    """A score frame with a valid level becomes a Score; anything else stays a frame."""
    if frame.func == FUNC_SCORE and len(frame.data) == 1 and frame.data[0] in LEVEL_LABELS:
        return Score(frame.addr, frame.data[0])
    return frame


def parse_frames(data: bytes) -> list[KeypadEvent]:
    """Every valid default frame in `data` (noise skipped): a one-shot CnqsCodec().feed."""
    return CnqsCodec().feed(data)


class CnqsCodec:
    """The default frame: splits a byte stream into frames, resynchronising on garbage."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.discarded = 0

    def encode_score(self, addr: int, level: int) -> bytes:
        if level not in LEVEL_LABELS:
            raise ValueError("level must be 1..5")
        return encode_frame(addr, FUNC_SCORE, bytes([level]))

    def feed(self, data: bytes) -> list[KeypadEvent]:
        self._buf += data
        out: list[KeypadEvent] = []
        buf = self._buf
        while True:
            start = buf.find(START)
            if start < 0:
                self._skip(len(buf))
                return out
            self._skip(start)
            if len(buf) < 4:
                return out
            length = buf[1]
            if buf[2] != length or buf[3] != START or not 2 <= length <= MAX_LEN:
                self._skip(1)
                continue
            total = 4 + length + 2
            if len(buf) < total:
                return out
            body = bytes(buf[4 : 4 + length])
            addr, func, payload = body[0], body[1], body[2:]
            if buf[total - 2] != frame_sum(addr, func, payload) or buf[total - 1] != END:
                self._skip(1)
                continue
            out.append(event_for(KeypadFrame(addr, func, payload)))
            del buf[:total]

    def _skip(self, n: int) -> None:
        self.discarded += n
        del self._buf[:n]


FUNC_REASON, FUNC_DISPLAY = 0x14, 0x21
DISPLAY_ENCODING = "gb2312"
DISPLAY_MAX_BYTES = 16


def encode_display(addr: int, text: str) -> bytes:
    """A frame that puts `text` (GB2312, at most 16 bytes) on the keypad's LED at `addr`.

    Characters GB2312 lacks become "?"; longer text is cut at a character boundary.
    """
    data = b""
    for ch in text:
        b = ch.encode(DISPLAY_ENCODING, errors="replace")
        if len(data) + len(b) > DISPLAY_MAX_BYTES:
            break
        data += b
    return encode_frame(addr, FUNC_DISPLAY, data)


def display_text(frame: KeypadFrame) -> str | None:
    """The text of a display frame, or None for any other frame."""
    if frame.func != FUNC_DISPLAY:
        return None
    return frame.data.decode(DISPLAY_ENCODING, errors="replace")
