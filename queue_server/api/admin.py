"""Hall administration API (/api/v1/admin/…) and the /admin page.

Everything here needs an admin token except `POST /devices/pair`, which a new device calls
with its one-time pairing code. Every change goes through the single writer and appends an
audit record (who, when, what, before and after).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from queue_server.admin import accounts, devices, oversight, stats
from queue_server.admin import hall_config as admin_config
from queue_server.admin.accounts import Principal
from queue_server.api.common import Who, app_state, hall_of, json, require, source
from queue_server.base.db import Tx
from queue_server.base.errors import Invalid, NotFound
from queue_server.ratings import evaluations, followup, upload

router = APIRouter()
pages = APIRouter()
RowId = Annotated[int, PathParam(ge=1, le=2**62)]
WEB = Path(__file__).resolve().parent.parent / "web" / "admin"
STATIC = {"admin.css": "text/css"}  # the page's modules are under /web/admin/
_NO_CACHE = {"Cache-Control": "no-cache"}  # an upgraded server serves the new page at once


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConfigIn(Body):
    config: dict[str, Any]
    version: int | None = Field(None, description="The version edited; 409 if it has changed.")


class ImportIn(Body):
    toml: str = Field(max_length=1_000_000)
    apply: bool = Field(False, description="false: only preview the changes")
    version: int | None = None


class AccountIn(Body):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(max_length=256)
    role: Literal["admin", "staff"] = "staff"
    name: str = Field(min_length=1, max_length=64)
    window: int | None = Field(None, ge=1, le=9999)
    staff_no: str = Field("", max_length=32)


class AccountPatch(Body):
    name: str | None = Field(None, min_length=1, max_length=64)
    role: Literal["admin", "staff"] | None = None
    window: int | None = Field(None, ge=0, le=9999, description="0 unbinds the window")
    staff_no: str | None = Field(None, max_length=32)
    disabled: bool | None = None
    password: str | None = Field(None, max_length=256)


class PairingIn(Body):
    role: Literal["kiosk", "display", "evaluator"]
    name: str = Field(min_length=1, max_length=64)
    window: int | None = Field(None, ge=1, le=9999)


class PairIn(Body):
    code: str = Field(min_length=4, max_length=32)


class AssignIn(Body):
    assignee: str = Field("", max_length=64)
    account: str | None = Field(
        None, max_length=64, description="The handler's account (may reveal the phone)."
    )


class FollowupIn(Body):
    result: Literal["satisfied", "unsatisfied", "unreachable"]
    note: str = Field(max_length=1000)


class RectifyIn(Body):
    measures: str = Field(max_length=1000)


class CloseIn(Body):
    conclusion: str = Field(max_length=1000)


def _admin(who: Principal) -> None:
    require(who, "admin")


# -- configuration -------------------------------------------------------------------------


@router.get("/admin/config")
async def get_config(request: Request, who: Who) -> Response:
    """The live hall configuration and its version."""
    _admin(who)
    hall = hall_of(request)
    return json(admin_config.snapshot(hall.ctx, hall.db.reader))


@router.get("/admin/config/schema")
async def config_schema(who: Who) -> Response:
    """The JSON schema of the hall configuration (the models that generate docs/CONFIG.md);
    the admin page builds its configuration forms from it."""
    _admin(who)
    return json(_config_schema())


@functools.cache
def _config_schema() -> dict[str, Any]:
    from queue_server.base.config import HallConfig

    return HallConfig.model_json_schema()


@router.post("/admin/config/preview")
async def preview_config(body: ConfigIn, request: Request, who: Who) -> Response:
    """What would change (a diff), without applying anything."""
    _admin(who)
    hall = hall_of(request)
    new = admin_config.validate(body.config)
    return json({"changes": admin_config.preview(hall.ctx, new)})


@router.put("/admin/config")
async def put_config(body: ConfigIn, request: Request, who: Who) -> Response:
    """Replace the live configuration; applies at once, no restart (event `config.changed`)."""
    _admin(who)
    hall = hall_of(request)
    new = admin_config.validate(body.config)
    return json(await _apply_live(hall, new, who.actor, body.version, "config.update"))


@router.get(
    "/admin/config.toml",
    response_class=Response,
    responses={200: {"content": {"application/toml": {"schema": {"type": "string"}}}}},
)
async def export_toml(request: Request, who: Who) -> Response:
    """The live configuration as a hall TOML file."""
    _admin(who)
    hall = hall_of(request)
    return Response(
        admin_config.to_toml(hall.config),
        media_type="application/toml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="hall.toml"'},
    )


@router.post("/admin/config/import")
async def import_toml(body: ImportIn, request: Request, who: Who) -> Response:
    """Preview (apply=false) or apply (apply=true) a hall TOML file."""
    _admin(who)
    hall = hall_of(request)
    new = admin_config.from_toml(body.toml)
    if not body.apply:
        return json({"applied": False, "changes": admin_config.preview(hall.ctx, new)})
    result = await _apply_live(hall, new, who.actor, body.version, "config.import")
    return json({"applied": True} | result)


async def _apply_live(
    hall: Any, new: Any, actor: str, version: int | None, action: str
) -> dict[str, Any]:
    old = hall.ctx.config
    try:
        return await hall.run(  # type: ignore[no-any-return]
            lambda tx: admin_config.apply(hall.ctx, tx, new, actor, version, action=action)
        )
    except Exception:
        # The operation swaps the configuration last; if the commit itself then failed,
        # the running hall goes back to what the database still holds.
        if hall.ctx.config is not old:  # swapped (possibly for a copy keeping a secret)
            hall.ctx.config = old
        raise


# -- accounts ------------------------------------------------------------------------------


def _account_out(row: Any) -> dict[str, Any]:
    return accounts.admin_view(row, time.time())


@router.get("/admin/accounts")
async def list_accounts(request: Request, who: Who) -> Response:
    _admin(who)
    rows = hall_of(request).db.rows("SELECT * FROM accounts ORDER BY role, username")
    return json([_account_out(r) for r in rows])


def _check_window(request: Request, window: int | None) -> None:
    if window and not any(w.no == window for w in hall_of(request).config.windows):
        raise Invalid(f"没有 {window} 号窗口", "unknown_window")


@router.post("/admin/accounts", status_code=201)
async def create_account(body: AccountIn, request: Request, who: Who) -> Response:
    _admin(who)
    hall = hall_of(request)
    _check_window(request, body.window)

    def op(tx: Tx) -> dict[str, Any]:
        aid = accounts.create_account(
            tx, body.username, body.password, body.role, body.name, body.window, body.staff_no
        )
        hall.audit(
            tx,
            who.actor,
            "account.create",
            body.username,
            after=accounts.audit_fields(body.model_dump()),
        )
        return _account_out(tx.one("SELECT * FROM accounts WHERE id = ?", (aid,)))

    return json(await hall.run(op), 201)


@router.patch("/admin/accounts/{account_id}")
async def update_account(
    account_id: RowId, body: AccountPatch, request: Request, who: Who
) -> Response:
    """Change a staff member's name, role, window (assign a window), number, or lock them out."""
    _admin(who)
    change = accounts.AccountChange(**body.model_dump())
    return json(await accounts.update_account(hall_of(request), account_id, change, who.actor))


