"""Reports by department, window, staff and service with the offline indicators (整体满意度,
服务效率, 服务水平, 服务态度), rates as the screen shows them, and the same text in the CSV."""

from __future__ import annotations

import csv
import io

import pytest

from queue_server.admin import stats
from queue_server.ratings import evaluations
from tests.admin.helpers import call_next, finish, issue

# (level, reasons) of six window ratings on one day, all at window 11 by 王芳 on SW.
RATINGS = [
    (5, []),
    (4, []),
    (3, []),
    (2, ["long_wait", "attitude"]),  # efficiency and attitude
    (1, ["unskilled", "slow"]),  # competence and efficiency
    (2, ["facilities"]),  # counts against none of the three
]


@pytest.fixture
def rated(hall, clock):
    for level, reasons in RATINGS:
        t = issue(hall, "SW")
        assert call_next(hall, 11)["id"] == t["id"]
        finish(hall, t["id"])
        hall.run_sync(
            lambda tx, t=t, level=level, reasons=reasons: evaluations.create(
                hall.ctx, tx, t["id"], level, reasons, "", "window", None
            )
        )
    # A kiosk rating rates the terminal: it is not part of the service indicators.
    hall.run_sync(
        lambda tx: evaluations.create(hall.ctx, tx, t["id"], 1, ["kiosk_slow"], "", "kiosk", None)
    )


def test_percent_is_the_screen_text():
    assert stats.percent(0.6) == "60.0%"
    assert stats.percent(1) == "100.0%"
    assert stats.percent(0.1225) == "12.3%"  # half up, on the decimal value
    assert stats.percent(0.0005) == "0.1%"
    assert stats.percent(None) == "—"


def test_offline_indicators_from_levels_and_reasons(hall, rated):
    hist = stats.load_history(hall.db.reader, "2026-11-17", "2026-11-17")
    (row, total) = stats.report(hist, "service", indicators=hall.config.ratings.domain())
    assert row == total | {"key": "SW"}
    assert row["ratings"] == 6 and row["bad_ratings"] == 3  # the kiosk's rating is not here
    assert row["satisfaction"] == 0.5
    # 整体满意度: mean of level × 20 % = (100 + 80 + 60 + 40 + 20 + 40) / 6 = 56.67 %
    assert row["overall"] == pytest.approx(0.5667, abs=1e-4)
    assert row["overall_pct"] == "56.7%"
    # The share of ratings that cite no reason of the indicator.
    assert (row["efficiency"], row["competence"], row["attitude"]) == (
        pytest.approx(4 / 6, abs=1e-4),
        pytest.approx(5 / 6, abs=1e-4),
        pytest.approx(5 / 6, abs=1e-4),
    )
    assert (row["efficiency_pct"], row["competence_pct"], row["attitude_pct"]) == (
        "66.7%",
        "83.3%",
        "83.3%",
    )
    assert row["satisfaction_pct"] == "50.0%"


def test_by_department_reads_the_configuration_defensively(hall, rated):
    hist = stats.load_history(hall.db.reader, "2026-11-17", "2026-11-17")
    plain = stats.report(hist, "department", indicators=hall.config.ratings.domain())
    assert [r["key"] for r in plain] == ["", "合计"]  # no department configured yet
    by = stats.report(
        hist,
        "department",
        indicators=hall.config.ratings.domain(),
        department_of=lambda service, window: "市人社局" if service == "SW" else "",
    )
    assert [r["key"] for r in by] == ["市人社局", "合计"] and by[0]["ratings"] == 6


def test_api_and_csv_show_the_same_percentages(api, hall, rated):
    h = api.who("admin")
    for by in ("department", "window", "staff", "service"):
        r = api.get(f"/api/v1/admin/reports?by={by}&day_from=2026-11-17", headers=h)
        assert r.status_code == 200, r.text
        rows = r.json()["rows"]
        c = api.get(f"/api/v1/admin/reports.csv?by={by}&day_from=2026-11-17", headers=h)
        table = list(csv.reader(io.StringIO(c.text.lstrip("\ufeff"))))
        head = table[0]
        for name, field in (
            ("好评率", "satisfaction_pct"),
            ("整体满意度", "overall_pct"),
            ("服务效率", "efficiency_pct"),
            ("服务水平", "competence_pct"),
            ("服务态度", "attitude_pct"),
            ("过号率", "no_show_rate_pct"),
        ):
            col = head.index(name)
            assert [line[col] for line in table[1:]] == [row[field] for row in rows]
    dept = api.get("/api/v1/admin/reports?by=department&day_from=2026-11-17", headers=h).json()
    # the demo hall's 税务 service names its department (a service without one: 未设部门)
    assert dept["rows"][0]["label"] == hall.config.service("SW").department == "区税务局"
