"""好差评 records (国办发〔2019〕51号, GB/T 39734-2020).

Five levels, nothing preselected; a 差评 (level 2 or 1) must carry at least one reason. Who
rates: the window's evaluator (channel `window`, a ticket finished at its own window), a kiosk
(channel `kiosk`: the citizen rates the self-service terminal), the citizen's phone through the
ticket's public link (channel `qr`). The people rated (staff, administrators) never rate. Only a
`done` ticket is rated on `window` or `qr`, and those two share one rating (一次一评); one
`kiosk` rating per ticket. Each record carries what the provincial platform
needs: ticket number, service code, window, staff, channel, level, reasons, comment, time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from halldomain import ratings
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, Forbidden, Invalid
from queue_server.core.context import HallContext
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


def create(
    ctx: HallContext,
    tx: Tx,
    ticket_id: int,
    level: int,
    reasons: list[str],
    comment: str,
    channel: str,
    allowed_window: int | None,
) -> dict[str, Any]:
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
    ticket = get_row(tx.conn, ticket_id)
    if allowed_window is not None and ticket["window"] != allowed_window:
        raise Forbidden(f"号票 {ticket['number']} 不是在本窗口办理的", "other_window")
    if channel in SERVICE_CHANNELS and ticket["status"] != "done":
        raise Conflict(f"号票 {ticket['number']} 尚未办结，不能评价", "not_done")
    same = SERVICE_CHANNELS if channel in SERVICE_CHANNELS else (channel,)
    marks = ",".join("?" * len(same))
    if tx.one(
        f"SELECT 1 FROM evaluations WHERE ticket_id = ? AND channel IN ({marks})",
        (ticket_id, *same),
    ):
        raise Conflict(f"号票 {ticket['number']} 已评价过，一次办理只能评价一次", "already_rated")
    cur = tx.execute(
        "INSERT INTO evaluations (ticket_id, ticket_number, business_day, service, window, staff,"
        " channel, level, reasons, comment, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            ticket_id, ticket["number"], ticket["business_day"], ticket["service"],
            ticket["window"], ticket["staff"], channel, level,
            orjson.dumps(reasons).decode(), comment, tx.now_iso,
        ),
    )  # fmt: skip
    row = tx.one("SELECT * FROM evaluations WHERE id = ?", (cur.lastrowid,))
    assert row is not None
    view = evaluation_view(row, hall_reasons)
    tx.emit("evaluation.created", view)
    followup.open_case(ctx, tx, view)  # every 差评 opens a follow-up case
    upload.enqueue(ctx, tx, view)  # store and forward to the provincial platform
    return view


def reason_labels(codes: Sequence[str], reasons: Sequence[ratings.Reason]) -> list[str]:
    """Chinese labels of stored codes (a code the list no longer has is shown as is)."""
    label = {r.code: r.label for r in reasons}
    return [label.get(c, c) for c in codes]


def evaluation_view(row: Any, reasons: Sequence[ratings.Reason] = ()) -> dict[str, Any]:
    """An evaluation as the API shows it; `reasons` (the hall's list) gives `reason_labels`."""
    codes = orjson.loads(row["reasons"])
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
    }
