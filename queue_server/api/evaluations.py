"""好差评 ratings: filing one (window evaluator, kiosk, the ticket's QR code) and listing them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from queue_server.api.common import Who, bearer, hall_of, json, principal, require
from queue_server.api.models import EvaluationIn
from queue_server.base.db import Tx
from queue_server.base.errors import (
    Invalid,
    Unauthorized,
)
from queue_server.ratings import evaluations

router = APIRouter()


@router.post("/evaluations", status_code=201)
async def create_evaluation(body: EvaluationIn, request: Request) -> Response:
    """Store a 好差评 rating: an evaluator on `window` for its own window, a kiosk on `kiosk` (the
    terminal itself; the record names the kiosk). Channel `qr` is the citizen's phone: no
    token, the ticket's code from its QR link (`code`) is the credential, for that ticket
    only, once it is done and not yet rated. Staff and administrators, the people rated,
    never rate (403)."""
    hall = hall_of(request)
    if body.channel == "qr" and bearer(request) is None:
        if not body.code:
            raise Unauthorized("请扫描号票上的二维码进行评价", "missing_token")
        code = body.code

        def by_code(tx: Tx) -> dict[str, Any]:
            evaluations.check_code(tx, body.ticket_id, code)
            return evaluations.create(
                hall.ctx, tx, body.ticket_id, body.level, body.reasons, body.comment, "qr", None,
                contact_phone=body.contact_phone,
            )  # fmt: skip

        return json(await hall.run(by_code), 201)
    who = await principal(request)
    require(who, "evaluator", "kiosk")
    window = evaluations.authorise(who.role, who.window, body.channel)
    if body.contact_phone:
        raise Invalid("只有扫码评价可以留下回访电话", "contact_phone_not_allowed")
    device = who.name if who.role == "kiosk" else ""
    view = await hall.run(
        lambda tx: evaluations.create(
            hall.ctx, tx, body.ticket_id, body.level, body.reasons, body.comment, body.channel,
            window, device=device,
        )
    )  # fmt: skip
    return json(view, 201)


@router.get("/evaluations")
async def list_evaluations(
    request: Request, who: Who, day: str | None = None, window: int | None = None, limit: int = 200
) -> Response:
    require(who, "admin", "staff")
    hall = hall_of(request)
    reasons = hall.config.ratings.domain()
    sql = "SELECT * FROM evaluations WHERE business_day = ?"
    params: list[Any] = [day or hall.clock.business_day()]
    if who.role == "staff" and who.window is not None:
        window = who.window
    if window is not None:
        sql += " AND window = ?"
        params.append(window)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(max(1, min(limit, 1000)))
    rows = hall.db.rows(sql, params)
    return json([evaluations.evaluation_view(r, reasons, hall.ctx) for r in rows])
