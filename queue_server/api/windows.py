"""Window endpoints: call next, call a given ticket, pause, resume, open, close."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from queue_server.admin.accounts import Principal
from queue_server.api.common import Who, hall_of, json, require, window_scope
from queue_server.api.models import CallTicketIn, TicketOut
from queue_server.api.tickets import with_qr
from queue_server.base.db import Tx
from queue_server.base.errors import Invalid
from queue_server.core import scope
from queue_server.core import windows as ops

router = APIRouter()


@router.get("/windows")
async def list_windows(request: Request, who: Who) -> Response:
    hall = hall_of(request)
    conn = hall.db.reader
    rows = conn.execute("SELECT * FROM windows ORDER BY no").fetchall()
    return json([ops.window_view(hall.ctx, conn, r) for r in rows])


@router.get("/windows/{no}")
async def get_window(no: int, request: Request, who: Who) -> Response:
    hall = hall_of(request)
    return json(ops.window_view(hall.ctx, hall.db.reader, ops.window_row(hall.db.reader, no)))


@router.post("/windows/{no}/call-next", responses={200: {"model": TicketOut}, 204: {}})
async def call_next(no: int, request: Request, who: Who) -> Response:
    """Finish the current ticket and call the best waiting one (叫号); 204 when nobody waits."""
    require(who, "staff", "admin", window=no)
    hall = hall_of(request)
    view = await hall.run(lambda tx: ops.call_next(hall.ctx, tx, no, who.name, who.account_id))
    if view is None:
        return Response(status_code=204)
    return json(with_qr(request, view))


@router.post("/windows/{no}/call-ticket", responses={200: {"model": TicketOut}})
async def call_ticket(no: int, body: CallTicketIn, request: Request, who: Who) -> Response:
    """Call a given ticket out of order (特呼), by number or id."""
    require(who, "staff", "admin", window=no)
    if not body.number and body.ticket_id is None:
        raise Invalid("请输入要呼叫的号码", "number_required")
    hall = hall_of(request)

    def op(tx: Tx) -> dict:
        scope.check_call(hall.ctx, tx, window_scope(who), no, body.number, body.ticket_id)
        return ops.call_ticket(
            hall.ctx, tx, no, body.number, body.ticket_id, who.name, who.account_id
        )

    view = await hall.run(op)
    return json(with_qr(request, view))


async def _status(no: int, status: str, request: Request, who: Principal, *roles: str) -> Response:
    require(who, *roles, window=no)
    hall = hall_of(request)

    def op(tx):  # type: ignore[no-untyped-def]
        view = ops.set_status(hall.ctx, tx, no, status, who.name if who.role == "staff" else None)
        hall.audit(tx, who.actor, f"window.{status}", str(no))
        return view

    return json(await hall.run(op))


@router.post("/windows/{no}/pause")
async def pause(no: int, request: Request, who: Who) -> Response:
    """The window stops receiving calls (暂停)."""
    return await _status(no, "paused", request, who, "staff", "admin")


@router.post("/windows/{no}/resume")
async def resume(no: int, request: Request, who: Who) -> Response:
    """The window receives calls again (恢复)."""
    return await _status(no, "open", request, who, "staff", "admin")


@router.post("/windows/{no}/close")
async def close(no: int, request: Request, who: Who) -> Response:
    """Close a window (e.g. a tidal window when the queue is short)."""
    return await _status(no, "closed", request, who, "admin")


@router.post("/windows/{no}/open")
async def open_window(no: int, request: Request, who: Who) -> Response:
    """Open a closed window (e.g. a tidal window when a queue grows)."""
    return await _status(no, "open", request, who, "admin")
