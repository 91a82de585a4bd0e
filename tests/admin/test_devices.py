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
