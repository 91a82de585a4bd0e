"""Health, hall info, services, evaluations, device heartbeats and staff login."""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from queue_server import accounts, evaluations
from queue_server.accounts import Principal
from queue_server.api.common import bearer, hall_of, json, principal, require, window_scope
from queue_server.api.models import EvaluationIn, HeartbeatIn, LoginIn
from queue_server.db import Tx
from queue_server.errors import (
    STORAGE_MESSAGE,
    Forbidden,
    Invalid,
    StorageUnavailable,
    Unauthorized,
)

router = APIRouter()
Who = Annotated[Principal, Depends(principal)]
_DUMMY_HASH = accounts._hasher.hash("timing-equaliser-0")


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
        }
    )


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
    for svc in hall.config.services:
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
            }
        )
    return json(out)


@router.post("/evaluations", status_code=201)
async def create_evaluation(body: EvaluationIn, request: Request, who: Who) -> Response:
    """Store a 好差评 rating: five levels, reasons for 差评, one per ticket and channel."""
    require(who, "evaluator", "kiosk", "staff", "admin")
    hall = hall_of(request)
    view = await hall.run(
        lambda tx: evaluations.create(
            hall.ctx, tx, body.ticket_id, body.level, body.reasons, body.comment, body.channel,
            window_scope(who),
        )
    )  # fmt: skip
    return json(view, 201)


@router.get("/evaluations")
async def list_evaluations(
    request: Request, who: Who, day: str | None = None, window: int | None = None, limit: int = 200
) -> Response:
    require(who, "admin", "staff")
    hall = hall_of(request)
    sql = "SELECT * FROM evaluations WHERE business_day = ?"
    params: list[Any] = [day or hall.clock.business_day()]
    if who.role == "staff" and who.window is not None:
        window = who.window
    if window is not None:
        sql += " AND window = ?"
        params.append(window)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(max(1, min(limit, 1000)))
    return json([evaluations.evaluation_view(r) for r in hall.db.rows(sql, params)])


@router.post("/devices/heartbeat")
async def heartbeat(body: HeartbeatIn, request: Request, who: Who) -> Response:
    """A device reports its health (printer paper, reader, camera) and state."""
    hall = hall_of(request)
    health = orjson.dumps(body.health).decode()
    state = orjson.dumps(body.state).decode()

    def op(tx: Tx) -> None:
        before = tx.one("SELECT health FROM device_health WHERE device = ?", (who.name,))
        tx.execute(
            "INSERT INTO device_health (device, role, last_seen, health, state) VALUES (?,?,?,?,?)"
            " ON CONFLICT (device) DO UPDATE SET role = excluded.role,"
            " last_seen = excluded.last_seen, health = excluded.health, state = excluded.state",
            (who.name, who.role, tx.now_iso, health, state),
        )
        if before is None or before["health"] != health:
            tx.emit("device.health", {"device": who.name, "role": who.role, "health": body.health})

    await hall.run(op)
    return json({"status": "ok"})


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
    sec = hall.config.security
    row = hall.db.row("SELECT * FROM accounts WHERE username = ?", (body.username,))
    now = time.time()
    if row is None or row["disabled"]:
        await run_in_threadpool(accounts.verify_password, _DUMMY_HASH, body.password)
        await hall.run(
            lambda tx: hall.audit(tx, body.username[:64], "login", result="unknown_user")
        )
        raise Unauthorized("用户名或密码错误", "bad_credentials")
    if row["locked_until"] and row["locked_until"] > now:
        minutes = int((row["locked_until"] - now) // 60) + 1
        raise Forbidden(f"密码错误次数过多，账号已锁定，请 {minutes} 分钟后再试", "account_locked")
    ok = await run_in_threadpool(accounts.verify_password, row["password_hash"], body.password)
    if not ok:

        def failed(tx: Tx) -> int:
            tx.execute(
                "UPDATE accounts SET failed_logins = failed_logins + 1 WHERE id = ?", (row["id"],)
            )
            n = int(tx.one("SELECT failed_logins FROM accounts WHERE id = ?", (row["id"],))[0])  # type: ignore[index]
            if n >= sec.max_failed_logins:
                tx.execute(
                    "UPDATE accounts SET locked_until = ?, failed_logins = 0 WHERE id = ?",
                    (now + sec.lockout_minutes * 60, row["id"]),
                )
            hall.audit(tx, body.username, "login", result="bad_password", failures=n)
            return n

        n = await hall.run(failed)
        left = sec.max_failed_logins - n
        if left <= 0:
            raise Forbidden(
                f"密码错误次数过多，账号已锁定 {sec.lockout_minutes} 分钟", "account_locked"
            )
        raise Unauthorized(f"用户名或密码错误，还可尝试 {left} 次", "bad_credentials")
    window = body.window if body.window is not None else row["window"]
    if window is not None and not any(w.no == window for w in hall.config.windows):
        raise Invalid(f"没有 {window} 号窗口", "unknown_window")

    def succeeded(tx: Tx) -> str:
        tx.execute(
            "UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = ?", (row["id"],)
        )
        token = accounts.create_token(
            tx, row["role"], row["name"], window, kind="session", account_id=row["id"], now_ts=now
        )
        hall.audit(tx, body.username, "login", str(window or ""))
        return token

    token = await hall.run(succeeded)
    return json(
        {
            "token": token,
            "role": row["role"],
            "window": window,
            "name": row["name"],
            "staff_no": row["staff_no"],
            "idle_minutes": sec.session_idle_minutes,
        }
    )


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
