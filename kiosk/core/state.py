"""What the kiosk currently knows about the hall and the network, shared by UI and sync threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from .models import HallInfo, ServiceInfo

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Snapshot:
    hall: HallInfo
    services: tuple[ServiceInfo, ...]
    online: bool
    offline_since: datetime | None


class KioskState:
    """A lock-protected snapshot: the sync thread writes, everything else reads."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._snap = Snapshot(HallInfo(), (), True, None)

    @property
    def snap(self) -> Snapshot:
        with self._lock:
            return self._snap

    def set_hall(self, hall: HallInfo) -> None:
        with self._lock:
            self._snap = replace(self._snap, hall=hall)

    def set_services(self, services: list[ServiceInfo]) -> None:
        with self._lock:
            self._snap = replace(self._snap, services=tuple(services))

    def mark_online(self) -> None:
        with self._lock:
            self._snap = replace(self._snap, online=True, offline_since=None)

    def mark_offline(self) -> None:
        with self._lock:
            since = self._snap.offline_since or self.clock()
            self._snap = replace(self._snap, online=False, offline_since=since)

    def service(self, code: str) -> ServiceInfo | None:
        return next((s for s in self.snap.services if s.code == code), None)

    def local_now(self) -> datetime:
        return self.clock().astimezone(ZoneInfo(self.snap.hall.timezone))

    def business_day(self) -> str:
        return self.local_now().date().isoformat()
