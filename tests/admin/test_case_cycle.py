"""The full 差评 cycle: the transition table, both deadlines in working days from the hall file,
the citizen's phone (masked, revealed to the assigned handler only), 申诉复核 and its reviewer
rule, overdue cases on the admin floor."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from halldomain import cases as machine
from queue_server.admin import accounts, retention, stats
from queue_server.admin import hall_config as admin_config
from queue_server.base.config import load_config, parse_config
from queue_server.ratings import evaluations, followup
from tests.admin.helpers import rate, served_ticket

# The cycle as the rules describe it, written out independently of the module's table.
EXPECTED = {
    "open": {"assign": "assigned", "follow_up": "followed_up", "hand_off": "handed_off",
             "appeal": "appealed"},
    "assigned": {"assign": "assigned", "follow_up": "followed_up", "hand_off": "handed_off",
                 "appeal": "appealed"},
    "handed_off": {"hotline_outcome": "followed_up"},
    "followed_up": {"assign": "followed_up", "follow_up": "followed_up", "rectify": "rectified",
                    "close": "closed", "appeal": "appealed"},
    "rectified": {"assign": "rectified", "rectify": "rectified", "close": "closed",
                  "appeal": "appealed"},
    "appealed": {"uphold": "closed", "reject": "<previous>"},
    "closed": {},
}  # fmt: skip


@pytest.mark.parametrize("state", list(machine.STATES))
@pytest.mark.parametrize("action", list(machine.ACTIONS))
def test_transition_table_allows_exactly_the_cycle(state, action):
    want = EXPECTED[state].get(action)
    if want is None:
        with pytest.raises(machine.TransitionRefused):
            machine.next_state(state, action, previous="assigned")
    elif want == "<previous>":
        assert machine.next_state(state, action, previous="rectified") == "rectified"
        with pytest.raises(machine.TransitionRefused):  # never back into a review or a closure
            machine.next_state(state, action, previous="closed")
    else:
        assert machine.next_state(state, action, previous="assigned") == want


# -- the same table through the HTTP API -----------------------------------------------------

PHONE = "13812341234"


def _bad_case(hall) -> int:
    t = served_ticket(hall)
    rate(hall, t["id"], 1, ["attitude"])
    return int(hall.db.row("SELECT MAX(id) AS id FROM followup_cases")["id"])


def _post(api, cid: int, path: str, body: dict[str, Any], who: str = "admin", window=None):
    return api.post(f"/api/v1/admin/cases/{cid}/{path}", json=body, headers=api.who(who, window))


STEPS = {
    "assign": ("assign", {"assignee": "张科长"}),
    "follow_up": ("followup", {"result": "satisfied", "note": "已电话回访"}),
    "hand_off": ("handoff", {"note": "请 12345 回访"}),
    "rectify": ("rectify", {"measures": "窗口增加引导员"}),
    "close": ("close", {"conclusion": "已处理"}),
    "appeal": ("appeal", {"kind": "mistaken", "reason": "群众误点"}),
    "uphold": ("review", {"decision": "upheld", "note": "经核实为误评"}),
    "reject": ("review", {"decision": "rejected", "note": "评价属实"}),
}
REACH = {  # how a fresh case gets to each state
    "open": [],
    "assigned": ["assign"],
    "handed_off": ["hand_off"],
    "followed_up": ["follow_up"],
    "rectified": ["follow_up", "rectify"],
    "appealed": ["assign", "appeal"],
    "closed": ["follow_up", "close"],
}


def _step(api, cid: int, action: str):
    path, body = STEPS[action]
    if action == "appeal":  # the window's staff member appeals, an administrator reviews
        return _post(api, cid, path, body, "staff", 11)
    return _post(api, cid, path, body)


@pytest.mark.parametrize("state", list(REACH))
def test_every_step_is_allowed_or_refused_by_the_table(api, hall, state):
    for action in STEPS:
        cid = _bad_case(hall)
        for before in REACH[state]:
            assert _step(api, cid, before).status_code == 200, (state, before)
        assert (
            hall.db.row("SELECT status FROM followup_cases WHERE id = ?", (cid,))["status"] == state
        )
        r = _step(api, cid, action)
        want = EXPECTED[state].get(action)
        if want is None:
            assert r.status_code == 409, (state, action, r.text)
            continue
        assert r.status_code == 200, (state, action, r.text)
        after = "assigned" if want == "<previous>" else want  # appealed from assigned
        assert r.json()["status"] == after, (state, action)
        assert action in machine.allowed_actions(state)


# -- deadlines from the hall file ----------------------------------------------------------


def _hall_from_file(tmp_path, clock, **sections: dict[str, Any]):
    from queue_server.runtime.hall import Hall

    data = load_config().model_dump(mode="json")
    for name, values in sections.items():
        data[name] = data[name] | values
    path = tmp_path / "hall.toml"
    path.write_text(admin_config.to_toml(parse_config(data)), encoding="utf-8")
    return Hall(tmp_path / "file.db", config_path=path, clock=clock)


def test_followup_and_rectify_deadlines_count_holidays_and_tiaoxiu_from_the_hall_file(
    tmp_path, clock
):
    # Tue 17 Nov: Wed 18 is a holiday, Sat 21 a 调休 working day; 回访 in 2, 整改 in 4.
    h = _hall_from_file(
        tmp_path,
        clock,
        calendar={"holidays": ["2026-11-18"], "workdays": ["2026-11-21"]},
        followup={"followup_working_days": 2, "deadline_working_days": 4},
    )
    try:
        assert "2026-11-21" in (tmp_path / "hall.toml").read_text(encoding="utf-8")
        rate(h, served_ticket(h)["id"], 2)
        row = h.db.row("SELECT followup_due_day, due_day FROM followup_cases")
        assert row["followup_due_day"] == "2026-11-20"  # Thu 19, Fri 20
        assert row["due_day"] == "2026-11-23"  # Thu 19, Fri 20, Sat 21, Mon 23
    finally:
        h.close()


def test_default_deadlines_are_one_and_five_working_days(hall, clock):
    clock.advance(timedelta(days=3).total_seconds())  # Friday 20 Nov
    rate(hall, served_ticket(hall)["id"], 1)
    row = hall.db.row("SELECT followup_due_day, due_day FROM followup_cases")
    assert (row["followup_due_day"], row["due_day"]) == ("2026-11-23", "2026-11-27")


# -- overdue cases on the floor and in the list -----------------------------------------------


def test_overdue_followup_then_rectification_alert_on_the_floor(api, hall, clock):
    cid = _bad_case(hall)
    h = api.who("admin")
    assert api.get("/api/v1/admin/floor", headers=h).json()["case_alerts"] == []
    clock.advance(timedelta(days=2).total_seconds())  # Thu 19: 回访 was due Wed 18
    alerts = api.get("/api/v1/admin/floor", headers=h).json()["case_alerts"]
    assert [(a["case_id"], a["followup_overdue"], a["rectify_overdue"]) for a in alerts] == [
        (cid, True, False)
    ]
    assert "回访超期" in alerts[0]["text"] and "11 号窗口" in alerts[0]["text"]
    listed = api.get("/api/v1/admin/cases?overdue=true", headers=h).json()
    assert [c["id"] for c in listed] == [cid]
    assert _step(api, cid, "follow_up").status_code == 200
    assert api.get("/api/v1/admin/floor", headers=h).json()["case_alerts"] == []
    clock.advance(timedelta(days=6).total_seconds())  # Wed 25: 整改 was due Tue 24
    alerts = api.get("/api/v1/admin/floor", headers=h).json()["case_alerts"]
    assert [(a["followup_overdue"], a["rectify_overdue"]) for a in alerts] == [(False, True)]
    assert "整改超期" in alerts[0]["text"]
    assert _step(api, cid, "close").status_code == 200
    assert api.get("/api/v1/admin/floor", headers=h).json()["case_alerts"] == []


# -- the citizen's phone ---------------------------------------------------------------------


@pytest.fixture
def with_phone(monkeypatch):
    """Every 差评 carries a phone for the 回访, as a QR rating that left one does (that path
    end to end: tests/security/test_rating_matrix.py)."""
    real = followup.open_case
    monkeypatch.setattr(
        evaluations.followup,
        "open_case",
        lambda ctx, tx, view, phone=None: real(ctx, tx, view, PHONE),
    )


def _account(hall, username: str, role: str, name: str, window=None, staff_no="") -> None:
    hall.run_sync(
        lambda tx: accounts.create_account(tx, username, "Pass12345", role, name, window, staff_no)
    )


def _login(api, username: str) -> dict[str, str]:
    r = api.post("/api/v1/login", json={"username": username, "password": "Pass12345"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _everything_stored(hall) -> str:
    rows = []
    for table in ("audit_log", "events", "followup_cases", "upload_queue"):
        rows += [
            json.dumps(dict(r), ensure_ascii=False) for r in hall.db.rows(f"SELECT * FROM {table}")
        ]
    return "\n".join(rows)


def test_phone_is_masked_and_only_the_assigned_handler_reveals_it(api, hall, with_phone, clock):
    _account(hall, "lisi", "staff", "李四", 12)
    _account(hall, "boss", "admin", "赵主任")
    cid = _bad_case(hall)
    h = api.who("admin")
    case = api.get(f"/api/v1/admin/cases/{cid}", headers=h).json()
    assert case["contact"] == "138****1234" and PHONE not in json.dumps(case)
    r = _post(api, cid, "assign", {"assignee": "", "account": "lisi"})
    assert r.json()["assignee"] == "李四" and r.json()["assignee_account"] == "lisi"
    boss = _login(api, "boss")
    assert api.post(f"/api/v1/admin/cases/{cid}/contact", headers=boss).status_code == 403
    assert api.post(f"/api/v1/admin/cases/{cid}/contact", headers=h).status_code == 403
    lisi = _login(api, "lisi")
    got = api.post(f"/api/v1/admin/cases/{cid}/contact", headers=lisi)
    assert got.status_code == 200 and got.json()["phone"] == PHONE
    reveals = hall.db.rows(
        "SELECT actor, result, detail FROM audit_log WHERE action = 'followup.contact_reveal'"
    )
    assert [(r["actor"], r["result"]) for r in reveals] == [
        ("admin:赵主任", "refused"), ("admin:admin-None", "refused"), ("staff:李四", "ok")
    ]  # fmt: skip
    assert PHONE not in _everything_stored(hall).replace(
        hall.db.row("SELECT contact_phone FROM followup_cases")["contact_phone"], "", 1
    )  # the case row holds it once; no log, event or audit record does
    clock.advance(timedelta(days=hall.config.security.retention_days + 1).total_seconds())
    hall.run_sync(lambda tx: retention.purge(hall.ctx, tx))
    assert hall.db.row("SELECT contact_phone, contact_masked FROM followup_cases")[0] is None
    assert api.post(f"/api/v1/admin/cases/{cid}/contact", headers=lisi).status_code == 404
    assert PHONE not in _everything_stored(hall)


def test_a_wrong_phone_is_refused_with_the_rating(hall, monkeypatch):
    real = followup.open_case
    monkeypatch.setattr(
        evaluations.followup,
        "open_case",
        lambda ctx, tx, view, phone=None: real(ctx, tx, view, "12345"),
    )
    t = served_ticket(hall)
    with pytest.raises(Exception, match="手机号码"):
        rate(hall, t["id"], 1)
    assert hall.db.row("SELECT COUNT(*) FROM evaluations")[0] == 0  # nothing half-stored


# -- 申诉复核 -----------------------------------------------------------------------------------


def _satisfaction(hall) -> float | None:
    rows = stats.report(stats.load_history(hall.db.reader, "2026-11-17", "2026-11-17"), "day")
    return rows[-1]["satisfaction"]


def test_reviewer_is_neither_the_rated_staff_member_nor_the_appellant(api, hall, clock):
    _account(hall, "wangfang", "admin", "王芳", None, "GZ0101")  # the rated staff member
    _account(hall, "dept", "admin", "钱科长")  # appeals for the department
    _account(hall, "boss", "admin", "赵主任")
    rate(hall, served_ticket(hall)["id"], 5)
    cid = _bad_case(hall)  # served by 王芳 (helpers.call_next)
    assert _satisfaction(hall) == 0.5
    dept = _login(api, "dept")
    r = api.post(
        f"/api/v1/admin/cases/{cid}/appeal",
        json={"kind": "malicious", "reason": "同一人当日多次恶意差评"},
        headers=dept,
    )
    assert r.status_code == 200 and r.json()["status"] == "appealed"
    decide = {"decision": "upheld", "note": "经调取录像核实"}
    r = api.post(f"/api/v1/admin/cases/{cid}/review", json=decide, headers=_login(api, "wangfang"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "reviewer_is_rated_staff"
    r = api.post(f"/api/v1/admin/cases/{cid}/review", json=decide, headers=dept)
    assert r.status_code == 403 and r.json()["error"]["code"] == "reviewer_is_appellant"
    clock.advance(timedelta(days=3).total_seconds())  # the review comes days later
    r = api.post(f"/api/v1/admin/cases/{cid}/review", json=decide, headers=_login(api, "boss"))
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["status"] == "closed" and case["excluded"] and not case["overdue"]
    assert (
        case["appeal"]["reviewer"] == "admin:赵主任" and case["appeal"]["kind_label"] == "恶意评价"
    )
    assert hall.db.row("SELECT COUNT(*) FROM evaluations")[0] == 2  # kept, not deleted
    assert _satisfaction(hall) == 1.0  # left out of 好评率
    boss = _login(api, "boss")
    listed = api.get("/api/v1/admin/evaluations?day_from=2026-11-17", headers=boss).json()
    assert sorted((e["level"], e["excluded"]) for e in listed) == [(1, True), (5, False)]
    actions = [r["action"] for r in hall.db.rows("SELECT action FROM audit_log WHERE target = ?",
                                                 (f"case {cid}",))]  # fmt: skip
    assert actions == ["appeal.file", "appeal.review"]
    assert _post(api, cid, "appeal", STEPS["appeal"][1]).status_code == 409


def test_rejected_appeal_returns_the_case_and_cannot_be_filed_twice(api, hall):
    cid = _bad_case(hall)
    assert _step(api, cid, "follow_up").status_code == 200
    assert _step(api, cid, "appeal").json()["status"] == "appealed"
    r = _step(api, cid, "reject")
    assert r.json()["status"] == "followed_up" and not r.json()["excluded"]
    assert _step(api, cid, "appeal").json()["error"]["code"] == "already_appealed"
    assert _satisfaction(hall) == 0.0


def test_staff_appeal_only_their_own_windows_ratings(api, hall):
    cid = _bad_case(hall)  # window 11
    r = _post(api, cid, "appeal", STEPS["appeal"][1], "staff", 12)
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_own_rating"
    assert _post(api, cid, "review", STEPS["uphold"][1], "staff", 11).status_code == 403
    r = _post(api, cid, "appeal", {"kind": "whim", "reason": "x"}, "staff", 11)
    assert r.status_code == 422


def test_migration_keeps_cases_and_runs_twice(hall):
    from sqlite_utils import Database

    from queue_server.base.schema import m610_case_cycle

    cid = _bad_case(hall)
    hall.run_sync(
        lambda tx: tx.execute(
            "UPDATE followup_cases SET followup_due_day = NULL WHERE id = ?", (cid,)
        )
    )  # a case from before the 回访 deadline existed

    def again(tx) -> None:  # type: ignore[no-untyped-def]
        m610_case_cycle(Database(tx.conn))
        m610_case_cycle(Database(tx.conn))

    hall.run_sync(again)
    row = hall.db.row("SELECT followup_due_day, due_day, status FROM followup_cases")
    assert row["followup_due_day"] == row["due_day"] == "2026-11-24" and row["status"] == "open"
