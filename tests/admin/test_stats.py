"""效能监察 reports against a synthetic day whose answers are known in advance.

Ten SW tickets are issued ten minutes apart from 09:00 at dedicated window 11. Ticket i is
called i+1 minutes after it was issued (waits 1..9 min for the nine that are called) and
tickets 0..7 take 3, 5, 2, 8, 4, 6, 1, 7 minutes. Ticket 8 does not come (过号); ticket 9 is
never called and is transferred to QYKB. Tickets 0..4 are rated 5, 4, 3, 2, 1.
"""

from __future__ import annotations

import csv
import io

import pytest

from queue_server.admin import stats
from tests.admin.helpers import call_next, finish, issue, rate, skip, transfer

SERVICE_MIN = [3, 5, 2, 8, 4, 6, 1, 7]


@pytest.fixture
def day(hall, clock):
    t0 = clock.timestamp()
    issued = []
    for i in range(10):
        clock._t = t0 + 600 * i
        issued.append(issue(hall, "SW"))
    for i in range(9):
        clock._t = t0 + 600 * i + 60 * (i + 1)
        called = call_next(hall, 11, staff="王芳")
        assert called is not None and called["id"] == issued[i]["id"]
        if i < 8:
            clock._t += 60 * SERVICE_MIN[i]
            finish(hall, issued[i]["id"])
        else:
            clock._t += 60
            skip(hall, issued[i]["id"])
    transfer(hall, issued[9]["id"], "QYKB")
    for i, level in enumerate([5, 4, 3, 2, 1]):
        rate(hall, issued[i]["id"], level)
    return issued


def test_percentile_is_linear_between_ranks():
    assert stats.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert stats.percentile(list(range(1, 10)), 0.9) == pytest.approx(8.2)
    assert stats.percentile([], 0.5) is None
    assert stats.percentile([7], 0.9) == 7


def test_day_totals_are_exact(hall, day):
    hist = stats.load_history(hall.db.reader, "2026-11-17", "2026-11-17")
    (row, total) = stats.report(hist, "day")
    assert row["key"] == "2026-11-17" and total["key"] == "合计"
    assert row["tickets"] == 10 and row["called"] == 9 and row["done"] == 8
    assert row["no_show"] == 1 and row["no_show_rate"] == pytest.approx(1 / 9, abs=1e-4)
    assert row["transfers"] == 1
    assert (row["wait_mean"], row["wait_median"], row["wait_p90"]) == (5.0, 5.0, 8.2)
    assert (row["service_mean"], row["service_median"], row["service_p90"]) == (4.5, 4.5, 7.3)
    assert row["ratings"] == 5 and row["bad_ratings"] == 2
    assert row["satisfaction"] == 0.6 and row["mean_level"] == 3.0


def test_by_hour_window_and_staff(hall, day):
    hist = stats.load_history(hall.db.reader, "2026-11-17", "2026-11-17")
    by_hour = {r["key"]: r for r in stats.report(hist, "hour")}
    assert by_hour["09"]["tickets"] == 6 and by_hour["10"]["tickets"] == 4
    assert (by_hour["09"]["wait_median"], by_hour["09"]["wait_p90"]) == (3.5, 5.5)
    assert (by_hour["10"]["wait_median"], by_hour["10"]["wait_p90"]) == (8.0, 8.8)
    by_window = stats.report(hist, "window")
    assert [r["key"] for r in by_window] == [11, "合计"]
    assert by_window[0]["called"] == 9
    by_staff = {r["key"]: r for r in stats.report(hist, "staff")}
    assert by_staff["王芳"]["done"] == 8 and by_staff["王芳"]["service_median"] == 4.5


def test_reports_are_recomputed_from_events_not_the_tickets_table(hall, day):
    before = stats.report(stats.load_history(hall.db.reader, "2026-11-17", "2026-11-17"), "day")
    # Later changes to ticket rows (e.g. a purge of personal data) do not move the figures.
    hall.run_sync(lambda tx: tx.execute("UPDATE tickets SET called_ts = NULL, status = 'expired'"))
    after = stats.report(stats.load_history(hall.db.reader, "2026-11-17", "2026-11-17"), "day")
    assert before == after
    assert (
        stats.report(stats.load_history(hall.db.reader, "2026-11-18", "2026-11-18"), "day")[0][
            "tickets"
        ]
        == 0
    )


def test_report_api_and_csv(api, hall, day):
    h = api.who("admin")
    r = api.get("/api/v1/admin/reports?by=service&day_from=2026-11-17", headers=h).json()
    sw = r["rows"][0]
    assert sw["key"] == "SW" and sw["label"] == hall.config.service("SW").name
    assert sw["wait_p90"] == 8.2
    c = api.get("/api/v1/admin/reports.csv?by=hour&day_from=2026-11-17", headers=h)
    assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(c.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["时段", "取号数", "叫号数"]
    assert rows[1][0] == "09:00" and rows[-1][0] == "合计"
    assert api.get("/api/v1/admin/reports?by=colour", headers=h).status_code == 422
    assert api.get("/api/v1/admin/reports?day_from=17.11.2026", headers=h).status_code == 422


def test_live_floor_alerts_when_queue_is_long(api, hall, clock):
    from tests.admin.helpers import set_config
    from tests.duty import on_duty

    set_config(hall, oversight={"per_window_alert": 2, "wait_alert_min": 600})
    on_duty(hall, 11, 12, 13, 23, 24)
    for _ in range(7):
        issue(hall, "SW")  # three SW windows open (11, 12, 13, plus 23 and 24)
    clock.advance(300)
    call_next(hall, 11)
    h = api.who("admin")
    floor = api.get("/api/v1/admin/floor", headers=h).json()
    sw = next(s for s in floor["services"] if s["code"] == "SW")
    assert sw["waiting"] == 6 and sw["longest_wait_min"] == 5.0
    w11 = next(w for w in floor["windows"] if w["no"] == 11)
    assert w11["serving"]["number"].startswith("D") and w11["idle_min"] is None
    w12 = next(w for w in floor["windows"] if w["no"] == 12)
    assert w12["serving"] is None and w12["idle_min"] is not None
    assert floor["alerts"] == [] or all(a["service"] != "SW" for a in floor["alerts"])
    for no in (12, 13, 23, 24):
        assert api.post(f"/api/v1/windows/{no}/close", headers=h).status_code == 200
    floor = api.get("/api/v1/admin/floor", headers=h).json()
    (alert,) = [a for a in floor["alerts"] if a["service"] == "SW"]
    assert "每个开放窗口 6.0 人等候" in alert["text"]
    # Closed windows that serve SW, the tidal one first.
    assert [w["no"] for w in alert["suggest_windows"]] == [23, 12, 13]
    assert "建议开启 23 号、12 号、13 号窗口" in alert["text"]
