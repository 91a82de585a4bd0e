"""差评 follow-up cases: opened with the rating, deadline in working days, closure rules."""

from __future__ import annotations

from datetime import date, timedelta

from queue_server.base.config import CalendarSection
from queue_server.ratings.followup import add_working_days
from tests.admin.helpers import rate, served_ticket, set_config


def test_working_days_skip_weekends_and_holidays_and_count_tiaoxiu():
    tue = date(2026, 11, 17)
    assert add_working_days(tue, 5, CalendarSection()) == date(2026, 11, 24)
    cal = CalendarSection(holidays=["2026-11-19"], workdays=["2026-11-21"])
    # Thu off, Sat worked: Wed 18, Fri 20, Sat 21, Mon 23, Tue 24.
    assert add_working_days(tue, 5, cal) == date(2026, 11, 24)
    cal = CalendarSection(holidays=["2026-11-19", "2026-11-20"])
    assert add_working_days(tue, 5, cal) == date(2026, 11, 26)


def test_every_bad_rating_opens_a_case_with_a_deadline(api, hall):
    good = served_ticket(hall)
    bad = served_ticket(hall)
    rate(hall, good["id"], 4)
    rate(hall, bad["id"], 1, ["attitude"])
    h = api.who("admin")
    cases = api.get("/api/v1/admin/cases", headers=h).json()
    assert len(cases) == 1
    case = cases[0]
    assert case["ticket_number"] == bad["number"] and case["level"] == 1
    assert case["due_day"] == "2026-11-24" and case["status"] == "open"
    assert case["reasons"] == ["attitude"] and not case["overdue"]
    got = api.get("/api/v1/admin/evaluations?bad=true", headers=h).json()
    assert [e["case_id"] for e in got] == [case["id"]]
    assert len(api.get("/api/v1/admin/evaluations?level=4", headers=h).json()) == 1
    assert len(api.get("/api/v1/admin/evaluations?window=11&service=SW", headers=h).json()) == 2


def test_configured_deadline_and_holidays_apply(hall):
    set_config(hall, followup={"deadline_working_days": 15}, calendar={"holidays": ["2026-11-20"]})
    bad = served_ticket(hall)
    rate(hall, bad["id"], 2)
    due = hall.db.row("SELECT due_day FROM followup_cases")["due_day"]
    assert due == add_working_days(date(2026, 11, 17), 15, hall.config.calendar).isoformat()
    assert due == "2026-12-09"


def test_case_cannot_close_without_followup_then_closes(api, hall):
    bad = served_ticket(hall)
    rate(hall, bad["id"], 2)
    h = api.who("admin")
    cid = api.get("/api/v1/admin/cases", headers=h).json()[0]["id"]
    r = api.post(f"/api/v1/admin/cases/{cid}/close", json={"conclusion": "已处理"}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "followup_required"
    assert (
        api.post(
            f"/api/v1/admin/cases/{cid}/assign", json={"assignee": "张科长"}, headers=h
        ).json()["status"]
        == "assigned"
    )
    r = api.post(
        f"/api/v1/admin/cases/{cid}/followup", json={"result": "satisfied", "note": ""}, headers=h
    )
    assert r.status_code == 422
    r = api.post(
        f"/api/v1/admin/cases/{cid}/followup",
        json={"result": "satisfied", "note": "已电话回访，群众表示理解"},
        headers=h,
    )
    assert r.json()["status"] == "followed_up"
    r = api.post(
        f"/api/v1/admin/cases/{cid}/rectify", json={"measures": "窗口增加引导员"}, headers=h
    )
    assert r.json()["status"] == "rectified"
    r = api.post(f"/api/v1/admin/cases/{cid}/close", json={"conclusion": "整改完成"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert (
        api.post(
            f"/api/v1/admin/cases/{cid}/close", json={"conclusion": "x"}, headers=h
        ).status_code
        == 409
    )
    actions = [
        r["action"]
        for r in hall.db.rows("SELECT action FROM audit_log WHERE action LIKE 'followup.%'")
    ]
    assert actions == ["followup.assign", "followup.record", "followup.rectify", "followup.close"]


def test_overdue_cases_stand_out(api, hall, clock):
    bad = served_ticket(hall)
    rate(hall, bad["id"], 1)
    h = api.who("admin")
    assert api.get("/api/v1/admin/cases?overdue=true", headers=h).json() == []
    clock.advance(timedelta(days=8).total_seconds())  # past Tue 24th
    over = api.get("/api/v1/admin/cases?overdue=true", headers=h).json()
    assert len(over) == 1 and over[0]["overdue"] is True
