"""Caller keypads (呼叫器) on RS-485/serial: frames, driver, fake, pty emulator."""

from __future__ import annotations

from .emulator import CallerEmulator
from .frame import KEY_LABELS, KEYS, CallerCodec, Display, Press, encode_display, encode_press
from .keypad import CallerKeypad, FakeCallerKeypad, open_caller

__all__ = [
    "KEYS",
    "KEY_LABELS",
    "CallerCodec",
    "CallerEmulator",
    "CallerKeypad",
    "Display",
    "FakeCallerKeypad",
    "Press",
    "encode_display",
    "encode_press",
    "open_caller",
]
