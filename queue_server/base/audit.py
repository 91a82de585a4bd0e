"""Append-only audit log with a hash chain (等保 application controls).

Each record's hash is SM3 (SHA-256 where SM3 is unavailable) over the previous record's hash
and this record's fields, so changing or deleting any record breaks every hash after it.
Triggers in the schema refuse UPDATE and DELETE on the table outright.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

import orjson

GENESIS = "0" * 64


def _digest(data: bytes) -> str:
    try:
        return hashlib.new("sm3", data).hexdigest()
    except ValueError:
        return hashlib.sha256(data).hexdigest()


def record_hash(
    prev: str, ts: str, actor: str, action: str, target: str, result: str, detail: str
) -> str:
    payload = orjson.dumps([prev, ts, actor, action, target, result, detail])
    return _digest(payload)


def append(
    conn: sqlite3.Connection,
    ts: str,
    actor: str,
    action: str,
    target: str = "",
    result: str = "ok",
    detail: dict[str, Any] | None = None,
) -> None:
    last = conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    prev = last[0] if last else GENESIS
    detail_text = orjson.dumps(detail or {}, option=orjson.OPT_SORT_KEYS).decode()
    h = record_hash(prev, ts, actor, action, target, result, detail_text)
    conn.execute(
        "INSERT INTO audit_log (ts, actor, action, target, result, detail, prev_hash, hash)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (ts, actor, action, target, result, detail_text, prev, h),
    )


def verify(conn: sqlite3.Connection) -> tuple[bool, int | None, int]:
    """(intact, first broken record id or None, records checked)."""
    prev = GENESIS
    n = 0
    for row in conn.execute(
        "SELECT id, ts, actor, action, target, result, detail, prev_hash, hash FROM audit_log ORDER BY id"
    ):
        n += 1
        rid, ts, actor, action, target, result, detail, prev_hash, h = row
        if prev_hash != prev or record_hash(prev, ts, actor, action, target, result, detail) != h:
            return False, rid, n
        prev = h
    return True, None, n
