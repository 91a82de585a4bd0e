"""Protections around the whole HTTP app: JSON bodies, body size and time limits, a cap on
event streams, security headers, CORS (closed unless configured), and an OpenAPI that
declares the errors.

Everything here wraps the app from outside (one ASGI middleware, exception handlers, a schema
post-processor), so the route modules stay as they are. `install(app, hall)` wires it up.
"""

from __future__ import annotations

import asyncio
import json as stdjson
import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from queue_server.api.common import error
from queue_server.core.antiscalping import TokenBucket
from queue_server.runtime.hall import Hall

log = logging.getLogger("hall.guard")
API = "/api/v1"
EVENTS_PATH = f"{API}/events"
BODY_TIMEOUT_S = 10.0  # a client that takes longer than this to send a small body is cut off
NO_CSP = ("/docs", "/redoc")  # Swagger UI and ReDoc load their scripts from a CDN
ERROR_STATUSES = {
    "400": "Malformed request body (not UTF-8 or not parseable)",
    "401": "Missing, unknown, revoked or expired token",
    "403": "The token's role or window may not do this",
    "404": "No such ticket, window or resource",
    "409": "Conflicts with the current state",
    "413": "Request body too large",
    "422": "Invalid fields",
    "429": "Rate limited (ticket scalping protection)",
}
PUBLIC = {f"{API}/health", f"{API}/login"}
# A JSON escape of a UTF-16 surrogate (\ud800-\udfff); checked only where one appears.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def install(app: FastAPI, hall: Hall) -> None:
    """Wire every protection into `app` (call after the app's own middleware is added)."""
    sec = hall.config.security
    # Hall time, not wall time: a simulated hall day (hall server --time-scale) keeps the limit
    # per hall minute, as a real kiosk would meet it.
    app.state.issue_bucket = TokenBucket(sec.issue_per_device_per_minute, now=hall.clock.timestamp)
    if sec.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(sec.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        )
    app.add_middleware(
        Guard,
        max_bytes=sec.max_body_kib * 1024,
        max_streams=sec.max_event_streams,
        csp=sec.content_security_policy,
    )

    async def out_of_range(request: Request, exc: Exception) -> Response:
        # A path or query integer beyond SQLite's 64 bits, or text that cannot be stored.
        return error(422, "invalid_request", "请求中的数值或文字超出允许范围")

    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(UnicodeEncodeError, out_of_range)
    _declare_errors_in_openapi(app)


