"""An in-memory port wired to a SamModule: the fake reader uses it instead of a serial port."""

from __future__ import annotations

import threading
import time

from .protocol import FrameParser
from .sam import SamModule


class LoopbackPort:
    """Just enough of pyserial's Serial for IdCardReader: write, read, reset_input_buffer."""

    def __init__(self, sam: SamModule, timeout: float = 0.02) -> None:
        self.sam = sam
        self.timeout = timeout
        self._parser = FrameParser()
        self._rx = bytearray()
        self._lock = threading.Lock()
        self.is_open = True

    def write(self, data: bytes) -> int:
        with self._lock:
            for frame in self._parser.feed(data):
                self._rx += self.sam.handle(frame)
        return len(data)

    def read(self, size: int = 1) -> bytes:
        with self._lock:
            chunk = bytes(self._rx[:size])
            del self._rx[:size]
        if not chunk:
            time.sleep(self.timeout)
        return chunk

    @property
    def in_waiting(self) -> int:
        return len(self._rx)

    def reset_input_buffer(self) -> None:
        with self._lock:
            self._rx.clear()

    def close(self) -> None:
        self.is_open = False
