"""A model of the reader's SAM module: answers command frames the way a real reader does.

Shared by the emulator (over a pty or TCP) and the in-process fake, so both speak the same
bytes. One swipe gives one read: after a successful read, find fails until the card is removed
and placed again.
"""

from __future__ import annotations

import threading

from . import protocol as p
from .model import IdCard
from .textblock import PHOTO_LEN, TEXT_LEN, encode_text

SAM_ID_BYTES = bytes.fromhex("05010000") + bytes(12)  # 16-byte SAM serial
CARD_SERIAL = bytes(8)


class SamModule:
    """Command in, response out; thread-safe so tests can place cards while a client polls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._card: IdCard | None = None
        self._consumed = False
        self._selected = False
        self.silent = False  # True: answer nothing (a dead or unplugged reader)
        self.corrupt_responses = 0  # damage the checksum of the next N responses
        self.noise_before = b""  # bytes sent once before the next response (line noise)
        self.fail_reads = 0  # answer the next N reads with SW3 41 (card pulled mid-read)
        self.reads = 0  # successful reads served

    # --- card control ----------------------------------------------------------------------
    def place(self, card: IdCard) -> None:
        with self._lock:
            self._card, self._consumed, self._selected = card, False, False

    def remove(self) -> None:
        with self._lock:
            self._card, self._consumed, self._selected = None, False, False

    @property
    def card(self) -> IdCard | None:
        return self._card

    @property
    def card_consumed(self) -> bool:
        """True once the placed card has been read (it must be removed before the next read)."""
        return self._consumed

    # --- protocol --------------------------------------------------------------------------
    def handle(self, frame: p.Frame | p.BadFrame) -> bytes:
        """The bytes the reader sends back for one received frame (b"" when silent)."""
        if self.silent:
            return b""
        with self._lock:
            if isinstance(frame, p.BadFrame):
                sw3 = 0x10 if frame.reason == "checksum" else 0x11
                response = p.build_response(sw3)
            else:
                response = self._answer(frame)
            if self.corrupt_responses:
                self.corrupt_responses -= 1
                response = response[:-1] + bytes([response[-1] ^ 0xFF])
            noise, self.noise_before = self.noise_before, b""
            return noise + response

    def _answer(self, frame: p.Frame) -> bytes:
        cmd = frame.command
        if cmd in (p.RESET_SAM, p.SAM_STATUS) or (cmd is not None and cmd[0] == 0x60):
            return p.build_response(p.SW3_SUCCESS)
        if cmd == p.SAM_ID:
            return p.build_response(p.SW3_SUCCESS, SAM_ID_BYTES)
        if cmd == p.FIND_CARD:
            if self._card is None or self._consumed:
                return p.build_response(p.SW3_FIND_FAILED)
            return p.build_response(p.SW3_CARD_FOUND, bytes(4))
        if cmd == p.SELECT_CARD:
            if self._card is None or self._consumed:
                return p.build_response(p.SW3_SELECT_FAILED)
            self._selected = True
            return p.build_response(p.SW3_SUCCESS, CARD_SERIAL)
        if cmd in (p.READ_TEXT_PHOTO, p.READ_WITH_FINGERPRINT):
            return self._read(with_fingerprint=cmd == p.READ_WITH_FINGERPRINT)
        if cmd == p.READ_NEW_ADDRESS:  # sample cards carry no appended address
            return p.build_response(0x91 if self._card is not None else 0x41)
        return p.build_response(0x21)

    def _read(self, with_fingerprint: bool) -> bytes:
        if self._card is None or not self._selected:
            return p.build_response(0x41)
        if self.fail_reads:
            self.fail_reads -= 1
            self._selected = False
            return p.build_response(0x41)
        text = encode_text(self._card)
        photo = self._card.photo.ljust(PHOTO_LEN, b"\x00")[:PHOTO_LEN]
        data = TEXT_LEN.to_bytes(2, "big") + PHOTO_LEN.to_bytes(2, "big")
        if with_fingerprint:
            data += (0).to_bytes(2, "big")
        self._consumed, self._selected = True, False
        self.reads += 1
        return p.build_response(p.SW3_SUCCESS, data + text + photo)