# -- devices -------------------------------------------------------------------------------


@router.get("/admin/devices")
async def list_devices(request: Request, who: Who) -> Response:
    """Registered devices with their last heartbeat and health ("kiosk-2: paper near end")."""
    _admin(who)
    hall = hall_of(request)
    return json(devices.list_devices(hall.db.reader, hall.clock.timestamp()))


@router.post("/admin/devices/pairing-codes", status_code=201)
async def create_pairing_code(body: PairingIn, request: Request, who: Who) -> Response:
    """A one-time code (10 minutes) that a new device exchanges for its token."""
    _admin(who)
    hall = hall_of(request)
    _check_window(request, body.window)

    def op(tx: Tx) -> dict[str, Any]:
        out = devices.create_code(tx, body.role, body.window, body.name, who.actor, time.time())
        hall.audit(
            tx, who.actor, "device.pairing_code", body.name, role=body.role, window=body.window
        )
        return out

    return json(await hall.run(op), 201)


@router.delete("/admin/devices/{token_id}")
async def revoke_device(token_id: RowId, request: Request, who: Who) -> Response:
    _admin(who)
    hall = hall_of(request)

    def op(tx: Tx) -> str:
        name = devices.revoke(tx, token_id)
        hall.audit(tx, who.actor, "device.revoke", name)
        return name

    name = await hall.run(op)
    hall.forget_token_ids({token_id})
    return json({"status": "revoked", "name": name})


@router.post("/devices/pair")
async def pair_device(body: PairIn, request: Request) -> Response:
    """A new device exchanges its one-time pairing code for its token (no token needed).
    Failed codes are limited per source address (429), never for every device at once."""
    hall = hall_of(request)
    guard = app_state(request, "pairing_guard", lambda: devices.PairingGuard(time.monotonic))
    where = source(request)
    guard.check(where)
    now = time.time()

    def op(tx: Tx) -> dict[str, Any]:
        out = devices.redeem(tx, body.code, now)
        hall.audit(tx, "device:" + out["name"], "device.pair", out["name"], role=out["role"])
        return out

    try:
        return json(await hall.run(op))
    except Exception:
        guard.failed(where)
        raise


# -- 好差评: ratings, follow-up cases, upload ------------------------------------------------


