"""Account changes as a domain operation: what changes, which sessions end, what is audited."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from queue_server.admin import accounts
from queue_server.admin.accounts import AccountChange
from queue_server.base.errors import Invalid, NotFound, Unauthorized


@pytest.fixture
def staff(hall):
    """A staff account bound to window 1, with one login session cached by the hall."""
    aid = hall.run_sync(
        lambda tx: accounts.create_account(tx, "li", "Pass12345", "staff", "李雷", 1, "A01")
    )
    token = hall.run_sync(
        lambda tx: accounts.create_token(tx, "staff", "李雷", 1, kind="session", account_id=aid)
    )
    hall.authenticate(token)  # cached now
    return aid, token


def update(hall, aid, change: AccountChange, actor: str = "admin:root"):
    return asyncio.run(accounts.update_account(hall, aid, change, actor))


def last_audit(hall) -> dict:
    row = hall.db.row(
        "SELECT * FROM audit_log WHERE action = 'account.update' ORDER BY id DESC LIMIT 1"
    )
    return dict(row) | {"detail": orjson.loads(row["detail"])}


def test_changing_name_and_window_keeps_the_session_and_audits_only_what_changed(hall, staff):
    aid, token = staff
    view = update(hall, aid, AccountChange(name="李明", window=2, staff_no="A01"))
    assert view["name"] == "李明" and view["window"] == 2 and view["staff_no"] == "A01"
    assert view["disabled"] is False and view["locked"] is False
    rec = last_audit(hall)
    assert rec["actor"] == "admin:root" and rec["target"] == "li"
    assert rec["detail"]["before"] == {"name": "李雷", "window": 1}
    assert rec["detail"]["after"] == {"name": "李明", "window": 2}
    assert rec["detail"]["password_reset"] is False
    assert hall.authenticate(token).account_id == aid  # the session goes on
    assert update(hall, aid, AccountChange(window=0))["window"] is None  # 0 unbinds


def test_disabling_ends_the_sessions_in_the_database_and_the_cache(hall, staff):
    aid, token = staff
    token_id = hall.db.row("SELECT id FROM tokens WHERE account_id = ?", (aid,))[0]
    assert token_id in hall.cached_token_ids()
    view = update(hall, aid, AccountChange(disabled=True))
    assert view["disabled"] is True
    row = hall.db.row("SELECT revoked_at FROM tokens WHERE account_id = ?", (aid,))
    assert row["revoked_at"] is not None
    assert token_id not in hall.cached_token_ids()  # gone from the cache, not just the table
    with pytest.raises(Unauthorized):
        hall.authenticate(token)


def test_a_role_change_ends_the_sessions(hall, staff):
    aid, token = staff
    row, revoked = hall.run_sync(
        lambda tx: accounts.apply_account_change(tx, aid, AccountChange(role="admin"), "admin:a")
    )
    assert row["role"] == "admin" and len(revoked) == 1
    hall.forget_token_ids(revoked)
    with pytest.raises(Unauthorized):
        hall.authenticate(token)


def test_a_password_reset_unlocks_and_never_reaches_the_audit_log(hall, staff):
    aid, token = staff
    hall.run_sync(
        lambda tx: tx.execute(
            "UPDATE accounts SET failed_logins = 3, locked_until = 9e12 WHERE id = ?", (aid,)
        )
    )
    old_hash = hall.db.row("SELECT password_hash FROM accounts WHERE id = ?", (aid,))[0]
    view = update(hall, aid, AccountChange(password="NewPass678"))
    assert view["locked"] is False
    row = hall.db.row("SELECT * FROM accounts WHERE id = ?", (aid,))
    assert row["password_hash"] != old_hash and accounts.verify_password(
        row["password_hash"], "NewPass678"
    )
    assert row["failed_logins"] == 0 and row["locked_until"] is None
    rec = last_audit(hall)
    assert rec["detail"]["password_reset"] is True
    assert "NewPass678" not in repr(rec["detail"])
    assert "password_hash" not in rec["detail"]["before"] | rec["detail"]["after"]
    with pytest.raises(Unauthorized):
        hall.authenticate(token)


def test_bad_changes_are_refused_and_change_nothing(hall, staff):
    aid, token = staff
    before = dict(hall.db.row("SELECT * FROM accounts WHERE id = ?", (aid,)))
    with pytest.raises(NotFound):
        update(hall, aid + 100, AccountChange(name="x"))
    with pytest.raises(Invalid) as err:
        update(hall, aid, AccountChange(window=999))
    assert err.value.code == "unknown_window"
    with pytest.raises(Invalid) as err:
        update(hall, aid, AccountChange(password="12345678"))
    assert err.value.code == "weak_password"
    with pytest.raises(Invalid) as err:
        update(hall, aid, AccountChange(role="root", name="x"))
    assert err.value.code == "unknown_role"
    assert dict(hall.db.row("SELECT * FROM accounts WHERE id = ?", (aid,))) == before
    assert hall.db.row("SELECT COUNT(*) FROM audit_log WHERE action = 'account.update'")[0] == 0
    assert hall.authenticate(token).account_id == aid
