"""好差评 records (国办发〔2019〕51号, GB/T 39734-2020).

Five levels, nothing preselected; a 差评 (level 2 or 1) must carry at least one reason. Who
rates: the window's evaluator (channel `window`, a ticket finished at its own window), a kiosk
(channel `kiosk`: the citizen rates the self-service terminal), the citizen's phone through the
ticket's public link (channel `qr`). The people rated (staff, administrators) never rate. Only a
`done` ticket is rated on `window` or `qr`, and those two share one rating (一次一评); one
`kiosk` rating per ticket. Each record carries what the provincial platform
needs: ticket number, the 办件编号 and 事项实施编码 from 办结, service code, department, window,
the staff account and 工号 recorded at the call, channel (a `kiosk` rating names the kiosk and
no window or staff), level, reasons, comment, time; a 回访 phone left on the QR page is kept
for the follow-up and shown masked only.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from halldomain import ratings
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, Forbidden, Invalid
from queue_server.core.context import HallContext
from queue_server.core.phones import check_phone, mask_phone
from queue_server.core.tickets import get_row
from queue_server.ratings import followup, upload

LEVELS = {n: zh for n, (zh, _en) in ratings.LEVELS.items()}
CHANNELS = ("window", "kiosk", "qr")
SERVICE_CHANNELS = ("window", "qr")  # both rate the service at the window: one rating between them
DEVICE_CHANNELS = {"evaluator": "window", "kiosk": "kiosk"}  # `qr` has no device: the public link
MAX_COMMENT = 500
MAX_REASON = 40  # characters of one reason code


def authorise(role: str, window: int | None, channel: str) -> int | None:
    """The window a device may rate for on `channel` (None: any ticket), or 403."""
    if DEVICE_CHANNELS.get(role) != channel:
        raise Forbidden(f"此设备不能以“{channel}”渠道提交评价", "channel_not_allowed")
    if role == "evaluator":
        if window is None:
            raise Forbidden("评价器未绑定窗口，不能提交评价", "window_required")
        return window
    return None


def check_code(tx: Tx, ticket_id: int, code: str) -> None:
    """The QR channel's credential: the code of the ticket's public link must be this ticket's
    (403 otherwise, the same for an unknown ticket, so a guess learns nothing)."""
    row = tx.one("SELECT code FROM tickets WHERE id = ?", (ticket_id,))
    if row is None or not row["code"] or not secrets.compare_digest(row["code"], code):
        raise Forbidden("二维码与号票不符，请重新扫描号票上的二维码", "bad_ticket_code")


def create(
    ctx: HallContext,
    tx: Tx,
    ticket_id: int,
    level: int,
    reasons: list[str],
    comment: str,
    channel: str,
    allowed_window: int | None,
    device: str = "",
    contact_phone: str | None = None,
) -> dict[str, Any]:
    """File one rating. `device`: the kiosk a `kiosk` rating rates; `contact_phone`: a number the
    citizen left for a 回访 (QR page), stored for the follow-up and shown masked."""
    if level not in LEVELS:
        raise Invalid("评价等级应为 1 到 5", "invalid_level")
    if channel not in CHANNELS:
        raise Invalid(f"未知的评价渠道：{channel}", "unknown_channel")
    reasons = list(dict.fromkeys(r.strip() for r in reasons if r and r.strip()))
    if any(len(r) > MAX_REASON for r in reasons):
        raise Invalid(f"每项原因不能超过 {MAX_REASON} 字", "reason_too_long")
    if ratings.needs_reason(level) and not reasons:
        raise Invalid("差评请至少选择一项原因", "reason_required")
    hall_reasons = ctx.config.ratings.domain()
    unknown = ratings.unknown_reasons(reasons, hall_reasons)
    if unknown:
        raise Invalid(f"未知的评价原因：{'、'.join(unknown)}", "unknown_reason")
    if len(comment) > MAX_COMMENT:
        raise Invalid(f"留言不能超过 {MAX_COMMENT} 字", "comment_too_long")
    phone = check_phone(contact_phone)
    ticket = get_row(tx.conn, ticket_id)
    if allowed_window is not None and ticket["window"] != allowed_window:
        raise Forbidden(f"号票 {ticket['number']} 不是在本窗口办理的", "other_window")
    if channel in SERVICE_CHANNELS and ticket["status"] != "done":
        raise Conflict(f"号票 {ticket['number']} 尚未办结，办结后才能评价", "not_done")
    same = SERVICE_CHANNELS if channel in SERVICE_CHANNELS else (channel,)
    marks = ",".join("?" * len(same))
    earlier = tx.one(
        f"SELECT channel FROM evaluations WHERE ticket_id = ? AND channel IN ({marks})",
        (ticket_id, *same),
    )
    if earlier is not None:
        raise Conflict(already_rated_message(ticket["number"], earlier["channel"]), "already_rated")
    record = _record(ctx, tx, ticket, channel, device)
    cur = tx.execute(
        "INSERT INTO evaluations (ticket_id, ticket_number, business_day, service, window, staff,"
        " channel, level, reasons, comment, created_at, staff_account, staff_no, department,"
        " cases, device, contact_phone, contact_phone_masked)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            ticket_id, ticket["number"], ticket["business_day"], ticket["service"],
            record["window"], record["staff"], channel, level,
            orjson.dumps(reasons).decode(), comment, tx.now_iso,
            record["staff_account"], record["staff_no"], record["department"],
            orjson.dumps(record["cases"]).decode(), record["device"],
            phone, mask_phone(phone) if phone else None,
        ),
    )  # fmt: skip
    row = tx.one("SELECT * FROM evaluations WHERE id = ?", (cur.lastrowid,))
    assert row is not None
    view = evaluation_view(row, hall_reasons, ctx)
    tx.emit("evaluation.created", view)
    followup.open_case(
        ctx, tx, view, phone
    )  # every 差评 opens a follow-up case, with the 回访 phone
    upload.enqueue(ctx, tx, view)  # store and forward to the provincial platform
    return view


CHANNEL_NAMES = {"window": "窗口评价器", "qr": "扫码", "kiosk": "自助终端"}


def already_rated_message(number: str, channel: str) -> str:
    """The Chinese refusal of a second rating, naming how the first one came in."""
    how = CHANNEL_NAMES.get(channel, channel)
    if channel == "kiosk":
        return f"号票 {number} 已对自助终端评价过，每张号票只能评价一次"
    return f"号票 {number} 已通过{how}评价过，一次办理只能评价一次（一次一评）"


def _record(
    ctx: HallContext, tx: Tx, ticket: sqlite3.Row, channel: str, device: str
) -> dict[str, Any]:
    """Who and what a rating is about. `window`/`qr` rate the service at the window: the window,
    the staff account and 工号 recorded at the call, the department, the 办件 given at 办结.
    `kiosk` rates the terminal: the record names the kiosk, not a window or a staff member."""
    if channel == "kiosk":
        return {
            "window": None, "staff": None, "staff_account": None, "staff_no": None,
            "department": None, "cases": [], "device": device or ticket["device"] or None,
        }  # fmt: skip
    svc = ctx.config.service(ticket["service"])
    win = next((w for w in ctx.config.windows if w.no == ticket["window"]), None)
    department = (svc.department if svc else "") or (win.department if win else "")
    cases = [
        {"case_no": r["case_no"], "item_code": r["item_code"]}
        for r in tx.execute(
            "SELECT case_no, item_code FROM ticket_cases WHERE ticket_id = ? ORDER BY rowid",
            (ticket["id"],),
        ).fetchall()
    ]
    return {
        "window": ticket["window"],
        "staff": ticket["staff"],
        "staff_account": ticket["staff_account"],
        "staff_no": ticket["staff_no"],
        "department": department or None,
        "cases": cases,
        "device": None,
    }


def reason_labels(codes: Sequence[str], reasons: Sequence[ratings.Reason]) -> list[str]:
    """Chinese labels of stored codes (a code the list no longer has is shown as is)."""
    label = {r.code: r.label for r in reasons}
    return [label.get(c, c) for c in codes]


def item_codes(cases: Sequence[dict[str, Any]], service_codes: Sequence[str]) -> list[str]:
    """The 事项实施编码 of a record: those given at 办结, else the service's only one."""
    given = list(dict.fromkeys(c["item_code"] for c in cases if c.get("item_code")))
    if given:
        return given
    return list(service_codes) if len(service_codes) == 1 else []


