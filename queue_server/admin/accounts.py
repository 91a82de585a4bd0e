"""Credentials: device and staff tokens (hashed at rest), staff passwords (Argon2id), lockout.

A token is 43 URL-safe characters from `secrets`; only its SHA-256 is stored, so a copy of the
database gives nobody a working token. Staff log in with a password and get a *session* token
that expires after the hall's idle timeout.

Login (`login`): the attempt is counted in the writer transaction *before* the password is
checked, so parallel guesses cannot all slip past the lockout: at most `max_failed_logins`
checks per lockout period, whatever the concurrency. Argon2 checks (64 MiB each) run at most
`MAX_CONCURRENT_HASHES` at once, and at most `MAX_WAITING_LOGINS` wait for a turn (more: 429);
an unknown user is checked against a dummy hash computed once, so it costs and answers the
same as a known one. Presented tokens that fail are counted per source (`TokenFailures`) for
the administrator (`GET /api/v1/tokens/failures`).

Account changes (`update_account`): a disabled account, a changed role or a reset password
ends the account's sessions in the same transaction, and the audit record holds what changed
(before and after), never a password or its hash.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import sqlite3
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from queue_server.base import audit
from queue_server.base.db import Tx
from queue_server.base.errors import Forbidden, Invalid, NotFound, TooMany, Unauthorized
from queue_server.base.handle import HallHandle

ROLES = ("admin", "staff", "kiosk", "display", "evaluator", "booking")  # booking: appointments only
_hasher = PasswordHasher()  # Argon2id, memory-hard (argon2-cffi defaults: 64 MiB, t=3)
MIN_PASSWORD = 8
MAX_CONCURRENT_HASHES = 2  # Argon2 checks at once: 2 × 64 MiB, whatever the flood
MAX_WAITING_LOGINS = 64  # logins queued for a check; more are told to retry (429)
MAX_FAILURE_SOURCES = 1000  # sources of failed tokens remembered (oldest forgotten)


@dataclass
class Principal:
    token_id: int
    role: str
    window: int | None
    name: str
    kind: str  # "device" | "session"
    account_id: int | None
    last_used_ts: float

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name}"

    @property
    def device_key(self) -> str:
        """Who a rate limit counts: the account behind a login session, else the token."""
        return f"account:{self.account_id}" if self.account_id else f"token:{self.token_id}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def check_role(role: str) -> None:
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}; one of {', '.join(ROLES)}", "unknown_role")


def create_token(
    tx: Tx,
    role: str,
    name: str,
    window: int | None = None,
    kind: str = "device",
    account_id: int | None = None,
    now_ts: float = 0.0,
) -> str:
    check_role(role)
    token = new_token()
    tx.execute(
        "INSERT INTO tokens (token_hash, kind, role, window, name, account_id, created_at,"
        " last_used_ts) VALUES (?,?,?,?,?,?,?,?)",
        (token_hash(token), kind, role, window, name, account_id, tx.now_iso, now_ts),
    )
    return token


def lookup_token(conn: sqlite3.Connection, token: str) -> Principal | None:
    row = conn.execute(
        "SELECT * FROM tokens WHERE token_hash = ? AND revoked_at IS NULL", (token_hash(token),)
    ).fetchone()
    if row is None:
        return None
    return Principal(
        row["id"], row["role"], row["window"], row["name"], row["kind"], row["account_id"],
        row["last_used_ts"] or 0.0,
    )  # fmt: skip


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD or password.isdigit() or password.isalpha():
        raise Invalid("密码至少 8 位，且须同时包含字母和数字", "weak_password")
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """What an unknown user's password is checked against (computed once, same cost)."""
    return _hasher.hash("timing-equaliser-0")


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[asyncio.Semaphore, list[int]]]
_gates = weakref.WeakKeyDictionary()


