"""Health, hall info, services, evaluations, device heartbeats and staff login."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from halldomain import ratings
from queue_server.admin import accounts, publication
from queue_server.admin import devices as device_ops
from queue_server.admin.accounts import Principal
from queue_server.api.common import app_state, bearer, hall_of, json, principal, require
from queue_server.api.models import EvaluationIn, HeartbeatIn, LoginIn
from queue_server.base.db import Tx
from queue_server.base.errors import (
    STORAGE_MESSAGE,
    Invalid,
    StorageUnavailable,
    Unauthorized,
)
from queue_server.ratings import evaluations

router = APIRouter()
Who = Annotated[Principal, Depends(principal)]


@router.get("/health")
async def health(request: Request) -> Response:
    """200 `{"status": "ok"}` while the database reads and takes a real write (checked at
    most every 5 s); 503 `{"status": "degraded", "writes": "failing", "error": …}` while
    writes fail (disk full, read-only, I/O error): issuing and calling are refused with the
    same error, and kiosks issue from their leases."""
    hall = hall_of(request)
    hall.db.row("SELECT 1")
    fault = await run_in_threadpool(hall.db.probe_write)
    if fault is None:
        return json({"status": "ok"})
    return json(
        {
            "status": "degraded",
            "writes": "failing",
            "detail": fault,
            "error": {"code": StorageUnavailable.code, "message": STORAGE_MESSAGE},
        },
        503,
    )


@router.get("/hall")
async def hall_info(request: Request, who: Who) -> Response:
    hall = hall_of(request)
    cfg = hall.config
    return json(
        {
            "name": cfg.hall.name,
            "notices": cfg.notices(),
            "business_day": hall.clock.business_day(),
            "timezone": cfg.hall.timezone,
            "now": hall.clock.iso(hall.clock.timestamp()),
            "elderly_age": cfg.routing.elderly_age,
            "policy": cfg.routing.policy,
            "classes": {code: c.label for code, c in cfg.routing.classes.items()},
            "appointments": cfg.appointments.enabled,
            "ratings": ratings.vocabulary(cfg.ratings.domain()),
        }
    )


@router.get("/publication")
async def published(request: Request, who: Who) -> Response:
    """What the hall display publishes (`[publication]`, off by default): the month's 好评率
    and recent 整改 results; null for a part that is off. Nothing personal."""
    require(who, "display", "admin", "staff", "kiosk")
    hall = hall_of(request)
    return json(publication.publication(hall.ctx, hall.db.reader))


@router.get("/services")
async def services(request: Request, who: Who) -> Response:
    hall = hall_of(request)
    conn = hall.db.reader
    waiting = dict(
        conn.execute(
            "SELECT service, COUNT(*) FROM tickets WHERE status = 'waiting' GROUP BY service"
        ).fetchall()
    )
    out = []
    cfg = hall.config
    for svc in cfg.services:
        n = int(waiting.get(svc.code, 0))
        est = hall.ctx.estimate(conn, svc.code, n)
        out.append(
            {
                "code": svc.code,
                "name": svc.name,
                "name_en": svc.name_en,
                "prefix": svc.prefix,
                "waiting": n,
                "wait_estimate": est.as_dict(),
                "real_name": svc.real_name,
                "open": (not hall.config.hall.enforce_hours) or hall.clock.within(svc.hours),
                "hours": svc.hours,
                "guide": svc.guide,
                "forms": svc.forms,
                # where it is handled (智能引导): "1楼B区11–13号窗口", "" without locations
                "location": cfg.service_location(svc.code),
                "location_en": cfg.service_location(svc.code, "en"),
            }
        )
    return json(out)


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


@router.post("/login")
async def login(body: LoginIn, request: Request) -> Response:
    """Staff and administrators log in with a password; a session token comes back."""
    hall = hall_of(request)
    return json(await accounts.login(hall, body.username, body.password, body.window))


@router.post("/logout")
async def logout(request: Request, who: Who) -> Response:
    hall = hall_of(request)
    token = bearer(request)
    if token:
        hall.revoke(token)
        await hall.run(lambda tx: hall.audit(tx, who.actor, "logout", str(who.window or "")))
    return json({"status": "ok"})


@router.get("/me")
async def me(request: Request, who: Who) -> Response:
    return json({"role": who.role, "window": who.window, "name": who.name, "kind": who.kind})
