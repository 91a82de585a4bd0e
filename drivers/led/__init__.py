"""LED strips over RS-485 (条屏): frame templates, bus writer, fake, emulator, bridge."""

from __future__ import annotations

from .bridge import LedBridge, LedTexts, health_part, sse_events
from .bus import LedBus, open_led_bus
from .checksum import CHECKSUMS, crc16_modbus, sum8, xor8
from .emulator import LedEmulator
from .fake import FakeLedPort
from .frame import (
    TEMPLATES,
    FrameDecoder,
    LedFrame,
    LedTemplate,
    LedTemplateError,
    decode_frame,
    encode_frame,
    make_template,
    parse_hex,
)

__all__ = [
    "CHECKSUMS",
    "TEMPLATES",
    "FakeLedPort",
    "FrameDecoder",
    "LedBridge",
    "LedBus",
    "LedEmulator",
    "LedFrame",
    "LedTemplate",
    "LedTemplateError",
    "LedTexts",
    "crc16_modbus",
    "decode_frame",
    "encode_frame",
    "health_part",
    "make_template",
    "open_led_bus",
    "parse_hex",
    "sse_events",
    "sum8",
    "xor8",
]
