"""Voice broadcasts (语音广播): announcements an administrator sends through the displays' audio,
now, once at a set time, or daily at HH:MM (on working days unless told otherwise), e.g. the
closing notice "本厅将于17:00停止取号" or "请保管好随身物品".

Sending one is an event, `broadcast.announced`, with the text and the address of its audio
(GET /voice/broadcast?id=…, synthesised by queue_server.core.voice). The display queues it behind
the calls it still has to say and never cuts into one (docs/WEB.md). Scheduled ones are sent by
housekeeping (queue_server.runtime.upkeep) on the hall's clock; one missed by more than
`broadcast.late_minutes` (the server was down) is not said late, and a daily one is said at
most once a business day.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from typing import Any, Literal

from queue_server.base.config import CalendarSection
from queue_server.base.db import Tx
from queue_server.base.errors import Invalid, NotFound
from queue_server.base.workdays import is_working_day
from queue_server.core.context import HallContext

Schedule = Literal["now", "once", "daily"]
HM_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_text(text: str, max_chars: int) -> str:
    """The text as it is stored and said: whitespace collapsed; empty, too long or control
    characters refused (422)."""
    text = " ".join(text.split())
    if not text:
        raise Invalid("请填写广播内容", "empty_text")
    if len(text) > max_chars:
        raise Invalid(f"广播内容不能超过 {max_chars} 个字", "text_too_long")
    if _CONTROL.search(text):
        raise Invalid("广播内容含有控制字符", "bad_text")
    return text


def is_due(
    row: dict[str, Any] | sqlite3.Row, now: datetime, cal: CalendarSection, late_s: float
) -> bool:
    """Whether a scheduled broadcast should be said at `now` (local time in the hall's zone):
    its time has come, by at most `late_s` seconds, and it has not been said for it yet."""
    if not row["enabled"]:
        return False
    ts = now.timestamp()
    if row["schedule"] == "once":
        at = row["at_ts"]
        return at is not None and not row["sent_count"] and at <= ts < at + late_s
    if row["schedule"] != "daily" or not row["at_hm"]:
        return False
    today = now.date()
    if row["last_sent_day"] == today.isoformat():
        return False
    if not row["any_day"] and not is_working_day(today, cal):
        return False
    hh, mm = (int(x) for x in row["at_hm"].split(":"))
    at = now.replace(hour=hh, minute=mm, second=0, microsecond=0).timestamp()
    return at <= ts < at + late_s


def view(row: sqlite3.Row, ctx: HallContext) -> dict[str, Any]:
    return {
        "id": row["id"],
        "text": row["text"],
        "schedule": row["schedule"],
        "at": ctx.clock.iso(row["at_ts"]) if row["at_ts"] is not None else None,
        "time": row["at_hm"],
        "working_days_only": not row["any_day"],
        "repeats": row["repeats"],
        "enabled": bool(row["enabled"]),
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "last_sent_at": row["last_sent_at"],
        "sent_count": row["sent_count"],
    }


def audio_url(broadcast_id: int, repeats: int) -> str:
    return f"/api/v1/voice/broadcast?id={broadcast_id}&repeats={repeats}"


def create(
    ctx: HallContext,
    tx: Tx,
    actor: str,
    text: str,
    schedule: Schedule,
    at: str | None = None,
    time: str | None = None,
    working_days_only: bool = True,
    repeats: int = 2,
) -> sqlite3.Row:
    """Store a broadcast (and say it at once when `schedule` is "now")."""
    text = clean_text(text, ctx.config.broadcast.max_chars)
    at_ts: float | None = None
    at_hm: str | None = None
    if schedule == "once":
        try:
            at_ts = ctx.clock.parse_iso(at or "")
        except ValueError:
            raise Invalid("请填写播出时间（如 2026-12-01T17:00）", "bad_time") from None
        if at_ts < ctx.clock.timestamp() - 60:
            raise Invalid("播出时间已过", "time_past")
    elif schedule == "daily":
        if not time or not HM_RE.match(time):
            raise Invalid("每日播出时间应为 HH:MM（如 17:00）", "bad_time")
        at_hm = time
    cur = tx.execute(
        "INSERT INTO broadcasts (text, schedule, at_ts, at_hm, any_day, repeats, created_by,"
        " created_at) VALUES (?,?,?,?,?,?,?,?)",
        (text, schedule, at_ts, at_hm, int(not working_days_only), repeats, actor, tx.now_iso),
    )
    bid = int(cur.lastrowid or 0)
    if schedule == "now":
        send(ctx, tx, get(tx.conn, bid))
    return get(tx.conn, bid)


def get(conn: sqlite3.Connection, broadcast_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {broadcast_id} 的广播", "broadcast_not_found")
    return row  # type: ignore[no-any-return]


def list_all(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM broadcasts ORDER BY schedule = 'now', id DESC LIMIT 500"
    ).fetchall()


def send(ctx: HallContext, tx: Tx, row: sqlite3.Row) -> dict[str, Any]:
    """Say it now: the event the displays play, and when it was said."""
    now = ctx.clock.timestamp()
    tx.execute(
        "UPDATE broadcasts SET last_sent_at = ?, last_sent_day = ?, sent_count = sent_count + 1"
        " WHERE id = ?",
        (ctx.clock.iso(now), ctx.clock.now().date().isoformat(), row["id"]),
    )
    data = {
        "id": row["id"],
        "text": row["text"],
        "repeats": row["repeats"],
        "url": audio_url(row["id"], row["repeats"]),
        "at": ctx.clock.iso(now),
    }
    tx.emit("broadcast.announced", data)
    return data


def send_due(ctx: HallContext, tx: Tx) -> list[int]:
    """Send every scheduled broadcast whose time has come (housekeeping calls this)."""
    now = ctx.clock.now()
    late_s = ctx.config.broadcast.late_minutes * 60
    rows = tx.conn.execute(
        "SELECT * FROM broadcasts WHERE enabled = 1 AND schedule IN ('once', 'daily')"
    ).fetchall()
    sent = []
    for row in rows:
        if is_due(row, now, ctx.config.calendar, late_s):
            send(ctx, tx, row)
            sent.append(int(row["id"]))
    return sent


def set_enabled(tx: Tx, broadcast_id: int, enabled: bool) -> sqlite3.Row:
    get(tx.conn, broadcast_id)
    tx.execute("UPDATE broadcasts SET enabled = ? WHERE id = ?", (int(enabled), broadcast_id))
    return get(tx.conn, broadcast_id)


def delete(tx: Tx, broadcast_id: int) -> str:
    row = get(tx.conn, broadcast_id)
    tx.execute("DELETE FROM broadcasts WHERE id = ?", (broadcast_id,))
    return str(row["text"])