@router.get("/admin/evaluations")
async def browse_evaluations(
    request: Request,
    who: Who,
    day_from: str | None = None,
    day_to: str | None = None,
    service: str | None = None,
    window: Annotated[int | None, Query(ge=1, le=9999)] = None,
    staff: str | None = None,
    level: Annotated[int | None, Query(ge=1, le=5)] = None,
    channel: str | None = None,
    bad: bool = False,
    limit: int = 500,
) -> Response:
    """Ratings filtered by day range, service, window, staff, level, channel (bad: level ≤ 2)."""
    _admin(who)
    hall = hall_of(request)
    today = hall.clock.business_day()
    lo, hi = _days(day_from or today, day_to or day_from or today)
    sql = (
        "SELECT e.*, c.id AS case_id, c.status AS case_status FROM evaluations e"
        " LEFT JOIN followup_cases c ON c.evaluation_id = e.id"
        " WHERE e.business_day BETWEEN ? AND ?"
    )
    params: list[Any] = [lo, hi]
    for col, value in (("service", service), ("window", window), ("staff", staff),
                       ("level", level), ("channel", channel)):  # fmt: skip
        if value not in (None, ""):
            sql += f" AND e.{col} = ?"
            params.append(value)
    if bad:
        sql += " AND e.level <= 2"
    sql += " ORDER BY e.id DESC LIMIT ?"
    params.append(max(1, min(limit, 5000)))
    out = []
    reasons = hall.config.ratings.domain()
    for r in hall.db.rows(sql, params):
        v = evaluations.evaluation_view(r, reasons, hall.ctx)
        v["case_id"] = r["case_id"]
        v["case_status"] = r["case_status"]
        v["excluded"] = bool(r["excluded_at"])  # an upheld appeal: not counted in 好评率
        out.append(v)
    return json(out)


@router.get("/admin/cases")
async def list_cases(
    request: Request, who: Who, status: str | None = None, overdue: bool = False
) -> Response:
    """差评 follow-up cases; status=active for the ones not closed; overdue=true to filter."""
    _admin(who)
    hall = hall_of(request)
    return json(followup.list_cases(hall.ctx, hall.db.reader, status, overdue))


@router.get("/admin/cases/{case_id}")
async def get_case(case_id: RowId, request: Request, who: Who) -> Response:
    _admin(who)
    hall = hall_of(request)
    return json(followup.get(hall.ctx, hall.db.reader, case_id))


async def _case_step(request: Request, who: Principal, step: Any) -> Response:
    """One step of a 差评 case's workflow, by an administrator, as one operation."""
    _admin(who)
    hall = hall_of(request)
    return json(await hall.run(lambda tx: step(hall.ctx, tx)))


@router.post("/admin/cases/{case_id}/assign")
async def assign_case(case_id: RowId, body: AssignIn, request: Request, who: Who) -> Response:
    """Assign the follow-up call (回访) to someone."""
    return await _case_step(
        request,
        who,
        lambda c, tx: followup.assign(c, tx, case_id, body.assignee, who.actor, body.account),
    )


@router.post("/admin/cases/{case_id}/followup")
async def record_followup(case_id: RowId, body: FollowupIn, request: Request, who: Who) -> Response:
    """Record the follow-up call (回访)."""
    return await _case_step(
        request,
        who,
        lambda c, tx: followup.record_followup(c, tx, case_id, body.result, body.note, who.actor),
    )


@router.post("/admin/cases/{case_id}/rectify")
async def record_rectification(
    case_id: RowId, body: RectifyIn, request: Request, who: Who
) -> Response:
    """Record the rectification (整改)."""
    return await _case_step(
        request,
        who,
        lambda c, tx: followup.record_rectification(c, tx, case_id, body.measures, who.actor),
    )


@router.post("/admin/cases/{case_id}/close")
async def close_case(case_id: RowId, body: CloseIn, request: Request, who: Who) -> Response:
    """Close a case (409 without a follow-up record)."""
    return await _case_step(
        request, who, lambda c, tx: followup.close(c, tx, case_id, body.conclusion, who.actor)
    )


@router.get("/admin/uploads")
async def list_uploads(
    request: Request, who: Who, status: str | None = None, limit: int = 200
) -> Response:
    """The provincial upload queue: counts and the latest records."""
    _admin(who)
    hall = hall_of(request)
    conn = hall.db.reader
    return json(
        {
            "endpoint": hall.config.upload.endpoint,
            "summary": upload.summary(conn),
            "records": upload.list_records(conn, status, max(1, min(limit, 1000))),
        }
    )


@router.post("/admin/uploads/retry")
async def retry_uploads(request: Request, who: Who) -> Response:
    """Try every pending record again now instead of waiting for its backoff."""
    _admin(who)
    hall = hall_of(request)

    def op(tx: Tx) -> int:
        n = upload.retry_now(tx)
        hall.audit(tx, who.actor, "upload.retry", "", count=n)
        return n

    n = await hall.run(op)
    sent, failed = await upload.process_once(hall)
    return json({"rescheduled": n, "sent": sent, "failed": failed})


