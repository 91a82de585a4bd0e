"""差评 follow-up cases: 核实/回访 (follow-up call) and 整改 (rectification) within working days.

国办发〔2019〕51号: every real-name 差评 gets a follow-up call and a rectification, with
deadlines in working days set locally: 回访 `[followup].followup_working_days` (default 1),
整改 `deadline_working_days` (Sichuan 15, Dezhou 5; default 5 here). A case opens in the same
transaction as the rating, so no 差评 can be stored without its case; every step goes through
the transition table of halldomain.cases (appeals: queue_server.ratings.appeals; the 12345 hand-off:
queue_server.ratings.hotline), so a case cannot be closed without a follow-up record.

The citizen's phone, where they gave one with the rating, is kept on the case for the 回访 and
shown masked (138****1234) everywhere; only the handler the case is assigned to (by account)
can reveal the full number, and each reveal is audited. It is purged with the ticket's personal
data (queue_server.admin.retention).

Working days: Monday to Friday, minus the configured holidays, plus the configured 调休
working dates (`[calendar]` in the hall TOML).
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

import orjson

from halldomain import cases as machine
from queue_server.base import audit
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, Invalid, NotFound
from queue_server.base.workdays import add_working_days
from queue_server.core.context import HallContext
from queue_server.core.phones import check_phone, mask_phone

BAD_LEVEL = 2  # levels 1 and 2 are 差评
STATUS_LABELS = machine.STATES
RESULTS = ("satisfied", "unsatisfied", "unreachable")
MAX_TEXT = 1000


def open_case(
    ctx: HallContext, tx: Tx, evaluation: dict[str, Any], phone: str | None = None
) -> int | None:
    """Open the follow-up case of a 差评 (called by evaluations.create in its transaction);
    `phone` is the number the citizen gave for the 回访 (passed here, never in the rating's
    view, which goes out on the event stream)."""
    if evaluation["level"] > BAD_LEVEL:
        return None
    phone = check_phone(phone)
    day = date.fromisoformat(evaluation["business_day"])
    cfg = ctx.config.followup
    due = add_working_days(day, cfg.deadline_working_days, ctx.config.calendar)
    call_due = add_working_days(day, cfg.followup_working_days, ctx.config.calendar)
    cur = tx.execute(
        "INSERT OR IGNORE INTO followup_cases (evaluation_id, status, opened_at, due_day,"
        " followup_due_day, contact_phone, contact_masked) VALUES (?, 'open', ?, ?, ?, ?, ?)",
        (
            evaluation["id"], tx.now_iso, due.isoformat(), call_due.isoformat(), phone,
            mask_phone(phone) if phone else None,
        ),
    )  # fmt: skip
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
                "followup_due_day": call_due.isoformat(),
            },
        )
    return case_id


def move(tx: Tx, row: sqlite3.Row, action: str, previous: str | None = None) -> str:
    """The case's next state under the transition table (409 when `action` is not allowed)."""
    try:
        return machine.next_state(row["status"], action, previous)
    except machine.TransitionRefused as err:
        code = "case_closed" if row["status"] == "closed" else "transition_not_allowed"
        raise Conflict(str(err), code) from None


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


def assign(
    ctx: HallContext,
    tx: Tx,
    case_id: int,
    assignee: str,
    actor: str,
    account: str | None = None,
) -> dict[str, Any]:
    """Assign the 回访 to a person; naming their `account` (username) also lets them, and only
    them, reveal the citizen's full phone number."""
    row = _case(tx.conn, case_id)
    status = move(tx, row, "assign")
    account_id = None
    if account:
        acc = tx.one("SELECT id, name, disabled FROM accounts WHERE username = ?", (account,))
        if acc is None or acc["disabled"]:
            raise Invalid(f"没有可用的账号 {account}", "unknown_account")
        account_id = int(acc["id"])
        assignee = assignee or str(acc["name"])
    assignee = _text(assignee, "回访人")
    tx.execute(
        "UPDATE followup_cases SET assignee = ?, assigned_at = ?, status = ?,"
        " assignee_account_id = ? WHERE id = ?",
        (assignee, tx.now_iso, status, account_id, case_id),
    )
    return _changed(
        ctx, tx, case_id, "followup.assign", actor, assignee=assignee, account=account or ""
    )


def record_followup(
    ctx: HallContext, tx: Tx, case_id: int, result: str, note: str, actor: str
) -> dict[str, Any]:
    """Record the 回访: when, by whom, what the citizen said."""
    row = _case(tx.conn, case_id)
    status = move(tx, row, "follow_up")
    if result not in RESULTS:
        raise Invalid("回访结果应为 satisfied / unsatisfied / unreachable", "invalid_result")
    note = _text(note, "回访记录")
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
    status = move(tx, row, "rectify")
    measures = _text(measures, "整改措施")
    tx.execute(
        "UPDATE followup_cases SET rectification = ?, rectified_at = ?, rectified_by = ?,"
        " status = ? WHERE id = ?",
        (measures, tx.now_iso, actor, status, case_id),
    )
    return _changed(ctx, tx, case_id, "followup.rectify", actor)


