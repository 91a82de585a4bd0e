"""Retention: personal data on tickets is purged after `security.retention_days`.

个人信息保护法 Art. 19 and GB/T 35273-2020 §6.1: keep personal information no longer than the
purpose needs. A ticket's keyed ID hash and masked ID number and name serve "one active
ticket per ID" and the staff console on the day; after the retention period they are set to
NULL. The ticket itself (number, service, times, window) stays for statistics. The audit log
and the event log are kept (at least 180 days, 网络安全法 Art. 21); events carry masked forms
only. The purge runs at server start and then daily, and is itself audited.
"""

from __future__ import annotations

from datetime import date, timedelta

from queue_server import audit
from queue_server.context import HallContext
from queue_server.db import Tx

LAST_PURGE_KEY = "retention_last_purge"


def cutoff_day(ctx: HallContext) -> str:
    """Tickets of business days before this one have their personal data purged."""
    today = date.fromisoformat(ctx.clock.business_day())
    return (today - timedelta(days=ctx.config.security.retention_days)).isoformat()


def purge(ctx: HallContext, tx: Tx, actor: str = "system") -> int:
    """Clear personal data on tickets older than the retention period; returns how many."""
    cutoff = cutoff_day(ctx)
    cur = tx.execute(
        "UPDATE tickets SET id_hash = NULL, id_masked = NULL, name_masked = NULL"
        " WHERE business_day < ?"
        " AND (id_hash IS NOT NULL OR id_masked IS NOT NULL OR name_masked IS NOT NULL)",
        (cutoff,),
    )
    n = cur.rowcount
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (LAST_PURGE_KEY, ctx.clock.business_day()),
    )
    audit.append(
        tx.conn,
        tx.now_iso,
        actor,
        "retention.purge",
        f"tickets before {cutoff}",
        detail={"tickets": n, "retention_days": ctx.config.security.retention_days},
    )
    return n


def purge_if_due(ctx: HallContext, tx: Tx) -> int | None:
    """Purge once per business day (at start and at the first housekeeping after midnight)."""
    row = tx.one("SELECT value FROM meta WHERE key = ?", (LAST_PURGE_KEY,))
    if row is not None and row["value"] == ctx.clock.business_day():
        return None
    return purge(ctx, tx)
