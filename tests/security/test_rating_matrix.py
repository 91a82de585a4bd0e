"""The contract's rating rules (POST /evaluations) as a role × channel × ticket-state matrix, and
the QR channel against an attacker: the code in the ticket's link is its only credential."""

from __future__ import annotations

import logging

import orjson
import pytest

V1 = "/api/v1"
STATES = ("waiting", "called", "done", "no_show")
CHANNELS = ("window", "kiosk", "qr")
WHO = ("citizen", "evaluator", "other_evaluator", "kiosk", "staff", "admin", "display")


def ticket_in(api, state: str) -> dict:
    """A fresh SW ticket brought to `state` at window 11."""
    t = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=api.who("kiosk")).json()
    staff = api.who("staff", 11)
    if state != "waiting":
        r = api.post(f"{V1}/windows/11/call-ticket", json={"ticket_id": t["id"]}, headers=staff)
        assert r.status_code == 200, r.text
    if state == "done":
        assert api.post(f"{V1}/tickets/{t['id']}/finish", headers=staff).status_code == 200
    if state == "no_show":
        assert api.post(f"{V1}/tickets/{t['id']}/skip", headers=staff).status_code == 200
    return t


def code_of(t: dict) -> str:
    return t["qr"].rsplit("/t/", 1)[1]


def expected(who: str, channel: str, state: str) -> tuple[int, str | None]:
    """What the contract says: (status, error code)."""
    if who == "citizen":  # the phone: no token, the ticket's code
        if channel != "qr":
            return 401, "missing_token"
        return (201, None) if state == "done" else (409, "not_done")
    if who in ("staff", "admin", "display"):
        return 403, "role_not_allowed"
    if who == "kiosk":
        return (201, None) if channel == "kiosk" else (403, "channel_not_allowed")
    if channel != "window":
        return 403, "channel_not_allowed"
    if who == "other_evaluator" or state == "waiting":  # rated only at the window that served
        return 403, "other_window"
    return (201, None) if state == "done" else (409, "not_done")


def headers_of(api, who: str) -> dict:
    return {
        "citizen": {},
        "evaluator": api.who("evaluator", 11),
        "other_evaluator": api.who("evaluator", 12),
        "kiosk": api.who("kiosk"),
        "staff": api.who("staff", 11),
        "admin": api.who("admin"),
        "display": api.who("display"),
    }[who]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("who", WHO)
def test_rating_matrix(api, hall, who: str, channel: str, state: str) -> None:
    t = ticket_in(api, state)
    body = {"ticket_id": t["id"], "level": 5, "channel": channel}
    if who == "citizen":
        body["code"] = code_of(t)
    r = api.post(f"{V1}/evaluations", json=body, headers=headers_of(api, who))
    status, code = expected(who, channel, state)
    assert r.status_code == status, r.text
    if code is not None:
        assert r.json()["error"]["code"] == code
        assert r.json()["error"]["message"]
    n = hall.db.row("SELECT COUNT(*) AS n FROM evaluations WHERE ticket_id = ?", [t["id"]])["n"]
    assert n == (1 if status == 201 else 0)


@pytest.mark.parametrize(("first", "second"), [("window", "qr"), ("qr", "window"), ("qr", "qr")])
def test_one_rating_per_visit_over_window_and_qr_with_a_clear_refusal(api, first, second):
    t = ticket_in(api, "done")

    def rate(channel: str):
        body = {"ticket_id": t["id"], "level": 4, "channel": channel}
        if channel == "qr":
            return api.post(f"{V1}/evaluations", json={**body, "code": code_of(t)})
        return api.post(f"{V1}/evaluations", json=body, headers=api.who("evaluator", 11))

    assert rate(first).status_code == 201
    again = rate(second)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"
    how = {"window": "窗口评价器", "qr": "扫码"}[first]
    assert f"已通过{how}评价过" in again.json()["error"]["message"]
    kiosk = api.post(
        f"{V1}/evaluations",
        json={"ticket_id": t["id"], "level": 5, "channel": "kiosk"},
        headers=api.who("kiosk"),
    )
    assert kiosk.status_code == 201  # the terminal is rated apart from the visit


# -- the QR channel against an attacker ----------------------------------------------------


def rate_qr(api, ticket_id: int, code: str | None, **extra):
    body = {"ticket_id": ticket_id, "level": 5, "channel": "qr", **extra}
    if code is not None:
        body["code"] = code
    return api.post(f"{V1}/evaluations", json=body)


def test_a_wrong_or_guessed_code_rates_nothing_and_reads_nothing(api, hall):
    t = ticket_in(api, "done")
    good = code_of(t)
    for guess in ("0" * 20, good[:-1] + ("0" if good[-1] != "0" else "1"), str(t["id"]), ""):
        r = rate_qr(api, t["id"], guess)
        assert r.status_code in (401, 403), (guess, r.text)
        assert api.get(f"{V1}/public/tickets/{guess or 'x'}").status_code == 404
    assert rate_qr(api, 999999, good).json()["error"]["code"] == "bad_ticket_code"
    assert rate_qr(api, t["id"], None).status_code == 401
    assert hall.db.row("SELECT COUNT(*) AS n FROM evaluations")["n"] == 0