async def check_password(stored: str | None, password: str) -> bool:
    """Argon2 check off the event loop, at most MAX_CONCURRENT_HASHES at once; None: dummy."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = (asyncio.Semaphore(MAX_CONCURRENT_HASHES), [0])
    sem, waiting = gate
    if waiting[0] >= MAX_WAITING_LOGINS:
        raise TooMany("登录请求过多，请稍后再试", "login_busy")
    waiting[0] += 1
    try:
        async with sem:
            target = stored if stored is not None else dummy_hash()
            return await asyncio.to_thread(verify_password, target, password)
    finally:
        waiting[0] -= 1


def begin_login(
    tx: Tx, username: str, now: float, max_failed: int, lockout_s: float
) -> tuple[str, sqlite3.Row | None, int]:
    """Count a login attempt before its password is checked: ("unknown"|"locked"|"check", row,
    attempt number). An attempt past `max_failed` locks the account without a check."""
    row = tx.one("SELECT * FROM accounts WHERE username = ?", (username,))
    if row is None or row["disabled"]:
        return "unknown", None, 0
    if row["locked_until"] and row["locked_until"] > now:
        return "locked", row, 0
    n = int(row["failed_logins"] or 0) + 1
    if n > max_failed:
        tx.execute(
            "UPDATE accounts SET locked_until = ?, failed_logins = 0 WHERE id = ?",
            (now + lockout_s, row["id"]),
        )
        return "locked", row, n
    tx.execute("UPDATE accounts SET failed_logins = ? WHERE id = ?", (n, row["id"]))
    return "check", row, n


def login_failed(
    tx: Tx, account_id: int, n: int, now: float, max_failed: int, lockout_s: float
) -> bool:
    """A checked attempt failed; True when it was the last one allowed (the account locks)."""
    if n < max_failed:
        return False
    tx.execute(
        "UPDATE accounts SET locked_until = ?, failed_logins = 0 WHERE id = ?",
        (now + lockout_s, account_id),
    )
    return True


def _locked_message(locked_until: float, now: float) -> str:
    minutes = int((locked_until - now) // 60) + 1
    return f"密码错误次数过多，账号已锁定，请 {minutes} 分钟后再试"


async def login(
    hall: HallHandle, username: str, password: str, window: int | None
) -> dict[str, Any]:
    """Password login: a session token, or 401 / 403 `account_locked` / 422 / 429."""
    sec = hall.config.security
    now = time.time()
    lockout_s = sec.lockout_minutes * 60.0
    state, row, n = await hall.run(
        lambda tx: begin_login(tx, username, now, sec.max_failed_logins, lockout_s)
    )
    if state == "locked":
        assert row is not None
        until = row["locked_until"] if row["locked_until"] and row["locked_until"] > now else 0
        raise Forbidden(_locked_message(until or now + lockout_s, now), "account_locked")
    ok = await check_password(row["password_hash"] if row is not None else None, password)
    if row is None:
        await hall.run(lambda tx: hall.audit(tx, username[:64], "login", result="unknown_user"))
        raise Unauthorized("用户名或密码错误", "bad_credentials")
    account_id = int(row["id"])
    if not ok:

        def failed(tx: Tx) -> bool:
            hall.audit(tx, username, "login", result="bad_password", failures=n)
            return login_failed(tx, account_id, n, now, sec.max_failed_logins, lockout_s)

        if await hall.run(failed):
            raise Forbidden(
                f"密码错误次数过多，账号已锁定 {sec.lockout_minutes} 分钟", "account_locked"
            )
        left = sec.max_failed_logins - n
        raise Unauthorized(f"用户名或密码错误，还可尝试 {left} 次", "bad_credentials")
    window = window if window is not None else row["window"]
    if window is not None and not any(w.no == window for w in hall.config.windows):
        raise Invalid(f"没有 {window} 号窗口", "unknown_window")

    def succeeded(tx: Tx) -> str | None:
        locked = tx.one("SELECT locked_until FROM accounts WHERE id = ?", (account_id,))
        if locked is not None and locked[0] and locked[0] > now:
            return None  # locked by guesses in flight meanwhile: the lockout holds
        tx.execute(
            "UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = ?",
            (account_id,),
        )
        token = create_token(
            tx, row["role"], row["name"], window, kind="session", account_id=account_id, now_ts=now
        )
        hall.audit(tx, username, "login", str(window or ""))
        return token

    token = await hall.run(succeeded)
    if token is None:
        raise Forbidden(_locked_message(now + lockout_s, now), "account_locked")
    return {
        "token": token,
        "role": row["role"],
        "window": window,
        "name": row["name"],
        "staff_no": row["staff_no"],
        "idle_minutes": sec.session_idle_minutes,
    }


class TokenFailures:
    """Presented bearer tokens that were refused, counted per source (the client address)."""

    def __init__(self, limit: int = MAX_FAILURE_SOURCES) -> None:
        self.limit = limit
        self._by_source: OrderedDict[str, list[Any]] = (
            OrderedDict()
        )  # source -> [count, first, last]
        self._lock = threading.Lock()
        self.total = 0

    def record(self, source: str, at: str) -> None:
        with self._lock:
            self.total += 1
            entry = self._by_source.pop(source, None) or [0, at, at]
            entry[0] += 1
            entry[2] = at
            self._by_source[source] = entry
            while len(self._by_source) > self.limit:
                self._by_source.popitem(last=False)

    def view(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = [
                {"source": s, "count": c, "first_at": first, "last_at": last}
                for s, (c, first, last) in self._by_source.items()
            ]
        return sorted(rows, key=lambda r: (-r["count"], r["source"]))


def create_account(
    tx: Tx,
    username: str,
    password: str,
    role: str,
    name: str,
    window: int | None = None,
    staff_no: str = "",
) -> int:
    check_role(role)
    if tx.one("SELECT 1 FROM accounts WHERE username = ?", (username,)):
        raise Invalid(f"账号 {username} 已存在", "account_exists")
    cur = tx.execute(
        "INSERT INTO accounts (username, name, role, window, staff_no, password_hash, created_at)"
        " VALUES (?,?,?,?,?,?,?)",
        (username, name, role, window, staff_no, hash_password(password), tx.now_iso),
    )
    return int(cur.lastrowid or 0)


def account_view(row: sqlite3.Row | dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "username": row["username"],
        "name": row["name"],
        "role": row["role"],
        "window": row["window"],
        "staff_no": row["staff_no"],
    }


def admin_view(row: sqlite3.Row | dict[str, Any], now: float) -> dict[str, Any]:
    """An account as the administrator sees it: with whether it is disabled or locked now."""
    locked = bool(row["locked_until"] and row["locked_until"] > now)
    return account_view(row) | {"disabled": bool(row["disabled"]), "locked": locked}


@dataclass(frozen=True)
class AccountChange:
    """What an administrator changes on an account; None leaves a field as it is."""

    name: str | None = None
    role: str | None = None
    window: int | None = None  # 0 unbinds the window
    staff_no: str | None = None
    disabled: bool | None = None
    password: str | None = None


# Bookkeeping columns an account.update audit record leaves out.
_AUDIT_SKIP = ("failed_logins", "locked_until", "created_at")


def audit_fields(d: dict[str, Any]) -> dict[str, Any]:
    """An account's fields fit for the audit log: never its password or password hash."""
    return {k: v for k, v in d.items() if k not in ("password", "password_hash")}


