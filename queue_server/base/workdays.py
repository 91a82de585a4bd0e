"""Working days: Monday to Friday, minus the hall's holidays, plus its 调休 working dates
(`[calendar]` in the hall TOML). Deadlines of 差评 cases and the daily broadcasts use them."""

from __future__ import annotations

from datetime import date, timedelta

from queue_server.base.config import CalendarSection


def is_working_day(d: date, cal: CalendarSection) -> bool:
    iso = d.isoformat()
    if iso in cal.workdays:
        return True
    if iso in cal.holidays:
        return False
    return d.weekday() < 5


def add_working_days(start: date, n: int, cal: CalendarSection) -> date:
    """The n-th working day after `start` (`start` itself does not count)."""
    d = start
    left = n
    while left > 0:
        d += timedelta(days=1)
        if is_working_day(d, cal):
            left -= 1
    return d
