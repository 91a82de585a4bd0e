"""Retention: personal data on tickets is purged after `security.retention_days`.

个人信息保护法 Art. 19 and GB/T 35273-2020 §6.1: keep personal information no longer than the
purpose needs. A ticket's keyed ID hash and masked ID number and name serve "one active
ticket per ID" and the staff console on the day; after the retention period they are set to
NULL, and so is a phone number the citizen left with a rating for a 回访 (QR page). The ticket itself (number, service, times, window) stays for statistics. The audit log
is kept. The event log (masked forms only) is kept `EVENT_RETENTION_DAYS` (180 days, 网络安全法
Art. 21), device health events `DEVICE_EVENT_DAYS` (they only say how a device was; the device
list keeps the latest). The purge runs at server start and then daily, and is itself audited.
"""

from __future__ import annotations

from datetime import date, timedelta

from queue_server.base import audit
from queue_server.base.db import Tx
from queue_server.core.context import HallContext

LAST_PURGE_KEY = "retention_last_purge"
EVENT_RETENTION_DAYS = 180
DEVICE_EVENT_DAYS = 7


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
        "UPDATE followup_cases SET contact_phone = NULL, contact_masked = NULL"
        " WHERE contact_masked IS NOT NULL AND evaluation_id IN"
        " (SELECT id FROM evaluations WHERE business_day < ?)",
        (cutoff,),
    )  # the citizen's phone for a 差评's 回访 goes with the ticket's personal data
    # a phone number a citizen left with a rating (QR page, for a 回访) is the ticket's too
    phones = tx.execute(
        "UPDATE evaluations SET contact_phone = NULL, contact_phone_masked = NULL"
        " WHERE business_day < ? AND (contact_phone IS NOT NULL OR contact_phone_masked IS NOT NULL)",
        (cutoff,),
    ).rowcount
    events = purge_events(ctx, tx)
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
        detail={
            "tickets": n,
            "rating_phones": phones,
            "retention_days": ctx.config.security.retention_days,
            "events": events,
            "event_retention_days": EVENT_RETENTION_DAYS,
        },
    )
    return n


def purge_events(ctx: HallContext, tx: Tx) -> int:
    """Drop events past their retention; returns how many. Times are compared as instants
    (julianday), so a change of the hall's UTC offset cannot keep or drop the wrong ones."""
    now = ctx.clock.timestamp()
    cutoff = ctx.clock.iso(now - EVENT_RETENTION_DAYS * 86400)
    device_cutoff = ctx.clock.iso(now - DEVICE_EVENT_DAYS * 86400)
    cur = tx.execute(
        "DELETE FROM events WHERE julianday(ts) < julianday(?)"
        " OR (type LIKE 'device.%' AND julianday(ts) < julianday(?))",
        (cutoff, device_cutoff),
    )
    return cur.rowcount


def purge_if_due(ctx: HallContext, tx: Tx) -> int | None:
    """Purge once per business day (at start and at the first housekeeping after midnight)."""
    row = tx.one("SELECT value FROM meta WHERE key = ?", (LAST_PURGE_KEY,))
    if row is not None and row["value"] == ctx.clock.business_day():
        return None
    return purge(ctx, tx)
