"""Device registration by one-time pairing code, and the device list with health."""

from __future__ import annotations


def test_pairing_code_gives_a_token_once(api, hall):
    h = api.who("admin")
    r = api.post(
        "/api/v1/admin/devices/pairing-codes", json={"role": "kiosk", "name": "kiosk-2"}, headers=h
    )
    assert r.status_code == 201
    code = r.json()["code"]
    assert len(code) == 9 and code[4] == "-"
    paired = api.post("/api/v1/devices/pair", json={"code": code.lower().replace("-", "")})
    assert paired.status_code == 200, paired.text
    token = paired.json()["token"]
    kiosk = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/services", headers=kiosk).status_code == 200
    assert api.post("/api/v1/devices/pair", json={"code": code}).status_code == 401
    hb = api.post(
        "/api/v1/devices/heartbeat",
        json={"health": {"printer": {"status": "warn", "detail": "paper near end"}}},
        headers=kiosk,
    )
    assert hb.status_code == 200
    devs = api.get("/api/v1/admin/devices", headers=h).json()
    (dev,) = [d for d in devs if d["name"] == "kiosk-2"]
    assert dev["level"] == "warn" and "paper near end" in dev["summary"]
    assert dev["summary"].startswith("自助取号机 kiosk-2")
    r = api.delete(f"/api/v1/admin/devices/{dev['token_id']}", headers=h)
    assert r.status_code == 200
    assert api.get("/api/v1/services", headers=kiosk).status_code == 401
    actions = {r["action"] for r in hall.db.rows("SELECT action FROM audit_log")}
    assert {"device.pairing_code", "device.pair", "device.revoke"} <= actions


def test_pairing_rules(api):
    h = api.who("admin")
    r = api.post(
        "/api/v1/admin/devices/pairing-codes", json={"role": "evaluator", "name": "e1"}, headers=h
    )
    assert r.status_code == 422  # an evaluator belongs to a window
    r = api.post(
        "/api/v1/admin/devices/pairing-codes", json={"role": "admin", "name": "x"}, headers=h
    )
    assert r.status_code == 422
    assert api.post("/api/v1/devices/pair", json={"code": "AAAA-BBBB"}).status_code == 401


def test_accounts_create_assign_window_and_disable(api, hall):
    h = api.who("admin")
    r = api.post(
        "/api/v1/admin/accounts",
        json={"username": "staff21", "password": "Pass12345", "name": "孙丽", "window": 21},
        headers=h,
    )
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    login = api.post("/api/v1/login", json={"username": "staff21", "password": "Pass12345"})
    assert login.json()["window"] == 21
    session = {"Authorization": f"Bearer {login.json()['token']}"}
    r = api.patch(f"/api/v1/admin/accounts/{aid}", json={"window": 22}, headers=h)
    assert r.json()["window"] == 22
    assert (
        api.patch(f"/api/v1/admin/accounts/{aid}", json={"window": 999}, headers=h).status_code
        == 422
    )
    r = api.patch(f"/api/v1/admin/accounts/{aid}", json={"disabled": True}, headers=h)
    assert r.json()["disabled"] is True
    assert api.get("/api/v1/me", headers=session).status_code == 401
    rec = hall.db.rows("SELECT * FROM audit_log WHERE action = 'account.update'")
    assert '"window":21' in rec[0]["detail"] and '"window":22' in rec[0]["detail"]
    assert "password" not in rec[0]["detail"].replace("password_reset", "")
    weak = api.post(
        "/api/v1/admin/accounts",
        json={"username": "x1", "password": "123", "name": "x"},
        headers=h,
    )
    assert weak.status_code == 422


# -- device traffic is bounded per device -----------------------------------------------------


def beat(api, headers: dict, status: str = "ok", detail: str = "", **state):
    health = {"printer": {"status": status, "detail": detail}}
    return api.post(
        "/api/v1/devices/heartbeat", json={"health": health, "state": state}, headers=headers
    )


def test_heartbeats_are_rate_limited_per_device(api, make_token):
    from queue_server.admin import devices

    k1, k2 = ({"Authorization": f"Bearer {make_token('kiosk', None, n)}"} for n in ("k1", "k2"))
    for _ in range(devices.HEARTBEATS_PER_MINUTE):
        assert beat(api, k1).status_code == 200
    r = beat(api, k1)
    assert r.status_code == 429 and r.json()["error"]["code"] == "heartbeat_rate_limited"
    assert beat(api, k2).status_code == 200  # another device is not held back


