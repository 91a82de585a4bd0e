"""The business day follows the hall's time zone, also when it is changed live, and a ticket
being served across midnight can still be finished."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from queue_server.admin.hall_config import apply, validate
from queue_server.core import tickets, windows
from tests.conftest import SHANGHAI

AUCKLAND = ZoneInfo("Pacific/Auckland")  # UTC+13 in November (daylight saving time)


def set_zone(hall, zone: str) -> None:
    data = hall.config.model_dump(mode="json")
    data["hall"]["timezone"] = zone
    new = validate(data)
    hall.run_sync(lambda tx: apply(hall.ctx, tx, new, "admin:test"))


def issue(hall, service: str = "SW") -> dict:
    req = tickets.IssueRequest(service=service)
    return hall.run_sync(lambda tx: tickets.issue(hall.ctx, tx, req))[0]


def test_changing_the_zone_live_moves_the_business_day_and_its_rollover(hall, clock):
    clock.set(datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI))  # 14:00 in Auckland
    first = issue(hall)
    assert first["business_day"] == "2026-11-17"
    set_zone(hall, "Pacific/Auckland")
    assert hall.clock.business_day() == "2026-11-17"
    # Midnight in Auckland is 19:00 in Shanghai: the day rolls there, not at Shanghai's.
    clock.set(datetime(2026, 11, 18, 0, 30, tzinfo=AUCKLAND))
    assert hall.clock.business_day() == "2026-11-18"
    t = issue(hall)
    assert t["business_day"] == "2026-11-18" and t["number"].endswith("001")
    old = hall.db.row("SELECT status FROM tickets WHERE id = ?", (first["id"],))
    assert old["status"] == "expired"  # yesterday's waiting ticket
    # Back to Shanghai: it is 19:30 on the 17th there, but the 18th has been served already;
    # the day follows the zone from now on and rolls at Shanghai's next midnight.
    set_zone(hall, "Asia/Shanghai")
    clock.set(datetime(2026, 11, 19, 0, 1, tzinfo=SHANGHAI))
    assert hall.clock.business_day() == "2026-11-19"


def test_a_ticket_being_served_at_midnight_can_be_finished(hall, clock):
    clock.set(datetime(2026, 11, 17, 23, 50, tzinfo=SHANGHAI))
    served = issue(hall)
    waiting = issue(hall)
    called = hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, 11, "王芳"))
    assert called["id"] == served["id"]
    clock.advance(timedelta(minutes=20).total_seconds())  # 00:10 on the 18th
    issue(hall)  # the new day starts
    assert hall.ctx.current_day == "2026-11-18"
    done = hall.run_sync(lambda tx: tickets.finish(hall.ctx, tx, served["id"], 11))
    assert done["status"] == "done"
    left = hall.db.row("SELECT status FROM tickets WHERE id = ?", (waiting["id"],))
    assert left["status"] == "expired"


def test_a_ticket_called_long_before_midnight_and_never_finished_expires(hall, clock):
    clock.set(datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI))
    t = issue(hall)
    hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, 11, "王芳"))
    clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=SHANGHAI))
    issue(hall)
    row = hall.db.row("SELECT status FROM tickets WHERE id = ?", (t["id"],))
    assert row["status"] == "expired"
