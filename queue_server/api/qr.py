"""The QR channel's HTTP side: the ticket page `/t/{code}` and its JSON (no token: the code in
the link is the credential; see queue_server.ratings.qr_channel)."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from queue_server.api.common import error, hall_of, json
from queue_server.base.errors import NotFound
from queue_server.core.tickets import get_row_by_code
from queue_server.ratings.qr_channel import public_view

PAGE = Path(__file__).resolve().parent.parent / "web" / "ticket.html"
MAX_CODE = 64

api = APIRouter()
pages = APIRouter()


@api.get("/public/tickets/{code}")
async def public_ticket(code: str, request: Request) -> Response:
    """A ticket by the code of its QR link, for the holder's phone (no token): progress, the
    way to the window, the rating vocabulary and whether it can be rated (`rating.open`)."""
    hall = hall_of(request)
    conn = hall.db.reader
    row = get_row_by_code(conn, code[:MAX_CODE])
    out = json(public_view(hall.ctx, conn, row))
    out.headers["Cache-Control"] = "no-store"
    return out


@pages.get("/t/{code}", response_class=HTMLResponse, include_in_schema=False)
async def ticket_page(code: str, request: Request) -> Response:
    """The page a phone opens from the ticket's QR code (web/ticket.html, ticket.js). The
    number, service and state are filled in here, so a phone without scripts still reads them."""
    hall = hall_of(request)
    conn = hall.db.reader
    try:
        row = get_row_by_code(conn, code[:MAX_CODE])
    except NotFound as err:
        return error(404, err.code, err.message)
    view = public_view(hall.ctx, conn, row)
    t = view["ticket"]
    fill = {
        "hall": view["hall"]["name"],
        "number": t["number"],
        "service": t["service_name"],
        "line": t["line"],
        "status": t["status"],
    }
    text = PAGE.read_text(encoding="utf-8")
    for key, value in fill.items():
        text = text.replace("{{" + key + "}}", html.escape(str(value)))
    return HTMLResponse(text, headers={"Cache-Control": "no-store"})
