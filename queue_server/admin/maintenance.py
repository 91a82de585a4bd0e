"""Writing to a hall database from another process (the CLI) while a server may be running.

SQLite serialises writers with `BEGIN IMMEDIATE`, the same lock the server's writer thread
takes, so an audit record appended here extends the hash chain exactly once, in order.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson

from queue_server.base import audit
from queue_server.base.clock import Clock
from queue_server.base.db import connect


def hall_clock(conn: sqlite3.Connection) -> Clock:
    row = conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
    zone = "Asia/Shanghai"
    if row is not None:
        zone = orjson.loads(row[0]).get("hall", {}).get("timezone", zone)
    return Clock(zone)


def append_audit(
    db: str | Path, actor: str, action: str, target: str = "", result: str = "ok", **detail: Any
) -> None:
    conn = connect(db)
    try:
        clock = hall_clock(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            audit.append(conn, clock.iso(clock.timestamp()), actor, action, target, result, detail)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()


def revoke_tokens(
    db: str | Path,
    *,
    token_id: int | None = None,
    name: str | None = None,
    token: str | None = None,
) -> list[dict[str, Any]]:
    """Revoke by id, by device/person name, or by the token itself; audited; returns them."""
    from queue_server.admin.accounts import token_hash

    conn = connect(db)
    try:
        clock = hall_clock(conn)
        now = clock.iso(clock.timestamp())
        if token_id is not None:
            where, param = "id = ?", str(token_id)
        elif name is not None:
            where, param = "name = ?", name
        else:
            where, param = "token_hash = ?", token_hash(token or "")
        conn.execute("BEGIN IMMEDIATE")
        try:
            rows = conn.execute(
                f"SELECT id, role, name, kind FROM tokens WHERE {where} AND revoked_at IS NULL",
                (param,),
            ).fetchall()
            for r in rows:
                conn.execute("UPDATE tokens SET revoked_at = ? WHERE id = ?", (now, r[0]))
                audit.append(
                    conn, now, "cli", "token.revoke", r[2], detail={"token_id": r[0], "role": r[1]}
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return [{"id": r[0], "role": r[1], "name": r[2], "kind": r[3]} for r in rows]
    finally:
        conn.close()


def start_after_restore(db: str | Path, skip: int | None = None) -> dict[str, Any]:
    """After `hall restore`: numbers handed out after the backup (leases, online tickets) are
    unknown here, so each service's numbering skips `skip` numbers on every business day from
    the backup's to today, and a new lease epoch makes every older lease stale."""
    from queue_server.core.numbering import RESTORE_SKIP

    n = RESTORE_SKIP if skip is None else max(0, skip)
    conn = connect(db)
    try:
        today = hall_clock(conn).business_day()
        row = conn.execute("SELECT value FROM meta WHERE key = 'business_day'").fetchone()
        since = min(str(row[0]), today) if row and row[0] else today
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('lease_epoch', '1') ON CONFLICT (key)"
                " DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
            )
            plan = {"from": since, "to": today, "skip": n}
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('restore_skip', ?) ON CONFLICT (key)"
                " DO UPDATE SET value = excluded.value",
                (orjson.dumps(plan).decode(),),
            )
            conn.execute(
                "UPDATE counters SET next_seq = next_seq + ? WHERE business_day BETWEEN ? AND ?",
                (n, since, today),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    return plan
