"""Only staffed windows serve: wait estimates, the live floor's open count and its alerts.

The demo hall opens all 24 windows at start-up; a window with nobody on duty (no staff login
or window token bound to it used within the idle timeout) must not count as serving.
"""

from __future__ import annotations

import time

from queue_server.admin import accounts
from queue_server.admin.hall_config import apply, validate
from queue_server.core import tickets
from tests.admin.helpers import set_config

PASSWORD = "window19pass"


def issue(hall, service: str) -> dict:
    req = tickets.IssueRequest(service=service)
    return hall.run_sync(lambda tx: tickets.issue(hall.ctx, tx, req))[0]


def login(api, hall, window: int, username: str | None = None) -> str:
    username = username or f"staff{window}"
    hall.run_sync(
        lambda tx: accounts.create_account(tx, username, PASSWORD, "staff", f"员工{window}", window)
    )
    r = api.post("/api/v1/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def floor(api) -> dict:
    r = api.get("/api/v1/admin/floor", headers=api.who("admin"))
    assert r.status_code == 200, r.text
    return r.json()


def test_open_windows_with_nobody_logged_in_are_not_open_on_the_floor(api, hall):
    f = floor(api)
    assert f["open_windows"] == 0
    assert all(w["status"] == "open" and not w["staffed"] for w in f["windows"])
    assert all(s["open_windows"] == [] for s in f["services"])

    login(api, hall, 19)
    f = floor(api)
    assert f["open_windows"] == 1
    (w19,) = [w for w in f["windows"] if w["staffed"]]
    assert w19["no"] == 19 and w19["status"] == "open"
    gcjs = next(s for s in f["services"] if s["code"] == "GCJS")
    assert gcjs["open_windows"] == [19]


def test_estimate_counts_only_the_staffed_window(api, hall):
    login(api, hall, 19)  # GCJS: window 19 and a tenth of window 24 (nobody there)
    views = [issue(hall, "GCJS") for _ in range(8)]
    last = views[-1]["wait_estimate"]
    # 7 people ahead at one window of 25 minutes each (demo GCJS): well over 2 hours. Counting
    # the idle window 24 as serving too gave a shorter range.
    svc_min = hall.config.service("GCJS").avg_service_min
    assert last["low_min"] >= 4 * svc_min, last
    assert "unstaffed" not in last


def test_service_with_no_staffed_window_gets_a_marked_nominal_estimate(api, hall):
    login(api, hall, 19)  # serves GCJS only
    view = issue(hall, "SW")
    est = view["wait_estimate"]
    assert est["unstaffed"] is True and "暂无工作人员在岗" in est["note"]
    assert isinstance(est["low_min"], int) and est["high_min"] > est["low_min"]
    r = api.get("/api/v1/services", headers=api.who("kiosk"))
    by = {s["code"]: s["wait_estimate"] for s in r.json()}
    assert by["SW"]["unstaffed"] is True
    assert "unstaffed" not in by["GCJS"]


def test_logout_and_idle_timeout_take_the_window_off_duty(api, hall):
    token = login(api, hall, 19)
    assert floor(api)["open_windows"] == 1
    r = api.post("/api/v1/logout", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert floor(api)["open_windows"] == 0

    login(api, hall, 12, "staff12b")
    assert floor(api)["open_windows"] == 1
    # The session was last used longer ago than the idle timeout: nobody is there.
    idle = hall.config.security.session_idle_minutes * 60
    hall.run_sync(
        lambda tx: tx.execute("UPDATE tokens SET last_used_ts = ?", (time.time() - idle - 5,))
    )
    hall._tokens.clear()
    hall.ctx.invalidate_capacity()
    assert floor(api)["open_windows"] == 0


def test_a_window_token_in_use_staffs_its_window(api, hall):
    h = api.who("staff", 11)
    assert api.get("/api/v1/windows/11", headers=h).status_code == 200
    f = floor(api)
    assert [w["no"] for w in f["windows"] if w["staffed"]] == [11]


def test_alert_counts_staffed_windows_only(api, hall):
    set_config(hall, oversight={"per_window_alert": 2, "wait_alert_min": 600})
    login(api, hall, 11)
    for _ in range(7):
        issue(hall, "SW")  # SW windows 11, 12, 13, 23, 24: only 11 staffed
    (alert,) = [a for a in floor(api)["alerts"] if a["service"] == "SW"]
    assert "每个开放窗口 7.0 人等候" in alert["text"]
    by_no = {w["no"]: w for w in alert["suggest_windows"]}
    assert by_no[12]["unstaffed"] is True  # open, nobody there: staff it, not "open" it
    assert "安排工作人员到" in alert["text"] and "12 号" in alert["text"]


def test_nominal_estimate_at_night_in_a_hall_open_at_any_hour(api, hall, clock):
    """The demo runs at any hour: with nobody on duty the nominal range is one window's
    work, not a wait until the morning session."""
    from datetime import datetime

    from tests.conftest import SHANGHAI

    clock.set(datetime(2026, 11, 17, 4, 0, tzinfo=SHANGHAI))
    views = [issue(hall, "SW") for _ in range(3)]
    est = views[-1]["wait_estimate"]
    svc_min = hall.config.service("SW").avg_service_min
    assert est["unstaffed"] is True
    assert est["high_min"] < 6 * svc_min, est  # 3 tickets at one window, not until 08:30


def test_staffing_open_counts_every_open_window(api, hall):
    data = hall.config.model_dump(mode="json")
    data["hall"]["staffing"] = "open"
    new = validate(data)
    hall.run_sync(lambda tx: apply(hall.ctx, tx, new, "admin:test"))
    assert floor(api)["open_windows"] == 24
    assert "unstaffed" not in issue(hall, "SW")["wait_estimate"]
