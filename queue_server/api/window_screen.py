"""What a window screen (窗口屏) shows: the window, its ticket, services and, if the hall
enables it, the staff member on duty."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from queue_server.api.common import Who, hall_of, json
from queue_server.api.desk import staff_on_duty
from queue_server.core import windows as window_ops

router = APIRouter()


@router.get("/windows/{no}/screen")
async def window_screen(no: int, request: Request, who: Who) -> Response:
    """One window's screen in one read: number, name, status, current ticket, service names,
    and the staff member (name, 工号, photo address) only when `window_screen.show_staff`."""
    hall = hall_of(request)
    conn = hall.db.reader
    view = window_ops.window_view(hall.ctx, conn, window_ops.window_row(conn, no))
    settings = hall.config.window_screen
    services = []
    for code in view["services"]:
        service = hall.config.service(code)
        if service is not None:
            services.append({"code": code, "name": service.name, "prefix": service.prefix})
    staff: dict[str, Any] | None = None
    if settings.show_staff:
        staff = staff_on_duty(hall, no)
        if staff is not None:
            photo = ""
            if settings.photo_url and staff["staff_no"]:
                photo = settings.photo_url.replace("{staff_no}", quote(str(staff["staff_no"])))
            staff = {**staff, "photo": photo}
    return json(
        {
            "hall": hall.config.hall.name,
            "timezone": hall.config.hall.timezone,
            "window": view,
            "services": services,
            "show_staff": settings.show_staff,
            "staff": staff,
        }
    )
