"""The wait predictor: free windows, people ahead, lunch breaks, and its place in HallContext."""

from __future__ import annotations

from datetime import datetime

from queue_server import tickets
from queue_server.predictor import Predictor, _elapsed
from tests.conftest import SHANGHAI


def _ts(hm: str) -> float:
    h, m = map(int, hm.split(":"))
    return datetime(2026, 11, 17, h, m, tzinfo=SHANGHAI).timestamp()


def test_elapsed_skips_lunch_and_credits_the_restart():
    spans = [(_ts("08:30"), _ts("12:00")), (_ts("13:30"), _ts("17:30"))]
    assert _elapsed(spans, _ts("09:00"), 30) == 30 * 60
    # 11:50 + 30 min of work: 10 before lunch, 20 after 13:30, less 8 taken at once.
    assert _elapsed(spans, _ts("11:50"), 30, 8) == (10 + 90 + 12) * 60
    assert _elapsed(spans, _ts("12:30"), 5) == (60 + 5) * 60  # issued in the lunch break
    assert _elapsed(spans, _ts("17:20"), 30) == 30 * 60  # windows serve the queue out
    assert _elapsed(spans, _ts("18:00"), 10) == 10 * 60


def issue(hall, service="GCJS"):
    return hall.run_sync(
        lambda tx: tickets.issue(hall.ctx, tx, tickets.IssueRequest(service=service))
    )[0]


def test_hall_uses_the_predictor_and_ranges_grow_with_people_ahead(hall):
    assert isinstance(hall.ctx.predictor, Predictor)
    views = [issue(hall) for _ in range(6)]
    # GCJS: window 19 and a tenth of window 24, both free: the first two go at once.
    assert views[0]["wait_estimate"]["low_min"] == 0 and views[0]["wait_estimate"]["high_min"] <= 7
    lows = [v["wait_estimate"]["low_min"] for v in views[2:]]
    highs = [v["wait_estimate"]["high_min"] for v in views[2:]]
    assert lows == sorted(lows) and highs == sorted(highs) and lows[-1] > lows[0]
    assert all(lo < hi for lo, hi in zip(lows, highs, strict=True))


def test_wait_that_runs_into_lunch_includes_it(hall, clock):
    clock.set(datetime(2026, 11, 17, 11, 0, tzinfo=SHANGHAI))
    views = [issue(hall) for _ in range(8)]
    p = hall.ctx.predictor.predict(hall.ctx, hall.db.reader, "GCJS", views[-1]["ahead"])
    # About 8 / (1.1 windows / 25 min) ≈ 180 min of work from 11:00: past 12:00 by far.
    assert p.low_min > 90 and p.point_min > 60 + 90


def test_windows_open_outside_hours_mean_no_gap(hall, clock):
    clock.set(datetime(2026, 11, 17, 20, 0, tzinfo=SHANGHAI))  # the demo hall runs at any hour
    views = [issue(hall) for _ in range(4)]
    assert views[0]["wait_estimate"]["low_min"] == 0
    assert views[-1]["wait_estimate"]["high_min"] < 12 * 60  # not "come back tomorrow"
