"""What every device driver offers: health reporting and the small interfaces the kiosk uses.

Each device kind has pure protocol code, a transport chosen by URL (serial://, usb://, tcp://,
file://, fake://), a fake that tests and --simulate use, and (for serial devices) an emulator.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, Self

HealthState = Literal["ok", "warning", "error", "unknown"]


_log = logging.getLogger(__name__)


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


class SerialWorker(Worker):
    """A device that lives on a serial line: its thread opens the port (again after a failure,
    every `reopen_after` seconds), reads what arrives and hands it to `feed`; `write` sends
    frames back (an LED text). Health says whether the line is up, in the device's own words."""

    label = "设备"  # what staff call it: "呼叫器", "评价器"

    def __init__(self, open_port: Callable[[], Any], reopen_after: float = 1.0) -> None:
        super().__init__()
        self._open_port = open_port
        self.reopen_after = reopen_after
        self._port: Any = None
        self._health = Health("unknown", "not_started", f"{self.label}尚未启动")

    def stop(self) -> None:
        super().stop()
        self._close_port()

    close = stop

    def health(self) -> Health:
        return self._health

    def write(self, frame: bytes) -> bool:
        """Send a frame; False when the port is not open or fails (the frame is then lost)."""
        port = self._port
        if port is None:
            return False
        try:
            port.write(frame)
        except (OSError, ValueError):
            return False
        return True

    def feed(self, data: bytes) -> Any:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._port is None:
                    self._port = self._open_port()
                    self._health = Health("ok", "ok", f"{self.label}已连接")
                data = read_available(self._port)
            except (OSError, ValueError) as e:
                _log.warning("%s port failed: %s", self.thread_name, e.__class__.__name__)
                self._health = Health("error", "port_error", f"{self.label}连接中断，请检查连接线")
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
