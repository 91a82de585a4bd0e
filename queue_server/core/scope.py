"""Which tickets a caller may act on: a window's staff, a kiosk cancelling a ticket.

A staff token bound to window W acts on the tickets *at* W (called, served or skipped there:
recall, skip, finish, re-activate, transfer) and, to transfer or call out of order (特呼), on
the waiting tickets of the services W serves or sent to W. Anything else is 403 `other_window`:
one window cannot finish, skip or move another window's citizens by walking ticket ids. An
administrator, and a staff login without a window, act on any ticket.

A ticket is transferred only to a service some window serves and to a window that serves the
ticket's (new) service (422). A kiosk cancels a ticket only with proof that the citizen holds
it: the ID card it was issued to, or the ticket's code from its QR address.

Every check runs inside the operation's write transaction, so it sees the row the operation
changes.
"""

from __future__ import annotations

import hmac
import sqlite3

from halldomain.idnumber import IdNumberError, parse_id_number
from queue_server.base.db import Tx
from queue_server.base.errors import Forbidden, Invalid
from queue_server.core.context import HallContext
from queue_server.core.tickets import find_for_call, get_row

AT_WINDOW = ("recall", "skip", "finish", "reactivate")  # only tickets at the staff's window


def served_by(ctx: HallContext, no: int) -> set[str]:
    return {code for w in ctx.config.windows if w.no == no for code in w.services}


def _refuse(row: sqlite3.Row, no: int) -> Forbidden:
    return Forbidden(f"号票 {row['number']} 不在 {no} 号窗口办理，不能操作", "other_window")


def check_action(
    ctx: HallContext, tx: Tx, window: int | None, ticket_id: int, action: str
) -> sqlite3.Row:
    """403 unless a staff member of `window` (None: any window) may `action` this ticket."""
    row = get_row(tx.conn, ticket_id)
    if window is None:
        return row
    if row["window"] == window:
        return row
    if (
        action not in AT_WINDOW
        and row["status"] == "waiting"
        and (row["service"] in served_by(ctx, window) or row["target_window"] == window)
    ):
        return row
    raise _refuse(row, window)


def check_call(
    ctx: HallContext,
    tx: Tx,
    window: int | None,
    no: int,
    number: str | None,
    ticket_id: int | None,
) -> None:
    """特呼 at window `no` by its staff: a ticket waiting for `no`, or skipped there."""
    if window is None:
        return
    row = find_for_call(ctx, tx, ticket_id, number)
    if row["status"] == "no_show" and row["window"] == no:
        return
    if row["status"] == "waiting" and (
        row["service"] in served_by(ctx, no) or row["target_window"] == no
    ):
        return
    if row["status"] in ("waiting", "no_show"):
        raise _refuse(row, no)


def check_transfer_target(
    ctx: HallContext, tx: Tx, ticket_id: int, service: str | None, window: int | None
) -> None:
    """422 for a transfer into a service no window serves, or a window that cannot serve it."""
    row = get_row(tx.conn, ticket_id)
    code = ctx.service(service).code if service else row["service"]
    if window is not None:
        if not any(w.no == window for w in ctx.config.windows):
            raise Invalid(f"没有 {window} 号窗口", "unknown_window")
        if code not in served_by(ctx, window):
            name = ctx.service(code).name
            raise Invalid(f"{window} 号窗口不办理“{name}”，不能转入", "window_cannot_serve")
    elif not any(code in w.services for w in ctx.config.windows):
        raise Invalid(f"没有窗口办理“{ctx.service(code).name}”，不能转入", "service_not_served")


def ticket_code(ctx: HallContext, row: sqlite3.Row) -> str:
    """The ticket's unguessable public code (the one in its QR link; never the id)."""
    return str(row["code"] or "")


def check_owner(
    ctx: HallContext, tx: Tx, ticket_id: int, id_number: str | None, code: str | None
) -> None:
    """403 unless the caller proves it holds the ticket: its ID card or its code."""
    row = get_row(tx.conn, ticket_id)
    if code and hmac.compare_digest(code.strip().lower(), ticket_code(ctx, row)):
        return
    if id_number and row["id_hash"]:
        try:
            idn = parse_id_number(id_number)
        except IdNumberError as err:
            raise Invalid(err.message, err.code) from None
        if hmac.compare_digest(ctx.id_hash(idn.value), row["id_hash"]):
            return
    raise Forbidden("请刷取号时所用的身份证或扫描号票二维码后再取消", "not_ticket_holder")