def _send_error(status: int, code: str, message: str, extra: list[tuple[bytes, bytes]]) -> Any:
    body = orjson.dumps({"error": {"code": code, "message": message}})
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class Guard:
    """One ASGI layer for every request (a layer each cost a measurable share of an issue):

    - API bodies are read as JSON whatever Content-Type the client sent (curl -d sends form
      encoding); the API speaks only JSON, so this spares integrators a confusing 422.
    - Bodies over the limit are refused (413) and bodies sent too slowly (408), both as JSON.
      API bodies are small, so the body is read here in full (bounded by size and time) and
      replayed to the app; a slow or oversized upload never reaches a route.
    - At most `max_streams` event streams at once; one more gets 503 with the JSON error.
    - Security headers on every response: nosniff, X-Frame-Options, Referrer-Policy, COOP,
      the CSP (not on the API docs, which load from a CDN), no-store on the API, HSTS on HTTPS.
    """

    # Whole hall configurations (a 300-window city hall's TOML or JSON) go to /admin.
    ADMIN_PREFIX = "/api/v1/admin/"
    ADMIN_MAX_BYTES = 4 * 1024 * 1024

    def __init__(self, app: ASGIApp, max_bytes: int, max_streams: int, csp: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_streams = max_streams
        self.active_streams = 0
        base = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"SAMEORIGIN"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        # The headers each kind of path gets, by (API path, CSP applies, HTTPS).
        self._wanted: dict[tuple[bool, bool, bool], list[tuple[bytes, bytes]]] = {}
        for api in (False, True):
            for with_csp in (False, True):
                for https in (False, True):
                    wanted = list(base)
                    if with_csp and csp:
                        wanted.append((b"content-security-policy", csp.encode()))
                    if api:
                        wanted.append((b"cache-control", b"no-store"))
                    if https:
                        wanted.append((b"strict-transport-security", b"max-age=31536000"))
                    self._wanted[(api, with_csp, https)] = wanted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        api = path.startswith(API)
        wanted = self._wanted[(api, not path.startswith(NO_CSP), scope.get("scheme") == "https")]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in wanted if k not in present]
                message = dict(message, headers=headers)
            await send(message)

        if api:
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            headers.append((b"content-type", b"application/json"))
            scope = dict(scope, headers=headers)
        if path == EVENTS_PATH:
            await self._stream(scope, receive, send_with_headers)
        elif scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send_with_headers)
        else:
            await self._with_body(scope, receive, send_with_headers)

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.active_streams >= self.max_streams:
            start, body = _send_error(
                503,
                "too_many_streams",
                "事件流连接数已达上限，请稍后重试",
                [(b"retry-after", b"5")],
            )
            await send(start)
            await send(body)
            return
        self.active_streams += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active_streams -= 1

    async def _with_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_bytes
        if scope["path"].startswith(self.ADMIN_PREFIX):
            limit = max(limit, self.ADMIN_MAX_BYTES)
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._refuse(send, 413)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        try:
            async with asyncio.timeout(BODY_TIMEOUT_S):
                while more:
                    msg = await receive()
                    if msg["type"] == "http.disconnect":
                        return
                    chunk = msg.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        await self._refuse(send, 413)
                        return
                    chunks.append(chunk)
                    more = msg.get("more_body", False)
        except TimeoutError:
            await self._refuse(send, 408)
            return
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if SURROGATE_ESCAPE.search(body) and _lone_surrogate(body):
            start, reply = _send_error(
                422, "invalid_text", "请求中含有无效的文字（不成对的 Unicode 代理字符）", []
            )
            await send(start)
            await send(reply)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, status: int) -> None:
        if status == 413:
            msg = f"请求体过大（上限 {self.max_bytes // 1024} KiB）"
            start, body = _send_error(413, "too_large", msg, [(b"connection", b"close")])
        else:
            start, body = _send_error(
                408, "request_timeout", "请求发送超时", [(b"connection", b"close")]
            )
        await send(start)
        await send(body)


def _lone_surrogate(body: bytes) -> bool:
    """Whether the JSON body holds a string with a lone surrogate (`"\\ud800"`): valid JSON,
    but no UTF-8 can carry it, so storing or answering with it would fail. Surrogate pairs
    (emoji written as escapes) are fine; a body that is not JSON is left to the route."""
    try:
        orjson.loads(body)  # refuses lone surrogates
        return False
    except orjson.JSONDecodeError:
        pass
    try:
        stdjson.loads(body)  # accepts them
    except (ValueError, RecursionError):
        return False
    return True


def _declare_errors_in_openapi(app: FastAPI) -> None:
    """Make the OpenAPI schema tell the truth: every error is `{"error": {code, message}}`."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        comps = schema.setdefault("components", {})
        comps.setdefault("schemas", {})["Error"] = {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        }
        comps.setdefault("securitySchemes", {})["bearer"] = {"type": "http", "scheme": "bearer"}
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for path, item in schema.get("paths", {}).items():
            if not path.startswith(API):
                continue
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                responses = op.setdefault("responses", {})
                for status, text in ERROR_STATUSES.items():
                    responses[status] = {"description": text, "content": ref}
                if path == EVENTS_PATH:
                    responses["503"] = {"description": "Too many event streams", "content": ref}
                    responses["200"] = {
                        "description": "text/event-stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    }
                op["security"] = [] if path in PUBLIC else [{"bearer": []}]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
