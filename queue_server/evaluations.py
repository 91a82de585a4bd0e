"""好差评 records (国办发〔2019〕51号, GB/T 39734-2020).

Five levels, nothing preselected; a 差评 (level 2 or 1) must carry at least one reason; one
rating per ticket per channel (一次一评). Each record carries what the provincial platform
needs: ticket number, service code, window, staff, channel, level, reasons, comment, time.
"""

from __future__ import annotations

from typing import Any

import orjson

from queue_server.context import HallContext
from queue_server.db import Tx
from queue_server.errors import Conflict, Forbidden, Invalid
from queue_server.tickets import get_row

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
CHANNELS = ("window", "kiosk", "qr")
MAX_COMMENT = 500


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
    reasons = [r.strip() for r in reasons if r and r.strip()]
    if level <= 2 and not reasons:
        raise Invalid("差评请至少选择一项原因", "reason_required")
    if len(comment) > MAX_COMMENT:
        raise Invalid(f"留言不能超过 {MAX_COMMENT} 字", "comment_too_long")
    ticket = get_row(tx.conn, ticket_id)
    if allowed_window is not None and ticket["window"] != allowed_window:
        raise Forbidden(f"号票 {ticket['number']} 不是在本窗口办理的", "other_window")
    if channel == "window" and ticket["window"] is None:
        raise Conflict(f"号票 {ticket['number']} 尚未在窗口办理，不能评价", "not_served")
    if tx.one(
        "SELECT 1 FROM evaluations WHERE ticket_id = ? AND channel = ?", (ticket_id, channel)
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
    view = evaluation_view(row)
    tx.emit("evaluation.created", view)
    return view


def evaluation_view(row: Any) -> dict[str, Any]:
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
        "reasons": orjson.loads(row["reasons"]),
        "comment": row["comment"],
        "created_at": row["created_at"],
    }
