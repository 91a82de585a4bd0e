"""Number leases: blocks a kiosk issues from by itself while the network is down.

The promises: a number is handed out once (also across `hall restore`), the number printed
on the paper is the number the hall calls, leases stay within per-kiosk, per-service and
daily-quota bounds, and a kiosk's clock cannot move a ticket ahead of the queue.

Every lease carries a proof (HMAC with a key derived from the hall secret, which every
backup holds): after a restore lost a lease, the kiosk's copy proves the block was given
out, the server re-enters it and numbers past it, and the tickets printed from it are
accepted under their printed numbers. A restore starts a new lease epoch; leases of an
older epoch are stale: kiosks stop issuing from them (`POST /kiosk/leases/check`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import sqlite3
import uuid
from typing import Any

from halldomain.sealing import SealError, public_key_text, unseal
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, Invalid
from queue_server.core import numbering
from queue_server.core.context import HallContext
from queue_server.core.numbering import IssueRequest

MAX_LEASE = 50  # numbers in one lease
KIOSK_OUTSTANDING = 50  # leased numbers one kiosk may hold unsynced, per service and day
SERVICE_OUTSTANDING = 100  # the same for all kiosks together: the rest stays for the counter
PROOF_FIELDS = ("lease_id", "service", "business_day", "first", "last", "epoch", "created_at")


def epoch(tx: Tx | sqlite3.Connection) -> int:
    row = tx.execute("SELECT value FROM meta WHERE key = 'lease_epoch'").fetchone()
    return int(row[0]) if row else 0


def proof(ctx: HallContext, lease: dict[str, Any]) -> str:
    key = hmac.new(ctx.id_key, b"lease-proof", hashlib.sha256).digest()
    msg = "|".join(str(lease.get(f, "")) for f in PROOF_FIELDS).encode("utf-8", "surrogatepass")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def seal_key(ctx: HallContext) -> str:
    return public_key_text(ctx.id_key)


def _outstanding(tx: Tx, day: str, service: str, current: int, device: str | None) -> int:
    """Leased numbers of this epoch not (yet) back as tickets, for one kiosk or all."""
    where = "business_day = ? AND service = ? AND epoch = ? AND recovered = 0 AND released = 0"
    params: list[Any] = [day, service, current]
    if device is not None:
        where += " AND device = ?"
        params.append(device)
    given = tx.one(
        f"SELECT COALESCE(SUM(last - first + 1 - returned), 0) AS n FROM leases WHERE {where}",
        params,
    )
    back = tx.one(
        f"SELECT COUNT(*) AS n FROM tickets WHERE lease_id IN (SELECT id FROM leases WHERE {where})",
        params,
    )
    assert given is not None and back is not None
    return int(given["n"]) - int(back["n"])


def grant(ctx: HallContext, tx: Tx, service: str, size: int, device: str) -> dict[str, Any]:
    """A lease of up to `size` numbers, cut down to what the bounds and the quota leave."""
    svc = ctx.service(service)
    if not 1 <= size <= 200:
        raise Invalid("号段大小应在 1 到 200 之间", "invalid_lease_size")
    now = ctx.clock.timestamp()
    day = ctx.clock.business_day(now)
    counter = numbering.counter(tx, svc.code, svc.number_range[0], day)
    first = int(counter["next_seq"])
    if first > svc.number_range[1]:
        raise Conflict(f"今日“{svc.name}”号码已用完", "numbers_exhausted")
    current = epoch(tx)
    room = [
        size,
        MAX_LEASE,
        KIOSK_OUTSTANDING - _outstanding(tx, day, svc.code, current, device),
        SERVICE_OUTSTANDING - _outstanding(tx, day, svc.code, current, None),
        svc.number_range[1] - first + 1,
    ]
    if svc.daily_quota:
        left = svc.daily_quota - numbering.quota_used(counter)
        if left <= 0:
            raise Conflict(f"今日“{svc.name}”号源已取完，请明日再来或在线预约", "quota_reached")
        room.append(left)
    n = min(room)
    if n <= 0:
        raise Conflict("离线号段已达上限，请先同步已取的号票", "lease_limit")
    last = first + n - 1
    tx.execute(
        "UPDATE counters SET next_seq = ?, reserved = reserved + ? WHERE business_day = ? AND service = ?",
        (last + 1, n, day, svc.code),
    )
    lease: dict[str, Any] = {
        "lease_id": uuid.uuid4().hex,
        "service": svc.code,
        "prefix": svc.prefix,
        "business_day": day,
        "first": first,
        "last": last,
        "width": svc.number_width,
        "created_at": ctx.clock.iso(now),
        "expires_at": ctx.clock.iso(_day_end(ctx)),
        "epoch": current,
    }
    tx.execute(
        "INSERT INTO leases (id, device, business_day, service, first, last, created_at,"
        " expires_at, epoch) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            lease["lease_id"], device, day, svc.code, first, last, lease["created_at"],
            lease["expires_at"], current,
        ),
    )  # fmt: skip
    tx.emit(
        "lease.granted", {k: v for k, v in lease.items() if k != "lease_id"} | {"device": device}
    )
    return lease | {"proof": proof(ctx, lease), "seal_key": seal_key(ctx)}


def _day_end(ctx: HallContext) -> float:
    local = ctx.clock.now()
    return local.replace(hour=23, minute=59, second=59, microsecond=0).timestamp()


def recover(
    ctx: HallContext, tx: Tx, copy: dict[str, Any] | None, device: str
) -> sqlite3.Row | None:
    """Re-enter a lease this database lost (a restore) from the kiosk's signed copy."""
    given = str((copy or {}).get("proof") or "").encode("utf-8", "surrogatepass")
    if not copy or not hmac.compare_digest(given, proof(ctx, copy).encode()):
        return None
    try:
        lease_id, service, day = (
            str(copy["lease_id"]),
            str(copy["service"]),
            str(copy["business_day"]),
        )
        first, last = int(copy["first"]), int(copy["last"])
        created, expires = str(copy["created_at"]), str(copy.get("expires_at") or "")
        svc = ctx.service(service)
    except (KeyError, ValueError, TypeError, Invalid):
        return None
    tx.execute(
        "INSERT OR IGNORE INTO leases (id, device, business_day, service, first, last, created_at,"
        " expires_at, epoch, recovered) VALUES (?,?,?,?,?,?,?,?,?,1)",
        (
            lease_id,
            device,
            day,
            service,
            first,
            last,
            created,
            expires,
            int(copy.get("epoch") or 0),
        ),
    )
    numbering.counter(tx, service, svc.number_range[0], day)  # the day's row exists
    tx.execute(
        "UPDATE counters SET next_seq = MAX(next_seq, ?), reserved = reserved + ?"
        " WHERE business_day = ? AND service = ?",
        (last + 1, last - first + 1, day, service),
    )
    tx.emit("lease.recovered", {"service": service, "business_day": day, "first": first,
                                "last": last, "device": device})  # fmt: skip
    return tx.one("SELECT * FROM leases WHERE id = ?", (lease_id,))


