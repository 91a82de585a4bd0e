"""Ticket endpoints: issue, read, look up, and the staff actions on one ticket."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from queue_server.admin.accounts import Principal
from queue_server.api.common import Who, hall_of, json, require, window_scope
from queue_server.api.models import (
    CancelIn,
    FinishIn,
    LeaseCheckIn,
    LeaseIn,
    LookupIn,
    TicketIn,
    TicketOut,
    TransferIn,
)
from queue_server.base.db import Tx
from queue_server.base.errors import Forbidden
from queue_server.core import antiscalping, leases, scope
from queue_server.core import tickets as ops

router = APIRouter()
TICKET = {"model": TicketOut}


def with_qr(request: Request, view: dict[str, Any], who: Principal | None = None) -> dict[str, Any]:
    """Add `qr`, the ticket's public link: the hall's public base URL (or the address the
    request came in on) and the ticket's unguessable code. A kiosk reading another device's
    ticket gets `qr: null`: the code is also the proof that lets a kiosk cancel a ticket."""
    hall = hall_of(request)
    found = hall.db.reader.execute(
        "SELECT code, device FROM tickets WHERE id = ?", (view["id"],)
    ).fetchone()
    if found is None or (who is not None and who.role == "kiosk" and found[1] != who.name):
        view["qr"] = None
        return view
    base = hall.config.hall.public_base_url.rstrip("/")
    if not base:
        scope = request.scope
        host = next((v for k, v in scope["headers"] if k == b"host"), b"")
        server = scope.get("server")
        base = _base_url(
            scope["scheme"], host, tuple(server) if server else None, scope.get("root_path", "")
        )
    view["qr"] = f"{base}/t/{found[0]}"
    return view


@functools.lru_cache(maxsize=64)
def _base_url(scheme: str, host: bytes, server: tuple[str, int] | None, root: str) -> str:
    """The address a phone scanning the ticket's QR code comes back to (as Starlette builds
    `request.base_url`); the few (scheme, Host) pairs a hall sees are kept."""
    headers = [(b"host", host)] if host else []
    scope: dict[str, Any] = {"type": "http", "scheme": scheme, "server": server}
    scope.update(root_path=root, path="/", headers=headers)
    return str(Request(scope).base_url).rstrip("/")


@router.post("/tickets", status_code=201, responses={201: TICKET, 200: TICKET})
async def issue_ticket(body: TicketIn, request: Request, who: Who) -> Response:
    """Issue a ticket (取号). The same idempotency_key returns the same ticket, never a second."""
    require(who, "kiosk", "staff", "admin")
    if who.role == "kiosk" and body.channel == "counter":
        raise Forbidden("自助终端不能以窗口代取号渠道取号", "channel_not_allowed")
    hall = hall_of(request)
    req = ops.IssueRequest(
        service=body.service,
        channel=body.channel,
        idempotency_key=body.idempotency_key,
        id_number=body.id_card.id_number if body.id_card else None,
        name=body.id_card.name if body.id_card else None,
        priority=body.priority,
        device=who.name,
        lease_id=body.lease_id,
        seq=body.seq,
        issued_at=body.issued_at,
        lease=body.lease.model_dump() if body.lease else None,
        id_card_sealed=body.id_card_sealed,
        enforce_hours=who.role == "kiosk",
    )
    antiscalping.check_device(request.app.state.issue_bucket, who.device_key)

    # the per-ID daily limit is applied by ops.issue, on every path that issues a ticket
    view, created = await hall.run(lambda tx: ops.issue(hall.ctx, tx, req))
    return json(with_qr(request, view), 201 if created else 200)


@router.get("/tickets/{ticket}", responses={200: TICKET})
async def get_ticket(ticket: str, request: Request, who: Who) -> Response:
    """One ticket, by its id or by the code of its public QR link."""
    hall = hall_of(request)
    conn = hall.db.reader
    row = (
        ops.get_row(conn, int(ticket)) if ticket.isdecimal() else ops.get_row_by_code(conn, ticket)
    )
    return json(with_qr(request, hall.ctx.ticket_view(conn, row), who))


@router.get("/tickets")
async def list_tickets(
    request: Request,
    who: Who,
    status: str = "waiting",
    service: str | None = None,
    window: int | None = None,
    limit: int = 200,
) -> Response:
    """Today's tickets by status (the queue a window or the display shows), oldest first."""
    require(who, "staff", "admin", "display")
    hall = hall_of(request)
    sql = "SELECT * FROM tickets WHERE business_day = ? AND status = ?"
    params: list[Any] = [hall.clock.business_day(), status]
    if service:
        sql += " AND service = ?"
        params.append(service)
    if window is not None:
        codes = [w.services for w in hall.config.windows if w.no == window]
        served = list(codes[0]) if codes else []
        marks = ",".join("?" * len(served)) or "''"
        sql += f" AND (service IN ({marks}) OR target_window = ? OR window = ?)"
        params += [*served, window, window]
    sql += " ORDER BY issued_ts LIMIT ?"
    params.append(max(1, min(limit, 1000)))
    conn = hall.db.reader
    rows = conn.execute(sql, params).fetchall()
    return json([with_qr(request, hall.ctx.ticket_view(conn, r)) for r in rows])


@router.post("/tickets/lookup")
async def lookup(body: LookupIn, request: Request, who: Who) -> Response:
    """Today's active tickets of the person with this ID number (查询我的号)."""
    require(who, "kiosk", "staff", "admin")
    hall = hall_of(request)
    found = ops.lookup_by_id(hall.ctx, hall.db.reader, body.id_number)
    return json([with_qr(request, v) for v in found])


