"""Local time in the hall's zone, the business day, and opening hours.

The business day rolls over at local midnight in the hall's zone (not UTC, not cron):
see docs/DOMAIN.md ("Business day") and the bugs other systems had (TheQ #626, NovoSGA #395).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo


class Clock:
    """Wall clock in the hall's zone; tests replace it with a `FixedClock`."""

    def __init__(self, timezone: str = "Asia/Shanghai") -> None:
        self._zone = ZoneInfo(timezone)
        self._day: tuple[float, float, str] = (0.0, 0.0, "")

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    @zone.setter
    def zone(self, zone: ZoneInfo) -> None:
        """A new zone (the hall's time zone changed live): the business day's bounds are
        recomputed in it, so the day and its next rollover follow the new local midnight."""
        self._zone = zone
        self._day = (0.0, 0.0, "")

    def timestamp(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), self.zone)

    def business_day(self, ts: float | None = None) -> str:
        t = self.timestamp() if ts is None else ts
        start, end, day = self._day
        if start <= t < end:  # asked on every request: keep the current day's bounds
            return day
        local = datetime.fromtimestamp(t, self.zone)
        midnight = datetime.combine(local.date(), dtime(0, 0), self.zone)
        following = datetime.combine(local.date() + timedelta(days=1), dtime(0, 0), self.zone)
        day = local.date().isoformat()
        self._day = (midnight.timestamp(), following.timestamp(), day)
        return day

    def iso(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.zone).isoformat(timespec="seconds")

    def parse_iso(self, text: str) -> float:
        dt = datetime.fromisoformat(text)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=self.zone)
        return dt.timestamp()

    def within(self, spans: list[str], ts: float | None = None) -> bool:
        """Whether local time is inside one of the `HH:MM-HH:MM` spans."""
        t = self.now() if ts is None else datetime.fromtimestamp(ts, self.zone)
        hm = t.strftime("%H:%M")
        return any(span[:5] <= hm < span[6:] for span in spans)


class FixedClock(Clock):
    """A clock that stands still until moved: for tests and the accelerated simulation."""

    def __init__(self, start: datetime | float, timezone: str = "Asia/Shanghai") -> None:
        super().__init__(timezone)
        self._t = start.timestamp() if isinstance(start, datetime) else float(start)

    def timestamp(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        self._t += seconds

    def set(self, when: datetime) -> None:
        self._t = when.timestamp()


def local_day(d: date) -> str:
    return d.isoformat()


class ScaledClock(Clock):
    """Simulated time running `scale` times faster than the wall clock from `start`.

    Only for the hall-day simulation (`hall server --time-scale`): a whole day in minutes.
    """

    def __init__(
        self, start: datetime | float, scale: float, timezone: str = "Asia/Shanghai"
    ) -> None:
        super().__init__(timezone)
        self._start = start.timestamp() if isinstance(start, datetime) else float(start)
        self._real0 = time.time()
        self.scale = scale

    def timestamp(self) -> float:
        return self._start + (time.time() - self._real0) * self.scale
