"""差评 follow-up cases: 回访 (follow-up call) and 整改 (rectification) within working days.

国办发〔2019〕51号: every real-name 差评 gets a follow-up call and a rectification, with a
deadline in working days set locally (Sichuan 15, Dezhou 5; default 5 here). A case opens
in the same transaction as the rating, so no 差评 can be stored without its case; it cannot
be closed without a follow-up record.

Working days: Monday to Friday, minus the configured holidays, plus the configured 调休
working dates (`[calendar]` in the hall TOML).
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

import orjson

from queue_server.base import audit
from queue_server.base.config import CalendarSection
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, Invalid, NotFound
from queue_server.core.context import HallContext

BAD_LEVEL = 2  # levels 1 and 2 are 差评
STATUS_LABELS = {
    "open": "待分派",
    "assigned": "待回访",
    "followed_up": "已回访",
    "rectified": "已整改",
    "closed": "已办结",
}
RESULTS = ("satisfied", "unsatisfied", "unreachable")
MAX_TEXT = 1000


def is_working_day(d: date, cal: CalendarSection) -> bool:
    iso = d.isoformat()
    if iso in cal.workdays:
        return True
    if iso in cal.holidays:
        return False
    return d.weekday() < 5


def add_working_days(start: date, n: int, cal: CalendarSection) -> date:
    """The n-th working day after `start` (the day the 差评 was given does not count)."""
    d = start
    left = n
    while left > 0:
        d += timedelta(days=1)
        if is_working_day(d, cal):
            left -= 1
    return d


def open_case(ctx: HallContext, tx: Tx, evaluation: dict[str, Any]) -> int | None:
    """Open the follow-up case of a 差评 (called by evaluations.create in its transaction)."""
    if evaluation["level"] > BAD_LEVEL:
        return None
    day = date.fromisoformat(evaluation["business_day"])
    due = add_working_days(day, ctx.config.followup.deadline_working_days, ctx.config.calendar)
    cur = tx.execute(
        "INSERT OR IGNORE INTO followup_cases (evaluation_id, status, opened_at, due_day)"
        " VALUES (?, 'open', ?, ?)",
        (evaluation["id"], tx.now_iso, due.isoformat()),
    )
    case_id = int(cur.lastrowid or 0)
    if cur.rowcount:
        tx.emit(
            "followup.opened",
            {
                "case_id": case_id,
                "evaluation_id": evaluation["id"],
                "ticket_number": evaluation["ticket_number"],
                "window": evaluation["window"],
                "level": evaluation["level"],
                "due_day": due.isoformat(),
            },
        )
    return case_id


def _text(value: str, what: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Invalid(f"请填写{what}", "field_required")
    if len(value) > MAX_TEXT:
        raise Invalid(f"{what}不能超过 {MAX_TEXT} 字", "too_long")
    return value


def _case(conn: sqlite3.Connection, case_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM followup_cases WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {case_id} 的差评工单", "case_not_found")
    return row


def _closed_guard(row: sqlite3.Row) -> None:
    if row["status"] == "closed":
        raise Conflict(f"工单 {row['id']} 已办结", "case_closed")


def assign(ctx: HallContext, tx: Tx, case_id: int, assignee: str, actor: str) -> dict[str, Any]:
    row = _case(tx.conn, case_id)
    _closed_guard(row)
    assignee = _text(assignee, "回访人")
    status = "assigned" if row["status"] == "open" else row["status"]
    tx.execute(
        "UPDATE followup_cases SET assignee = ?, assigned_at = ?, status = ? WHERE id = ?",
        (assignee, tx.now_iso, status, case_id),
    )
    return _changed(ctx, tx, case_id, "followup.assign", actor, assignee=assignee)


def record_followup(
    ctx: HallContext, tx: Tx, case_id: int, result: str, note: str, actor: str
) -> dict[str, Any]:
    """Record the 回访: when, by whom, what the citizen said."""
    row = _case(tx.conn, case_id)
    _closed_guard(row)
    if result not in RESULTS:
        raise Invalid("回访结果应为 satisfied / unsatisfied / unreachable", "invalid_result")
    note = _text(note, "回访记录")
    status = "followed_up" if row["status"] in ("open", "assigned") else row["status"]
    tx.execute(
        "UPDATE followup_cases SET followup_at = ?, followup_by = ?, followup_note = ?,"
        " followup_result = ?, status = ? WHERE id = ?",
        (tx.now_iso, actor, note, result, status, case_id),
    )
    return _changed(ctx, tx, case_id, "followup.record", actor, result=result)


def record_rectification(
    ctx: HallContext, tx: Tx, case_id: int, measures: str, actor: str
) -> dict[str, Any]:
    """Record the 整改: what was changed so that it does not happen again."""
    row = _case(tx.conn, case_id)
    _closed_guard(row)
    measures = _text(measures, "整改措施")
    status = "rectified" if row["followup_at"] else row["status"]
    tx.execute(
        "UPDATE followup_cases SET rectification = ?, rectified_at = ?, rectified_by = ?,"
        " status = ? WHERE id = ?",
        (measures, tx.now_iso, actor, status, case_id),
    )
    return _changed(ctx, tx, case_id, "followup.rectify", actor)


def close(ctx: HallContext, tx: Tx, case_id: int, conclusion: str, actor: str) -> dict[str, Any]:
    """Close a case; refused without a 回访 record (and without 整改 unless a reason is given)."""
    row = _case(tx.conn, case_id)
    _closed_guard(row)
    if not row["followup_at"]:
        raise Conflict("尚未回访，不能办结工单（请先记录回访）", "followup_required")
    conclusion = _text(conclusion, "办结说明")
    tx.execute(
        "UPDATE followup_cases SET status = 'closed', closed_at = ?, closed_by = ?,"
        " conclusion = ? WHERE id = ?",
        (tx.now_iso, actor, conclusion, case_id),
    )
    return _changed(ctx, tx, case_id, "followup.close", actor)


def _changed(
    ctx: HallContext, tx: Tx, case_id: int, action: str, actor: str, **detail: Any
) -> dict[str, Any]:
    view = case_view(ctx, tx.conn, _joined(tx.conn, case_id))
    audit.append(tx.conn, tx.now_iso, actor, action, f"case {case_id}", "ok", detail)
    tx.emit("followup.updated", {"case_id": case_id, "status": view["status"]})
    return view


_JOIN = (
    "SELECT c.*, e.ticket_number, e.business_day, e.service, e.window, e.staff, e.channel,"
    " e.level, e.reasons, e.comment, e.created_at AS evaluated_at, t.id_masked, t.name_masked"
    " FROM followup_cases c JOIN evaluations e ON e.id = c.evaluation_id"
    " LEFT JOIN tickets t ON t.id = e.ticket_id"
)


def _joined(conn: sqlite3.Connection, case_id: int) -> sqlite3.Row:
    row = conn.execute(_JOIN + " WHERE c.id = ?", (case_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {case_id} 的差评工单", "case_not_found")
    return row


def get(ctx: HallContext, conn: sqlite3.Connection, case_id: int) -> dict[str, Any]:
    return case_view(ctx, conn, _joined(conn, case_id))


def list_cases(
    ctx: HallContext, conn: sqlite3.Connection, status: str | None = None, overdue: bool = False
) -> list[dict[str, Any]]:
    sql = _JOIN
    params: list[Any] = []
    if status == "active":
        sql += " WHERE c.status != 'closed'"
    elif status:
        sql += " WHERE c.status = ?"
        params.append(status)
    sql += " ORDER BY c.status = 'closed', c.due_day, c.id"
    views = [case_view(ctx, conn, r) for r in conn.execute(sql, params).fetchall()]
    return [v for v in views if v["overdue"]] if overdue else views


def case_view(ctx: HallContext, conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    today = ctx.clock.business_day()
    closed = row["status"] == "closed"
    finished_day = (row["closed_at"] or "")[:10]
    overdue = (today > row["due_day"]) if not closed else finished_day > row["due_day"]
    svc = ctx.config.service(row["service"])
    return {
        "id": row["id"],
        "evaluation_id": row["evaluation_id"],
        "status": row["status"],
        "status_label": STATUS_LABELS.get(row["status"], row["status"]),
        "overdue": overdue,
        "opened_at": row["opened_at"],
        "due_day": row["due_day"],
        "assignee": row["assignee"],
        "assigned_at": row["assigned_at"],
        "followup_at": row["followup_at"],
        "followup_by": row["followup_by"],
        "followup_note": row["followup_note"],
        "followup_result": row["followup_result"],
        "rectification": row["rectification"],
        "rectified_at": row["rectified_at"],
        "closed_at": row["closed_at"],
        "closed_by": row["closed_by"],
        "conclusion": row["conclusion"],
        "ticket_number": row["ticket_number"],
        "business_day": row["business_day"],
        "service": row["service"],
        "service_name": svc.name if svc else row["service"],
        "window": row["window"],
        "staff": row["staff"],
        "channel": row["channel"],
        "level": row["level"],
        "reasons": orjson.loads(row["reasons"]),
        "comment": row["comment"],
        "evaluated_at": row["evaluated_at"],
        "citizen": row["name_masked"] or row["id_masked"] or "",
        "real_name": bool(row["id_masked"]),
    }
