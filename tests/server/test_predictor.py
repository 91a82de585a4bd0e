"""The wait predictor: free windows, people ahead, lunch breaks, and its place in HallContext."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from halldomain.idnumber import check_character
from queue_server.core import tickets, windows
from queue_server.core.predictor import BREAK_RETURN_MIN, TREND_HIGH, Predictor, _elapsed
from tests.conftest import SHANGHAI
from tests.duty import on_duty


@pytest.fixture(autouse=True)
def _staffed(request):
    """Staff on duty at every window (an open window with nobody logged in serves nobody)."""
    if "hall" in request.fixturenames:
        on_duty(request.getfixturevalue("hall"))


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


def test_pool_work_counts_other_services_by_the_share_of_their_windows_that_are_ours(hall):
    for _ in range(4):
        issue(hall, "SW")
    # GCJS is served by windows 19 (GCJS only) and 24 (all ten services, a tenth each). SW
    # has windows 13-15, a third of 23 and a tenth of 24: 103/30 windows, 3/103 of them ours.
    # With no history the configured times hold: GCJS 25 min, SW 10 min.
    work = Predictor().pool_work(hall.ctx, hall.db.reader, "GCJS", 2)
    assert work == pytest.approx((3 * 25 + 4 * (3 / 103) * 10) / 2)


def test_overtakers_are_the_higher_classes_arriving_within_their_offset(hall):
    def issue_as(priority=None, channel="kiosk"):
        req = tickets.IssueRequest(service="GCJS", priority=priority, channel=channel)
        hall.run_sync(lambda tx: tickets.issue(hall.ctx, tx, req))

    for _ in range(3):
        issue_as(priority="elderly")
    for _ in range(6):
        issue_as(channel="appointment")
    p, conn = Predictor(), hall.db.reader
    # Demo classes: elderly offset 15, appointment 30; arrivals per minute over the last hour.
    assert p.overtakers(hall.ctx, conn, "GCJS", "ordinary") == [(3 / 60, 15.0), (6 / 60, 30.0)]
    assert p.overtakers(hall.ctx, conn, "GCJS", "elderly") == [(6 / 60, 15.0)]
    assert p.overtakers(hall.ctx, conn, "GCJS", "appointment") == []
    # With the same people ahead, the ordinary ticket expects to be passed: a longer wait.
    ordinary = p.predict(hall.ctx, conn, "GCJS", 6, "ordinary")
    top = p.predict(hall.ctx, conn, "GCJS", 6, "appointment")
    assert ordinary.point_min > top.point_min
    routing = hall.ctx.config.routing.model_copy(update={"policy": "strict"})
    hall.ctx.config = hall.ctx.config.model_copy(update={"routing": routing})
    assert p.overtakers(hall.ctx, conn, "GCJS", "elderly") == [(6 / 60, math.inf)]


def test_other_services_pass_at_windows_that_weight_them_more(hall):
    for n in range(6):  # CRJ is real-name: six people born in 1990 (ordinary class)
        first17 = f"11010519900101{n:03d}"
        req = tickets.IssueRequest(service="CRJ", id_number=first17 + check_character(first17))
        hall.run_sync(lambda tx, req=req: tickets.issue(hall.ctx, tx, req))
    p, conn = Predictor(), hall.db.reader
    # HJ shares windows 20-21 (CRJ 2, HJ 1) and 24 (all 1) with CRJ. Where CRJ weighs twice
    # as much, a CRJ ticket issued up to half our wait after ours is called first; at the
    # equal window none is. Windows 20 and 21 make the same term: it comes once, their flows
    # summed (twice the flow of one window's share).
    passing, behind = p.cross_flux(hall.ctx, conn, "HJ", None)
    assert [(c, g) for _f, c, g in passing] == [(0, 0.5)]
    assert behind == []
    # An elderly HJ ticket (offset 15) is passed only once it has waited 15 minutes there,
    # and the ordinary CRJ tickets waiting now that were issued within its offset are behind it.
    elderly, behind = p.cross_flux(hall.ctx, conn, "HJ", "elderly")
    assert [(c, g) for _f, c, g in elderly] == [(-7.5, 0.5)]
    assert elderly[0][0] == pytest.approx(passing[0][0])  # the same CRJ arrivals, later
    assert sorted((c, g) for _f, c, g, _h in behind) == [(7.5, -0.5), (15.0, 0.0)]
    # All those arrivals came in the last minutes: the hall's arrivals are rising.
    assert p.trend(hall.ctx, conn, ["HJ", "CRJ"]) == pytest.approx(min(TREND_HIGH, 60 / 20))


def test_a_window_on_a_short_break_is_back_after_break_return_min(hall, clock):
    for _ in range(6):
        issue(hall)
    conn = hall.db.reader
    before = Predictor().predict(hall.ctx, conn, "GCJS", 5)
    hall.run_sync(lambda tx: windows.set_status(hall.ctx, tx, 19, "paused"))
    assert Predictor().on_break(hall.ctx, conn, "GCJS") == [(1.0, BREAK_RETURN_MIN)]
    during = Predictor().predict(hall.ctx, conn, "GCJS", 5)
    assert during.point_min > before.point_min  # the break's missed completions come first
    clock.set(datetime(2026, 11, 17, 9, 5, tzinfo=SHANGHAI))
    assert Predictor().on_break(hall.ctx, conn, "GCJS") == [(1.0, BREAK_RETURN_MIN - 5)]
    clock.set(datetime(2026, 11, 17, 9, 40, tzinfo=SHANGHAI))
    assert Predictor().on_break(hall.ctx, conn, "GCJS") == [(1.0, 1.0)]  # overdue: back soon


def test_point_is_the_median_inside_the_range():
    # A log-normal's median lies below its mean: the point sits inside the 10-90% range.
    from queue_server.core.predictor import Prediction

    assert Prediction(10.0, 6.0, 15.0).range().as_dict() == {"low_min": 6, "high_min": 15}
