"""Staff sessions: login, logout, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from queue_server.admin import accounts
from queue_server.api.common import Who, bearer, hall_of, json
from queue_server.api.models import LoginIn

router = APIRouter()


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
