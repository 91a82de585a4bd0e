"""The ID card reader driver: find → select → read over any pyserial-like port.

The port is opened lazily and reopened after an error, so a reader that was unplugged comes
back by itself. Only codes and masked values are logged, never a name or a full number.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from drivers.base import Health

from . import protocol as p
from .errors import CardError, IdCardError, ReaderUnavailable, error_for_sw3
from .model import IdCard
from .textblock import CardDataError, parse_text

log = logging.getLogger(__name__)


class Port(Protocol):
    def write(self, data: bytes, /) -> Any: ...

    def read(self, size: int = 1, /) -> bytes: ...

    @property
    def in_waiting(self) -> int: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


class IdCardReader:
    """One reader on one port. Thread-safe: the poller and a health check may share it."""

    def __init__(
        self,
        open_port: Callable[[], Port],
        *,
        command_timeout: float = 1.0,
        read_timeout: float = 3.0,
        retries: int = 2,
        poll_step: float = 0.1,
    ) -> None:
        self._open_port = open_port
        self._port: Port | None = None
        self._parser = p.FrameParser(min_len=4)
        self._lock = threading.RLock()
        self.command_timeout = command_timeout
        self.read_timeout = read_timeout
        self.retries = retries
        self.poll_step = poll_step
        self.last_health = Health("unknown", "not_polled", "读卡器尚未检测")

    # --- public ----------------------------------------------------------------------------
    def read_card(self, timeout: float = 0.0) -> IdCard | None:
        """Wait up to `timeout` s for a card (at least one attempt); None when none came.

        Raises ReaderUnavailable when the reader does not answer and CardError when a card
        was found but could not be read or holds invalid data.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                card = self._try_once()
            if card is not None:
                return card
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(self.poll_step, remaining))

    def health(self, probe: bool = True) -> Health:
        """Ask the SAM module for its status (or, with probe=False, report the last outcome)."""
        if not probe:
            return self.last_health
        with self._lock:
            try:
                frame = self._transact(p.SAM_STATUS, self.command_timeout)
                if frame.sw3 != p.SW3_SUCCESS:
                    raise error_for_sw3(frame.sw3)
                self._set_health(Health("ok", "ok", "读卡器正常"))
            except IdCardError as e:
                self._set_health(Health("error", e.code, e.message))
        return self.last_health

    def close(self) -> None:
        with self._lock:
            self._drop_port()

    def __enter__(self) -> IdCardReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one find → select → read cycle ----------------------------------------------------
    def _try_once(self) -> IdCard | None:
        try:
            found = self._transact(p.FIND_CARD, self.command_timeout)
            if found.sw3 == p.SW3_FIND_FAILED:
                self._set_health(Health("ok", "ok", "读卡器正常"))
                return None
            if found.sw3 != p.SW3_CARD_FOUND:
                raise error_for_sw3(found.sw3)
            selected = self._transact(p.SELECT_CARD, self.command_timeout)
            if selected.sw3 == p.SW3_SELECT_FAILED:
                return None  # the card moved away between find and select
            if selected.sw3 != p.SW3_SUCCESS:
                raise error_for_sw3(selected.sw3)
            response = self._transact(p.READ_TEXT_PHOTO, self.read_timeout)
            if response.sw3 != p.SW3_SUCCESS:
                raise error_for_sw3(response.sw3)
            card = decode_read_response(response.data)
        except ReaderUnavailable as e:
            self._set_health(Health("error", e.code, e.message))
            raise
        self._set_health(Health("ok", "ok", "读卡器正常"))
        log.info("card read: %s %s", card.card_type, card.masked_id)
        return card

    # --- framing over the port --------------------------------------------------------------
    def _transact(self, cmd: tuple[int, int], timeout: float) -> p.Frame:
        """Send one command and return the answer; resend after a damaged answer."""
        for attempt in range(self.retries + 1):
            port = self._port_or_open()
            self._parser.reset()
            try:
                port.reset_input_buffer()
                port.write(p.build_command(cmd))
                frame = self._wait_frame(port, timeout)
            except (OSError, ValueError) as e:  # SerialException is an OSError
                self._drop_port()
                raise ReaderUnavailable(
                    "port_error", f"读卡器连接中断：{e.__class__.__name__}"
                ) from e
            last = attempt == self.retries
            if isinstance(frame, p.Frame):
                if frame.sw3 == 0x10 and not last:  # the reader got our command damaged
                    continue
                return frame
            if frame == "silence" and self._parser.discarded == 0 and self._parser.pending == 0:
                raise ReaderUnavailable("no_answer", "读卡器无响应，请检查连接和电源")
            log.warning("id card reader: damaged answer (%s), attempt %d", frame, attempt + 1)
        raise ReaderUnavailable("line_noise", "读卡器通信受到干扰，请检查连接线")

    def _wait_frame(self, port: Port, timeout: float) -> p.Frame | str:
        deadline = time.monotonic() + timeout
        bad = ""
        while time.monotonic() < deadline:
            chunk = port.read(max(1, min(port.in_waiting, 4096)))
            if not chunk:
                continue
            for item in self._parser.feed(chunk):
                if isinstance(item, p.Frame):
                    return item
                bad = item.reason
            if bad:
                return bad
        return bad or "silence"

    def _port_or_open(self) -> Port:
        if self._port is None:
            try:
                self._port = self._open_port()
            except (OSError, ValueError) as e:
                raise ReaderUnavailable("port_open_failed", "无法打开读卡器端口，请检查连接") from e
        return self._port

    def _drop_port(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except (OSError, ValueError):
                pass
            self._port = None

    def _set_health(self, health: Health) -> None:
        if health.state != self.last_health.state or health.reason != self.last_health.reason:
            self.last_health = health


def decode_read_response(data: bytes, with_fingerprint: bool = False) -> IdCard:
    """Data of a 30 01 answer (text length, photo length, text, photo) or of a 30 10 answer
    (a fingerprint length after the photo length, the fingerprint block after the photo)."""
    header = 6 if with_fingerprint else 4
    if len(data) < header:
        raise CardError("bad_response", "读卡数据不完整，请重新放置证件")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    text = data[header : header + text_len]
    photo = data[header + text_len : header + text_len + photo_len]
    if len(text) != text_len or len(photo) != photo_len:
        raise CardError("bad_response", "读卡数据不完整，请重新放置证件")
    try:
        return parse_text(text, photo)
    except CardDataError as e:
        raise CardError(e.code, e.message) from None
