"""The FastAPI application: JSON API under /api/v1, event stream, web pages."""

from __future__ import annotations

import contextlib
import html
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from queue_server.api import (
    admin,
    appointments,
    broadcasts,
    cases,
    desk,
    devices,
    evaluations,
    events,
    guard,
    hall_info,
    posters,
    sessions,
    tickets,
    tokens,
    voice,
    window_screen,
    windows,
)
from queue_server.api import qr as qr_routes
from queue_server.api.common import install_error_handlers
from queue_server.runtime.hall import Hall
from queue_server.web import pages

API = "/api/v1"


def create_app(hall: Hall) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hall.start_background()  # events, notifier, housekeeping, uploader
        try:
            yield
        finally:
            await hall.stop_background()

    app = FastAPI(
        title="hall queue server",
        version="0.1.0",
        description='政务服务大厅排队叫号 API. Errors are `{"error": {"code", "message"}}`.',
        lifespan=lifespan,
        # No OpenTelemetry: nothing is exported from a hall, and checking for providers on
        # every request cost ~3% of issuing a ticket.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.hall = hall
    install_error_handlers(app)
    # Routes are matched in order, router by router: the busiest (issuing, calling) first.
    routers = (
        tickets.router,
        windows.router,
        events.router,
        hall_info.router,
        evaluations.router,
        devices.router,
        sessions.router,
        admin.router,
        broadcasts.router,
        posters.router,
        cases.router,
        tokens.router,
    )
    for router in routers:
        app.include_router(router, prefix=API)
    app.include_router(admin.pages)
    app.include_router(tickets.pages)  # before /t/{code}: /t/offline-… is a key
    app.include_router(qr_routes.pages)  # the ticket's QR page, no token
    app.include_router(qr_routes.api, prefix=API)
    for router in (desk.router, voice.router, window_screen.router, appointments.router):
        app.include_router(router, prefix=API)
    pages.include(app)
    guard.install(app, hall)  # body limit, stream cap, security headers, CORS, rate limits

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        name = html.escape(hall.config.hall.name)
        links = "".join(
            f'<li><a href="{p}">{label}</a> <code>{p}</code></li>'
            for p, label in (
                ("/staff", "窗口工作台 Staff console"),
                ("/display", "大厅显示屏 Hall display"),
                ("/evaluator?window=1", "窗口评价器 Window evaluator"),
                ("/admin", "管理后台 Administration"),
                ("/docs", "API 文档 OpenAPI"),
            )
        )
        return HTMLResponse(
            f"<!doctype html><html lang=zh><meta charset=utf-8><title>{name}</title>"
            f"<body style='font:18px sans-serif;margin:2em'><h1>{name}</h1><ul>{links}</ul>"
        )

    return app