def evaluation_view(
    row: Any, reasons: Sequence[ratings.Reason] = (), ctx: HallContext | None = None
) -> dict[str, Any]:
    """An evaluation as the API shows it; `reasons` (the hall's list) gives `reason_labels`,
    `ctx` the service's item code when 办结 named none. A contact phone is shown masked only."""
    codes = orjson.loads(row["reasons"])
    keys = row.keys()
    cases = orjson.loads(row["cases"]) if "cases" in keys and row["cases"] else []
    svc = ctx.config.service(row["service"]) if ctx is not None else None
    return {
        "id": row["id"],
        "ticket_id": row["ticket_id"],
        "ticket_number": row["ticket_number"],
        "business_day": row["business_day"],
        "service": row["service"],
        "window": row["window"],
        "staff": row["staff"],
        "channel": row["channel"],
        "level": row["level"],
        "level_label": LEVELS[row["level"]],
        "reasons": codes,
        "reason_labels": reason_labels(codes, reasons or ratings.DEFAULT_REASONS),
        "comment": row["comment"],
        "created_at": row["created_at"],
        "staff_account": row["staff_account"] if "staff_account" in keys else None,
        "staff_no": row["staff_no"] if "staff_no" in keys else None,
        "department": row["department"] if "department" in keys else None,
        "cases": cases,
        "case_no": cases[-1]["case_no"] if cases else None,
        "item_codes": item_codes(cases, svc.item_codes if svc else ()),
        "device": row["device"] if "device" in keys else None,
        "contact_phone_masked": row["contact_phone_masked"]
        if "contact_phone_masked" in keys
        else None,
    }
