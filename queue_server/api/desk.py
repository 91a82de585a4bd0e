"""What the window pages need beyond the core API: who is on duty, today's counts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import Response

from queue_server.api.common import Who, hall_of, json, require
from queue_server.core import windows as window_ops

if TYPE_CHECKING:
    from queue_server.runtime.hall import Hall

router = APIRouter()


@router.get("/windows/{no}/staff")
async def on_duty(no: int, request: Request, who: Who) -> Response:
    """The staff member on duty at a window (for the evaluator): the latest live login there,
    else the name the window last recorded. Only name, 工号 and an initial: no photo is stored."""
    hall = hall_of(request)
    window_ops.window_config(hall.ctx, no)
    return json(staff_on_duty(hall, no))


def staff_on_duty(hall: Hall, no: int) -> dict[str, object] | None:
    """Name, 工号 and initial of whoever is on duty at window `no` (None: nobody known)."""
    idle_s = hall.config.security.session_idle_minutes * 60
    # In-memory last-use times are fresher than the table (persisted every 30 s).
    live = hall.session_last_use()
    rows = hall.db.rows(
        "SELECT t.id, t.name, t.last_used_ts, a.staff_no FROM tokens t"
        " LEFT JOIN accounts a ON a.id = t.account_id"
        " WHERE t.role = 'staff' AND t.kind = 'session' AND t.window = ? AND t.revoked_at IS NULL"
        " ORDER BY t.id DESC LIMIT 20",
        (no,),
    )
    now = time.time()
    for r in rows:
        used = live.get(r["id"], r["last_used_ts"] or 0.0)
        if now - used <= idle_s:
            return _staff(r["name"], r["staff_no"] or "", True)
    row = window_ops.window_row(hall.db.reader, no)
    if row["staff"]:
        acct = hall.db.row("SELECT staff_no FROM accounts WHERE name = ? LIMIT 1", (row["staff"],))
        return _staff(row["staff"], acct["staff_no"] if acct else "", False)
    return None


def _staff(name: str, staff_no: str, logged_in: bool) -> dict[str, object]:
    return {"name": name, "staff_no": staff_no, "initial": name[:1], "logged_in": logged_in}


@router.get("/windows/{no}/today")
async def today(no: int, request: Request, who: Who) -> Response:
    """Today's counts at a window: called, finished, no-shows, ratings. A staff member sees
    their own work at that window; an administrator sees the whole window."""
    require(who, "staff", "admin", window=no)
    hall = hall_of(request)
    window_ops.window_config(hall.ctx, no)
    day = hall.clock.business_day()
    where = "business_day = ? AND window = ?"
    params: list[object] = [day, no]
    if who.role == "staff":
        where += " AND staff = ?"
        params.append(who.name)
    t = hall.db.row(
        "SELECT COUNT(*) AS called,"
        " SUM(status = 'done') AS done,"
        " SUM(status = 'no_show') AS no_show,"
        " AVG(CASE WHEN status = 'done' THEN (finished_ts - called_ts) / 60.0 END) AS avg_min"
        f" FROM tickets WHERE {where}",
        params,
    )
    e = hall.db.row(
        "SELECT COUNT(*) AS n, SUM(level >= 4) AS good, SUM(level <= 2) AS bad"
        f" FROM evaluations WHERE {where}",
        params,
    )
    assert t is not None and e is not None
    return json(
        {
            "business_day": day,
            "window": no,
            "staff": who.name if who.role == "staff" else None,
            "called": t["called"] or 0,
            "done": t["done"] or 0,
            "no_show": t["no_show"] or 0,
            "avg_service_min": round(t["avg_min"], 1) if t["avg_min"] is not None else None,
            "ratings": e["n"] or 0,
            "ratings_good": e["good"] or 0,
            "ratings_bad": e["bad"] or 0,
        }
    )


@router.get("/windows/{no}/queue")
async def window_queue(no: int, request: Request, who: Who, limit: int = 200) -> Response:
    """What window `no` sees, in one answer: its waiting tickets in the order it will call them
    (`position` 1 is what call-next calls now), `waiting_total`, and today's 过号 tickets
    skipped at this window with whether they can still be re-activated."""
    require(who, "staff", "admin", window=no)
    hall = hall_of(request)
    return json(window_ops.queue(hall.ctx, hall.db.reader, no, max(0, min(limit, 1000))))


@router.get("/tickets/{ticket_id}/transfer-targets")
async def transfer_targets(ticket_id: int, request: Request, who: Who) -> Response:
    """The services and windows a ticket can be transferred to (转移): see
    `windows.transfer_targets`."""
    require(who, "staff", "admin")
    hall = hall_of(request)
    return json(window_ops.transfer_targets(hall.ctx, hall.db.reader, ticket_id))
