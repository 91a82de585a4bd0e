"""The HTTP API of docs/API.md ("The contract"), in-process."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import ID_ELDERLY, ID_OTHER, ID_YOUNG

V1 = "/api/v1"


def issue(api, service="SW", role="kiosk", **body):
    return api.post(f"{V1}/tickets", json={"service": service, **body}, headers=api.who(role))


def test_health_needs_no_token(api):
    r = api.get(f"{V1}/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_hall_serves_the_rating_vocabulary(api):
    hall = api.get(f"{V1}/hall", headers=api.who("evaluator", 11)).json()
    ratings = hall["ratings"]
    assert ratings["reason_threshold"] == 2
    assert [lv["label"] for lv in ratings["levels"]][0] == "非常满意"
    codes = {r["code"]: r for r in ratings["reasons"]}
    assert (
        codes["long_wait"]["label"] == "等候时间过长" and "window" in codes["long_wait"]["channels"]
    )
    assert hall["classes"]


def test_services_and_windows_list_the_demo_hall(api):
    services = api.get(f"{V1}/services", headers=api.who("display")).json()
    assert len(services) >= 8
    first = services[0]
    assert {"code", "name", "prefix", "waiting", "wait_estimate"} <= set(first)
    windows = api.get(f"{V1}/windows", headers=api.who("display")).json()
    assert len(windows) >= 20
    assert all(w["status"] == "open" for w in windows)
    assert {"no", "name", "services", "status"} <= set(windows[0])


def test_issue_returns_a_full_ticket_and_numbers_count_up(api):
    a = issue(api)
    b = issue(api)
    assert a.status_code == 201 and b.status_code == 201
    t = a.json()
    assert t["number"] == "D001" and b.json()["number"] == "D002"
    assert t["status"] == "waiting" and t["service"] == "SW" and t["window"] is None
    assert t["issued_at"].endswith("+08:00")
    assert b.json()["ahead"] == 1
    est = b.json()["wait_estimate"]
    assert 0 <= est["low_min"] < est["high_min"]
    got = api.get(f"{V1}/tickets/{t['id']}", headers=api.who("display")).json()
    assert got["number"] == "D001"


def test_idempotency_key_never_gives_a_second_ticket(api):
    first = issue(api, idempotency_key="tap-123")
    again = issue(api, idempotency_key="tap-123")
    assert first.status_code == 201
    assert again.status_code == 200  # the repeat: the same ticket, not a new one
    assert again.json()["id"] == first.json()["id"]
    assert issue(api).json()["number"] == "D002"


def test_real_name_service_needs_a_valid_id_card(api):
    r = issue(api, "HJ")
    assert r.status_code == 422 and r.json()["error"]["code"] == "id_card_required"
    wrong = ID_YOUNG[:17] + ("0" if ID_YOUNG[17] != "0" else "1")
    r = issue(api, "HJ", id_card={"id_number": wrong})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "id_check_digit"
    assert "校验位" in r.json()["error"]["message"]


def test_id_card_ticket_stores_only_masked_forms_and_one_active_per_service(api, hall):
    r = issue(api, "HJ", id_card={"id_number": ID_YOUNG, "name": "张三"})
    assert r.status_code == 201
    t = r.json()
    assert t["id_masked"] == ID_YOUNG[:4] + "*" * 10 + ID_YOUNG[-4:]
    assert t["name_masked"] == "张*"
    dup = issue(api, "HJ", id_card={"id_number": ID_YOUNG, "name": "张三"})
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "duplicate_active_ticket"
    assert issue(api, "SB", id_card={"id_number": ID_YOUNG}).status_code == 201
    row = hall.db.row("SELECT * FROM tickets WHERE id = ?", (t["id"],))
    stored = " ".join(str(v) for v in tuple(row))
    assert ID_YOUNG not in stored and "张三" not in stored


def test_elderly_priority_comes_from_the_birth_date(api):
    t = issue(api, "HJ", id_card={"id_number": ID_ELDERLY}).json()
    assert t["priority"] == "elderly" and t["priority_label"] == "老年人"
    assert issue(api, "HJ", id_card={"id_number": ID_OTHER}).json()["priority"] == "ordinary"


def test_call_next_finish_and_conflicts(api):
    t = issue(api).json()
    staff = api.who("staff", 11)
    called = api.post(f"{V1}/windows/11/call-next", headers=staff)
    assert called.status_code == 200
    c = called.json()
    assert c["id"] == t["id"] and c["status"] == "called" and c["window"] == 11
    assert "text" in c["call_reason"]
    assert api.post(f"{V1}/windows/11/call-next", headers=staff).status_code == 204
    # the previous ticket was finished by the second call-next
    assert api.get(f"{V1}/tickets/{t['id']}", headers=staff).json()["status"] == "done"
    again = api.post(f"{V1}/tickets/{t['id']}/finish", headers=staff)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_called"


def test_recall_skip_reactivate(api, clock):
    t = issue(api).json()
    staff = api.who("staff", 12)
    api.post(f"{V1}/windows/12/call-next", headers=staff)
    r = api.post(f"{V1}/tickets/{t['id']}/recall", headers=staff)
    assert r.status_code == 200 and r.json()["call_count"] == 2
    s = api.post(f"{V1}/tickets/{t['id']}/skip", headers=staff).json()
    assert s["status"] == "no_show"
    clock.advance(10 * 60)
    back = api.post(f"{V1}/tickets/{t['id']}/reactivate", headers=staff)
    assert back.status_code == 200 and back.json()["status"] == "waiting"
    api.post(f"{V1}/windows/12/call-next", headers=staff)
    api.post(f"{V1}/tickets/{t['id']}/skip", headers=staff)
    clock.advance(31 * 60)
    late = api.post(f"{V1}/tickets/{t['id']}/reactivate", headers=staff)
    assert late.status_code == 409 and late.json()["error"]["code"] == "reactivation_expired"


def test_transfer_keeps_issued_at_and_goes_to_the_new_service(api, clock):
    t = issue(api).json()
    staff = api.who("staff", 11)
    api.post(f"{V1}/windows/11/call-next", headers=staff)
    clock.advance(300)
    r = api.post(f"{V1}/tickets/{t['id']}/transfer", json={"service": "QYKB"}, headers=staff)
    assert r.status_code == 200
    moved = r.json()
    assert moved["status"] == "waiting" and moved["service"] == "QYKB"
    assert moved["issued_at"] == t["issued_at"] and moved["number"] == t["number"]
    bad = api.post(f"{V1}/tickets/{t['id']}/transfer", json={"service": "NOPE"}, headers=staff)
    assert bad.status_code == 422


def test_transfer_to_a_window_is_called_there_first(api):
    t = issue(api).json()
    issue(api, "QYKB")
    api.post(f"{V1}/windows/11/call-next", headers=api.who("staff", 11))
    moved = api.post(
        f"{V1}/tickets/{t['id']}/transfer",
        json={"service": "QYKB", "window": 17},  # 17 serves QYKB, not SW
        headers=api.who("staff", 11),
    )
    assert moved.status_code == 200, moved.text
    c = api.post(f"{V1}/windows/17/call-next", headers=api.who("staff", 17)).json()
    assert c["id"] == t["id"] and c["call_reason"]["rule"] == "targeted"


def test_pause_blocks_calls_until_resume(api):
    issue(api)
    staff = api.who("staff", 11)
    assert api.post(f"{V1}/windows/11/pause", headers=staff).json()["status"] == "paused"
    r = api.post(f"{V1}/windows/11/call-next", headers=staff)
    assert r.status_code == 409 and r.json()["error"]["code"] == "window_paused"
    api.post(f"{V1}/windows/11/resume", headers=staff)
    assert api.post(f"{V1}/windows/11/call-next", headers=staff).status_code == 200


def test_call_specific_ticket(api):
    issue(api)
    second = issue(api).json()
    staff = api.who("staff", 11)
    r = api.post(f"{V1}/windows/11/call-ticket", json={"number": second["number"]}, headers=staff)
    assert r.status_code == 200 and r.json()["id"] == second["id"]
    assert r.json()["call_reason"]["rule"] == "specific"


def test_auth_errors(api):
    assert api.get(f"{V1}/services").status_code == 401
    r = api.get(f"{V1}/services", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    issue(api)
    # a display may read but not call; staff of window 1 may not call window 11
    assert api.post(f"{V1}/windows/11/call-next", headers=api.who("display")).status_code == 403
    assert api.post(f"{V1}/windows/11/call-next", headers=api.who("staff", 1)).status_code == 403
    assert issue(api, role="display").status_code == 403
    assert issue(api, role="kiosk", channel="counter").status_code == 403
    assert issue(api, role="staff", channel="counter").status_code == 201


def test_bad_input_is_a_clear_4xx(api):
    h = api.who("kiosk")
    cases = [
        (api.post(f"{V1}/tickets", content=b"{not json", headers=h), 422, "invalid_request"),
        (api.post(f"{V1}/tickets", json={"service": 7}, headers=h), 422, "invalid_request"),
        (api.post(f"{V1}/tickets", json={"service": "NOPE"}, headers=h), 422, "unknown_service"),
        (api.post(f"{V1}/tickets", json=[1, 2], headers=h), 422, "invalid_request"),
        (
            api.post(f"{V1}/tickets", json={"service": "SW", "channel": "fax"}, headers=h),
            422,
            "invalid_request",
        ),
        (api.get(f"{V1}/tickets/999999", headers=h), 404, "ticket_not_found"),
        (api.get(f"{V1}/tickets/abc", headers=h), 404, "ticket_not_found"),
        (
            api.post(f"{V1}/windows/9999/call-next", headers=api.who("admin")),
            404,
            "window_not_found",
        ),
    ]
    for r, status, code in cases:
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
        assert set(r.json()["error"]) == {"code", "message"}


def test_evaluation_rules(api):
    t = issue(api).json()
    api.post(f"{V1}/windows/11/call-next", headers=api.who("staff", 11))
    api.post(f"{V1}/tickets/{t['id']}/finish", headers=api.who("staff", 11))
    ev = api.who("evaluator", 11)
    no_reason = api.post(
        f"{V1}/evaluations",
        json={"ticket_id": t["id"], "level": 2, "channel": "window"},
        headers=ev,
    )
    assert no_reason.status_code == 422
    for unknown in (["等候时间过长"], ["long_wait", "nope"]):  # a label or a made-up code
        bad = api.post(
            f"{V1}/evaluations",
            json={"ticket_id": t["id"], "level": 2, "reasons": unknown, "channel": "window"},
            headers=ev,
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "unknown_reason"
    ok = api.post(
        f"{V1}/evaluations",
        json={"ticket_id": t["id"], "level": 2, "reasons": ["long_wait"], "channel": "window"},
        headers=ev,
    )
    assert ok.status_code == 201
    rec = ok.json()
    assert rec["reasons"] == ["long_wait"] and rec["reason_labels"] == ["等候时间过长"]
    stored = api.get(f"{V1}/evaluations", headers=api.who("admin")).json()
    assert [e["reasons"] for e in stored if e["ticket_id"] == t["id"]] == [["long_wait"]]
    assert rec["window"] == 11 and rec["service"] == "SW" and rec["ticket_number"] == t["number"]
    second = api.post(
        f"{V1}/evaluations",
        json={"ticket_id": t["id"], "level": 5, "channel": "window"},
        headers=ev,
    )
    assert second.status_code == 409
    kiosk = api.post(
        f"{V1}/evaluations",
        json={"ticket_id": t["id"], "level": 5, "channel": "kiosk"},
        headers=api.who("kiosk"),
    )
    assert kiosk.status_code == 201
    other = api.post(
        f"{V1}/evaluations",
        json={"ticket_id": t["id"], "level": 5, "channel": "qr"},
        headers=api.who("evaluator", 3),
    )
    assert other.status_code == 403
    assert (
        api.post(
            f"{V1}/evaluations",
            json={"ticket_id": t["id"], "level": 6, "channel": "qr"},
            headers=ev,
        ).status_code
        == 422
    )


def test_lease_and_offline_sync_keep_numbers_apart(api, clock):
    k = api.who("kiosk")
    lease = api.post(f"{V1}/kiosk/leases", json={"service": "SW", "size": 5}, headers=k).json()
    assert lease["first"] == 1 and lease["last"] == 5 and lease["prefix"] == "D"
    clock.advance(600)
    online = issue(api).json()
    assert online["number"] == "D006"  # the server skips the leased block
    issued_at = "2026-11-17T09:02:00+08:00"  # within the lease's life, before the online one
    body = {
        "service": "SW",
        "lease_id": lease["lease_id"],
        "seq": 2,
        "issued_at": issued_at,
        "idempotency_key": "off-2",
    }
    synced = api.post(f"{V1}/tickets", json=body, headers=k)
    assert synced.status_code == 201
    s = synced.json()
    assert s["number"] == "D002" and s["issued_at"] == issued_at
    assert api.post(f"{V1}/tickets", json=body, headers=k).json()["id"] == s["id"]
    clash = dict(body, idempotency_key="off-2b")
    assert api.post(f"{V1}/tickets", json=clash, headers=k).status_code == 409
    outside = dict(body, seq=9, idempotency_key="off-9")
    assert api.post(f"{V1}/tickets", json=outside, headers=k).status_code == 422
    # the offline ticket, issued earlier, is called first
    c = api.post(f"{V1}/windows/11/call-next", headers=api.who("staff", 11)).json()
    assert c["number"] == "D002"


def test_business_day_rolls_over_at_local_midnight(api, clock, hall):
    from datetime import datetime, timedelta

    t = issue(api).json()
    midnight = datetime.fromisoformat("2026-11-18T00:00:00+08:00")
    clock.set(midnight - timedelta(seconds=1))
    assert issue(api).json()["number"] == "D002"
    clock.set(midnight + timedelta(seconds=1))
    fresh = issue(api).json()
    assert fresh["number"] == "D001" and fresh["business_day"] == "2026-11-18"
    old = api.get(f"{V1}/tickets/{t['id']}", headers=api.who("display")).json()
    assert old["status"] == "expired"
    # 16:00 UTC is local midnight: a UTC-based rollover would have happened 8 hours late
    assert hall.db.row("SELECT COUNT(*) FROM tickets WHERE status = 'expired'")[0] == 2


def test_opening_hours_and_quota(tmp_path, clock):
    from fastapi.testclient import TestClient

    from queue_server.admin.accounts import create_token
    from queue_server.api import create_app
    from queue_server.base.config import load_config
    from queue_server.runtime.hall import Hall

    cfg = load_config()
    data = cfg.model_dump()
    data["hall"]["enforce_hours"] = True
    data["services"][3]["daily_quota"] = 2  # SW
    from queue_server.base.config import parse_config

    hall = Hall(tmp_path / "h.db", clock=clock, config=parse_config(data))
    try:
        token = hall.run_sync(lambda tx: create_token(tx, "kiosk", "k"))
        h = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(hall)) as api:
            assert api.post(f"{V1}/tickets", json={"service": "SW"}, headers=h).status_code == 201
            assert api.post(f"{V1}/tickets", json={"service": "SW"}, headers=h).status_code == 201
            full = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=h)
            assert full.status_code == 409 and full.json()["error"]["code"] == "quota_reached"
            clock.advance(3.5 * 3600)  # 12:30, lunch break
            lunch = api.post(f"{V1}/tickets", json={"service": "QYKB"}, headers=h)
            assert lunch.status_code == 409 and lunch.json()["error"]["code"] == "outside_hours"
    finally:
        hall.close()


@pytest.mark.parametrize("role", ["kiosk", "display", "evaluator"])
def test_device_roles_cannot_act_on_tickets(api, role):
    t = issue(api).json()
    api.post(f"{V1}/windows/11/call-next", headers=api.who("staff", 11))
    for action in ("recall", "skip", "finish"):
        r = api.post(f"{V1}/tickets/{t['id']}/{action}", headers=api.who(role))
        assert r.status_code == 403


def test_qr_is_a_public_link_with_an_unguessable_code_not_the_id(api):
    """The contract: `qr` is the base URL and an unguessable ticket code, never the sequential id."""
    a, b = issue(api).json(), issue(api).json()
    code_a, code_b = a["qr"].rsplit("/t/", 1)[1], b["qr"].rsplit("/t/", 1)[1]
    assert not code_a.isdecimal() and len(code_a) >= 16 and code_a != code_b
    page = api.get(f"/t/{code_a}")
    assert page.status_code == 200 and a["number"] in page.text
    assert api.get(f"/t/{a['id']}").status_code == 404  # walking ids finds nothing
    by_code = api.get(f"{V1}/tickets/{code_a}", headers=api.who("kiosk")).json()
    assert by_code["id"] == a["id"] and by_code["qr"] == a["qr"]


def test_qr_uses_the_halls_public_base_url(tmp_path, clock):
    from fastapi.testclient import TestClient

    from queue_server.admin.accounts import create_token
    from queue_server.api import create_app
    from queue_server.base.config import load_config, parse_config
    from queue_server.runtime.hall import Hall

    data = load_config().model_dump()
    data["hall"]["public_base_url"] = "https://zwfw.example.gov.cn/hall/7"
    hall = Hall(tmp_path / "h.db", clock=clock, config=parse_config(data))
    try:
        token = hall.run_sync(lambda tx: create_token(tx, "kiosk", "k"))
        with TestClient(create_app(hall)) as api:
            t = api.post(
                f"{V1}/tickets",
                json={"service": "SW"},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
    finally:
        hall.close()
    assert t["qr"].startswith("https://zwfw.example.gov.cn/hall/7/t/")


def test_a_kiosk_never_reads_another_devices_ticket_code(api, hall):
    t = issue(api).json()
    other = api.post(
        f"{V1}/tickets",
        json={"service": "SW", "channel": "counter"},
        headers=api.who("staff"),
    ).json()
    assert api.get(f"{V1}/tickets/{t['id']}", headers=api.who("kiosk")).json()["qr"] == t["qr"]
    assert api.get(f"{V1}/tickets/{other['id']}", headers=api.who("kiosk")).json()["qr"] is None
    assert api.get(f"{V1}/tickets/{other['id']}", headers=api.who("staff")).json()["qr"]


def test_finish_keeps_the_case_number_and_item_code(api, hall):
    """CONTRACT (2026-11-30): finish takes the business system's 办件编号 and 事项实施编码."""
    staff = api.who("staff", 11)
    first, second, third = (issue(api).json() for _ in range(3))
    item = "11440200MB2C92640Q4442117047000"
    ids = []
    for t, case in ((first, "BJ-2026-000187"), (second, "BJ-2026-000187")):
        assert api.post(f"{V1}/windows/11/call-next", headers=staff).json()["id"] == t["id"]
        ids.append(t["id"])
        r = api.post(
            f"{V1}/tickets/{t['id']}/finish",
            json={"case_no": case, "item_code": item},
            headers=staff,
        )
        if t is first:
            assert r.status_code == 200 and r.json()["status"] == "done"
    # the same case number on another ticket is a conflict, and that ticket stays called
    assert r.status_code == 409 and r.json()["error"]["code"] == "case_no_taken"
    assert api.get(f"{V1}/tickets/{second['id']}", headers=staff).json()["status"] == "called"
    bad = api.post(f"{V1}/tickets/{second['id']}/finish", json={"case_no": "办件 1"}, headers=staff)
    assert bad.status_code == 422
    plain = api.post(f"{V1}/tickets/{second['id']}/finish", headers=staff)  # no body: as before
    assert plain.status_code == 200
    rows = hall.db.reader.execute(
        "SELECT ticket_id, case_no, item_code FROM ticket_cases"
    ).fetchall()
    assert [tuple(r) for r in rows] == [(first["id"], "BJ-2026-000187", item)]
    events = hall.db.reader.execute(
        "SELECT data FROM events WHERE type = 'ticket.finished' ORDER BY id"
    ).fetchall()
    assert '"case_no":"BJ-2026-000187"' in events[0][0].replace(" ", "")
    assert third["status"] == "waiting"


def test_the_phone_page_words_the_wait_as_every_screen_does(api):
    """One rule, one wording: nobody ahead is 无需等候 on the phone too, else 约 a–b 分钟."""
    first = issue(api).json()
    second = issue(api).json()
    page = api.get(urlsplit(first["qr"]).path).text
    assert "无需等候" in page and "前面还有 0 人" not in page
    later = api.get(urlsplit(second["qr"]).path).text
    est = second["wait_estimate"]
    assert f"前面还有 1 人，约 {est['low_min']}–{est['high_min']} 分钟" in later
