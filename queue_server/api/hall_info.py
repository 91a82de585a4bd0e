"""Health, the hall's own description (GET /hall), what it publishes, and its services."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from halldomain import ratings
from queue_server.admin import publication
from queue_server.api.common import Who, hall_of, json, require
from queue_server.base.errors import (
    STORAGE_MESSAGE,
    StorageUnavailable,
)

router = APIRouter()


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
