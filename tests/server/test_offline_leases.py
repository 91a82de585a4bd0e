"""Leases and offline sync on the server: the printed number wins, clocks are clamped, leases
are bounded and survive a restore without a number given twice."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from halldomain.sealing import seal
from tests.conftest import ID_ELDERLY, ID_YOUNG

V1 = "/api/v1"


def lease(api, service="SW", size=20, role="kiosk"):
    return api.post(
        f"{V1}/kiosk/leases", json={"service": service, "size": size}, headers=api.who(role)
    )


def issue(api, service="SW", role="kiosk", **body):
    return api.post(f"{V1}/tickets", json={"service": service, **body}, headers=api.who(role))


def sync(api, body):
    return api.post(f"{V1}/tickets", json=body, headers=api.who("kiosk"))


def sync_body(lz, seq, key, **extra):
    body = {
        "service": lz["service"],
        "lease_id": lz["lease_id"],
        "seq": seq,
        "idempotency_key": key,
    }
    return body | extra


def test_the_printed_leased_number_replaces_the_unprinted_online_one(api, hall):
    lz = lease(api, size=5).json()
    # The kiosk's online request commits D006, but its answer never reaches the kiosk, which
    # prints D001 from its lease under the same key.
    lost = issue(api, idempotency_key="tap-1").json()
    assert lost["number"] == "D006"
    synced = sync(api, sync_body(lz, 1, "tap-1"))
    assert synced.status_code == 200
    t = synced.json()
    assert t["id"] == lost["id"] and t["number"] == "D001"
    assert (
        api.get(f"{V1}/tickets/{lost['id']}", headers=api.who("display")).json()["number"] == "D001"
    )
    # the same sync again changes nothing; the hall calls the printed number
    assert sync(api, sync_body(lz, 1, "tap-1")).json()["number"] == "D001"
    events = hall.db.reader.execute(
        "SELECT data FROM events WHERE type = 'ticket.renumbered'"
    ).fetchall()
    assert len(events) == 1 and '"from_number":"D006"' in events[0][0]
    call = api.post(f"{V1}/windows/11/call-next", headers=api.who("staff", 11)).json()
    assert call["number"] == "D001"
    assert issue(api).json()["number"] == "D007"  # D006 is never handed out again


def test_a_called_unprinted_number_goes_back_to_the_queue_under_the_printed_one(api):
    lz = lease(api, size=5).json()
    lost = issue(api, idempotency_key="tap-2").json()
    called = api.post(f"{V1}/windows/11/call-next", headers=api.who("staff", 11)).json()
    assert called["id"] == lost["id"]  # nobody answers to D006: nobody holds it
    t = sync(api, sync_body(lz, 2, "tap-2")).json()
    assert t["number"] == "D002" and t["status"] == "waiting" and t["window"] is None


def test_offline_issue_time_is_clamped_to_the_lease_and_the_server_clock(api, clock):
    lz = lease(api, size=5).json()
    granted = datetime.fromisoformat(lz["created_at"])
    clock.advance(600)
    old = sync(api, sync_body(lz, 1, "k1", issued_at="2000-01-01T08:00:00+08:00")).json()
    assert datetime.fromisoformat(old["issued_at"]) == granted
    future = sync(api, sync_body(lz, 2, "k2", issued_at="2030-01-01T08:00:00+08:00")).json()
    assert datetime.fromisoformat(future["issued_at"]) == clock.now()
    # another offset is the same instant, not a string to compare
    utc = (granted + timedelta(minutes=3)).astimezone(UTC).isoformat()
    mid = sync(api, sync_body(lz, 3, "k3", issued_at=utc)).json()
    assert datetime.fromisoformat(mid["issued_at"]) == granted + timedelta(minutes=3)


def test_leases_are_bounded_per_kiosk_and_per_service(api, make_token):
    big = lease(api, size=200).json()
    assert big["last"] - big["first"] + 1 <= 50
    refused = lease(api, size=50)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "lease_limit"
    others = [make_token("kiosk", name=f"kiosk-{i}") for i in range(5)]
    granted = 0
    for token in others:
        r = api.post(
            f"{V1}/kiosk/leases",
            json={"service": "SW", "size": 200},
            headers={"Authorization": f"Bearer {token}"},
        )
        if r.status_code == 201:
            granted += r.json()["last"] - r.json()["first"] + 1
    assert big["last"] - big["first"] + 1 + granted <= 100  # the rest stays for the counter
    assert issue(api).status_code == 201


def test_leases_stay_within_the_daily_quota(api, make_token):
    # GCJS takes 60 tickets a day
    a = lease(api, "GCJS", 50).json()
    n_a = a["last"] - a["first"] + 1
    other = make_token("kiosk", name="kiosk-b")
    rb = api.post(
        f"{V1}/kiosk/leases",
        json={"service": "GCJS", "size": 50},
        headers={"Authorization": f"Bearer {other}"},
    )
    n_b = rb.json()["last"] - rb.json()["first"] + 1 if rb.status_code == 201 else 0
    online = 0
    while issue(api, "GCJS").status_code == 201:
        online += 1
    assert n_a + n_b + online == 60
    # every leased number that was printed is still accepted at sync
    synced = sync(api, sync_body(a, a["first"], "g-1"))
    assert synced.status_code == 201


def test_a_sealed_card_opens_only_on_the_server(api, hall):
    lz = lease(api, "HJ", 5).json()
    sealed = seal(lz["seal_key"], ID_ELDERLY, "欧阳娜娜", "hj-1")
    assert ID_ELDERLY not in sealed
    t = sync(api, sync_body(lz, 1, "hj-1", id_card_sealed=sealed)).json()
    assert t["number"] == "A001" and t["name_masked"] == "欧阳**" and t["priority"] == "elderly"
    found = api.post(
        f"{V1}/tickets/lookup", json={"id_number": ID_ELDERLY}, headers=api.who("kiosk")
    )
    assert [x["id"] for x in found.json()] == [t["id"]]
    # a sealed card is bound to its ticket: replayed under another key it does not open
    again = sync(api, sync_body(lz, 2, "hj-2", id_card_sealed=sealed))
    assert again.status_code == 422 and again.json()["error"]["code"] == "invalid_sealed_card"
    other = seal(lz["seal_key"], ID_YOUNG, "张三", "hj-3")
    assert sync(api, sync_body(lz, 3, "hj-3", id_card_sealed=other)).status_code == 201


def test_an_offline_qr_code_leads_to_the_ticket_page_after_sync(api):
    pending = api.get("/t/offline-tap-9", follow_redirects=False)
    assert pending.status_code == 404 and "text/html" in pending.headers["content-type"]
    assert "号票" in pending.text
    lz = lease(api, size=5).json()
    t = sync(api, sync_body(lz, 1, "tap-9")).json()
    r = api.get("/t/offline-tap-9", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == urlsplit(t["qr"]).path
    page = api.get("/t/offline-tap-9")
    assert page.status_code == 200 and "D001" in page.text


def _args(**kw: object) -> argparse.Namespace:
    return argparse.Namespace(**kw)


def test_a_restore_never_hands_out_a_leased_number_twice(tmp_path: Path, clock) -> None:
    from fastapi.testclient import TestClient

    from hallcli.maintenance import backup, restore
    from queue_server.admin.accounts import create_token
    from queue_server.api import create_app
    from queue_server.runtime.hall import Hall

    db = tmp_path / "hall.db"

    def open_api() -> tuple[Hall, TestClient, dict[str, str], dict[str, str]]:
        hall = Hall(db, clock=clock)
        a = hall.run_sync(lambda tx: create_token(tx, "kiosk", f"kiosk-a-{id(hall)}", None))
        b = hall.run_sync(lambda tx: create_token(tx, "kiosk", f"kiosk-b-{id(hall)}", None))
        client = TestClient(create_app(hall), raise_server_exceptions=False)
        return hall, client, {"Authorization": f"Bearer {a}"}, {"Authorization": f"Bearer {b}"}

    hall, client, ka, _ = open_api()
    assert backup(_args(db=str(db), out=str(tmp_path / "b.db"))) == 0
    lost = client.post(f"{V1}/kiosk/leases", json={"service": "SW", "size": 20}, headers=ka).json()
    hall.close()
    assert restore(_args(db=str(db), backup=str(tmp_path / "b.db"), skip=None)) == 0

    hall, client, ka2, kb = open_api()
    try:
        fresh = client.post(f"{V1}/kiosk/leases", json={"service": "SW", "size": 20}, headers=kb)
        assert fresh.status_code == 201 and fresh.json()["first"] > lost["last"]
        online = client.post(f"{V1}/tickets", json={"service": "SW"}, headers=kb).json()
        assert int(online["number"][1:]) > lost["last"]
        # the lost lease is stale: the kiosk is told to stop issuing from it ...
        check = client.post(f"{V1}/kiosk/leases/check", json={"leases": [lost]}, headers=ka2)
        assert check.status_code == 200 and check.json()["stale"] == [lost["lease_id"]]
        # ... but a ticket it already printed from it is accepted under its printed number
        body = sync_body(lost, lost["first"], "printed-before-restore") | {"lease": lost}
        t = client.post(f"{V1}/tickets", json=body, headers=ka2)
        assert t.status_code == 201 and t.json()["number"] == "D001"
        # a forged lease is not
        forged = dict(lost, lease_id="f" * 32, last=900, proof="0" * 64)
        bad = sync_body(forged, 899, "forged") | {"lease": forged}
        r = client.post(f"{V1}/tickets", json=bad, headers=ka2)
        assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_lease"
    finally:
        client.close()
        hall.close()


def test_a_retired_lease_gives_its_unused_numbers_back_to_the_quota(api):
    a = lease(api, "GCJS", 50).json()
    for seq in (1, 2, 3):
        assert sync(api, sync_body(a, seq, f"g-{seq}")).status_code == 201
    copy = {k: a[k] for k in ("lease_id", "service", "business_day", "first", "last")}
    copy |= {k: a[k] for k in ("epoch", "created_at", "expires_at", "proof")}
    retired = [{"lease_id": a["lease_id"], "used_to": 3}]
    body = {"leases": [copy], "retired": retired}
    r = api.post(f"{V1}/kiosk/leases/check", json=body, headers=api.who("kiosk"))
    assert r.status_code == 200 and r.json()["stale"] == []
    api.post(f"{V1}/kiosk/leases/check", json=body, headers=api.who("kiosk"))  # once only
    online = 0
    while issue(api, "GCJS").status_code == 201:
        online += 1
    assert online == 60 - 3


def test_a_late_online_request_after_the_sync_returns_the_printed_ticket(api):
    lz = lease(api, size=5).json()
    synced = sync(api, sync_body(lz, 4, "tap-late")).json()
    late = issue(api, idempotency_key="tap-late")  # the request the kiosk gave up on
    assert late.status_code == 200 and late.json()["id"] == synced["id"]
    assert late.json()["number"] == "D004"