def _lease_row(ctx: HallContext, tx: Tx, req: IssueRequest, service: str) -> sqlite3.Row:
    lease = tx.one("SELECT * FROM leases WHERE id = ?", (req.lease_id,))
    if lease is None:
        lease = recover(ctx, tx, req.lease, req.device)
    if lease is None or lease["service"] != service:
        raise Invalid("号段不存在或与事项不符", "unknown_lease")
    if req.seq is None or not lease["first"] <= req.seq <= lease["last"]:
        raise Invalid("号码不在所租号段内", "seq_outside_lease")
    return lease


def leased_number(
    ctx: HallContext, tx: Tx, req: IssueRequest, service: str, now: float, today: str
) -> tuple[str, int, float, str]:
    """(day, seq, issue time, status) of a ticket a kiosk printed from a lease."""
    lease = _lease_row(ctx, tx, req, service)
    issued_ts = now
    if req.issued_at:
        try:
            issued_ts = ctx.clock.parse_iso(req.issued_at)
        except (ValueError, OverflowError, OSError):
            raise Invalid("issued_at 不是有效的时间", "invalid_time") from None
    # The kiosk's clock is not trusted: the ticket was issued during the lease's life and
    # not after the server's now.
    start = ctx.clock.parse_iso(lease["created_at"])
    end = min(now, ctx.clock.parse_iso(lease["expires_at"])) if lease["expires_at"] else now
    issued_ts = max(start, min(issued_ts, max(start, end)))
    status = "waiting" if lease["business_day"] == today else "expired"
    return lease["business_day"], req.seq or 0, issued_ts, status


