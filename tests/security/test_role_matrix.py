"""Every API endpoint (from app.routes) against every role and none: 401, 403, never 5xx."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

V1 = "/api/v1"
ROLES = ("admin", "staff", "kiosk", "display", "evaluator")
# Reached without a token by design: health checks, password login, device pairing (the
# one-time pairing code is the credential there), the 12345 outcome (its HMAC signature is) and
# the ticket's QR page (the code in its link is; tests/security/test_rating_matrix.py attacks it).
PUBLIC = {
    ("GET", f"{V1}/health"),
    ("POST", f"{V1}/login"),
    ("POST", f"{V1}/devices/pair"),
    ("POST", f"{V1}/hotline/outcome"),
    ("GET", f"{V1}/public/tickets/{{code}}"),
}
ANY = set(ROLES)
STAFF = {"staff", "admin"}
# Who may call what (docs/API.md and the route modules). An endpoint missing here
# (added later) is still checked for 401 without a token and for never answering 5xx.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("GET", "/hall"): ANY,
    ("GET", "/services"): ANY,
    ("GET", "/publication"): {"display", "admin", "staff", "kiosk"},  # not the evaluator
    ("POST", "/evaluations"): {"evaluator", "kiosk"},  # the people rated never rate
    ("GET", "/evaluations"): STAFF,
    ("POST", "/devices/heartbeat"): ANY,
    ("GET", "/devices"): {"admin"},
    ("POST", "/logout"): ANY,
    ("GET", "/me"): ANY,
    ("POST", "/tickets"): {"kiosk", "staff", "admin"},
    ("GET", "/tickets/{ticket_id}"): ANY,
    ("GET", "/tickets"): {"staff", "admin", "display"},
    ("POST", "/tickets/lookup"): {"kiosk", "staff", "admin"},
    ("POST", "/tickets/{ticket_id}/recall"): STAFF,
    ("POST", "/tickets/{ticket_id}/skip"): STAFF,
    ("POST", "/tickets/{ticket_id}/finish"): STAFF,
    ("POST", "/tickets/{ticket_id}/transfer"): STAFF,
    ("POST", "/tickets/{ticket_id}/reactivate"): STAFF,
    ("POST", "/tickets/{ticket_id}/cancel"): {"kiosk", "staff", "admin"},
    ("POST", "/kiosk/leases"): {"kiosk", "admin"},
    ("GET", "/windows"): ANY,
    ("GET", "/windows/{no}"): ANY,
    ("POST", "/windows/{no}/call-next"): STAFF,
    ("POST", "/windows/{no}/call-ticket"): STAFF,
    ("POST", "/windows/{no}/pause"): STAFF,
    ("POST", "/windows/{no}/resume"): STAFF,
    ("POST", "/windows/{no}/close"): {"admin"},
    ("POST", "/windows/{no}/open"): {"admin"},
    ("GET", "/events"): ANY,
    ("GET", "/tokens"): {"admin"},
    ("GET", "/tokens/failures"): {"admin"},
    ("POST", "/tokens/{token_id}/revoke"): {"admin"},
}
BODIES = {
    "/evaluations": {"ticket_id": 1, "level": 5, "channel": "window"},
    "/devices/heartbeat": {},
    "/tickets": {"service": "SW", "channel": "counter"},
    "/tickets/lookup": {"id_number": "110105199003071239"},
    "/tickets/{ticket_id}/transfer": {"service": "SB"},
    "/kiosk/leases": {"service": "SW", "size": 5},
    "/windows/{no}/call-ticket": {"number": "D001"},
    "/login": {"username": "nobody", "password": "x"},
}


def api_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every API route, whether FastAPI lists them flat or by router."""
    found: list[tuple[str, str]] = []
    for r in app.routes:
        if isinstance(r, APIRoute):
            found += [(m, r.path) for m in r.methods]
        elif hasattr(r, "effective_route_contexts"):  # FastAPI >= 0.16x: included routers
            for ctx in r.effective_route_contexts():
                methods = getattr(ctx.original_route, "methods", None) or ()
                found += [(m, ctx.path) for m in methods]
    return sorted({(m, p) for m, p in found if p.startswith(V1) and m != "HEAD"})


