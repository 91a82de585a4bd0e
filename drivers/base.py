"""What every device driver offers: health reporting and the small interfaces the kiosk uses.

Each device kind has pure protocol code, a transport chosen by URL (serial://, usb://, tcp://,
file://, fake://), a fake that tests and --simulate use, and (for serial devices) an emulator.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, Self

HealthState = Literal["ok", "warning", "error", "unknown"]


@dataclass(frozen=True)
class Health:
    """One device's health: the kiosk forwards it to the server in its heartbeat."""

    state: HealthState
    reason: str = ""  # short English code, e.g. "paper_near_end", "no_answer"
    message: str = ""  # Chinese text for the administrator
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def as_dict(self) -> dict[str, str]:
        return {"state": self.state, "reason": self.reason, "message": self.message, "at": self.at}


class Device(Protocol):
    def health(self) -> Health: ...

    def close(self) -> None: ...


class Worker:
    """A device's loop on its own daemon thread: `start()` runs `_run` until `stop()`.

    `_run` watches `self._stop` (a threading.Event) and returns once it is set.
    """

    thread_name = "device"
    stop_timeout = 2.0

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.stop_timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        raise NotImplementedError


def read_available(port: Any) -> bytes:
    """What a serial port has, as soon as one byte has arrived: `read(64)` would wait out the
    port's whole timeout on every short frame (a key press took 100 ms to be seen)."""
    data = port.read(1)
    waiting = getattr(port, "in_waiting", 0) if data else 0
    return bytes(data + port.read(waiting)) if waiting else bytes(data)
