"""Shared pieces of the HTTP layer: JSON responses, authentication, role checks, errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from queue_server.admin.accounts import Principal, TokenFailures
from queue_server.base.errors import Forbidden, HallError, Unauthorized
from queue_server.runtime.hall import Hall

log = logging.getLogger("hall.api")
T = TypeVar("T")


def json(obj: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(obj), status_code=status, media_type="application/json")


def error(status: int, code: str, message: str) -> Response:
    return json({"error": {"code": code, "message": message}}, status)


def hall_of(request: Request) -> Hall:
    return request.app.state.hall  # type: ignore[no-any-return]


def bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return request.query_params.get("access_token") or None


async def principal(request: Request) -> Principal:
    """Dependency: the caller's credential (401 when missing, unknown or revoked).

    `async` on purpose: FastAPI runs a plain `def` dependency in a worker thread, and that
    hop on every request cost more than the lookup (an in-memory cache, else one indexed read).
    """
    token = bearer(request)
    try:
        return hall_of(request).authenticate(token)
    except Unauthorized:
        if token:  # a token was presented and refused: count it for the administrator
            at = hall_of(request).clock.iso(time.time())
            token_failures(request).record(source(request), at)
        raise


#: A route parameter: the authenticated caller (401 without a valid token).
Who = Annotated[Principal, Depends(principal)]


def app_state(request: Request, name: str, make: Callable[[], T]) -> T:
    """A per-app object kept in `app.state` (rate limits, counters), made on first use."""
    state = request.app.state
    obj = getattr(state, name, None)
    if obj is None:
        obj = make()
        setattr(state, name, obj)
    return obj  # type: ignore[no-any-return]


def token_failures(request: Request) -> TokenFailures:
    """The app's count of refused tokens per source."""
    return app_state(request, "token_failures", TokenFailures)


def source(request: Request) -> str:
    """The client's address (what per-source limits count)."""
    return request.client.host if request.client else "unknown"


def require(p: Principal, *roles: str, window: int | None = None) -> None:
    """403 unless the caller has one of `roles` (and, for a window-bound token, that window)."""
    if p.role not in roles:
        raise Forbidden(f"当前账号（{p.role}）无权执行此操作", "role_not_allowed")
    if window is not None and p.role in ("staff", "evaluator") and p.window not in (None, window):
        raise Forbidden(f"当前账号只能操作 {p.window} 号窗口", "other_window")


def window_scope(p: Principal) -> int | None:
    """The window a staff or evaluator token is bound to (None: any window)."""
    return p.window if p.role in ("staff", "evaluator") else None


_VALIDATION_MESSAGES = {
    "json_invalid": "请求体不是有效的 JSON",
    "missing": "缺少必填字段",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HallError)
    async def _hall_error(request: Request, exc: HallError) -> Response:
        return error(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errs = exc.errors()
        first = errs[0] if errs else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        kind = str(first.get("type", "invalid"))
        text = _VALIDATION_MESSAGES.get(kind, str(first.get("msg", "请求字段无效")))
        return error(422, "invalid_request", f"{where}: {text}" if where else text)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        return error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error(500, "internal_error", "服务器内部错误，请联系管理员")
