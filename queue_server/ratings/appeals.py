"""申诉复核: a staff member or department appeals a 差评 as mistaken or malicious; a reviewer
decides.

国办发〔2019〕51号 asks for a review of ratings that are mistaken (误评) or malicious (恶意评价).
Here: one appeal per case, with a kind and a reason; the reviewer must be neither the rated
staff member nor the appellant. An upheld appeal closes the case and marks the rating
`excluded_at` (left out of 好评率 from then on: event `evaluation.excluded`, replayed by
queue_server.admin.stats); the rating itself is never deleted and is still uploaded as given. A
rejected appeal returns the case to the state it had. Every step is audited.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from halldomain import cases as machine
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, Forbidden, Invalid
from queue_server.core.context import HallContext
from queue_server.ratings import followup

DECISIONS = {"upheld": "uphold", "rejected": "reject"}


@dataclass(frozen=True)
class Person:
    """Who acts: the audit name, the login account (None for a device token) and every name
    they are known by (display name, username, 工号), to recognise the rated staff member."""

    actor: str
    account_id: int | None
    names: frozenset[str]


def person(conn: sqlite3.Connection, actor: str, name: str, account_id: int | None) -> Person:
    names = {name}
    if account_id is not None:
        acc = conn.execute(
            "SELECT username, name, staff_no FROM accounts WHERE id = ?", (account_id,)
        ).fetchone()
        if acc is not None:
            names |= {acc["username"], acc["name"], acc["staff_no"]}
    return Person(actor, account_id, frozenset(n for n in names if n))


def rated_names(conn: sqlite3.Connection, evaluation_id: int) -> set[str]:
    """The names the rated staff member is known by in the rating record."""
    row = conn.execute("SELECT * FROM evaluations WHERE id = ?", (evaluation_id,)).fetchone()
    keys = row.keys() if row is not None else []
    return {str(row[k]) for k in ("staff", "staff_account", "staff_no") if k in keys and row[k]}


def file_appeal(
    ctx: HallContext, tx: Tx, case_id: int, kind: str, reason: str, who: Person
) -> dict[str, Any]:
    """Appeal the case's 差评 as `kind` (mistaken / malicious) with a reason."""
    if kind not in machine.APPEAL_KINDS:
        raise Invalid(
            "申诉类型应为 mistaken（误评）或 malicious（恶意评价）", "invalid_appeal_kind"
        )
    reason = followup._text(reason, "申诉理由")
    row = followup._case(tx.conn, case_id)
    if tx.one("SELECT 1 FROM case_appeals WHERE case_id = ?", (case_id,)):
        raise Conflict(f"工单 {case_id} 已申诉过，每件差评只能申诉一次", "already_appealed")
    status = followup.move(tx, row, "appeal")
    tx.execute(
        "INSERT INTO case_appeals (case_id, kind, reason, appellant, appellant_account_id,"
        " filed_at, prev_status) VALUES (?,?,?,?,?,?,?)",
        (case_id, kind, reason, who.actor, who.account_id, tx.now_iso, row["status"]),
    )
    tx.execute(
        "UPDATE followup_cases SET status = ?, prev_status = ? WHERE id = ?",
        (status, row["status"], case_id),
    )
    return followup._changed(ctx, tx, case_id, "appeal.file", who.actor, kind=kind)


def review(
    ctx: HallContext, tx: Tx, case_id: int, decision: str, note: str, who: Person
) -> dict[str, Any]:
    """Decide an appeal; 403 for the rated staff member and for the appellant."""
    if decision not in DECISIONS:
        raise Invalid(
            "复核结论应为 upheld（申诉成立）或 rejected（申诉不成立）", "invalid_decision"
        )
    note = followup._text(note, "复核意见")
    row = followup._case(tx.conn, case_id)
    appeal = tx.one("SELECT * FROM case_appeals WHERE case_id = ?", (case_id,))
    if appeal is None or row["status"] != "appealed":
        raise Conflict(f"工单 {case_id} 没有待复核的申诉", "no_pending_appeal")
    if who.names & rated_names(tx.conn, row["evaluation_id"]):
        raise Forbidden("被评价的工作人员不能复核对自己的差评", "reviewer_is_rated_staff")
    same_account = who.account_id is not None and who.account_id == appeal["appellant_account_id"]
    if same_account or who.actor == appeal["appellant"]:
        raise Forbidden("申诉人不能复核自己的申诉", "reviewer_is_appellant")
    status = followup.move(tx, row, DECISIONS[decision], appeal["prev_status"])
    tx.execute(
        "UPDATE case_appeals SET decision = ?, decision_note = ?, reviewer = ?,"
        " reviewer_account_id = ?, decided_at = ? WHERE case_id = ?",
        (decision, note, who.actor, who.account_id, tx.now_iso, case_id),
    )
    if decision == "upheld":
        kind = machine.APPEAL_KINDS[appeal["kind"]]
        tx.execute(
            "UPDATE followup_cases SET status = ?, closed_at = ?, closed_by = ?, conclusion = ?"
            " WHERE id = ?",
            (status, tx.now_iso, who.actor, f"申诉成立（{kind}）：{note}", case_id),
        )
        ev = tx.one(
            "SELECT id, business_day FROM evaluations WHERE id = ?", (row["evaluation_id"],)
        )
        assert ev is not None
        tx.execute("UPDATE evaluations SET excluded_at = ? WHERE id = ?", (tx.now_iso, ev["id"]))
        tx.emit(
            "evaluation.excluded",
            {"id": ev["id"], "business_day": ev["business_day"], "case_id": case_id},
        )
    else:
        tx.execute("UPDATE followup_cases SET status = ? WHERE id = ?", (status, case_id))
    return followup._changed(ctx, tx, case_id, "appeal.review", who.actor, decision=decision)
