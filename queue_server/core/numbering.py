"""The ticket row and its number: reading a ticket, the day's counter per service (restarting
after a restore past every number a backup may have missed), formatting a number, the public
code. Shared by issuing (tickets.py) and the offline leases (leases.py), which both hand out
numbers from the same counter.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

import orjson

from queue_server.base.db import Tx
from queue_server.base.errors import NotFound

RESTORE_SKIP = 200  # numbers skipped after a restore: past every lease (≤ 100) and then some


@dataclass(frozen=True)
class IssueRequest:
    service: str
    channel: str = "kiosk"
    idempotency_key: str | None = None
    id_number: str | None = None
    name: str | None = None
    priority: str | None = None
    device: str = ""
    lease_id: str | None = None
    seq: int | None = None
    issued_at: str | None = None
    # Offline sync: the kiosk's signed copy of its lease (for a lease a restore lost) and
    # the ID card sealed to the server's key (queue_server.core.leases), instead of id_number.
    lease: dict[str, Any] | None = None
    id_card_sealed: str | None = None
    enforce_hours: bool = True
    # Appointment check-in by QR code: the booking already holds the keyed hash and masks.
    id_hash: str | None = None
    id_masked: str | None = None
    name_masked: str | None = None


def get_row(conn: sqlite3.Connection, ticket_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {ticket_id} 的号票", "ticket_not_found")
    return row


def get_row_by_code(conn: sqlite3.Connection, code: str) -> sqlite3.Row:
    """The ticket behind a public QR link's code (`/t/CODE`)."""
    row = conn.execute("SELECT * FROM tickets WHERE code = ?", (code,)).fetchone()
    if row is None:
        raise NotFound("没有这张号票，请核对二维码", "ticket_not_found")
    return row


def public_code() -> str:
    """A ticket's public code: 80 random bits, never derived from the sequential id."""
    return secrets.token_hex(10)


def format_number(prefix: str, seq: int, width: int) -> str:
    return f"{prefix}{seq:0{width}d}"


def counter(tx: Tx, service: str, first: int, day: str) -> sqlite3.Row:
    row = tx.one("SELECT * FROM counters WHERE business_day = ? AND service = ?", (day, service))
    if row is None:
        tx.execute(
            "INSERT INTO counters (business_day, service, next_seq, issued) VALUES (?, ?, ?, 0)",
            (day, service, first + restore_skip(tx, day)),
        )
        row = tx.one(
            "SELECT * FROM counters WHERE business_day = ? AND service = ?", (day, service)
        )
    assert row is not None
    return row


def quota_used(counter: sqlite3.Row) -> int:
    """Tickets issued today plus leased numbers not back yet: each number counts once."""
    return int(counter["issued"]) - int(counter["reserved_used"]) + int(counter["reserved"])


def restore_skip(tx: Tx, day: str) -> int:
    """Numbers `day`'s numbering skips at its start: `hall restore` sets them for the days
    from the backup's to the restore's (queue_server.admin.maintenance.start_after_restore)."""
    row = tx.one("SELECT value FROM meta WHERE key = 'restore_skip'")
    if row is None:
        return 0
    plan = orjson.loads(row["value"])
    return int(plan.get("skip") or 0) if plan.get("from", "") <= day <= plan.get("to", "") else 0
