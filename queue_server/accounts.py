"""Credentials: device and staff tokens (hashed at rest), staff passwords (Argon2id), lockout.

A token is 43 URL-safe characters from `secrets`; only its SHA-256 is stored, so a copy of the
database gives nobody a working token. Staff log in with a password and get a *session* token
that expires after the hall's idle timeout.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from queue_server.db import Tx
from queue_server.errors import Invalid

ROLES = ("admin", "staff", "kiosk", "display", "evaluator", "booking")  # booking: appointments only
_hasher = PasswordHasher()  # Argon2id, memory-hard (argon2-cffi defaults: 64 MiB, t=3)
MIN_PASSWORD = 8


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
