"""The caller keypad driver: a thread reads key presses off the port, `show` writes the LED.

Like the evaluator keypad, a caller keypad never answers polls: health says whether its port is
open and reading.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from typing import Any

from drivers.base import Health, Worker, read_available
from drivers.urls import parse_device_url, pyserial_target

from .frame import CallerCodec, Display, Press, encode_display, encode_press

log = logging.getLogger(__name__)
DEFAULT_BAUD = 9600


class CallerKeypad(Worker):
    thread_name = "caller-keypad"

    def __init__(
        self,
        open_port: Callable[[], Any],
        on_press: Callable[[Press], None] | None = None,
        reopen_after: float = 1.0,
    ) -> None:
        super().__init__()
        self._open_port = open_port
        self.codec = CallerCodec()
        self.on_press = on_press
        self.reopen_after = reopen_after
        self._port: Any = None
        self._health = Health("unknown", "not_started", "呼叫器尚未启动")

    def stop(self) -> None:
        super().stop()
        self._close_port()

    close = stop

    def health(self) -> Health:
        return self._health

    def show(self, addr: int, text: str) -> bool:
        """Put `text` on the LED at `addr`; False when the port is not open (text lost)."""
        port = self._port
        if port is None:
            return False
        try:
            port.write(encode_display(addr, text))
        except (OSError, ValueError):
            return False
        return True

    def feed(self, data: bytes) -> list[Press]:
        """Decode bytes and hand each press to `on_press` (the thread calls this; tests may too)."""
        presses = [e for e in self.codec.feed(data) if isinstance(e, Press)]
        for press in presses:
            if self.on_press is not None:
                try:
                    self.on_press(press)
                except Exception:  # a listener's bug must not stop the reader thread
                    log.exception("caller keypad listener failed")
        return presses

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._port is None:
                    self._port = self._open_port()
                    self._health = Health("ok", "ok", "呼叫器已连接")
                data = read_available(self._port)
            except (OSError, ValueError) as e:
                log.warning("caller keypad port failed: %s", e.__class__.__name__)
                self._health = Health("error", "port_error", "呼叫器连接中断，请检查连接线")
                self._close_port()
                self._stop.wait(self.reopen_after)
                continue
            if data:
                self.feed(data)

    def _close_port(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (OSError, ValueError):
                pass


class _FakePort:
    """An in-memory port: presses go in as bytes, display frames are collected."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[bytes] = queue.Queue()
        self.written: list[bytes] = []

    def read(self, size: int) -> bytes:
        try:
            return self.chunks.get(timeout=0.05)
        except queue.Empty:
            return b""

    def write(self, data: bytes) -> int:
        self.written.append(data)
        return len(data)

    def close(self) -> None:
        pass


class FakeCallerKeypad(CallerKeypad):
    """`fake://`: the real driver and codec, keys pressed from code, the LED read back."""

    def __init__(self, **kwargs: Any) -> None:
        self.port = _FakePort()
        super().__init__(lambda: self.port, **kwargs)

    def press(self, key: str, addr: int = 1) -> None:
        self.port.chunks.put(encode_press(addr, key))

    def shown(self, addr: int | None = None) -> list[str]:
        """Every text put on the LED (of `addr`, or any), oldest first."""
        codec = CallerCodec()
        return [
            e.text
            for data in list(self.port.written)
            for e in codec.feed(data)
            if isinstance(e, Display) and (addr is None or e.addr == addr)
        ]

    def wait_idle(self, timeout: float = 1.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.port.chunks.empty() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.02)


def open_caller(url: str, on_press: Callable[[Press], None] | None = None) -> CallerKeypad:
    """A caller keypad for a device URL (serial://…?baud=9600, tcp://HOST:PORT, fake://)."""
    if parse_device_url(url).scheme == "fake":
        return FakeCallerKeypad(on_press=on_press)
    target, baud = pyserial_target(url, DEFAULT_BAUD)

    def open_port() -> Any:
        import serial

        return serial.serial_for_url(target, baudrate=baud, timeout=0.1)

    return CallerKeypad(open_port, on_press=on_press)
