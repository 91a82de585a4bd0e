"""Ticket operations: issue, recall, skip, finish, transfer, re-activate, cancel.

Each function is one operation run by the single writer (queue_server.base.db): it either commits
whole, events included, or not at all.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from halldomain import itemcodes
from halldomain.idnumber import IdNumberError, mask_name, parse_id_number
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, Forbidden, Invalid, NotFound
from queue_server.core import antiscalping, leases
from queue_server.core.context import HallContext

# A ticket's row and the issue request are part of this module's interface (re-exported).
from queue_server.core.numbering import IssueRequest as IssueRequest
from queue_server.core.numbering import counter, format_number, public_code, quota_used
from queue_server.core.numbering import get_row as get_row
from queue_server.core.numbering import get_row_by_code as get_row_by_code

CHANNELS = ("kiosk", "counter", "appointment")


def find_for_call(
    ctx: HallContext, tx: Tx, ticket_id: int | None, number: str | None
) -> sqlite3.Row:
    """The ticket a 特呼 names: by id, or by today's number as staff type it ("a023")."""
    if ticket_id is not None:
        return get_row(tx.conn, ticket_id)
    row = tx.one(
        "SELECT * FROM tickets WHERE number = ? AND business_day = ?",
        ((number or "").upper(), ctx.clock.business_day()),
    )
    if row is None:
        raise NotFound(f"今日没有号票 {number}", "ticket_not_found")
    return row


def issue(ctx: HallContext, tx: Tx, req: IssueRequest) -> tuple[dict[str, Any], bool]:
    """Issue a ticket; returns (ticket, created). The same idempotency key returns the same one."""
    if req.idempotency_key:
        existing = tx.one("SELECT * FROM tickets WHERE idempotency_key = ?", (req.idempotency_key,))
        if existing is not None:
            if req.lease_id is not None and existing["lease_id"] is None:
                return leases.adopt_printed_number(ctx, tx, existing, req), False
            return ctx.ticket_view(tx.conn, existing), False
    svc = ctx.service(req.service)
    if req.id_card_sealed and not req.id_number:
        req = leases.open_sealed_card(ctx, req)
    if req.channel not in CHANNELS:
        raise Invalid(f"未知的取号渠道：{req.channel}", "unknown_channel")
    now = ctx.clock.timestamp()
    today = ctx.clock.business_day(now)
    if (
        req.lease_id is None
        and req.enforce_hours
        and ctx.config.hall.enforce_hours
        and not ctx.clock.within(svc.hours, now)
    ):
        raise Conflict(f"当前不在“{svc.name}”的取号时间（{'，'.join(svc.hours)}）", "outside_hours")

    id_hash = id_masked = name_masked = None
    age = None
    if req.id_number:
        try:
            idn = parse_id_number(req.id_number)
        except IdNumberError as err:
            raise Invalid(err.message, err.code) from None
        id_hash = ctx.id_hash(idn.value)
        id_masked = idn.masked
        name_masked = mask_name(req.name or "") or None
        age = idn.age_on(ctx.clock.now().date())
        antiscalping.check_id_daily_limit(ctx, tx, id_hash)
        dup = tx.one(
            "SELECT number FROM tickets WHERE id_hash = ? AND service = ? "
            "AND status IN ('waiting', 'called') AND business_day = ?",
            (id_hash, svc.code, today),
        )
        if dup is not None:
            raise Conflict(
                f"您已有“{svc.name}”的有效号票 {dup['number']}，请勿重复取号",
                "duplicate_active_ticket",
            )
    elif req.id_hash:
        id_hash, id_masked, name_masked = req.id_hash, req.id_masked, req.name_masked
        antiscalping.check_id_daily_limit(ctx, tx, id_hash)
    elif svc.real_name:
        raise Invalid(f"“{svc.name}”需要刷身份证实名取号", "id_card_required")

    priority = _priority(ctx, req, age)
    if req.lease_id is not None:
        day, seq, issued_ts, status = leases.leased_number(ctx, tx, req, svc.code, now, today)
    else:
        day, issued_ts, status = today, now, "waiting"
        seq = _next_number(tx, svc.code, svc.number_range, svc.daily_quota, day, svc.name)
    number = format_number(svc.prefix, seq, svc.number_width)
    try:
        row = tx.execute(
            "INSERT INTO tickets (business_day, number, seq, service, original_service, status,"
            " priority, channel, issued_at, issued_ts, id_hash, id_masked, name_masked,"
            " idempotency_key, device, lease_id, code)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING *",
            (
                day, number, seq, svc.code, svc.code, status, priority, req.channel,
                ctx.clock.iso(issued_ts), issued_ts, id_hash, id_masked, name_masked,
                req.idempotency_key, req.device, req.lease_id, public_code(),
            ),
        ).fetchall()[0]  # fmt: skip
    except sqlite3.IntegrityError:
        raise Conflict(f"号码 {number} 已被使用", "number_taken") from None
    if req.lease_id is not None:  # a fresh number counted itself in _next_number
        tx.execute(
            "UPDATE counters SET issued = issued + 1, reserved_used = reserved_used + 1"
            " WHERE business_day = ? AND service = ?",
            (day, svc.code),
        )
    view = ctx.ticket_view(tx.conn, row)
    tx.emit("ticket.issued", view)
    return view, True


