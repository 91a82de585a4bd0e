"""The FastAPI application: JSON API under /api/v1, event stream, web pages."""

from __future__ import annotations

import contextlib
import html
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from halldomain.waits import no_wait, wait_phrase
from queue_server.api import (
    admin,
    appointments,
    broadcasts,
    cases,
    desk,
    events,
    guard,
    misc,
    posters,
    tickets,
    tokens,
    voice,
    window_screen,
    windows,
)
from queue_server.api.common import error, install_error_handlers
from queue_server.base.errors import NotFound
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
        misc.router,
        admin.router,
        broadcasts.router,
        posters.router,
        cases.router,
        tokens.router,
    )
    for router in routers:
        app.include_router(router, prefix=API)
    app.include_router(admin.pages)
    app.include_router(tickets.pages)  # before /t/{ticket_id}: /t/offline-… is a key
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

    @app.get("/t/{code}", response_class=HTMLResponse, include_in_schema=False)
    async def ticket_page(code: str, request: Request) -> Response:
        """What a phone shows after scanning a ticket's QR code: number, state, people ahead.
        The link carries the ticket's unguessable code, never its id."""
        from queue_server.core.tickets import get_row_by_code

        try:
            row = get_row_by_code(hall.db.reader, code[:64])
        except NotFound as err:
            return error(404, err.code, err.message)
        view = hall.ctx.ticket_view(hall.db.reader, row)
        states = {
            "waiting": "等候中，"
            + ("" if no_wait(view["ahead"]) else f"前面还有 {view['ahead']} 人，")
            + wait_phrase(
                view["ahead"], view["wait_estimate"]["low_min"], view["wait_estimate"]["high_min"]
            ),
            "called": f"请到 {view['window']} 号窗口办理",
            "done": "已办结，感谢您的耐心",
            "no_show": "已过号，请到窗口咨询",
            "cancelled": "已取消",
            "expired": "已过期",
        }
        return HTMLResponse(
            "<!doctype html><html lang=zh><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            "<meta http-equiv=refresh content=30>"
            f"<title>{html.escape(view['number'])}</title>"
            "<body style='font:22px sans-serif;text-align:center;padding:1em'>"
            f"<p>{html.escape(hall.config.hall.name)}</p>"
            f"<p style='font-size:64px;font-weight:bold;margin:.2em'>{html.escape(view['number'])}</p>"
            f"<p>{html.escape(view['service_name'])}</p>"
            f"<p>{html.escape(states.get(view['status'], view['status']))}</p>"
        )

    return app