def fill(path: str, window: int) -> str:
    path = path.replace("{no}", str(window))
    return re.sub(r"\{[a-z_]+\}", "1", path)


def call(api, method, path, headers, window=1):
    body = BODIES.get(path[len(V1) :])
    url = fill(path, window)
    if method == "GET":
        return api.get(url, headers=headers)
    return api.request(method, url, json=body if body is not None else {}, headers=headers)


def test_the_matrix_knows_every_endpoint_it_can(api):
    routes = api_routes(api.app)
    assert len(routes) >= 25
    unknown = [
        (m, p) for m, p in routes if (m, p[len(V1) :]) not in ALLOWED and (m, p) not in PUBLIC
    ]
    # New endpoints from other branches are fine; they still get the generic checks below.
    assert len(unknown) < len(routes)


def test_without_a_token_every_endpoint_is_401(api):
    for method, path in api_routes(api.app):
        if (method, path) in PUBLIC:
            continue
        r = call(api, method, path, {})
        assert r.status_code == 401, f"{method} {path} without a token: {r.status_code}"
        assert r.json()["error"]["code"] in ("missing_token", "unauthorized")
        bad = call(api, method, path, {"Authorization": "Bearer not-a-real-token"})
        assert bad.status_code == 401, f"{method} {path} with a bad token: {bad.status_code}"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_every_endpoint(api, hall, role):
    from queue_server.admin.accounts import create_token

    # a ticket called at window 1 so that ticket 1 exists for the ticket actions
    setup = api.who("admin")
    api.post(f"{V1}/tickets", json={"service": "SW", "channel": "counter"}, headers=setup)
    for method, path in api_routes(api.app):
        rel = path[len(V1) :]
        if (method, path) in PUBLIC or (method, rel) == ("GET", "/events"):
            continue  # the event stream never ends for an allowed role; covered live
        window = 1 if role in ("staff", "evaluator") else None
        token = hall.run_sync(lambda tx, w=window: create_token(tx, role, f"matrix-{role}", w))
        h = {"Authorization": f"Bearer {token}"}
        r = call(api, method, path, h)
        allowed = ALLOWED.get((method, rel))
        assert r.status_code < 500, f"{role} {method} {path}: {r.status_code} {r.text}"
        if allowed is None:
            continue
        if role in allowed:
            # a 403 for a finer reason (another window's ticket, a channel) is not the role
            assert r.status_code != 401, f"{role} {method} {path}: {r.text}"
            if r.status_code == 403:
                assert r.json()["error"]["code"] != "role_not_allowed", f"{role} {method} {path}"
        else:
            assert r.status_code == 403, f"{role} {method} {path}: {r.status_code} {r.text}"
            assert r.json()["error"]["code"] == "role_not_allowed"


def test_a_window_bound_staff_token_cannot_act_for_another_window(api):
    h = api.who("staff", 1)
    for action in ("call-next", "pause", "resume"):
        r = api.post(f"{V1}/windows/2/{action}", headers=h)
        assert r.status_code == 403 and r.json()["error"]["code"] == "other_window"


def test_events_stream_rejects_no_token(api):
    assert api.get(f"{V1}/events").status_code == 401


# -- ratings: who may file them, on which channel ---------------------------------------------


def served(api, window: int = 11, service: str = "SW", finish: bool = True) -> dict:
    """A ticket issued at the kiosk and called (and finished) at `window`."""
    t = api.post(f"{V1}/tickets", json={"service": service}, headers=api.who("kiosk")).json()
    called = api.post(f"{V1}/windows/{window}/call-next", headers=api.who("staff", window))
    assert called.status_code == 200 and called.json()["id"] == t["id"], called.text
    if finish:
        done = api.post(f"{V1}/tickets/{t['id']}/finish", headers=api.who("staff", window))
        assert done.status_code == 200, done.text
    return t


def rate(api, headers: dict, ticket_id: int, channel: str = "window", level: int = 5):
    body = {"ticket_id": ticket_id, "level": level, "channel": channel}
    return api.post(f"{V1}/evaluations", json=body, headers=headers)