def test_device_supplied_text_is_bounded(api, hall):
    k = api.who("kiosk")
    long = beat(api, k, "warn", "x" * 5000)
    assert long.status_code == 422 and long.json()["error"]["code"] == "report_too_large"
    many = api.post(
        "/api/v1/devices/heartbeat",
        json={"health": {f"part{i}": {"status": "ok"} for i in range(100)}},
        headers=k,
    )
    assert many.status_code == 422
    state = api.post(
        "/api/v1/devices/heartbeat",
        json={"state": {f"k{i}": "v" * 100 for i in range(100)}},
        headers=k,
    )
    assert state.status_code == 422
    assert hall.db.row("SELECT COUNT(*) AS n FROM device_health")["n"] == 0
    ok = beat(api, k, "warn", "纸将用尽", queue=3)
    assert ok.status_code == 200


def test_a_chatty_device_does_not_grow_the_event_log(api, hall, clock):
    from queue_server.admin import devices

    k = api.who("kiosk")

    def device_events() -> int:
        return hall.db.row("SELECT COUNT(*) AS n FROM events WHERE type = 'device.health'")["n"]

    assert beat(api, k, "warn", "paper near end").status_code == 200
    assert device_events() == 1
    for i in range(devices.HEARTBEATS_PER_MINUTE - 1):  # flapping within the minute
        status = "ok" if i % 2 == 0 else "warn"
        assert beat(api, k, status, f"detail {i}", n=i).status_code == 200
    assert device_events() == 1  # coalesced: the device list shows the latest
    clock.advance(61)
    assert beat(api, k, "error", "paper out").status_code == 200
    assert device_events() == 2
    clock.advance(61)
    for i in range(5):  # unchanged health: nothing new in the event log
        assert beat(api, k, "error", f"paper out ({i})").status_code == 200
    assert device_events() == 2
    (dev,) = api.get("/api/v1/admin/devices", headers=api.who("admin")).json()
    assert dev["level"] == "error" and "paper out (4)" in dev["summary"]


def test_the_event_log_has_a_retention(hall, clock):
    from queue_server.admin import retention

    def add(ts: str, type: str) -> None:
        hall.run_sync(
            lambda tx: tx.execute(
                "INSERT INTO events (ts, type, data) VALUES (?, ?, '{}')", (ts, type)
            )
        )

    add("2026-01-01T09:00:00+08:00", "ticket.issued")  # > 180 days before 2026-11-17
    add("2026-11-01T09:00:00+08:00", "device.health")  # > 7 days: device chatter goes
    add("2026-11-01T09:00:00+08:00", "ticket.issued")  # kept: within 180 days
    add("2026-11-16T09:00:00+08:00", "device.health")  # kept
    hall.run_sync(lambda tx: retention.purge(hall.ctx, tx))
    left = [(r["ts"][:10], r["type"]) for r in hall.db.rows("SELECT ts, type FROM events")]
    assert ("2026-01-01", "ticket.issued") not in left
    assert ("2026-11-01", "device.health") not in left
    assert ("2026-11-01", "ticket.issued") in left and ("2026-11-16", "device.health") in left
    audit = hall.db.row("SELECT detail FROM audit_log WHERE action = 'retention.purge'")
    assert '"events":2' in audit["detail"]


def test_one_bad_client_cannot_block_pairing_for_every_device(api, hall):
    import asyncio

    import httpx

    code = api.post(
        "/api/v1/admin/devices/pairing-codes",
        json={"role": "kiosk", "name": "kiosk-9"},
        headers=api.who("admin"),
    ).json()["code"]

    async def run() -> tuple[list[int], int]:
        def client(host: str) -> httpx.AsyncClient:
            t = httpx.ASGITransport(app=api.app, client=(host, 40000))
            return httpx.AsyncClient(transport=t, base_url="http://hall")

        async with client("10.0.0.66") as bad, client("10.0.0.7") as good:
            tries = [
                (await bad.post("/api/v1/devices/pair", json={"code": f"AAAA-{i:04d}"})).status_code
                for i in range(40)
            ]
            ok = await good.post("/api/v1/devices/pair", json={"code": code})
            return tries, ok.status_code

    tries, ok = asyncio.run(run())
    assert tries[0] == 401 and tries[-1] == 429  # the guesser is slowed down...
    assert ok == 200  # ...and a real device elsewhere still pairs