# -- 效能监察 -------------------------------------------------------------------------------


@router.get("/admin/floor")
async def live_floor(request: Request, who: Who) -> Response:
    """Every window's state, every service's queue, and alerts (suggest a tidal window)."""
    _admin(who)
    hall = hall_of(request)
    return json(oversight.floor(hall.ctx, hall.db.reader))


def _days(day_from: str, day_to: str) -> tuple[str, str]:
    try:
        lo, hi = date.fromisoformat(day_from), date.fromisoformat(day_to)
    except ValueError:
        raise Invalid("日期格式应为 YYYY-MM-DD", "invalid_date") from None
    if hi < lo:
        lo, hi = hi, lo
    if (hi - lo).days > 366:
        raise Invalid("统计区间不能超过一年", "range_too_long")
    return lo.isoformat(), hi.isoformat()


@dataclass
class ReportQuery:
    """The query parameters of a report: a range of business days and how rows are grouped."""

    day_from: str | None = None
    day_to: str | None = None
    by: str = "hour"


Report = Annotated[ReportQuery, Depends()]


def _report(request: Request, q: ReportQuery) -> Any:
    day_from, day_to, by = q.day_from, q.day_to, q.by
    if by not in stats.DIMENSIONS:
        raise Invalid(f"by 应为 {', '.join(stats.DIMENSIONS)}", "invalid_dimension")
    hall = hall_of(request)
    today = hall.clock.business_day()
    lo, hi = _days(day_from or today, day_to or day_from or today)
    hist = stats.load_history(hall.db.reader, lo, hi)
    cfg = hall.config
    departments = stats.department_lookup(cfg.services, cfg.windows)
    rows = stats.report(hist, by, cfg.ratings.domain(), departments)
    names = {s.code: s.name for s in cfg.services}
    for row in rows:
        if by == "department" and row["key"] != "合计":
            row["label"] = row["key"] or "未设部门"
        elif by == "service":
            row["label"] = names.get(row["key"], row["key"])
        elif by == "window" and row["key"] != "合计":
            row["label"] = f"{row['key']} 号窗口"
        elif by == "hour" and row["key"] != "合计":
            row["label"] = f"{row['key']}:00"
        else:
            row["label"] = str(row["key"])
    return lo, hi, hist, rows


@router.get("/admin/reports")
async def reports(request: Request, who: Who, q: Report) -> Response:
    """Tickets, waits, service times, no-shows, transfers, satisfaction and the offline
    indicators (整体满意度, 服务效率, 服务水平, 服务态度) from the event history, by day, hour,
    service, window, staff or department; every rate also as the text shown (`<rate>_pct`)."""
    _admin(who)
    lo, hi, hist, rows = _report(request, q)
    return json({"day_from": lo, "day_to": hi, "by": q.by, "events": hist.events, "rows": rows})


@router.get(
    "/admin/reports.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def reports_csv(request: Request, who: Who, q: Report) -> Response:
    _admin(who)
    by = q.by
    lo, hi, _hist, rows = _report(request, q)
    labels = {
        "day": "日期", "hour": "时段", "service": "事项", "window": "窗口", "staff": "人员",
        "department": "部门",
    }  # fmt: skip
    for row in rows:
        row["key"] = row["label"]
    return Response(
        stats.to_csv(rows, labels[by]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="report-{by}-{lo}-{hi}.csv"'},
    )


# -- audit ---------------------------------------------------------------------------------


@router.get("/admin/audit")
async def audit_log(
    request: Request, who: Who, action: str | None = None, limit: int = 200
) -> Response:
    """The latest audit records (who, when, what, result, detail)."""
    _admin(who)
    import orjson

    sql = "SELECT id, ts, actor, action, target, result, detail FROM audit_log"
    params: list[Any] = []
    if action:
        sql += " WHERE action LIKE ?"
        params.append(action.replace("%", "") + "%")
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(max(1, min(limit, 2000)))
    rows = hall_of(request).db.rows(sql, params)
    return json([dict(r) | {"detail": orjson.loads(r["detail"])} for r in rows])


# -- the page ------------------------------------------------------------------------------


@pages.get("/admin", include_in_schema=False)
async def admin_page() -> Response:
    return FileResponse(
        WEB / "index.html", media_type="text/html; charset=utf-8", headers=_NO_CACHE
    )


@pages.get("/admin/static/{name}", include_in_schema=False)
async def admin_static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound("没有这个文件", "not_found")
    return FileResponse(WEB / name, media_type=f"{STATIC[name]}; charset=utf-8", headers=_NO_CACHE)