def adopt_printed_number(
    ctx: HallContext, tx: Tx, existing: sqlite3.Row, req: IssueRequest
) -> dict[str, Any]:
    """The kiosk printed a leased number for a request the server had already committed under
    its own number, whose answer the kiosk never got: nobody holds the server's number, so the
    ticket takes the printed one. A call of the unheld number is undone (back to waiting)."""
    lease = _lease_row(ctx, tx, req, existing["original_service"])
    view = ctx.ticket_view(tx.conn, existing)
    if lease["business_day"] != existing["business_day"]:
        return view
    svc = ctx.service(lease["service"])
    seq = int(req.seq or 0)
    number = numbering.format_number(svc.prefix, seq, svc.number_width)
    try:
        tx.execute(
            "UPDATE tickets SET number = ?, seq = ?, lease_id = ?,"
            " window = CASE WHEN status IN ('called', 'no_show') THEN NULL ELSE window END,"
            " status = CASE WHEN status IN ('called', 'no_show') THEN 'waiting' ELSE status END"
            " WHERE id = ?",
            (number, seq, lease["id"], existing["id"]),
        )
    except sqlite3.IntegrityError:
        return view  # the kiosk sees the server's number differ and tells the citizen
    tx.execute(
        "UPDATE counters SET reserved_used = reserved_used + 1 WHERE business_day = ? AND service = ?",
        (lease["business_day"], lease["service"]),
    )
    ctx.invalidate_capacity()
    fresh = ctx.ticket_view(tx.conn, numbering.get_row(tx.conn, existing["id"]))
    tx.emit("ticket.renumbered", fresh | {"from_number": existing["number"]})
    return fresh


def open_sealed_card(ctx: HallContext, req: IssueRequest) -> IssueRequest:
    """The request with the ID card the kiosk sealed to this server's key."""
    try:
        id_number, name = unseal(ctx.id_key, req.id_card_sealed or "", req.idempotency_key or "")
    except SealError:
        raise Invalid("离线实名信息无法核验，请到服务台办理", "invalid_sealed_card") from None
    return dataclasses.replace(req, id_number=id_number, name=name, id_card_sealed=None)


def give_back(tx: Tx, retired: list[dict[str, Any]], device: str) -> int:
    """Numbers of leases this kiosk will issue no more from and never used go back to the
    quota (each lease once); returns how many."""
    total = 0
    for r in retired:
        lease = tx.one(
            "SELECT * FROM leases WHERE id = ? AND device = ? AND returned = 0",
            (str(r.get("lease_id") or ""), device),
        )
        if lease is None:
            continue
        synced = tx.one("SELECT MAX(seq) AS m FROM tickets WHERE lease_id = ?", (lease["id"],))
        used_to = max(int(r.get("used_to") or 0), int((synced and synced["m"]) or 0))
        n = lease["last"] - max(used_to, lease["first"] - 1)
        if n <= 0:
            continue
        tx.execute("UPDATE leases SET returned = ? WHERE id = ?", (n, lease["id"]))
        tx.execute(
            "UPDATE counters SET reserved = MAX(0, reserved - ?) WHERE business_day = ? AND service = ?",
            (n, lease["business_day"], lease["service"]),
        )
        total += n
    return total


def check(ctx: HallContext, tx: Tx, copies: list[dict[str, Any]], device: str) -> list[str]:
    """Which of a kiosk's leases are stale (a restore, another day); lost ones are re-entered.

    `copies` are all the leases the kiosk holds: today's others of this kiosk (an outbox
    replaced) no longer count against its bound (their numbers stay reserved: any of them
    may have been printed)."""
    current, today = epoch(tx), ctx.clock.business_day()
    held = [str(c.get("lease_id") or "") for c in copies]
    marks = ",".join("?" * len(held)) or "''"
    tx.execute(
        f"UPDATE leases SET released = 1 WHERE device = ? AND business_day = ? AND released = 0"
        f" AND id NOT IN ({marks})",
        (device, today, *held),
    )
    stale = []
    for copy in copies:
        lease_id = str(copy.get("lease_id") or "")
        row = tx.one("SELECT * FROM leases WHERE id = ?", (lease_id,))
        if row is None:
            recover(ctx, tx, copy, device)  # numbering moves past it even if nothing syncs
            stale.append(lease_id)
        elif row["epoch"] != current or row["business_day"] != today or row["recovered"]:
            stale.append(lease_id)
    return stale
