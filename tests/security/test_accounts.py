"""Passwords, lockout, idle sessions, tokens at rest and revocation, issuing rate limits."""

from __future__ import annotations

import subprocess
import time
from collections import Counter

import pytest

from tests.conftest import ID_OTHER, ID_YOUNG
from tests.support import ROOT, hall_cmd

V1 = "/api/v1"
PASSWORD = "Secret123"


@pytest.fixture
def account(hall):
    from queue_server.admin.accounts import create_account

    hall.run_sync(lambda tx: create_account(tx, "li", PASSWORD, "staff", "李工", 1))
    return "li"


def login(api, password, username="li"):
    return api.post(f"{V1}/login", json={"username": username, "password": password})


def test_argon2id_at_rest(hall, account):
    stored = hall.db.row("SELECT password_hash FROM accounts WHERE username = 'li'")[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_lockout_after_five_failures_then_unlock_after_the_configured_minutes(api, hall, account):
    for left in (4, 3, 2, 1):
        r = login(api, "wrong-pass1")
        assert r.status_code == 401 and f"还可尝试 {left} 次" in r.json()["error"]["message"]
    r = login(api, "wrong-pass1")
    assert r.status_code == 403 and r.json()["error"]["code"] == "account_locked"
    # locked: even the right password is refused
    r = login(api, PASSWORD)
    assert r.status_code == 403 and r.json()["error"]["code"] == "account_locked"
    locked_until = hall.db.row("SELECT locked_until FROM accounts WHERE username = 'li'")[0]
    assert locked_until - time.time() == pytest.approx(15 * 60, abs=30)
    # the lockout minutes pass
    hall.run_sync(
        lambda tx: tx.execute(
            "UPDATE accounts SET locked_until = ? WHERE username = 'li'", (time.time() - 1,)
        )
    )
    r = login(api, PASSWORD)
    assert r.status_code == 200 and r.json()["token"]
    actions = [
        (row["action"], row["result"])
        for row in hall.db.rows("SELECT action, result FROM audit_log WHERE actor = 'li'")
    ]
    assert actions.count(("login", "bad_password")) == 5 and ("login", "ok") in actions


def test_idle_session_times_out(api, hall, account, monkeypatch):
    import queue_server.runtime.hall as hall_module

    token = login(api, PASSWORD).json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    assert api.get(f"{V1}/me", headers=h).status_code == 200
    later = time.time() + 31 * 60  # the demo hall's idle timeout is 30 minutes

    class Later:
        @staticmethod
        def time() -> float:
            return later

    monkeypatch.setattr(hall_module, "time", Later)
    r = api.get(f"{V1}/me", headers=h)
    assert r.status_code == 401 and r.json()["error"]["code"] == "session_expired"
    monkeypatch.undo()
    r = api.get(f"{V1}/me", headers=h)  # revoked for good, not just cached out
    assert r.status_code == 401


def test_active_session_stays_valid(api, account):
    token = login(api, PASSWORD).json()["token"]
    for _ in range(3):
        assert api.get(f"{V1}/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_tokens_are_hashed_at_rest(tmp_path, api, hall, account):
    device = api.who("kiosk")["Authorization"][7:]
    session = login(api, PASSWORD).json()["token"]
    hall.run_sync(lambda tx: None)
    blobs = b"".join(
        p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("hall.db") and p.is_file()
    )
    assert blobs
    for token in (device, session):
        assert token.encode() not in blobs
        assert token.encode("utf-16-le") not in blobs


def test_admin_revokes_a_token_through_the_api(api, hall):
    kiosk = api.who("kiosk")
    assert api.get(f"{V1}/services", headers=kiosk).status_code == 200
    listed = api.get(f"{V1}/tokens", headers=api.who("admin")).json()
    assert all("token_hash" not in t for t in listed)
    kiosk_id = next(t["id"] for t in listed if t["role"] == "kiosk")
    assert (
        api.post(f"{V1}/tokens/{kiosk_id}/revoke", headers=api.who("staff", 1)).status_code == 403
    )
    r = api.post(f"{V1}/tokens/{kiosk_id}/revoke", headers=api.who("admin"))
    assert r.status_code == 200 and r.json()["revoked_at"]
    r = api.get(f"{V1}/services", headers=kiosk)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    assert api.post(f"{V1}/tokens/999999/revoke", headers=api.who("admin")).status_code == 404
    audit = hall.db.row("SELECT * FROM audit_log WHERE action = 'token.revoke'")
    assert audit is not None and audit["actor"].startswith("admin:")


def test_cli_revocation_reaches_a_running_server(api, hall, tmp_path):
    from queue_server.runtime.upkeep import forget_revoked

    kiosk = api.who("kiosk")
    assert api.get(f"{V1}/services", headers=kiosk).status_code == 200  # cached now
    token = kiosk["Authorization"][7:]
    out = subprocess.run(
        # --token=…: a token may begin with "-", which argparse would take for an option
        hall_cmd("tokens", "revoke", "--db", str(tmp_path / "hall.db"), f"--token={token}"),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "revoked token" in out.stdout
    assert forget_revoked(hall) == 1  # what the housekeeping task does every 30 s
    assert api.get(f"{V1}/services", headers=kiosk).status_code == 401
    listed = subprocess.run(
        hall_cmd("tokens", "list", "--db", str(tmp_path / "hall.db"), "--all"),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert "revoked" in listed.stdout and token not in listed.stdout


def test_issuing_is_rate_limited_per_device_with_a_chinese_message(api, hall):
    from queue_server.core.antiscalping import TokenBucket

    api.app.state.issue_bucket = TokenBucket(3)
    kiosk = api.who("kiosk")
    codes = [
        api.post(f"{V1}/tickets", json={"service": "SW"}, headers=kiosk).status_code
        for _ in range(4)
    ]
    assert codes == [201, 201, 201, 429]
    r = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=kiosk)
    assert r.status_code == 429
    assert (
        r.json()["error"]["code"] == "issue_rate_limited" and "频繁" in r.json()["error"]["message"]
    )
    # another device is not affected
    assert (
        api.post(f"{V1}/tickets", json={"service": "SW"}, headers=api.who("staff", 1)).status_code
        == 201
    )


def test_token_bucket_refills():
    from queue_server.core.antiscalping import TokenBucket

    now = [0.0]
    bucket = TokenBucket(60, now=lambda: now[0])
    assert all(bucket.allow("k") for _ in range(60))
    assert not bucket.allow("k")
    now[0] += 1.0
    assert bucket.allow("k") and not bucket.allow("k")
    assert TokenBucket(0).allow("k")


def test_issuing_is_limited_per_id_number_per_day(api, hall):
    kiosk = api.who("kiosk")
    services = ["SW", "SB", "HJ", "YB", "GJJ", "QYKB", "BDC"]
    known = {s["code"] for s in api.get(f"{V1}/services", headers=kiosk).json()}
    services = [s for s in services if s in known]
    assert len(services) >= 6
    limit = hall.config.security.issue_per_id_per_day
    card = {"id_number": ID_YOUNG, "name": "张三"}
    for svc in services[:limit]:
        r = api.post(f"{V1}/tickets", json={"service": svc, "id_card": card}, headers=kiosk)
        assert r.status_code == 201, r.text
    r = api.post(f"{V1}/tickets", json={"service": services[limit], "id_card": card}, headers=kiosk)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "id_daily_limit" and "上限" in r.json()["error"]["message"]
    # another person is not affected
    other = {"id_number": ID_OTHER}
    r = api.post(
        f"{V1}/tickets", json={"service": services[limit], "id_card": other}, headers=kiosk
    )
    assert r.status_code == 201


# -- lockout and password work under concurrent guesses ---------------------------------------


def slow_verifies(monkeypatch, seconds: float = 0.3) -> dict[str, int]:
    """Make each Argon2 check slow (as on a busy server) and count them, and how many at once."""
    import threading

    from queue_server.admin import accounts

    seen = {"calls": 0, "now": 0, "most": 0}
    lock = threading.Lock()
    real = accounts._hasher

    class Hasher:  # PasswordHasher's attributes are read-only: stand in for it
        hash = staticmethod(real.hash)

        @staticmethod
        def verify(stored: str, password: str) -> bool:
            return verify(stored, password)

    def verify(stored: str, password: str) -> bool:
        with lock:
            seen["calls"] += 1
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        try:
            time.sleep(seconds)
            return real.verify(stored, password)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(accounts, "_hasher", Hasher())
    return seen


async def concurrent_logins(hall, bodies: list[dict]) -> list:
    import asyncio

    import httpx

    from queue_server.api import create_app

    transport = httpx.ASGITransport(app=create_app(hall))
    async with httpx.AsyncClient(transport=transport, base_url="http://hall") as client:
        return list(await asyncio.gather(*(client.post(f"{V1}/login", json=b) for b in bodies)))


@pytest.mark.anyio
async def test_lockout_holds_under_concurrent_guesses(hall, account, monkeypatch):
    seen = slow_verifies(monkeypatch)
    guesses = [{"username": "li", "password": f"wrong-pass{i}"} for i in range(29)]
    replies = await concurrent_logins(hall, [*guesses, {"username": "li", "password": PASSWORD}])
    # the failure that reaches the limit locks the account: it and every later try are 403
    limit = hall.config.security.max_failed_logins
    codes = Counter((r.status_code, r.json()["error"]["code"]) for r in replies)
    assert codes == {(401, "bad_credentials"): limit - 1, (403, "account_locked"): 31 - limit}
    assert replies[-1].json()["error"]["code"] == "account_locked"
    assert seen["calls"] <= hall.config.security.max_failed_logins  # the rest never hashed
    row = hall.db.row("SELECT locked_until FROM accounts WHERE username = 'li'")
    assert row["locked_until"] and row["locked_until"] > time.time()


@pytest.mark.anyio
async def test_a_flood_of_logins_for_unknown_users_is_hashed_a_few_at_a_time(hall, monkeypatch):
    from queue_server.admin import accounts

    seen = slow_verifies(monkeypatch, 0.1)
    hashed: list[str] = []
    accounts.dummy_hash()  # precomputed once (start-up)
    monkeypatch.setattr(accounts._hasher, "hash", lambda p, **kw: hashed.append(p) or "x")
    bodies = [{"username": f"nobody{i}", "password": "Guess1234"} for i in range(12)]
    replies = await concurrent_logins(hall, bodies)
    assert {r.status_code for r in replies} == {401}
    assert seen["calls"] == 12  # the same work as a known user: one check each...
    assert hashed == []  # ...and no second hash for an unknown user
    assert seen["most"] <= accounts.MAX_CONCURRENT_HASHES


def test_failed_bearer_tokens_are_counted_per_source_for_the_admin(api, hall):
    for _ in range(3):
        bad = api.get(f"{V1}/services", headers={"Authorization": "Bearer guessed-token-1"})
        assert bad.status_code == 401
    assert api.get(f"{V1}/services", headers=api.who("kiosk")).status_code == 200
    r = api.get(f"{V1}/tokens/failures", headers=api.who("admin"))
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [(x["source"], x["count"]) for x in rows] == [("testclient", 3)]
    assert rows[0]["last_at"]
    assert api.get(f"{V1}/tokens/failures", headers=api.who("staff", 1)).status_code == 403