def test_staff_and_admin_cannot_file_ratings(api, hall):
    t = served(api)
    for h in (api.who("staff", 11), api.who("staff"), api.who("admin")):
        for channel in ("window", "kiosk", "qr"):
            r = rate(api, h, t["id"], channel)
            assert r.status_code == 403, (channel, r.text)
            assert r.json()["error"]["code"] == "role_not_allowed"
    assert hall.db.row("SELECT COUNT(*) AS n FROM evaluations")["n"] == 0


def test_a_kiosk_rates_only_on_the_kiosk_channel_once(api):
    k = api.who("kiosk")
    t = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=k).json()
    for channel in ("window", "qr"):
        r = rate(api, k, t["id"], channel)
        assert r.status_code == 403 and r.json()["error"]["code"] == "channel_not_allowed"
    assert rate(api, k, t["id"], "kiosk").status_code == 201
    again = rate(api, k, t["id"], "kiosk", level=4)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"


def test_an_evaluator_rates_only_done_tickets_of_its_own_window(api):
    t = served(api, finish=False)
    ev = api.who("evaluator", 11)
    busy = rate(api, ev, t["id"])
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "not_done"
    api.post(f"{V1}/tickets/{t['id']}/finish", headers=api.who("staff", 11))
    other = rate(api, api.who("evaluator", 12), t["id"])
    assert other.status_code == 403 and other.json()["error"]["code"] == "other_window"
    unbound = rate(api, api.who("evaluator"), t["id"])
    assert unbound.status_code == 403
    for channel in ("kiosk", "qr"):
        r = rate(api, ev, t["id"], channel)
        assert r.status_code == 403 and r.json()["error"]["code"] == "channel_not_allowed"
    assert rate(api, ev, t["id"]).status_code == 201
    assert rate(api, ev, t["id"], level=4).status_code == 409


def test_a_waiting_ticket_cannot_be_rated_at_a_window(api):
    t = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=api.who("kiosk")).json()
    r = rate(api, api.who("evaluator", 11), t["id"])
    # a waiting ticket was finished at no window, so it is not this evaluator's to rate
    assert (r.status_code, r.json()["error"]["code"]) == (403, "other_window")


def test_one_rating_per_ticket_over_window_and_qr(api, hall):
    """一次一评: the QR page's rating and the window's evaluator share one rating."""
    from queue_server.base.errors import Conflict
    from queue_server.ratings import evaluations

    t = served(api)
    assert rate(api, api.who("evaluator", 11), t["id"]).status_code == 201
    with pytest.raises(Conflict) as err:
        hall.run_sync(lambda tx: evaluations.create(hall.ctx, tx, t["id"], 4, [], "", "qr", None))
    assert err.value.code == "already_rated"
    t2 = served(api)
    hall.run_sync(lambda tx: evaluations.create(hall.ctx, tx, t2["id"], 4, [], "", "qr", None))
    second = rate(api, api.who("evaluator", 11), t2["id"])
    assert second.status_code == 409 and second.json()["error"]["code"] == "already_rated"


# -- a window's staff act on their own window's tickets ---------------------------------------


def act(api, headers: dict, ticket_id: int, action: str, body: dict | None = None):
    return api.post(f"{V1}/tickets/{ticket_id}/{action}", json=body or {}, headers=headers)