def apply_account_change(
    tx: Tx, account_id: int, change: AccountChange, actor: str, password_hash: str | None = None
) -> tuple[sqlite3.Row, set[int]]:
    """Change one account, end its sessions where needed and audit it (one transaction).

    Returns the account's new row and the ids of the tokens revoked. `password_hash` is the
    new password already hashed (Argon2 is slow: hash it before the writer runs this)."""
    if change.role is not None:
        check_role(change.role)
    row = tx.one("SELECT * FROM accounts WHERE id = ?", (account_id,))
    if row is None:
        raise NotFound("没有这个账号", "account_not_found")
    before = audit_fields(dict(row))
    changes: dict[str, Any] = {}
    for key in ("name", "role", "staff_no"):
        value = getattr(change, key)
        if value is not None and value != row[key]:
            changes[key] = value
    if change.window is not None:
        changes["window"] = change.window or None
    if change.disabled is not None:
        changes["disabled"] = int(change.disabled)
    if password_hash:
        changes["password_hash"] = password_hash
        changes["failed_logins"] = 0
        changes["locked_until"] = None
    if changes:
        sets = ", ".join(f"{k} = ?" for k in changes)
        tx.execute(f"UPDATE accounts SET {sets} WHERE id = ?", (*changes.values(), account_id))
    revoked: set[int] = set()
    if change.disabled or change.role is not None or password_hash:
        # Sessions of a disabled account, a changed role or a reset password end now.
        revoked = {
            int(r[0])
            for r in tx.execute(
                "SELECT id FROM tokens WHERE account_id = ? AND revoked_at IS NULL", (account_id,)
            ).fetchall()
        }
        tx.execute(
            "UPDATE tokens SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
            (tx.now_iso, account_id),
        )
    after_row = tx.one("SELECT * FROM accounts WHERE id = ?", (account_id,))
    assert after_row is not None
    after = audit_fields(dict(after_row))
    changed = [k for k in after if k not in _AUDIT_SKIP and after[k] != before.get(k)]
    audit.append(
        tx.conn, tx.now_iso, actor, "account.update", row["username"], "ok",
        {
            "before": {k: before.get(k) for k in changed},
            "after": {k: after[k] for k in changed},
            "password_reset": bool(password_hash),
        },
    )  # fmt: skip
    return after_row, revoked


async def update_account(
    hall: HallHandle, account_id: int, change: AccountChange, actor: str
) -> dict[str, Any]:
    """Change an account (name, role, window, staff number, disabled, password) for `actor`.

    A window must exist; the password is checked for strength and hashed off the writer; the
    revoked sessions are dropped from the running hall's credential cache at once."""
    if change.window and not any(w.no == change.window for w in hall.config.windows):
        raise Invalid(f"没有 {change.window} 号窗口", "unknown_window")
    new_hash = None
    if change.password:
        new_hash = await asyncio.to_thread(hash_password, change.password)
    row, revoked = await hall.run(
        lambda tx: apply_account_change(tx, account_id, change, actor, new_hash)
    )
    hall.forget_token_ids(revoked)
    return admin_view(row, time.time())