async def _act(request: Request, who: Principal, fn: Any, ticket_id: int, action: str) -> Response:
    require(who, "staff", "admin")
    hall = hall_of(request)

    def op(tx: Tx) -> dict[str, Any]:
        scope.check_action(hall.ctx, tx, window_scope(who), ticket_id, action)
        return fn(hall.ctx, tx)  # type: ignore[no-any-return]

    view = await hall.run(op)
    return json(with_qr(request, view))


@router.post("/tickets/{ticket_id}/recall", responses={200: TICKET})
async def recall(ticket_id: int, request: Request, who: Who) -> Response:
    """Announce the called ticket again (重呼)."""
    return await _act(
        request,
        who,
        lambda c, tx: ops.recall(c, tx, ticket_id, window_scope(who)),
        ticket_id,
        "recall",
    )


@router.post("/tickets/{ticket_id}/skip", responses={200: TICKET})
async def skip(ticket_id: int, request: Request, who: Who) -> Response:
    """The called citizen did not come (过号)."""
    return await _act(
        request, who, lambda c, tx: ops.skip(c, tx, ticket_id, window_scope(who)), ticket_id, "skip"
    )


@router.post("/tickets/{ticket_id}/finish", responses={200: TICKET})
async def finish(
    ticket_id: int, request: Request, who: Who, body: FinishIn | None = None
) -> Response:
    """Service done (办结); the window's evaluator then asks for a rating. Optionally the
    business system's 办件编号 (`case_no`) and the 事项实施编码 (`item_code`), kept with the
    ticket for its 好差评 record."""
    case_no, item_code = (body.case_no, body.item_code) if body else (None, None)
    return await _act(
        request,
        who,
        lambda c, tx: ops.finish(c, tx, ticket_id, window_scope(who), case_no, item_code),
        ticket_id,
        "finish",
    )


@router.post("/tickets/{ticket_id}/transfer", responses={200: TICKET})
async def transfer(ticket_id: int, body: TransferIn, request: Request, who: Who) -> Response:
    """Send the ticket to another service and/or window, keeping its place in time (转移)."""
    if body.service:
        hall_of(request).ctx.service(body.service)  # an unknown service: 422 before the scope

    def op(c: Any, tx: Tx) -> dict[str, Any]:
        scope.check_transfer_target(c, tx, ticket_id, body.service, body.window)
        return ops.transfer(c, tx, ticket_id, body.service, body.window, window_scope(who))

    return await _act(request, who, op, ticket_id, "transfer")


@router.post("/tickets/{ticket_id}/reactivate", responses={200: TICKET})
async def reactivate(ticket_id: int, request: Request, who: Who) -> Response:
    """Put a skipped ticket back in its queue within the configured time (过号重排)."""
    return await _act(
        request, who, lambda c, tx: ops.reactivate(c, tx, ticket_id), ticket_id, "reactivate"
    )


@router.post("/tickets/{ticket_id}/cancel", responses={200: TICKET})
async def cancel(
    ticket_id: int, request: Request, who: Who, body: CancelIn | None = None
) -> Response:
    """Cancel a waiting ticket. A kiosk proves the citizen holds it: the ID card it was issued
    to, or the code from the ticket's QR address (403 `not_ticket_holder` otherwise)."""
    require(who, "kiosk", "staff", "admin")
    hall = hall_of(request)
    proof = body or CancelIn()

    def op(tx: Tx) -> dict[str, Any]:
        if who.role == "kiosk":
            scope.check_owner(hall.ctx, tx, ticket_id, proof.id_number, proof.code)
        return ops.cancel(hall.ctx, tx, ticket_id)

    view = await hall.run(op)
    return json(with_qr(request, view))


@router.post("/kiosk/leases", status_code=201)
async def lease(body: LeaseIn, request: Request, who: Who) -> Response:
    """Reserve a block of numbers the kiosk may issue by itself through a network cut."""
    require(who, "kiosk", "admin")
    hall = hall_of(request)
    out = await hall.run(
        lambda tx: ops.lease_numbers(hall.ctx, tx, body.service, body.size, who.name)
    )
    return json(out, 201)


@router.post("/kiosk/leases/check")
async def check_leases(body: LeaseCheckIn, request: Request, who: Who) -> Response:
    """Which of the kiosk's leases are stale (a restore, another day): stop issuing from them.

    A lease the server does not know (a restore lost it) is re-entered from its proof and
    numbering moves past it; tickets already printed from a stale lease are still accepted.
    `retired` leases' unused numbers go back to the daily quota.
    """
    require(who, "kiosk", "admin")
    hall = hall_of(request)
    copies = [c.model_dump() for c in body.leases]
    retired = [r.model_dump() for r in body.retired]

    def op(tx: Tx) -> list[str]:
        leases.give_back(tx, retired, who.name)
        return leases.check(hall.ctx, tx, copies, who.name)

    stale = await hall.run(op)
    return json({"stale": stale, "epoch": leases.epoch(hall.db.reader)})


pages = APIRouter()


@pages.get("/t/offline-{key}", include_in_schema=False)
async def offline_ticket_page(key: str, request: Request) -> Response:
    """An offline ticket's QR code: its ticket page once the kiosk has synced it."""
    hall = hall_of(request)
    row = hall.db.reader.execute(
        "SELECT code FROM tickets WHERE idempotency_key = ?", (key[:128],)
    ).fetchone()
    if row is not None:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/t/{row[0]}", 303)
    return HTMLResponse(
        "<!doctype html><html lang=zh><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<meta http-equiv=refresh content=30><title>号票</title>"
        "<body style='font:22px sans-serif;text-align:center;padding:1em'>"
        "<p>这张号票是网络中断时取的，正在同步到叫号系统。</p>"
        "<p>请以纸质号票上的号码为准，留意叫号屏和广播；本页稍后自动刷新。</p>",
        404,
    )
