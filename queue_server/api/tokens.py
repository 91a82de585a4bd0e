"""Credential administration: list tokens and sessions, revoke one (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from queue_server.api.common import Who, hall_of, json, require, token_failures
from queue_server.base.db import Tx
from queue_server.base.errors import NotFound

router = APIRouter()
COLUMNS = "id, kind, role, window, name, account_id, created_at, last_used_ts, revoked_at"


@router.get("/tokens")
async def list_tokens(request: Request, who: Who, include_revoked: bool = False) -> Response:
    """Device tokens and login sessions (never the token itself: only its hash is stored)."""
    require(who, "admin")
    sql = f"SELECT {COLUMNS} FROM tokens"
    if not include_revoked:
        sql += " WHERE revoked_at IS NULL"
    rows = hall_of(request).db.rows(sql + " ORDER BY id")
    return json([dict(r) for r in rows])


@router.get("/tokens/failures")
async def list_token_failures(request: Request, who: Who) -> Response:
    """Refused bearer tokens per source address since the server started (most first): a
    source guessing tokens stands out here."""
    require(who, "admin")
    return json(token_failures(request).view())


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(token_id: int, request: Request, who: Who) -> Response:
    """Revoke a device token or end a login session at once; it answers 401 from now on."""
    require(who, "admin")
    hall = hall_of(request)

    def op(tx: Tx) -> dict:
        row = tx.one(f"SELECT {COLUMNS} FROM tokens WHERE id = ?", (token_id,))
        if row is None:
            raise NotFound(f"没有编号为 {token_id} 的令牌", "token_not_found")
        if row["revoked_at"] is None:
            tx.execute("UPDATE tokens SET revoked_at = ? WHERE id = ?", (tx.now_iso, token_id))
        hall.audit(tx, who.actor, "token.revoke", row["name"], token_id=token_id, role=row["role"])
        return dict(tx.one(f"SELECT {COLUMNS} FROM tokens WHERE id = ?", (token_id,)) or {})

    out = await hall.run(op)
    hall.forget_token_ids({token_id})
    return json(out)