def test_another_tickets_code_cannot_rate_this_ticket(api, hall):
    mine, theirs = ticket_in(api, "done"), ticket_in(api, "done")
    r = rate_qr(api, theirs["id"], code_of(mine))
    assert r.status_code == 403 and r.json()["error"]["code"] == "bad_ticket_code"
    assert "二维码" in r.json()["error"]["message"]
    assert rate_qr(api, mine["id"], code_of(mine)).status_code == 201
    assert hall.db.row("SELECT ticket_id FROM evaluations")["ticket_id"] == mine["id"]


def test_a_waiting_ticket_and_a_second_rating_are_refused(api):
    t = ticket_in(api, "waiting")
    r = rate_qr(api, t["id"], code_of(t))
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_done"
    assert "办结后才能评价" in r.json()["error"]["message"]
    done = ticket_in(api, "done")
    assert rate_qr(api, done["id"], code_of(done)).status_code == 201
    twice = rate_qr(api, done["id"], code_of(done), level=1, reasons=["attitude"])
    assert twice.status_code == 409 and "一次一评" in twice.json()["error"]["message"]


def test_a_device_token_cannot_use_the_qr_channel(api):
    t = ticket_in(api, "done")
    for role, window in (("evaluator", 11), ("kiosk", None)):
        r = api.post(
            f"{V1}/evaluations",
            json={"ticket_id": t["id"], "level": 5, "channel": "qr", "code": code_of(t)},
            headers=api.who(role, window),
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "channel_not_allowed"
    staff = api.post(
        f"{V1}/evaluations",
        json={"ticket_id": t["id"], "level": 5, "channel": "qr", "code": code_of(t)},
        headers=api.who("staff", 11),
    )
    assert staff.status_code == 403 and staff.json()["error"]["code"] == "role_not_allowed"


def test_the_callback_phone_is_checked_masked_everywhere_and_purged(api, hall, clock, caplog):
    from queue_server.admin import retention

    t = ticket_in(api, "done")
    bad = rate_qr(api, t["id"], code_of(t), contact_phone="1234567")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_phone"
    assert "11位手机号" in bad.json()["error"]["message"]
    not_qr = api.post(
        f"{V1}/evaluations",
        json={
            "ticket_id": t["id"],
            "level": 5,
            "channel": "window",
            "contact_phone": "13812341234",
        },
        headers=api.who("evaluator", 11),
    )
    assert not_qr.status_code == 422
    with caplog.at_level(logging.DEBUG):
        r = rate_qr(
            api, t["id"], code_of(t), level=2, reasons=["slow"], contact_phone="138 1234 1234"
        )
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["contact_phone_masked"] == "138****1234" and "contact_phone" not in ev
    full = "13812341234"
    stored = hall.db.row("SELECT contact_phone FROM evaluations WHERE id = ?", [ev["id"]])
    assert stored["contact_phone"] == full  # kept for the 回访 call
    # the 差评 opens its case with the number, shown masked to whoever handles the 回访
    case = hall.db.row(
        "SELECT id, contact_phone, contact_masked FROM followup_cases WHERE evaluation_id = ?",
        [ev["id"]],
    )
    assert (case["contact_phone"], case["contact_masked"]) == (full, "138****1234")
    shown = api.get(f"{V1}/admin/cases/{case['id']}", headers=api.who("admin")).json()
    assert shown["contact"] == "138****1234" and full not in orjson.dumps(shown).decode()
    for table, col in (("events", "data"), ("upload_queue", "payload"), ("audit_log", "detail")):
        for row in hall.db.rows(f"SELECT {col} FROM {table}"):
            assert full not in row[col], table
    listed = api.get(f"{V1}/evaluations", headers=api.who("admin")).text
    assert full not in listed and "138****1234" in listed
    assert full not in caplog.text
    public = api.get(f"{V1}/public/tickets/{code_of(t)}").json()
    assert full not in orjson.dumps(public).decode() and "138****1234" not in str(public)
    clock.advance(86400 * (hall.config.security.retention_days + 1))
    hall.run_sync(lambda tx: retention.purge(hall.ctx, tx))
    gone = hall.db.row(
        "SELECT contact_phone, contact_phone_masked FROM evaluations WHERE id = ?", [ev["id"]]
    )
    assert tuple(gone) == (None, None)
    case_gone = hall.db.row(
        "SELECT contact_phone, contact_masked FROM followup_cases WHERE id = ?", [case["id"]]
    )
    assert tuple(case_gone) == (None, None)


def test_the_public_view_shows_progress_and_nothing_personal(api):
    from tests.conftest import ID_YOUNG

    t = api.post(
        f"{V1}/tickets",
        json={"service": "HJ", "id_card": {"id_number": ID_YOUNG, "name": "张三"}},
        headers=api.who("kiosk"),
    ).json()
    view = api.get(f"{V1}/public/tickets/{code_of(t)}").json()
    assert view["ticket"]["number"] == t["number"] and view["ticket"]["status"] == "waiting"
    assert view["rating"] == {"open": False, "rated": False, "channel": None, "level": None}
    text = orjson.dumps(view).decode()
    assert ID_YOUNG[-4:] not in text and "张" not in text and "id_masked" not in text
    codes = [r["code"] for r in view["hall"]["ratings"]["reasons"]]
    hall_codes = [
        r["code"]
        for r in api.get(f"{V1}/hall", headers=api.who("evaluator", 11)).json()["ratings"][
            "reasons"
        ]
    ]
    assert codes == hall_codes  # the same list as the evaluator and the kiosk
