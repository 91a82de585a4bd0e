"""Devices: heartbeats, what needs attention, the device list."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from queue_server.admin import devices as device_ops
from queue_server.api.common import Who, app_state, hall_of, json, require
from queue_server.api.models import HeartbeatIn

router = APIRouter()


@router.post("/devices/heartbeat")
async def heartbeat(body: HeartbeatIn, request: Request, who: Who) -> Response:
    """A device reports its health (printer paper, reader, camera, sound) and state; bounded
    per device (429 when too frequent, 422 when too large)."""
    hall = hall_of(request)
    beats = app_state(request, "heartbeats", lambda: device_ops.Heartbeats(hall.clock.timestamp))
    beats.admit(who.device_key)
    health_json, state_json = device_ops.check_report(body.health, body.state)
    await hall.run(
        lambda tx: device_ops.record_heartbeat(
            tx, beats, who.name, who.role, body.health, health_json, state_json
        )
    )
    return json({"status": "ok"})


@router.get("/devices/attention")
async def devices_attention(request: Request, who: Who) -> Response:
    """Devices window staff should know about (a hall display whose sound is blocked, their
    evaluator offline): `[{"name", "role", "level", "summary"}]`."""
    require(who, "staff", "admin")
    hall = hall_of(request)
    return json(device_ops.attention(hall.db.reader, hall.clock.timestamp(), who.window))


@router.get("/devices")
async def devices(request: Request, who: Who) -> Response:
    require(who, "admin")
    rows = hall_of(request).db.rows("SELECT * FROM device_health ORDER BY device")
    return json(
        [
            {
                "device": r["device"],
                "role": r["role"],
                "last_seen": r["last_seen"],
                "health": orjson.loads(r["health"]),
                "state": orjson.loads(r["state"]),
            }
            for r in rows
        ]
    )