def _priority(ctx: HallContext, req: IssueRequest, age: int | None) -> str:
    classes = ctx.config.routing.classes
    if req.priority:
        if req.priority not in classes:
            raise Invalid(f"未知的优先类别：{req.priority}", "unknown_priority")
        if req.priority != "ordinary":
            return req.priority
    if req.channel == "appointment" and "appointment" in classes:
        return "appointment"
    if age is not None and age >= ctx.config.routing.elderly_age and "elderly" in classes:
        return "elderly"
    return "ordinary"


def _next_number(
    tx: Tx, service: str, number_range: tuple[int, int], quota: int, day: str, name: str
) -> int:
    row = counter(tx, service, number_range[0], day)
    if quota and quota_used(row) >= quota:
        raise Conflict(f"今日“{name}”号源已取完，请明日再来或在线预约", "quota_reached")
    seq = int(row["next_seq"])
    if seq > number_range[1]:
        raise Conflict(f"今日“{name}”号码已用完", "numbers_exhausted")
    tx.execute(
        "UPDATE counters SET next_seq = ?, issued = issued + 1 WHERE business_day = ? AND service = ?",
        (seq + 1, day, service),
    )
    return seq


def lease_numbers(ctx: HallContext, tx: Tx, service: str, size: int, device: str) -> dict[str, Any]:
    """Reserve a block of numbers a kiosk may issue on its own while the network is down."""
    return leases.grant(ctx, tx, service, size, device)


# -- staff actions on a ticket ---------------------------------------------------------------


def _require_window(row: sqlite3.Row, allowed_window: int | None) -> None:
    if allowed_window is not None and row["window"] not in (None, allowed_window):
        raise Forbidden(f"号票 {row['number']} 不在本窗口办理", "other_window")


def _event_view(ctx: HallContext, tx: Tx, ticket_id: int, **extra: Any) -> dict[str, Any]:
    view = ctx.ticket_view(tx.conn, get_row(tx.conn, ticket_id))
    view.update(extra)
    return view


def recall(ctx: HallContext, tx: Tx, ticket_id: int, allowed_window: int | None) -> dict[str, Any]:
    row = get_row(tx.conn, ticket_id)
    _require_window(row, allowed_window)
    if row["status"] != "called":
        raise Conflict(f"号票 {row['number']} 当前不是已呼叫状态，不能重呼", "not_called")
    tx.execute("UPDATE tickets SET call_count = call_count + 1 WHERE id = ?", (ticket_id,))
    view = _event_view(ctx, tx, ticket_id)
    tx.emit("ticket.recalled", view)
    return view


def skip(ctx: HallContext, tx: Tx, ticket_id: int, allowed_window: int | None) -> dict[str, Any]:
    row = get_row(tx.conn, ticket_id)
    _require_window(row, allowed_window)
    if row["status"] != "called":
        raise Conflict(f"号票 {row['number']} 当前不是已呼叫状态，不能过号", "not_called")
    tx.execute(
        "UPDATE tickets SET status = 'no_show', skipped_ts = ? WHERE id = ?",
        (ctx.clock.timestamp(), ticket_id),
    )
    ctx.invalidate_capacity()
    view = _event_view(ctx, tx, ticket_id)
    tx.emit("ticket.skipped", view)
    return view


