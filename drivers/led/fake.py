"""FakeLedPort: what tests and --simulate use instead of a serial port: it keeps every frame.

`delay` makes each write take that long (a slow bus); `fail` makes writes raise (a pulled
cable); `answer` bytes come back after each write (a strip that acknowledges).
"""

from __future__ import annotations

import threading
import time


class FakeLedPort:
    def __init__(self, delay: float = 0.0, fail: bool = False, answer: bytes = b"") -> None:
        self.delay = delay
        self.fail = fail
        self.answer = answer
        self.writes: list[bytes] = []
        self.timeout: float | None = None
        self.gate = threading.Event()  # tests may hold writes until they set it
        self.gate.set()
        self._unread = b""

    def write(self, data: bytes) -> int:
        self.gate.wait()
        if self.fail:
            raise OSError("fake LED bus: write failed")
        if self.delay:
            time.sleep(self.delay)
        self.writes.append(bytes(data))
        self._unread += self.answer
        return len(data)

    def read(self, size: int = 1) -> bytes:
        out, self._unread = self._unread[:size], self._unread[size:]
        return out

    @property
    def in_waiting(self) -> int:
        return len(self._unread)

    def reset_input_buffer(self) -> None:
        self._unread = b""

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
