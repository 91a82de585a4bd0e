"""Appointments: slots, booking rules, no-show limits, check-in, CSV import (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.appointments.booking import parse_csv, parse_qr, qr_content
from tests.conftest import DAY_START, ID_ELDERLY, ID_OTHER, ID_YOUNG, SHANGHAI

TOMORROW = (DAY_START + timedelta(days=1)).date()  # Wednesday 2026-11-18


def slot(day, hm: str) -> str:
    h, m = map(int, hm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=SHANGHAI).isoformat()


def book(api, id_number=ID_YOUNG, service="SW", start=None, **extra):
    body = {
        "service": service,
        "slot_start": start or slot(TOMORROW, "09:30"),
        "id_number": id_number,
    }
    body.update(extra)
    return api.post("/api/v1/appointments", json=body, headers=api.who("booking"))


def test_slots_follow_opening_hours(api):
    r = api.get(f"/api/v1/appointments/slots?service=SW&day={TOMORROW}", headers=api.who("kiosk"))
    assert r.status_code == 200
    starts = [s["start"][11:16] for s in r.json()]
    # 08:30-12:00 and 13:30-17:30 in 60-minute slots; the 30-minute tail 11:30-12:00 included.
    assert starts == ["08:30", "09:30", "10:30", "11:30", "13:30", "14:30", "15:30", "16:30"]
    assert r.json()[0]["capacity"] == 4 and r.json()[0]["available"] == 4


def test_book_stores_only_hash_and_masks(api, hall):
    r = book(api, name="张三", phone="13812345678")
    assert r.status_code == 201, r.text
    b = r.json()
    assert b["id_masked"] == "1101**********1239" and b["name_masked"] == "张*"
    assert b["phone_masked"] == "138****5678"
    appt_id, code = parse_qr(b["qr"])
    assert appt_id == b["id"] and b["qr"] == qr_content(appt_id, code)
    dump = "\n".join(str(tuple(r)) for r in hall.db.rows("SELECT * FROM appointments"))
    assert ID_YOUNG not in dump and "张三" not in dump
    events = hall.db.rows("SELECT data FROM events WHERE type = 'appointment.booked'")
    assert ID_YOUNG not in events[0]["data"] and "13812345678" not in events[0]["data"]


def test_roles(api):
    assert book(api).status_code == 201
    body = {"service": "SW", "slot_start": slot(TOMORROW, "10:30"), "id_number": ID_OTHER}
    for role in ("kiosk", "staff", "display", "evaluator"):
        assert api.post("/api/v1/appointments", json=body, headers=api.who(role)).status_code == 403
    assert api.post("/api/v1/appointments", json=body, headers=api.who("admin")).status_code == 201
    assert api.post("/api/v1/appointments", json=body).status_code == 401
    # The booking role books; it cannot issue, call or rate.
    booking = api.who("booking")
    assert api.post("/api/v1/tickets", json={"service": "SW"}, headers=booking).status_code == 403
    assert api.post("/api/v1/windows/11/call-next", headers=booking).status_code == 403
    r = api.post("/api/v1/appointments/check-in", json={"id_number": ID_YOUNG}, headers=booking)
    assert r.status_code == 403


def test_booking_rules(api):
    assert book(api).status_code == 201
    assert book(api).json()["error"]["code"] == "duplicate_booking"
    assert book(api, start=slot(TOMORROW, "10:30")).status_code == 201
    assert book(api, start=slot(TOMORROW, "11:30")).status_code == 201
    r = book(api, start=slot(TOMORROW, "13:30"))  # a fourth booking of one service, one day
    assert r.status_code == 409 and r.json()["error"]["code"] == "too_many_bookings"
    assert book(api, start=slot(TOMORROW, "09:45")).json()["error"]["code"] == "invalid_slot"
    assert book(api, start="nonsense").status_code == 422
    assert book(api, start=slot(DAY_START.date(), "08:30")).json()["error"]["code"] == "slot_past"
    far = (DAY_START + timedelta(days=15)).date()
    assert book(api, start=slot(far, "09:30")).json()["error"]["code"] == "too_far_ahead"
    r = book(api, id_number="110105199003071238")
    assert r.status_code == 422 and r.json()["error"]["code"] == "id_check_digit"
    assert book(api, service="NOPE").status_code == 422
    assert book(api, phone="12345").json()["error"]["code"] == "invalid_phone"


def test_slot_capacity(api):
    ids = ["11010519491231002X", "44010219850101001X", "110105199003071239"]
    for id_number in ids:
        assert book(api, id_number=id_number, start=slot(TOMORROW, "14:30")).status_code == 201
    extra = "11010119800101001" + _check("11010119800101001")
    assert book(api, id_number=extra, start=slot(TOMORROW, "14:30")).status_code == 201
    fifth = "11010119800101002" + _check("11010119800101002")
    r = book(api, id_number=fifth, start=slot(TOMORROW, "14:30"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "slot_full"


def _check(first17: str) -> str:
    from halldomain.idnumber import check_character

    return check_character(first17)


def test_external_ref_is_idempotent(api):
    a = book(api, external_ref="web-1")
    b = book(api, external_ref="web-1")
    assert a.status_code == 201 and b.status_code == 200 and a.json()["id"] == b.json()["id"]
    assert a.json()["qr"] == b.json()["qr"]


def test_cancel_and_list(api):
    b = book(api).json()
    r = api.get(f"/api/v1/appointments?day={TOMORROW}", headers=api.who("staff"))
    assert [x["id"] for x in r.json()] == [b["id"]] and "qr" not in r.json()[0]
    r = api.post(f"/api/v1/appointments/{b['id']}/cancel", headers=api.who("booking"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["warnings"]  # a warning after the first cancellation
    again = api.post(f"/api/v1/appointments/{b['id']}/cancel", headers=api.who("booking"))
    assert again.status_code == 409
    assert book(api).status_code == 201  # the slot is free again


def test_cancellation_limit_blocks(api, clock):
    for i in range(5):
        b = book(api, start=slot(TOMORROW, ["08:30", "09:30", "10:30", "13:30", "14:30"][i]))
        assert b.status_code == 201, b.text
        api.post(f"/api/v1/appointments/{b.json()['id']}/cancel", headers=api.who("booking"))
    r = book(api)
    assert r.status_code == 409 and r.json()["error"]["code"] == "booking_blocked"
    s = api.post(
        "/api/v1/appointments/standing", json={"id_number": ID_YOUNG}, headers=api.who("booking")
    ).json()
    assert s["blocked"] and s["cancellations"] == 5
    clock.advance(31 * 86400)  # the block lasts block_days (30) from the fifth cancellation
    later = (DAY_START + timedelta(days=34)).date()  # a Monday
    assert book(api, start=slot(later, "09:30")).status_code == 201


def test_no_shows_warn_then_block(api, clock):
    b = book(api).json()
    clock.set(datetime(2026, 11, 18, 11, 0, tzinfo=SHANGHAI))  # the 09:30 slot has ended
    st = api.post(
        "/api/v1/appointments/standing", json={"id_number": ID_YOUNG}, headers=api.who("kiosk")
    ).json()
    assert st["no_shows"] == 1 and not st["blocked"] and st["warnings"]
    r = api.get(f"/api/v1/appointments/{b['id']}", headers=api.who("staff"))
    assert r.json()["status"] == "no_show"
    r = book(api, start=slot(TOMORROW, "13:30"))
    assert r.status_code == 201 and r.json()["warnings"]
    clock.set(datetime(2026, 11, 18, 15, 0, tzinfo=SHANGHAI))
    day_after = (DAY_START + timedelta(days=2)).date()
    r = book(api, start=slot(day_after, "09:30"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "booking_blocked"
    assert book(api, id_number=ID_OTHER, start=slot(day_after, "09:30")).status_code == 201


def test_old_bookings_lose_their_personal_data(api, clock, hall):
    book(api)
    clock.advance(62 * 86400)  # beyond window_days + block_days (30 + 30)
    api.post(
        "/api/v1/appointments/standing", json={"id_number": ID_YOUNG}, headers=api.who("kiosk")
    )
    row = hall.db.row("SELECT * FROM appointments")
    assert row["id_hash"] == "" and row["id_masked"] == "" and row["status"] == "no_show"


def _on(clock, hm: str, day=TOMORROW) -> None:
    h, m = map(int, hm.split(":"))
    clock.set(datetime(day.year, day.month, day.day, h, m, tzinfo=SHANGHAI))


def checkin(api, **body):
    return api.post("/api/v1/appointments/check-in", json=body, headers=api.who("kiosk"))


def test_check_in_by_id_card_on_time(api, clock, hall):
    b = book(api, id_number=ID_ELDERLY, start=slot(TOMORROW, "09:30"), phone="13812345678").json()
    _on(clock, "08:59")
    r = checkin(api, id_number=ID_ELDERLY)
    assert r.status_code == 409 and r.json()["error"]["code"] == "too_early"
    assert "09:00" in r.json()["error"]["message"]
    _on(clock, "09:05")
    r = checkin(api, id_number=ID_ELDERLY, name="王五")
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["ticket"]["priority"] == "appointment" and out["ticket"]["channel"] == "appointment"
    assert out["appointment"]["status"] == "checked_in" and not out["late"]
    assert out["appointment"]["ticket_id"] == out["ticket"]["id"]
    # No SMS gateway configured: the phone number is erased at check-in, not kept.
    assert out["notify_phone_masked"] is None
    assert hall.db.row("SELECT phone FROM appointments")["phone"] is None
    assert hall.db.row("SELECT COUNT(*) FROM ticket_contacts")[0] == 0
    again = checkin(api, id_number=ID_ELDERLY)
    assert again.status_code == 200 and again.json()["ticket"]["id"] == out["ticket"]["id"]
    assert (
        api.post(f"/api/v1/appointments/{b['id']}/cancel", headers=api.who("booking")).status_code
        == 409
    )


def test_check_in_by_qr_late_becomes_ordinary(api, clock):
    b = book(api, service="HJ", start=slot(TOMORROW, "09:30")).json()  # HJ is real-name
    _on(clock, "09:50")  # beyond the 15-minute grace
    assert checkin(api, qr=b["qr"][:-1] + ("A" if b["qr"][-1] != "A" else "B")).status_code == 404
    assert checkin(api, qr="HALLAPPT:1:x").status_code == 422
    r = checkin(api, qr=b["qr"])
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["late"] and out["ticket"]["priority"] == "ordinary"
    assert out["ticket"]["id_masked"] == "1101**********1239"


def test_check_in_after_slot_is_missed_and_other_day_refused(api, clock):
    book(api, start=slot(TOMORROW, "09:30"))
    assert checkin(api, id_number=ID_YOUNG).json()["error"]["code"] == "no_appointment_today"
    _on(clock, "10:31")
    r = checkin(api, id_number=ID_YOUNG)
    assert r.status_code == 409 and r.json()["error"]["code"] == "appointment_missed"
    assert checkin(api).status_code == 422


def _use_up_daily_limit(api, hall, id_number: str, booked: str) -> None:
    """Take tickets for `id_number` today at other services up to the per-ID daily limit."""
    limit = hall.config.security.issue_per_id_per_day
    others = ["SB", "HJ", "YB", "GJJ", "QYKB", "BDC", "CRJ"]
    others = [s for s in others if s != booked][:limit]
    assert len(others) == limit
    card = {"id_number": id_number, "name": "张三"}
    for svc in others:
        r = api.post(
            "/api/v1/tickets", json={"service": svc, "id_card": card}, headers=api.who("kiosk")
        )
        assert r.status_code == 201, r.text


def test_check_in_by_id_card_past_the_daily_limit_is_refused(api, clock, hall):
    book(api, id_number=ID_YOUNG, service="SW", start=slot(TOMORROW, "09:30"))
    _on(clock, "09:05")
    _use_up_daily_limit(api, hall, ID_YOUNG, "SW")
    r = checkin(api, id_number=ID_YOUNG, name="张三")
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "id_daily_limit" and "上限" in r.json()["error"]["message"]
    row = hall.db.row("SELECT status, ticket_id FROM appointments")
    assert row["status"] == "booked" and row["ticket_id"] is None


def test_check_in_by_qr_past_the_daily_limit_is_refused(api, clock, hall):
    b = book(api, id_number=ID_YOUNG, service="SW", start=slot(TOMORROW, "09:30")).json()
    _on(clock, "09:05")
    _use_up_daily_limit(api, hall, ID_YOUNG, "SW")
    r = checkin(api, qr=b["qr"])
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "id_daily_limit"
    # another person's booking is not affected
    other = book(api, id_number=ID_OTHER, service="SW", start=slot(TOMORROW, "09:30")).json()
    assert checkin(api, qr=other["qr"]).status_code == 201


def test_policy_endpoint(api):
    r = api.get("/api/v1/policy", headers=api.who("display"))
    assert r.status_code == 200
    body = r.json()
    assert body["policy"] == "accumulating" and "累积优先" in body["title"]
    assert "30 分钟" in body["text"]  # the largest head start (appointments) bounds overtaking


def test_policy_text_for_each_policy():
    from queue_server.base.config import RoutingSection
    from queue_server.core.policy import explain_policy

    inter = explain_policy(RoutingSection(policy="interleave", interleave_n=2))
    assert inter["policy"] == "interleave" and "2 个优先号" in inter["text"]
    strict = explain_policy(RoutingSection(policy="strict"))
    assert "不建议" in strict["text"]
    acc = explain_policy(RoutingSection())
    assert [c["code"] for c in acc["classes"]][0] == "ordinary" and "老年人" in acc["text"]


# -- CSV ----------------------------------------------------------------------------------------

HEADER = "service,slot_start,id_number,name,phone,external_ref\n"


def test_csv_import_reports_each_bad_row(api):
    text = (
        HEADER
        + f"SW,{TOMORROW} 09:30,{ID_YOUNG},张三,13812345678,r1\n"
        + f"SW,{TOMORROW} 9:30,{ID_OTHER},,,r2\n"
        + f"SW,{TOMORROW} 09:30,110105199003071238,,,r3\n"
        + f"SW,{TOMORROW} 09:30,{ID_ELDERLY}\n"
        + f"SW,{TOMORROW} 09:45,{ID_ELDERLY},,,r5\n"
        + f"SW,{TOMORROW} 09:30,{ID_YOUNG},,,r6\n"
    )
    r = api.post("/api/v1/appointments/import", json={"csv": text}, headers=api.who("admin"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert [b["line"] for b in out["booked"]] == [2]
    assert [(e["line"], e["code"]) for e in out["errors"]] == [
        (3, "csv_slot"),
        (4, "id_check_digit"),
        (5, "csv_columns"),
        (6, "invalid_slot"),
        (7, "duplicate_booking"),
    ]


def test_csv_header_errors():
    assert parse_csv("")[1][0].code == "csv_empty"
    rows, errors = parse_csv("service,when,id_number\n")
    assert rows == [] and errors[0].code == "csv_header" and "slot_start" in errors[0].message


cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, min_size=0, max_size=8), max_size=12))
def test_csv_parser_never_crashes_and_accounts_for_every_row(records):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["service", "slot_start", "id_number", "name", "phone", "external_ref"])
    for rec in records:
        w.writerow(rec)
    rows, errors = parse_csv(buf.getvalue())
    lines = [r.line for r in rows] + [e.line for e in errors]
    assert len(lines) == len(set(lines))  # one verdict per row, never two
    assert all(e.message and e.code for e in errors)
    nonblank = [i + 2 for i, rec in enumerate(records) if any(c.strip() for c in rec)]
    # Embedded newlines shift physical lines; the count of verdicts still matches.
    assert len(lines) == len(nonblank)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_csv_parser_total_on_arbitrary_text(text):
    rows, errors = parse_csv(text)
    assert isinstance(rows, list) and isinstance(errors, list)
    for e in errors:
        assert e.line >= 1 and e.message


@pytest.mark.parametrize(
    "line,code",
    [
        (f"SW,{TOMORROW} 09:30,{ID_YOUNG},,1381234567,", "invalid_phone"),
        (f"sw,{TOMORROW} 09:30,{ID_YOUNG},,,", "csv_service"),
        (f"SW,{TOMORROW} 25:30,{ID_YOUNG},,,", "csv_slot"),
        (f",{TOMORROW} 09:30,{ID_YOUNG},,,", "csv_missing"),
        (f"SW,{TOMORROW} 09:30,12345,,,", "id_format"),
    ],
)
def test_csv_row_errors(line, code):
    rows, errors = parse_csv(HEADER + line + "\n")
    assert rows == [] and [e.code for e in errors] == [code] and errors[0].line == 2


# -- bad input never gives a 5xx ----------------------------------------------------------------

json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = ["service", "slot_start", "id_number", "name", "phone", "external_ref", "qr", "csv"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/api/v1/appointments",
            "/api/v1/appointments/check-in",
            "/api/v1/appointments/import",
            "/api/v1/appointments/standing",
            "/api/v1/appointments/1/cancel",
            "/api/v1/tickets/1/notify",
        ]
    ),
    body=st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=5) | json_value,
)
def test_appointment_endpoints_never_500(api, path, body):
    r = api.post(path, json=body, headers=api.who("admin"))
    if r.status_code >= 400:
        # refused input: a client error with the one error shape, never a 5xx or an auth error
        assert r.status_code in (404, 409, 422), r.text
        assert set(r.json()["error"]) == {"code", "message"}
    else:
        assert r.status_code in SUCCESS[path], r.text


# What each endpoint answers when it accepts: booking and check-in say whether they created
# (201) or found the same booking or ticket again (200).
SUCCESS = {
    "/api/v1/appointments": (200, 201),
    "/api/v1/appointments/check-in": (200, 201),
    "/api/v1/appointments/import": (200,),
    "/api/v1/appointments/standing": (200,),
    "/api/v1/appointments/1/cancel": (200,),
    "/api/v1/tickets/1/notify": (200,),
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(service=st.text(max_size=12), day=st.text(max_size=12), status=st.text(max_size=8))
def test_appointment_queries_never_500(api, service, day, status):
    from urllib.parse import urlencode

    q = urlencode({"service": service, "day": day})
    slots = api.get(f"/api/v1/appointments/slots?{q}", headers=api.who("admin"))
    q = urlencode({"day": day, "status": status, "service": service})
    listed = api.get(f"/api/v1/appointments?{q}", headers=api.who("admin"))
    for r in (slots, listed):
        # a query either answers a list or refuses the parameter with the error shape
        if r.status_code == 200:
            assert isinstance(r.json(), list), r.text
        else:
            assert r.status_code == 422, r.text
            assert set(r.json()["error"]) == {"code", "message"}


def test_booking_token_from_the_command_line(tmp_path, capsys):
    from hallcli.main import main

    assert (
        main(["token", "--db", str(tmp_path / "h.db"), "--role", "booking", "--name", "web"]) == 0
    )
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(token) >= 40
