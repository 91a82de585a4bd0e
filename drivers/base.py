"""What every device driver offers: health reporting and the small interfaces the kiosk uses.

Each device kind has pure protocol code, a transport chosen by URL (serial://, usb://, tcp://,
file://, fake://), a fake that tests and --simulate use, and (for serial devices) an emulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

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
