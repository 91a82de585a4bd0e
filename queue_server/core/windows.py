"""Window operations: call next, call a given ticket (特呼), pause, resume, open, close."""

from __future__ import annotations

import sqlite3
from typing import Any

from queue_server.base.config import Window
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, NotFound
from queue_server.core.context import HallContext
from queue_server.core.routing import Candidate, Choice, call_order, choose
from queue_server.core.tickets import find_for_call, finish_row, get_row, reason_json

STATUS_LABELS = {"open": "办理中", "paused": "暂停服务", "closed": "已关闭"}


def window_config(ctx: HallContext, no: int) -> Window:
    for w in ctx.config.windows:
        if w.no == no:
            return w
    raise NotFound(f"没有 {no} 号窗口", "window_not_found")


def window_row(conn: sqlite3.Connection, no: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM windows WHERE no = ?", (no,)).fetchone()
    if row is None:
        raise NotFound(f"没有 {no} 号窗口", "window_not_found")
    return row


def window_view(ctx: HallContext, conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    w = window_config(ctx, row["no"])
    current = conn.execute(
        "SELECT id, number, service FROM tickets WHERE window = ? AND status = 'called'",
        (row["no"],),
    ).fetchone()
    return {
        "no": w.no,
        "name": w.name,
        "kind": w.kind,
        "services": list(w.services),
        "weights": dict(w.services),
        "status": row["status"],
        "status_since": row["status_since"],
        "staff": row["staff"],
        "current": dict(current) if current else None,
        "department": w.department,
        "floor": w.floor,
        "zone": w.zone,
        "guide": w.guide,
    }


def _finish_current(ctx: HallContext, tx: Tx, no: int, by: str) -> None:
    """A ticket still called at the window when it calls another is finished implicitly: its
    ticket.finished event says `"implicit": true, "finished_by": by`, and the evaluator does
    not ask for a rating (the person in front of it is already the next citizen)."""
    for row in tx.execute(
        "SELECT * FROM tickets WHERE window = ? AND status = 'called'", (no,)
    ).fetchall():
        finish_row(ctx, tx, row, finished_by=by)


def _candidates(ctx: HallContext, tx: Tx, w: Window) -> list[Candidate]:
    """The longest-waiting untargeted ticket of each (service, class) queue the window serves.

    Index seeks only (tickets_queue: status, service, priority, issued_ts): the classes
    present in a service are found by skipping through the index, then each queue's head is
    the first index entry. A single GROUP BY … MIN(issued_ts) reads every waiting ticket, and
    with thousands waiting that made each call-next cost tens of milliseconds in the writer.
    """
    out: list[Candidate] = []
    for code, weight in w.services.items():
        priority = ""
        while True:
            nxt = tx.one(
                "SELECT priority FROM tickets WHERE status = 'waiting' AND service = ?"
                " AND priority > ? ORDER BY priority LIMIT 1",
                (code, priority),
            )
            if nxt is None:
                break
            priority = nxt[0]
            r = tx.one(
                "SELECT id, number, service, priority, issued_ts FROM tickets"
                " WHERE status = 'waiting' AND service = ? AND priority = ?"
                " AND target_window IS NULL ORDER BY issued_ts, id LIMIT 1",
                (code, priority),
            )
            if r is not None:
                out.append(
                    Candidate(
                        r["id"], r["number"], r["service"], r["priority"], r["issued_ts"], weight
                    )
                )
    top = max(w.services.values())
    seen: set[str] = set()
    for r in tx.execute(
        "SELECT id, number, service, priority, issued_ts FROM tickets"
        " WHERE status = 'waiting' AND target_window = ? ORDER BY priority, issued_ts, id",
        (w.no,),
    ).fetchall():
        if r["priority"] not in seen:  # the head of each class of tickets sent to this window
            seen.add(r["priority"])
            out.append(
                Candidate(
                    r["id"], r["number"], r["service"], r["priority"], r["issued_ts"], top, True
                )
            )
    return out


def window_queues(ctx: HallContext, conn: sqlite3.Connection, w: Window) -> list[list[Candidate]]:
    """Every waiting ticket window `w` may call, as the queues call-next picks heads from:
    one per (service, class) of the services it serves, untargeted tickets only, by issue
    time; and one per class of the tickets transferred to this very window (at the window's
    top weight). Tickets transferred to another window are not this window's."""
    marks = ",".join("?" * len(w.services))
    rows = conn.execute(
        "SELECT id, number, service, priority, issued_ts, target_window FROM tickets"
        f" WHERE status = 'waiting' AND ((service IN ({marks}) AND target_window IS NULL)"
        " OR target_window = ?) ORDER BY issued_ts, id",
        (*w.services, w.no),
    ).fetchall()
    top = max(w.services.values())
    queues: dict[tuple[str, str], list[Candidate]] = {}
    for r in rows:
        targeted = r["target_window"] is not None
        key = ("→", r["priority"]) if targeted else (r["service"], r["priority"])
        weight = top if targeted else w.services[r["service"]]
        queues.setdefault(key, []).append(
            Candidate(
                r["id"], r["number"], r["service"], r["priority"], r["issued_ts"], weight, targeted
            )
        )
    return list(queues.values())


def queue(ctx: HallContext, conn: sqlite3.Connection, no: int, limit: int = 200) -> dict[str, Any]:
    """What window `no` sees: its waiting tickets in the order it will call them (the same
    `choose` as call-next, applied again and again), and today's 过号 tickets skipped at this
    window, newest first, with whether they can still be re-activated."""
    w = window_config(ctx, no)
    row = window_row(conn, no)
    routing = ctx.config.routing
    now = ctx.clock.timestamp()
    queues = window_queues(ctx, conn, w)
    total = sum(len(q) for q in queues)
    order = call_order(
        queues,
        routing.classes,
        now,
        routing.policy,
        routing.interleave_n,
        row["interleave_count"],
        max(0, limit),
    )
    ids = [c.candidate.ticket_id for c in order]
    by_id = (
        {
            r["id"]: r
            for r in conn.execute(
                f"SELECT * FROM tickets WHERE id IN ({','.join('?' * len(ids))})", ids
            ).fetchall()
        }
        if ids
        else {}
    )
    waiting = [
        _queue_entry(ctx, by_id[c.candidate.ticket_id], pos, c)
        for pos, c in enumerate(order, start=1)
    ]
    limit_s = routing.noshow_reactivate_minutes * 60
    skipped = conn.execute(
        "SELECT * FROM tickets WHERE status = 'no_show' AND window = ? AND business_day = ?"
        " ORDER BY skipped_ts DESC LIMIT 100",
        (no, ctx.clock.business_day()),
    ).fetchall()
    no_show = []
    for r in skipped:
        until = (r["skipped_ts"] or 0) + limit_s
        entry = _queue_entry(ctx, r, None, None)
        entry["skipped_at"] = ctx.clock.iso(r["skipped_ts"]) if r["skipped_ts"] else None
        entry["reactivate_until"] = ctx.clock.iso(until)
        entry["reactivatable"] = now <= until
        no_show.append(entry)
    return {
        "window": no,
        "status": row["status"],
        "waiting_total": total,
        "waiting": waiting,
        "no_show": no_show,
    }


def _queue_entry(
    ctx: HallContext, r: sqlite3.Row, position: int | None, choice: Choice | None
) -> dict[str, Any]:
    svc = ctx.config.service(r["service"])
    entry: dict[str, Any] = {
        "id": r["id"],
        "number": r["number"],
        "service": r["service"],
        "service_name": svc.name if svc else r["service"],
        "status": r["status"],
        "priority": r["priority"],
        "priority_label": ctx.class_label(r["priority"]),
        "issued_at": r["issued_at"],
        "target_window": r["target_window"],
        "transfers": r["transfers"],
    }
    if choice is not None:
        entry["position"] = position
        entry["score"] = choice.reason.get("score")
        entry["rule"] = choice.reason.get("rule")
    return entry


def _call(
    ctx: HallContext,
    tx: Tx,
    no: int,
    ticket_id: int,
    staff: str | None,
    reason: dict[str, Any],
    account_id: int | None = None,
) -> dict[str, Any]:
    """Call the ticket at window `no`. The staff member's account and 工号 (`account_id`: a
    login session's account) are recorded now, for the ticket's 好差评 record."""
    now = ctx.clock.timestamp()
    account = (
        tx.one("SELECT username, staff_no FROM accounts WHERE id = ?", (account_id,))
        if account_id is not None
        else None
    )
    tx.execute(
        "UPDATE tickets SET status = 'called', window = ?, target_window = NULL, called_at = ?,"
        " called_ts = ?, call_count = call_count + 1, staff = ?, call_reason = ?,"
        " staff_account = ?, staff_no = ? WHERE id = ?",
        (
            no, ctx.clock.iso(now), now, staff, reason_json(reason),
            account["username"] if account else None,
            (account["staff_no"] or None) if account else None,
            ticket_id,
        ),
    )  # fmt: skip
    ctx.invalidate_capacity()
    view = ctx.ticket_view(tx.conn, get_row(tx.conn, ticket_id))
    view["window_name"] = window_config(ctx, no).name
    tx.emit("ticket.called", view)
    return view


def _require_open(tx: Tx, no: int) -> None:
    status = window_row(tx.conn, no)["status"]
    if status == "paused":
        raise Conflict(f"{no} 号窗口已暂停，请先恢复", "window_paused")
    if status == "closed":
        raise Conflict(f"{no} 号窗口已关闭", "window_closed")


def call_next(
    ctx: HallContext, tx: Tx, no: int, staff: str | None, account_id: int | None = None
) -> dict[str, Any] | None:
    """Finish the window's current ticket, then call the best waiting one (None: nobody waits)."""
    w = window_config(ctx, no)
    _require_open(tx, no)
    _finish_current(ctx, tx, no, "call_next")
    routing = ctx.config.routing
    counter = window_row(tx.conn, no)["interleave_count"]
    choice = choose(
        _candidates(ctx, tx, w),
        routing.classes,
        ctx.clock.timestamp(),
        routing.policy,
        routing.interleave_n,
        counter,
    )
    if choice is None:
        return None
    new_count = counter + 1 if choice.priority_call else 0
    tx.execute("UPDATE windows SET interleave_count = ? WHERE no = ?", (new_count, no))
    return _call(ctx, tx, no, choice.candidate.ticket_id, staff, choice.reason, account_id)


def call_ticket(
    ctx: HallContext,
    tx: Tx,
    no: int,
    number: str | None,
    ticket_id: int | None,
    staff: str | None,
    account_id: int | None = None,
) -> dict[str, Any]:
    """特呼: call a given waiting (or recently skipped) ticket out of order."""
    window_config(ctx, no)
    _require_open(tx, no)
    row = find_for_call(ctx, tx, ticket_id, number)
    if row["status"] not in ("waiting", "no_show"):
        raise Conflict(f"号票 {row['number']} 当前状态不能呼叫", "not_waiting")
    if row["status"] == "no_show":
        limit = ctx.config.routing.noshow_reactivate_minutes * 60
        if ctx.clock.timestamp() - (row["skipped_ts"] or 0) > limit:
            raise Conflict(f"号票 {row['number']} 过号已超时", "reactivation_expired")
    _finish_current(ctx, tx, no, "call_ticket")
    waited = round(max(0.0, ctx.clock.timestamp() - row["issued_ts"]) / 60.0, 1)
    reason = {
        "rule": "specific",
        "class": row["priority"],
        "class_label": ctx.class_label(row["priority"]),
        "waited_min": waited,
        "text": f"{row['number']}：窗口工作人员特呼，已等 {waited} 分钟",
    }
    return _call(ctx, tx, no, row["id"], staff, reason, account_id)


def set_status(
    ctx: HallContext, tx: Tx, no: int, status: str, staff: str | None = None
) -> dict[str, Any]:
    window_config(ctx, no)
    row = window_row(tx.conn, no)
    event = {"open": "window.resumed", "paused": "window.paused", "closed": "window.closed"}[status]
    if row["status"] == "closed" and status == "open":
        event = "window.opened"
    if row["status"] != status:
        tx.execute(
            "UPDATE windows SET status = ?, status_since = ?, staff = COALESCE(?, staff) WHERE no = ?",
            (status, tx.now_iso, staff, no),
        )
        ctx.invalidate_capacity()
        view = window_view(ctx, tx.conn, window_row(tx.conn, no))
        tx.emit(event, view)
        return view
    return window_view(ctx, tx.conn, row)


def transfer_targets(ctx: HallContext, conn: sqlite3.Connection, ticket_id: int) -> dict[str, Any]:
    """Where a ticket can be transferred so that someone will call it: services other than its
    own that at least one open window serves (with those windows), and open windows other
    than the one it is at that serve its own service. Paused and closed windows do not count:
    a ticket sent there would wait for nobody."""
    row = get_row(conn, ticket_id)
    status = {r["no"]: r["status"] for r in conn.execute("SELECT no, status FROM windows")}
    open_windows = [w for w in ctx.config.windows if status.get(w.no) == "open"]
    services = []
    for s in ctx.config.services:
        if s.code == row["service"]:
            continue
        serving = [w.no for w in open_windows if s.code in w.services]
        if serving:
            services.append(
                {
                    "code": s.code,
                    "name": s.name,
                    "prefix": s.prefix,
                    "real_name": s.real_name,
                    "windows": serving,
                }
            )
    windows = [
        {"no": w.no, "name": w.name}
        for w in open_windows
        if w.no != row["window"] and row["service"] in w.services
    ]
    return {
        "ticket": ticket_id,
        "service": row["service"],
        "services": services,
        "windows": windows,
    }
