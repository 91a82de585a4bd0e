"""Evaluator button boxes (好差评评价器) on RS-485/serial: frames, driver, fake."""

from __future__ import annotations

from .frame import (
    FUNC_DISPLAY,
    FUNC_REASON,
    LEVEL_LABELS,
    CnqsCodec,
    KeypadCodec,
    KeypadFrame,
    Score,
    display_text,
    encode_display,
    encode_frame,
    event_for,
    parse_frames,
)
from .keypad import FakeKeypad, Keypad, open_keypad

__all__ = [
    "LEVEL_LABELS",
    "CnqsCodec",
    "FakeKeypad",
    "Keypad",
    "KeypadCodec",
    "KeypadFrame",
    "Score",
    "FUNC_DISPLAY",
    "FUNC_REASON",
    "display_text",
    "encode_display",
    "encode_frame",
    "event_for",
    "open_keypad",
    "parse_frames",
]
