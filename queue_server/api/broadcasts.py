"""Voice broadcasts (语音广播) for administrators: /api/v1/admin/broadcasts (list, send now or
schedule, send again, pause, delete). Every change is audited; a sent broadcast is the event
`broadcast.announced`, which the displays play behind their calls."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from queue_server.admin import broadcasts
from queue_server.api.common import Who, hall_of, json, require
from queue_server.base.db import Tx

router = APIRouter()
RowId = Annotated[int, PathParam(ge=1, le=2**62)]


class BroadcastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=2000, description="What to say, e.g. 请保管好随身物品")
    schedule: Literal["now", "once", "daily"] = Field(
        "now", description="now; once at `at`; daily at `time`"
    )
    at: str | None = Field(None, max_length=40, description="once: local date and time, ISO 8601")
    time: str | None = Field(None, max_length=5, description="daily: HH:MM, local time")
    working_days_only: bool = Field(True, description="daily: only on the hall's working days")
    repeats: int = Field(2, ge=1, le=3, description="How many times it is said in a row")


class EnabledIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


@router.get("/admin/broadcasts")
async def list_broadcasts(request: Request, who: Who) -> Response:
    """Scheduled broadcasts first, then those sent at once, newest first."""
    require(who, "admin")
    hall = hall_of(request)
    return json([broadcasts.view(r, hall.ctx) for r in broadcasts.list_all(hall.db.reader)])


@router.post("/admin/broadcasts", status_code=201)
async def create_broadcast(body: BroadcastIn, request: Request, who: Who) -> Response:
    """Send a broadcast now (`schedule` "now") or schedule it (once, or daily)."""
    require(who, "admin")
    hall = hall_of(request)

    def op(tx: Tx) -> dict[str, Any]:
        row = broadcasts.create(
            hall.ctx, tx, who.actor, body.text, body.schedule, body.at, body.time,
            body.working_days_only, body.repeats,
        )  # fmt: skip
        hall.audit(
            tx, who.actor, "broadcast.create", str(row["id"]),
            text=row["text"], schedule=row["schedule"], at=body.at, time=body.time,
        )  # fmt: skip
        return broadcasts.view(row, hall.ctx)

    return json(await hall.run(op), 201)


@router.post("/admin/broadcasts/{broadcast_id}/send")
async def send_broadcast(broadcast_id: RowId, request: Request, who: Who) -> Response:
    """Say a stored broadcast again, now."""
    require(who, "admin")
    hall = hall_of(request)

    def op(tx: Tx) -> dict[str, Any]:
        sent = broadcasts.send(hall.ctx, tx, broadcasts.get(tx.conn, broadcast_id))
        hall.audit(tx, who.actor, "broadcast.send", str(broadcast_id), text=sent["text"])
        return sent

    return json(await hall.run(op))


@router.patch("/admin/broadcasts/{broadcast_id}")
async def enable_broadcast(
    broadcast_id: RowId, body: EnabledIn, request: Request, who: Who
) -> Response:
    """Pause (enabled false) or resume a scheduled broadcast."""
    require(who, "admin")
    hall = hall_of(request)

    def op(tx: Tx) -> dict[str, Any]:
        row = broadcasts.set_enabled(tx, broadcast_id, body.enabled)
        hall.audit(tx, who.actor, "broadcast.enable", str(broadcast_id), enabled=body.enabled)
        return broadcasts.view(row, hall.ctx)

    return json(await hall.run(op))


@router.delete("/admin/broadcasts/{broadcast_id}")
async def delete_broadcast(broadcast_id: RowId, request: Request, who: Who) -> Response:
    require(who, "admin")
    hall = hall_of(request)

    def op(tx: Tx) -> None:
        text = broadcasts.delete(tx, broadcast_id)
        hall.audit(tx, who.actor, "broadcast.delete", str(broadcast_id), text=text)

    await hall.run(op)
    return json({"status": "deleted"})
