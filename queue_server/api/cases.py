"""The 差评 cycle beyond the follow-up steps in api/admin.py: 申诉复核 (appeal and review),
revealing the citizen's phone to the assigned handler, the 12345 hand-off and its signed
inbound outcome (`POST /hotline/outcome`, no bearer token: an HMAC signature instead)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from queue_server.admin.accounts import Principal
from queue_server.api.common import Who, hall_of, json, require
from queue_server.base.db import Tx
from queue_server.base.errors import Forbidden, Invalid
from queue_server.ratings import appeals, case_contact, followup, hotline

router = APIRouter()
RowId = Annotated[int, PathParam(ge=1, le=2**62)]
MAX_OUTCOME_BYTES = 16 * 1024


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppealIn(Body):
    kind: Literal["mistaken", "malicious"] = Field(description="误评 or 恶意评价")
    reason: str = Field(max_length=1000)


class ReviewIn(Body):
    decision: Literal["upheld", "rejected"]
    note: str = Field(max_length=1000)


class HandOffIn(Body):
    note: str = Field("", max_length=1000)


def _person(request: Request, who: Principal) -> appeals.Person:
    return appeals.person(hall_of(request).db.reader, who.actor, who.name, who.account_id)


@router.post("/admin/cases/{case_id}/appeal")
async def appeal_case(case_id: RowId, body: AppealIn, request: Request, who: Who) -> Response:
    """Appeal the 差评 as mistaken or malicious (申诉): an administrator for a department, or
    the staff member of the window the rating was for."""
    require(who, "admin", "staff")
    hall = hall_of(request)
    if who.role == "staff":
        case = followup.get(hall.ctx, hall.db.reader, case_id)
        mine = _person(request, who).names & {case["staff"] or ""}
        if who.window != case["window"] and not mine:
            raise Forbidden("只能对本窗口或本人的差评提出申诉", "not_own_rating")
    person = _person(request, who)
    return json(
        await hall.run(
            lambda tx: appeals.file_appeal(hall.ctx, tx, case_id, body.kind, body.reason, person)
        )
    )


@router.post("/admin/cases/{case_id}/review")
async def review_case(case_id: RowId, body: ReviewIn, request: Request, who: Who) -> Response:
    """Decide an appeal (复核); 403 for the rated staff member and for the appellant."""
    require(who, "admin")
    hall = hall_of(request)
    person = _person(request, who)
    return json(
        await hall.run(
            lambda tx: appeals.review(hall.ctx, tx, case_id, body.decision, body.note, person)
        )
    )


@router.post("/admin/cases/{case_id}/contact")
async def reveal_contact(case_id: RowId, request: Request, who: Who) -> Response:
    """The citizen's full phone number, for the handler the case is assigned to (by account)
    only; every request is audited, a refused one too (403)."""
    require(who, "admin", "staff")
    hall = hall_of(request)
    out = await hall.run(
        lambda tx: case_contact.reveal_contact(hall.ctx, tx, case_id, who.account_id, who.actor)
    )
    if not out["allowed"]:
        raise Forbidden("只有被指派回访的账号可以查看完整号码", "not_assigned_handler")
    return json({"phone": out["phone"], "masked": out["masked"]})


@router.post("/admin/cases/{case_id}/handoff")
async def hand_off_case(case_id: RowId, body: HandOffIn, request: Request, who: Who) -> Response:
    """Hand the case to the 12345 hotline (stored, then sent by the background sender)."""
    require(who, "admin")
    hall = hall_of(request)
    return json(
        await hall.run(lambda tx: hotline.hand_off(hall.ctx, tx, case_id, body.note, who.actor))
    )


@router.post("/hotline/outcome")
async def hotline_outcome(request: Request) -> Response:
    """12345 reports a handed-off case's 回访 outcome. Signed, not token-authenticated:
    `X-Hall-Timestamp`, `X-Hall-Nonce`, `X-Hall-Signature` (docs/API.md)."""
    hall = hall_of(request)
    raw = await request.body()
    if len(raw) > MAX_OUTCOME_BYTES:
        raise Invalid("请求体过大", "too_large")
    now = time.time()
    nonce, _ts = hotline.verify(hall.config.followup, dict(request.headers), raw, now)
    try:
        outcome = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Invalid("请求体不是有效的 JSON", "json_invalid") from None
    if not isinstance(outcome, dict):
        raise Invalid("请求体应为 JSON 对象", "json_invalid")

    def op(tx: Tx) -> dict[str, Any]:
        return hotline.receive_outcome(hall.ctx, tx, nonce, now, outcome)

    return json(await hall.run(op))