def test_staff_act_only_on_tickets_at_their_window(api):
    t = served(api, 11, finish=False)  # called at window 11
    s11, s12 = api.who("staff", 11), api.who("staff", 12)  # 12 serves SW too
    for action, body in (("recall", None), ("finish", None), ("transfer", {"service": "SW"})):
        r = act(api, s12, t["id"], action, body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "other_window", action
    r = act(api, s12, t["id"], "skip")
    assert r.status_code == 403 and r.json()["error"]["code"] == "other_window"
    assert act(api, s11, t["id"], "skip").status_code == 200  # 过号 at 11
    for action, body in (("reactivate", None), ("transfer", {"service": "SW"})):
        r = act(api, s12, t["id"], action, body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "other_window", action
    assert act(api, s11, t["id"], "reactivate").status_code == 200
    assert api.get(f"{V1}/tickets/{t['id']}", headers=s11).json()["status"] == "waiting"


def test_staff_transfer_only_waiting_tickets_of_services_their_window_serves(api):
    t = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=api.who("kiosk")).json()
    r = act(api, api.who("staff", 1), t["id"], "transfer", {"service": "SB"})  # 1: no SW
    assert r.status_code == 403 and r.json()["error"]["code"] == "other_window"
    ok = act(api, api.who("staff", 12), t["id"], "transfer", {"service": "SW", "window": 13})
    assert ok.status_code == 200, ok.text


def test_no_transfer_into_a_window_that_cannot_serve_it(api):
    t = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=api.who("kiosk")).json()
    for body in ({"service": "SW", "window": 14}, {"window": 1}):
        for h in (api.who("admin"), api.who("staff", 11)):
            r = act(api, h, t["id"], "transfer", body)
            assert r.status_code == 422 and r.json()["error"]["code"] == "window_cannot_serve"
    assert api.get(f"{V1}/tickets/{t['id']}", headers=api.who("admin")).json()["service"] == "SW"
    assert act(api, api.who("admin"), t["id"], "transfer", {"window": 12}).status_code == 200


def test_a_transfer_into_a_service_no_window_serves_is_refused(api, hall):
    from queue_server.base.errors import Invalid
    from queue_server.core import scope

    t = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=api.who("kiosk")).json()
    windows = [w for w in hall.config.windows if "BDC" not in w.services]
    hall.ctx.config.windows[:] = windows  # no window serves 不动产 now
    with pytest.raises(Invalid) as err:
        hall.run_sync(lambda tx: scope.check_transfer_target(hall.ctx, tx, t["id"], "BDC", None))
    assert err.value.code == "service_not_served"


def test_special_call_only_for_tickets_the_window_serves(api):
    t = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=api.who("kiosk")).json()
    r = api.post(
        f"{V1}/windows/1/call-ticket", json={"number": t["number"]}, headers=api.who("staff", 1)
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "other_window"
    r = api.post(
        f"{V1}/windows/11/call-ticket", json={"ticket_id": t["id"]}, headers=api.who("staff", 11)
    )
    assert r.status_code == 200 and r.json()["window"] == 11


def test_a_kiosk_cannot_cancel_other_peoples_tickets(api, hall):
    from tests.conftest import ID_OTHER, ID_YOUNG

    k = api.who("kiosk")
    mine = api.post(
        f"{V1}/tickets", json={"service": "SW", "id_card": {"id_number": ID_YOUNG}}, headers=k
    ).json()
    plain = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=k).json()
    for tid, body in (
        (mine["id"], {}),
        (mine["id"], {"id_number": ID_OTHER}),
        (plain["id"], {}),
        (plain["id"], {"id_number": ID_YOUNG}),
        (plain["id"], {"code": "0" * 16}),
        (plain["id"], {"code": str(plain["id"])}),
    ):
        r = act(api, k, tid, "cancel", body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "not_ticket_holder", body
    assert api.get(f"{V1}/tickets/{mine['id']}", headers=k).json()["status"] == "waiting"
    assert act(api, k, mine["id"], "cancel", {"id_number": ID_YOUNG}).status_code == 200
    from queue_server.core import scope

    row = hall.db.row("SELECT * FROM tickets WHERE id = ?", (plain["id"],))
    code = scope.ticket_code(hall.ctx, row)
    assert act(api, k, plain["id"], "cancel", {"code": code}).status_code == 200
    third = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=k).json()
    assert act(api, api.who("staff", 11), third["id"], "cancel").status_code == 200


def test_a_devices_rating_text_is_bounded(api, hall):
    t = served(api)
    body = {"ticket_id": t["id"], "level": 1, "channel": "window", "reasons": ["慢" * 1000]}
    r = api.post(f"{V1}/evaluations", json=body, headers=api.who("evaluator", 11))
    assert r.status_code == 422 and r.json()["error"]["code"] == "reason_too_long"
    assert hall.db.row("SELECT COUNT(*) AS n FROM evaluations")["n"] == 0
