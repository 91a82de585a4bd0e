"""A caller keypad on a pseudo-terminal: `press` sends key frames, the LED text is decoded.

The driver (or the bridge) opens `emulator.url` as a real serial port; tests and
`hall device caller emulate` press keys and read what the keypad's LED shows.
"""

from __future__ import annotations

import os
import select
import threading
import tty

from drivers.base import Worker

from .frame import CallerCodec, Display, encode_press


class CallerEmulator(Worker):
    """One or more keypads (by bus address) on one pty; `display[addr]` is the LED's text."""

    thread_name = "caller-emulator"

    def __init__(self, on_display=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.display: dict[int, str] = {}
        self.history: list[Display] = []
        self.on_display = on_display
        self._codec = CallerCodec()
        self._changed = threading.Condition()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        self.url = f"serial://{os.ttyname(self._slave)}?baud=9600"

    def press(self, key: str, addr: int = 1) -> None:
        """Staff press `key` ("call", "recall", "skip", "finish", "pause", "evaluate")."""
        os.write(self._master, encode_press(addr, key))

    def write_raw(self, data: bytes) -> None:
        os.write(self._master, data)

    def shown_count(self) -> int:
        with self._changed:
            return len(self.history)

    def wait_display(self, after: int, timeout: float = 5.0) -> Display | None:
        """The first display frame after the `after`-th one, or None if none came in time."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.history) > after, timeout)
            return self.history[after] if len(self.history) > after else None

    def stop(self) -> None:
        super().stop()
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self._master, 256)
            except OSError:
                return
            for event in self._codec.feed(data):
                if isinstance(event, Display):
                    with self._changed:
                        self.display[event.addr] = event.text
                        self.history.append(event)
                        self._changed.notify_all()
                    if self.on_display is not None:
                        self.on_display(event)