def finish_row(
    ctx: HallContext,
    tx: Tx,
    row: sqlite3.Row,
    finished_by: str = "finish",
    case: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """Mark a called ticket done. `finished_by` is "finish" for 办结; a window that calls the
    next ticket while one is still called finishes it implicitly ("call_next", "call_ticket").
    `case`: the business system's 办件编号 and 事项实施编码, carried in the event for 好差评."""
    now = ctx.clock.timestamp()
    tx.execute(
        "UPDATE tickets SET status = 'done', finished_at = ?, finished_ts = ? WHERE id = ?",
        (ctx.clock.iso(now), now, row["id"]),
    )
    if row["called_ts"]:
        ctx.record_service_time(row["service"], max(0.0, now - row["called_ts"]) / 60.0)
    ctx.invalidate_capacity()
    view = _event_view(
        ctx,
        tx,
        row["id"],
        staff=row["staff"],
        finished_by=finished_by,
        implicit=finished_by != "finish",
        **(case or {}),
    )
    tx.emit("ticket.finished", view)
    return view


def finish(
    ctx: HallContext,
    tx: Tx,
    ticket_id: int,
    allowed_window: int | None,
    case_no: str | None = None,
    item_code: str | None = None,
) -> dict[str, Any]:
    """办结. The 办件编号 (`case_no`, unique in the hall: the business system's, not the daily
    ticket number) and 事项实施编码 (`item_code`) are kept with the ticket (`ticket_cases`);
    a ticket may carry several cases over several finishes of its visits."""
    row = get_row(tx.conn, ticket_id)
    _require_window(row, allowed_window)
    if row["status"] != "called":
        raise Conflict(f"号票 {row['number']} 当前不是办理中，不能办结", "not_called")
    case: dict[str, str | None] | None = None
    if item_code:
        item_code = itemcodes.normalise(item_code)
        bad = itemcodes.problem(item_code)
        if bad:
            raise Invalid(bad, "invalid_item_code")
    if case_no or item_code:
        if not case_no:
            raise Invalid("填写事项实施编码时请同时填写办件编号", "case_no_required")
        try:
            tx.execute(
                "INSERT INTO ticket_cases (ticket_id, case_no, item_code, recorded_at)"
                " VALUES (?, ?, ?, ?)",
                (ticket_id, case_no, item_code, ctx.clock.iso(ctx.clock.timestamp())),
            )
        except sqlite3.IntegrityError:
            raise Conflict(f"办件编号 {case_no} 已用于其他办件", "case_no_taken") from None
        case = {"case_no": case_no, "item_code": item_code}
    return finish_row(ctx, tx, row, case=case)


def transfer(
    ctx: HallContext,
    tx: Tx,
    ticket_id: int,
    service: str | None,
    window: int | None,
    allowed_window: int | None,
) -> dict[str, Any]:
    """Send a ticket to another service and/or window, keeping its place in time."""
    row = get_row(tx.conn, ticket_id)
    _require_window(row, allowed_window)
    if row["status"] not in ("waiting", "called", "no_show"):
        raise Conflict(f"号票 {row['number']} 已结束，不能转移", "not_active")
    if service is None and window is None:
        raise Invalid("请指定转入的事项或窗口", "transfer_target_required")
    new_service = ctx.service(service).code if service else row["service"]
    if window is not None and not any(w.no == window for w in ctx.config.windows):
        raise Invalid(f"没有 {window} 号窗口", "unknown_window")
    tx.execute(
        "UPDATE tickets SET status = 'waiting', service = ?, target_window = ?, window = NULL,"
        " transfers = transfers + 1 WHERE id = ?",
        (new_service, window, ticket_id),
    )
    ctx.invalidate_capacity()
    view = _event_view(ctx, tx, ticket_id, from_service=row["service"], from_window=row["window"])
    tx.emit("ticket.transferred", view)
    return view


def reactivate(ctx: HallContext, tx: Tx, ticket_id: int) -> dict[str, Any]:
    """Put a skipped (过号) ticket back in its queue, at its original place in time."""
    row = get_row(tx.conn, ticket_id)
    if row["status"] != "no_show":
        raise Conflict(f"号票 {row['number']} 不是过号状态", "not_no_show")
    limit = ctx.config.routing.noshow_reactivate_minutes * 60
    if ctx.clock.timestamp() - (row["skipped_ts"] or 0) > limit:
        raise Conflict(
            f"过号已超过 {ctx.config.routing.noshow_reactivate_minutes} 分钟，请重新取号",
            "reactivation_expired",
        )
    tx.execute("UPDATE tickets SET status = 'waiting', window = NULL WHERE id = ?", (ticket_id,))
    view = _event_view(ctx, tx, ticket_id)
    tx.emit("ticket.reactivated", view)
    return view


def cancel(ctx: HallContext, tx: Tx, ticket_id: int) -> dict[str, Any]:
    row = get_row(tx.conn, ticket_id)
    if row["status"] != "waiting":
        raise Conflict(f"号票 {row['number']} 不在等候中，不能取消", "not_waiting")
    tx.execute("UPDATE tickets SET status = 'cancelled' WHERE id = ?", (ticket_id,))
    view = _event_view(ctx, tx, ticket_id)
    tx.emit("ticket.cancelled", view)
    return view


def lookup_by_id(
    ctx: HallContext, conn: sqlite3.Connection, id_number: str
) -> list[dict[str, Any]]:
    """Today's active tickets of the person with this ID number (matched by keyed hash)."""
    try:
        idn = parse_id_number(id_number)
    except IdNumberError as err:
        raise Invalid(err.message, err.code) from None
    rows = conn.execute(
        "SELECT * FROM tickets WHERE id_hash = ? AND business_day = ? AND status IN ('waiting', 'called')"
        " ORDER BY issued_ts",
        (ctx.id_hash(idn.value), ctx.clock.business_day()),
    ).fetchall()
    return [ctx.ticket_view(conn, r) for r in rows]


def reason_json(reason: dict[str, Any]) -> str:
    return orjson.dumps(reason).decode()
