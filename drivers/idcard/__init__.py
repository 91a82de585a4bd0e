"""Resident ID card readers (二代身份证阅读器, GA/T 467): protocol, driver, poller, fake, emulator."""

from __future__ import annotations

from .emulator import IdCardEmulator
from .errors import CardError, IdCardError, ReaderUnavailable
from .factory import open_reader
from .fake import FakeIdCardReader
from .model import LONG_TERM, IdCard, set_photo_decoder
from .poller import CardPoller
from .reader import IdCardReader
from .samples import SAMPLE_CARDS, SAMPLES
from .textblock import CardDataError, encode_text, parse_text

__all__ = [
    "LONG_TERM",
    "SAMPLES",
    "SAMPLE_CARDS",
    "CardDataError",
    "CardError",
    "CardPoller",
    "FakeIdCardReader",
    "IdCard",
    "IdCardEmulator",
    "IdCardError",
    "IdCardReader",
    "ReaderUnavailable",
    "encode_text",
    "open_reader",
    "parse_text",
    "set_photo_decoder",
]
