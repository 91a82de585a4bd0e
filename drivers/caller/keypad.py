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

from drivers.base import SerialWorker
from drivers.urls import parse_device_url, pyserial_target

from .frame import CallerCodec, Display, Press, encode_display, encode_press

log = logging.getLogger(__name__)
DEFAULT_BAUD = 9600


class CallerKeypad(SerialWorker):
    thread_name = "caller-keypad"
    label = "呼叫器"

    def __init__(
        self,
        open_port: Callable[[], Any],
        on_press: Callable[[Press], None] | None = None,
        reopen_after: float = 1.0,
    ) -> None:
        super().__init__(open_port, reopen_after)
        self.codec = CallerCodec()
        self.on_press = on_press

    def show(self, addr: int, text: str) -> bool:
        """Put `text` on the LED at `addr`; False when the port is not open (text lost)."""
        return self.write(encode_display(addr, text))

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