def close(ctx: HallContext, tx: Tx, case_id: int, conclusion: str, actor: str) -> dict[str, Any]:
    """Close a case; refused without a 回访 record (and without 整改 unless a reason is given)."""
    row = _case(tx.conn, case_id)
    if row["status"] != "closed" and not row["followup_at"]:
        raise Conflict("尚未回访，不能办结工单（请先记录回访）", "followup_required")
    move(tx, row, "close")
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
    " e.level, e.reasons, e.comment, e.created_at AS evaluated_at, e.excluded_at,"
    " t.id_masked, t.name_masked, acc.username AS assignee_account,"
    " a.kind AS appeal_kind, a.reason AS appeal_reason, a.appellant, a.filed_at AS appeal_at,"
    " a.decision AS appeal_decision, a.decision_note AS appeal_note, a.reviewer,"
    " a.decided_at AS appeal_decided_at, h.status AS hotline_status, h.attempts AS hotline_attempts,"
    " h.last_error AS hotline_error, h.sent_at AS hotline_sent_at, h.outcome_at AS hotline_outcome_at"
    " FROM followup_cases c JOIN evaluations e ON e.id = c.evaluation_id"
    " LEFT JOIN tickets t ON t.id = e.ticket_id"
    " LEFT JOIN accounts acc ON acc.id = c.assignee_account_id"
    " LEFT JOIN case_appeals a ON a.case_id = c.id"
    " LEFT JOIN hotline_outbox h ON h.case_id = c.id"
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
    """Cases, open ones first by deadline; `overdue`: only open ones past a deadline."""
    sql = _JOIN
    params: list[Any] = []
    if status == "active" or overdue:
        sql += " WHERE c.status != 'closed'"
    elif status:
        sql += " WHERE c.status = ?"
        params.append(status)
    sql += " ORDER BY c.status = 'closed', COALESCE(c.followup_due_day, c.due_day), c.due_day, c.id"
    views = [case_view(ctx, conn, r) for r in conn.execute(sql, params).fetchall()]
    return [v for v in views if v["overdue"]] if overdue else views


def deadlines(row: sqlite3.Row, today: str) -> tuple[bool, bool]:
    """(回访 overdue, 整改 overdue): for an open case, a step still owed past its day; for a
    closed one, a step done after its day. An upheld appeal owes neither."""
    if row["status"] == "closed" and row["appeal_decision"] == "upheld":
        return False, False
    call_due = row["followup_due_day"] or row["due_day"]
    if row["status"] != "closed":
        call_late = not row["followup_at"] and today > call_due
        return call_late, not row["rectified_at"] and today > row["due_day"]
    fix_done = row["rectified_at"] or row["closed_at"]
    return machine.late(row["followup_at"], call_due), machine.late(fix_done, row["due_day"])


def case_view(ctx: HallContext, conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    today = ctx.clock.business_day()
    closed = row["status"] == "closed"
    finished_day = (row["closed_at"] or "")[:10]
    call_late, fix_late = deadlines(row, today)
    overdue = (call_late or fix_late) if not closed else finished_day > row["due_day"]
    if closed and row["appeal_decision"] == "upheld":
        overdue = False
    svc = ctx.config.service(row["service"])
    return {
        "id": row["id"],
        "evaluation_id": row["evaluation_id"],
        "status": row["status"],
        "status_label": STATUS_LABELS.get(row["status"], row["status"]),
        "actions": machine.allowed_actions(row["status"]),
        "overdue": overdue,
        "followup_overdue": call_late,
        "rectify_overdue": fix_late,
        "opened_at": row["opened_at"],
        "followup_due_day": row["followup_due_day"] or row["due_day"],
        "due_day": row["due_day"],
        "contact": row["contact_masked"] or "",
        "assignee_account": row["assignee_account"] or "",
        "appeal": (
            {
                "kind": row["appeal_kind"],
                "kind_label": machine.APPEAL_KINDS.get(row["appeal_kind"], row["appeal_kind"]),
                "reason": row["appeal_reason"],
                "appellant": row["appellant"],
                "filed_at": row["appeal_at"],
                "decision": row["appeal_decision"],
                "note": row["appeal_note"],
                "reviewer": row["reviewer"],
                "decided_at": row["appeal_decided_at"],
            }
            if row["appeal_kind"]
            else None
        ),
        "excluded": bool(row["excluded_at"]),
        "hotline": (
            {
                "status": row["hotline_status"],
                "attempts": row["hotline_attempts"],
                "last_error": row["hotline_error"],
                "sent_at": row["hotline_sent_at"],
                "outcome_at": row["hotline_outcome_at"],
            }
            if row["hotline_status"]
            else None
        ),
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
