"""Writing to a hall database from another process (the CLI) while a server may be running.

SQLite serialises writers with `BEGIN IMMEDIATE`, the same lock the server's writer thread
takes, so an audit record appended here extends the hash chain exactly once, in order.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson

from queue_server import audit
from queue_server.clock import Clock
from queue_server.db import connect


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
    from queue_server.accounts import token_hash

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
