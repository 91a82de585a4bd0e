"""The keypad driver: a thread reads the port, the codec turns bytes into scores, callbacks fire.

The keypad never answers polls, so health can only say whether its port is open and reading.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from typing import Any

from drivers.base import SerialWorker
from drivers.urls import parse_device_url, pyserial_target

from .frame import (
    CnqsCodec,
    KeypadCodec,
    KeypadEvent,
    KeypadFrame,
    Score,
    display_text,
    encode_display,
)

log = logging.getLogger(__name__)
DEFAULT_BAUD = 9600


class Keypad(SerialWorker):
    thread_name = "evaluator-keypad"
    label = "评价器"

    def __init__(
        self,
        open_port: Callable[[], Any],
        codec: KeypadCodec | None = None,
        on_score: Callable[[Score], None] | None = None,
        on_frame: Callable[[KeypadFrame], None] | None = None,
        reopen_after: float = 1.0,
    ) -> None:
        super().__init__(open_port, reopen_after)
        self.codec = codec or CnqsCodec()
        self.on_score = on_score
        self.on_frame = on_frame

    def show(self, addr: int, text: str) -> bool:
        """Put `text` on the LED of the keypad at `addr` (keypads without one ignore it).

        False when the port is not open (the text is then lost; the caller shows it again).
        """
        return self.write(encode_display(addr, text))

    def feed(self, data: bytes) -> list[KeypadEvent]:
        """Decode bytes and dispatch the events (the thread calls this; tests may too)."""
        events = self.codec.feed(data)
        for event in events:
            try:
                if isinstance(event, Score):
                    if self.on_score is not None:
                        self.on_score(event)
                elif self.on_frame is not None:
                    self.on_frame(event)
            except Exception:  # a listener's bug must not stop the reader thread
                log.exception("evaluator listener failed")
        return events


class _InjectPort:
    """An in-memory port: `press` puts bytes in, the keypad thread reads them out."""

    def __init__(self) -> None:
        self._chunks: queue.Queue[bytes] = queue.Queue()
        self.written: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.written.append(data)
        return len(data)

    def inject(self, data: bytes) -> None:
        self._chunks.put(data)

    def read(self, size: int) -> bytes:
        try:
            return self._chunks.get(timeout=0.05)
        except queue.Empty:
            return b""

    def close(self) -> None:
        pass


class FakeKeypad(Keypad):
    """`fake://`: the real Keypad and codec, with buttons pressed from code."""

    def __init__(self, **kwargs: Any) -> None:
        self.port = _InjectPort()
        super().__init__(lambda: self.port, **kwargs)

    def press(self, level: int, addr: int = 1) -> None:
        """A citizen presses rating `level` (5 = 非常满意) on the evaluator at `addr`."""
        self.port.inject(self.codec.encode_score(addr, level))

    def inject(self, data: bytes) -> None:
        """Raw bytes on the line (noise, vendor frames)."""
        self.port.inject(data)

    def shown(self) -> list[str]:
        """Every text the driver put on the fake keypad's LED, oldest first."""
        texts = []
        for data in self.port.written:
            for event in CnqsCodec().feed(data):
                if isinstance(event, KeypadFrame) and (text := display_text(event)) is not None:
                    texts.append(text)
        return texts

    def wait_idle(self, timeout: float = 1.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.port._chunks.empty() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.02)


def open_keypad(
    url: str,
    on_score: Callable[[Score], None] | None = None,
    codec: KeypadCodec | None = None,
    on_frame: Callable[[KeypadFrame], None] | None = None,
) -> Keypad:
    """A keypad for a device URL (serial://…?baud=9600, tcp://HOST:PORT, fake://); call start()."""
    if parse_device_url(url).scheme == "fake":
        return FakeKeypad(codec=codec, on_score=on_score, on_frame=on_frame)
    target, baud = pyserial_target(url, DEFAULT_BAUD)

    def open_port() -> Any:
        import serial

        return serial.serial_for_url(target, baudrate=baud, timeout=0.1)

    return Keypad(open_port, codec=codec, on_score=on_score, on_frame=on_frame)
