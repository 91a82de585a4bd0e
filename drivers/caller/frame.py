"""Caller keypad frames (呼叫器, pure code). No open standard exists; the default is the CNQS
RS-485 frame the evaluator keypad uses (drivers/evaluator/frame.py), 9600 8N1:

    FF 68 LEN LEN 68 ADDR FUNC DATA… SUM 16

ADDR is the keypad's bus address, by default its window number. Keys go in with no data:

    0x0C 呼叫 call next    0x0D 重呼 recall    0x0E 过号 skip    0x0F 办结 finish
    0x12 暂停 pause/resume 0x0B 评价 evaluate

0x0C, 0x0D, 0x0B and 0x12 are CNQS's; 过号 and 办结 have no CNQS code and take the two free
codes between recall and the evaluator's score (0x11). The display goes out as FUNC 0x21 with
the text in GB2312, at most 16 bytes (8 Chinese characters); the keypad shows it until the
next one.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.evaluator.frame import (
    FUNC_CALL,
    FUNC_DISPLAY,
    FUNC_EVALUATE,
    FUNC_PAUSE,
    FUNC_RECALL,
    CnqsCodec,
    KeypadFrame,
    display_text,
    encode_display,
    encode_frame,
)

FUNC_SKIP, FUNC_FINISH = 0x0E, 0x0F

KEYS: dict[str, int] = {
    "call": FUNC_CALL,
    "recall": FUNC_RECALL,
    "skip": FUNC_SKIP,
    "finish": FUNC_FINISH,
    "pause": FUNC_PAUSE,
    "evaluate": FUNC_EVALUATE,
}
KEY_LABELS = {
    "call": "呼叫",
    "recall": "重呼",
    "skip": "过号",
    "finish": "办结",
    "pause": "暂停",
    "evaluate": "评价",
}
_KEY_OF_FUNC = {func: key for key, func in KEYS.items()}

__all__ = [
    "KEYS",
    "KEY_LABELS",
    "CallerCodec",
    "Display",
    "Press",
    "encode_display",
    "encode_press",
]


@dataclass(frozen=True)
class Press:
    """Staff pressed `key` (one of KEYS) on the keypad at bus address `addr`."""

    addr: int
    key: str

    @property
    def label(self) -> str:
        return KEY_LABELS[self.key]


@dataclass(frozen=True)
class Display:
    """The text sent to the LED of the keypad at `addr` (what the emulator decodes)."""

    addr: int
    text: str


CallerEvent = Press | Display | KeypadFrame


def encode_press(addr: int, key: str) -> bytes:
    if key not in KEYS:
        raise ValueError(f"unknown key {key!r} (known: {', '.join(KEYS)})")
    return encode_frame(addr, KEYS[key])


class CallerCodec:
    """Splits a byte stream into presses, display texts and other frames (resyncing on noise)."""

    def __init__(self) -> None:
        self._frames = CnqsCodec()

    @property
    def discarded(self) -> int:
        return self._frames.discarded

    def feed(self, data: bytes) -> list[CallerEvent]:
        out: list[CallerEvent] = []
        for event in self._frames.feed(data):
            if not isinstance(event, KeypadFrame):
                continue  # an evaluator score on the same bus is not ours
            if event.func == FUNC_DISPLAY:
                out.append(Display(event.addr, display_text(event) or ""))
            elif event.func in _KEY_OF_FUNC and not event.data:
                out.append(Press(event.addr, _KEY_OF_FUNC[event.func]))
            else:
                out.append(event)
        return out
