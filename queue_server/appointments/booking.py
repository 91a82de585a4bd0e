"""Appointments (预约): slots, booking, cancelling, CSV import, check-in and no-show rules.

Rules come from docs/DOMAIN.md ("Appointments and no-shows"): bookings are made in slots of
the service's opening hours; on arrival the citizen checks in at a kiosk (ID card or the
booking's QR code) and gets a ticket of the `appointment` class. No-show rules are local
(Quanzhou: 2 no-shows or 5 cancellations a month block booking, more than 3 bookings of one
service a day are refused, a warning after the first), so every number is in
`[appointments]` of the hall TOML.

Personal data: only the keyed ID hash (`ctx.id_hash`) and masked forms are stored. A phone
number given for "your turn is near" messages is kept only until the booking ends (checked in,
cancelled or missed) and moves to `ticket_contacts` until the message is sent.

The booking's QR code reads `HALLAPPT:1:<booking id>:<check code>`; the check code is random
(48 bits), so a code cannot be guessed from a booking id.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from halldomain.idnumber import IdNumberError, mask_name, parse_id_number
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, HallError, Invalid, NotFound
from queue_server.core.context import HallContext
from queue_server.core.phones import check_phone, mask_phone
from queue_server.core.tickets import IssueRequest, get_row, issue

QR_PREFIX = "HALLAPPT"
QR_VERSION = "1"
_QR = re.compile(r"^HALLAPPT:1:(\d{1,12}):([A-Za-z0-9_-]{6,32})$")
HELD = ("booked", "checked_in", "no_show")  # bookings that take a place in their slot


# -- small helpers ------------------------------------------------------------------------------


def qr_content(appt_id: int, check_code: str) -> str:
    return f"{QR_PREFIX}:{QR_VERSION}:{appt_id}:{check_code}"


def parse_qr(text: str) -> tuple[int, str]:
    m = _QR.match((text or "").strip())
    if not m:
        raise Invalid("无法识别的预约二维码", "invalid_qr")
    return int(m.group(1)), m.group(2)


def _hm(ts: float, ctx: HallContext) -> str:
    return datetime.fromtimestamp(ts, ctx.clock.zone).strftime("%H:%M")


# -- slots --------------------------------------------------------------------------------------


def bookable(ctx: HallContext, service: str) -> int:
    """Slot capacity of a service (0: not bookable)."""
    cfg = ctx.config.appointments
    ctx.service(service)
    if not cfg.enabled or (cfg.services and service not in cfg.services):
        return 0
    return cfg.capacity.get(service, cfg.capacity_per_slot)


def day_slots(ctx: HallContext, service: str, day: date) -> list[tuple[float, float]]:
    """(start, end) timestamps of the slots of one service on one day, in opening hours."""
    cfg = ctx.config.appointments
    if day.isoweekday() not in cfg.weekdays or day.isoformat() in cfg.closed_dates:
        return []
    out: list[tuple[float, float]] = []
    zone = ctx.clock.zone
    for span in ctx.service(service).hours:
        start = datetime.combine(day, time.fromisoformat(span[:5]), zone)
        end_hm = span[6:]
        end = (
            datetime.combine(day + timedelta(days=1), time(0, 0), zone)
            if end_hm == "24:00"
            else datetime.combine(day, time.fromisoformat(end_hm), zone)
        )
        t = start
        step = timedelta(minutes=cfg.slot_minutes)
        while t < end:
            slot_end = min(t + step, end)
            if (slot_end - t) >= min(step, timedelta(minutes=15)):
                out.append((t.timestamp(), slot_end.timestamp()))
            t += step
    return out


def slot_views(
    ctx: HallContext, conn: sqlite3.Connection, service: str, day: date
) -> list[dict[str, Any]]:
    cap = bookable(ctx, service)
    now = ctx.clock.timestamp()
    out = []
    for start, end in day_slots(ctx, service, day):
        booked = _booked(conn, service, start)
        out.append(
            {
                "service": service,
                "start": ctx.clock.iso(start),
                "end": ctx.clock.iso(end),
                "capacity": cap,
                "booked": booked,
                "available": max(0, cap - booked) if start > now else 0,
            }
        )
    return out


def _booked(conn: sqlite3.Connection, service: str, start_ts: float) -> int:
    marks = ",".join("?" * len(HELD))
    return int(
        conn.execute(
            f"SELECT COUNT(*) FROM appointments WHERE service = ? AND slot_start_ts = ?"
            f" AND status IN ({marks})",
            (service, start_ts, *HELD),
        ).fetchone()[0]
    )


# -- the person's standing: no-shows, cancellations, blocks -------------------------------------


@dataclass
class Standing:
    no_shows: int = 0
    cancellations: int = 0
    blocked_until: float | None = None
    block_reason: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_dict(self, ctx: HallContext) -> dict[str, Any]:
        return {
            "no_shows": self.no_shows,
            "cancellations": self.cancellations,
            "blocked": self.blocked_until is not None,
            "blocked_until": ctx.clock.iso(self.blocked_until) if self.blocked_until else None,
            "block_reason": self.block_reason,
            "warnings": self.warnings,
        }


def _block(times: list[float], limit: int, window_s: float, block_s: float, now: float) -> float:
    """The end of a block caused by `limit` events within `window_s`, or 0 when none applies."""
    until = 0.0
    for i in range(limit - 1, len(times)):
        if times[i] - times[i - limit + 1] <= window_s:
            until = max(until, times[i] + block_s)
    return until if until > now else 0.0


def standing(ctx: HallContext, conn: sqlite3.Connection, id_hash: str) -> Standing:
    cfg = ctx.config.appointments
    now = ctx.clock.timestamp()
    window_s = cfg.window_days * 86400.0
    since = now - window_s - cfg.block_days * 86400.0
    no_shows = [
        r[0]
        for r in conn.execute(
            "SELECT slot_end_ts FROM appointments WHERE id_hash = ? AND status = 'no_show'"
            " AND slot_end_ts >= ? ORDER BY slot_end_ts",
            (id_hash, since),
        )
    ]
    cancels = [
        r[0]
        for r in conn.execute(
            "SELECT cancelled_ts FROM appointments WHERE id_hash = ? AND status = 'cancelled'"
            " AND cancelled_ts >= ? ORDER BY cancelled_ts",
            (id_hash, since),
        )
    ]
    st = Standing(
        no_shows=sum(1 for t in no_shows if t >= now - window_s),
        cancellations=sum(1 for t in cancels if t >= now - window_s),
    )
    block_s = cfg.block_days * 86400.0
    by_noshow = _block(no_shows, cfg.noshow_limit, window_s, block_s, now)
    by_cancel = _block(cancels, cfg.cancel_limit, window_s, block_s, now)
    if by_noshow or by_cancel:
        st.blocked_until = max(by_noshow, by_cancel)
        st.block_reason = (
            f"{cfg.window_days} 天内爽约 {cfg.noshow_limit} 次"
            if by_noshow >= by_cancel
            else f"{cfg.window_days} 天内取消预约 {cfg.cancel_limit} 次"
        )
    if st.no_shows >= cfg.warn_after:
        st.warnings.append(
            f"您近 {cfg.window_days} 天内已爽约 {st.no_shows} 次；累计 {cfg.noshow_limit} 次将暂停预约"
            f" {cfg.block_days} 天。"
        )
    if st.cancellations >= cfg.warn_after:
        st.warnings.append(
            f"您近 {cfg.window_days} 天内已取消预约 {st.cancellations} 次；累计 {cfg.cancel_limit}"
            f" 次将暂停预约 {cfg.block_days} 天。"
        )
    return st


def sweep_no_shows(ctx: HallContext, tx: Tx) -> int:
    """Mark bookings whose slot has ended without a check-in as no-shows (爽约)."""
    now = ctx.clock.timestamp()
    rows = tx.execute(
        "SELECT * FROM appointments WHERE status = 'booked' AND slot_end_ts <= ?", (now,)
    ).fetchall()
    for r in rows:
        tx.execute(
            "UPDATE appointments SET status = 'no_show', phone = NULL WHERE id = ?", (r["id"],)
        )
        tx.emit("appointment.no_show", appointment_view(ctx, get_appointment(tx.conn, r["id"])))
    # Personal data is kept as long as the rules look back, and no less than the hall's
    # retention; then the booking stays only as a count (hash and masks erased).
    cfg = ctx.config.appointments
    keep_days = max(ctx.config.security.retention_days, cfg.window_days + cfg.block_days)
    tx.execute(
        "UPDATE appointments SET id_hash = '', id_masked = '', name_masked = NULL, phone = NULL,"
        " phone_masked = NULL WHERE slot_end_ts < ? AND id_hash <> ''",
        (now - keep_days * 86400.0,),
    )
    return len(rows)


# -- views ---------------------------------------------------------------------------------------


def get_appointment(conn: sqlite3.Connection, appt_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM appointments WHERE id = ?", (appt_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {appt_id} 的预约", "appointment_not_found")
    return row


def appointment_view(ctx: HallContext, row: sqlite3.Row, with_code: bool = False) -> dict[str, Any]:
    svc = ctx.config.service(row["service"])
    view = {
        "id": row["id"],
        "service": row["service"],
        "service_name": svc.name if svc else row["service"],
        "slot_start": ctx.clock.iso(row["slot_start_ts"]),
        "slot_end": ctx.clock.iso(row["slot_end_ts"]),
        "status": row["status"],
        "id_masked": row["id_masked"],
        "name_masked": row["name_masked"],
        "phone_masked": row["phone_masked"],
        "source": row["source"],
        "external_ref": row["external_ref"],
        "created_at": row["created_at"],
        "checked_in_at": ctx.clock.iso(row["checked_in_ts"]) if row["checked_in_ts"] else None,
        "cancelled_at": ctx.clock.iso(row["cancelled_ts"]) if row["cancelled_ts"] else None,
        "ticket_id": row["ticket_id"],
        "late": bool(row["late"]),
    }
    if with_code:
        view["qr"] = qr_content(row["id"], row["check_code"])
    return view


# -- booking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookRequest:
    service: str
    slot_start: str
    id_number: str
    name: str | None = None
    phone: str | None = None
    external_ref: str | None = None
    source: str = "api"


def _parse_slot(ctx: HallContext, service: str, text: str) -> tuple[float, float]:
    try:
        start = ctx.clock.parse_iso(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise Invalid(f"预约时段时间无效：{text}", "invalid_slot") from None
    day = datetime.fromtimestamp(start, ctx.clock.zone).date()
    for s, e in day_slots(ctx, service, day):
        if abs(s - start) < 1:
            return s, e
    raise Invalid(f"{text} 不是“{ctx.service(service).name}”的预约时段", "invalid_slot")


def book(ctx: HallContext, tx: Tx, req: BookRequest) -> tuple[dict[str, Any], bool]:
    """Book a slot; returns (booking with its QR content and warnings, created)."""
    cfg = ctx.config.appointments
    if req.external_ref:
        old = tx.one("SELECT * FROM appointments WHERE external_ref = ?", (req.external_ref,))
        if old is not None:
            return appointment_view(ctx, old, with_code=True) | {"warnings": []}, False
    svc = ctx.service(req.service)
    cap = bookable(ctx, svc.code)
    if cap <= 0:
        raise Conflict(f"“{svc.name}”不接受预约", "not_bookable")
    try:
        idn = parse_id_number(req.id_number)
    except IdNumberError as err:
        raise Invalid(err.message, err.code) from None
    phone = check_phone(req.phone)
    start, end = _parse_slot(ctx, svc.code, req.slot_start)
    now = ctx.clock.timestamp()
    today = datetime.fromtimestamp(now, ctx.clock.zone).date()
    slot_day = datetime.fromtimestamp(start, ctx.clock.zone).date()
    if start <= now:
        raise Conflict("该时段已开始或已过去，请选择其他时段", "slot_past")
    if (slot_day - today).days > cfg.days_ahead:
        raise Conflict(f"最多可预约 {cfg.days_ahead} 天内的时段", "too_far_ahead")
    sweep_no_shows(ctx, tx)
    id_hash = ctx.id_hash(idn.value)
    st = standing(ctx, tx.conn, id_hash)
    if st.blocked_until is not None:
        until = datetime.fromtimestamp(st.blocked_until, ctx.clock.zone).strftime("%Y-%m-%d")
        raise Conflict(f"因{st.block_reason}，{until} 前暂停预约", "booking_blocked")
    mine = tx.execute(
        "SELECT slot_start_ts FROM appointments WHERE id_hash = ? AND service = ? AND slot_day = ?"
        " AND status IN ('booked', 'checked_in')",
        (id_hash, svc.code, slot_day.isoformat()),
    ).fetchall()
    if any(abs(r[0] - start) < 1 for r in mine):
        raise Conflict("您已预约该时段", "duplicate_booking")
    if len(mine) >= cfg.max_per_service_day:
        raise Conflict(f"同一事项每天最多预约 {cfg.max_per_service_day} 次", "too_many_bookings")
    if _booked(tx.conn, svc.code, start) >= cap:
        raise Conflict("该时段已约满，请选择其他时段", "slot_full")
    code = secrets.token_urlsafe(6)
    cur = tx.execute(
        "INSERT INTO appointments (service, slot_day, slot_start_ts, slot_end_ts, status, id_hash,"
        " id_masked, name_masked, phone, phone_masked, check_code, source, external_ref,"
        " created_at, created_ts) VALUES (?,?,?,?,'booked',?,?,?,?,?,?,?,?,?,?)",
        (
            svc.code, slot_day.isoformat(), start, end, id_hash, idn.masked,
            mask_name(req.name or "") or None, phone, mask_phone(phone) if phone else None,
            code, req.source, req.external_ref, ctx.clock.iso(now), now,
        ),
    )  # fmt: skip
    view = appointment_view(ctx, get_appointment(tx.conn, int(cur.lastrowid or 0)))
    tx.emit("appointment.booked", view)
    return view | {"qr": qr_content(view["id"], code), "warnings": st.warnings}, True


def cancel(ctx: HallContext, tx: Tx, appt_id: int) -> dict[str, Any]:
    row = get_appointment(tx.conn, appt_id)
    if row["status"] != "booked":
        raise Conflict("该预约已签到、已取消或已过期，不能取消", "not_cancellable")
    now = ctx.clock.timestamp()
    tx.execute(
        "UPDATE appointments SET status = 'cancelled', cancelled_ts = ?, phone = NULL WHERE id = ?",
        (now, appt_id),
    )
    view = appointment_view(ctx, get_appointment(tx.conn, appt_id))
    tx.emit("appointment.cancelled", view)
    st = standing(ctx, tx.conn, row["id_hash"])
    return view | {"warnings": st.warnings}


def list_appointments(
    ctx: HallContext,
    conn: sqlite3.Connection,
    day: str | None = None,
    service: str | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    sql = "SELECT * FROM appointments WHERE slot_day = ?"
    params: list[Any] = [day or ctx.clock.business_day()]
    if service:
        sql += " AND service = ?"
        params.append(service)
    if status:
        sql += " AND status = ?"
        params.append(status)
    sql += " ORDER BY slot_start_ts, id LIMIT ?"
    params.append(max(1, min(limit, 5000)))
    return [appointment_view(ctx, r) for r in conn.execute(sql, params).fetchall()]


# -- check-in ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInRequest:
    id_number: str | None = None
    name: str | None = None
    qr: str | None = None
    service: str | None = None
    phone: str | None = None
    device: str = ""


def _find_for_checkin(ctx: HallContext, tx: Tx, req: CheckInRequest) -> sqlite3.Row:
    if req.qr:
        appt_id, code = parse_qr(req.qr)
        row = tx.one("SELECT * FROM appointments WHERE id = ?", (appt_id,))
        if row is None or not secrets.compare_digest(row["check_code"], code):
            raise NotFound("没有找到该预约，请核对二维码或使用身份证签到", "appointment_not_found")
        return row
    if not req.id_number:
        raise Invalid("请刷身份证或扫描预约二维码签到", "checkin_credential_required")
    try:
        idn = parse_id_number(req.id_number)
    except IdNumberError as err:
        raise Invalid(err.message, err.code) from None
    sql = "SELECT * FROM appointments WHERE id_hash = ? AND slot_day = ?"
    params: list[Any] = [ctx.id_hash(idn.value), ctx.clock.business_day()]
    if req.service:
        sql += " AND service = ?"
        params.append(req.service)
    rows = tx.execute(sql + " ORDER BY slot_start_ts, id", params).fetchall()
    if not rows:
        raise NotFound("您今天没有预约，请直接取号", "no_appointment_today")
    # Prefer a booking that can be checked in now, then the earliest one still to come.
    now = ctx.clock.timestamp()
    early = ctx.config.appointments.early_checkin_minutes * 60
    for r in rows:
        if r["status"] == "booked" and r["slot_start_ts"] - early <= now < r["slot_end_ts"]:
            return r
    for r in rows:
        if r["status"] == "booked" and now < r["slot_end_ts"]:
            return r
    for r in rows:
        if r["status"] == "checked_in":
            return r
    return rows[-1]


def check_in(ctx: HallContext, tx: Tx, req: CheckInRequest) -> tuple[dict[str, Any], bool]:
    """Exchange today's booking for a ticket; returns ({appointment, ticket, ...}, created).

    On time (from `early_checkin_minutes` before the slot to `late_grace_minutes` after its
    start) the ticket has the appointment class; later, until the slot ends, an ordinary one.
    Earlier arrivals get no ticket yet: 409 `too_early`, with the time to come back.
    """
    cfg = ctx.config.appointments
    if not cfg.enabled:
        raise Conflict("本大厅未开通预约", "appointments_disabled")
    phone = check_phone(req.phone)
    sweep_no_shows(ctx, tx)
    row = _find_for_checkin(ctx, tx, req)
    svc = ctx.service(row["service"])
    if row["status"] == "checked_in" and row["ticket_id"]:
        ticket = ctx.ticket_view(tx.conn, get_row(tx.conn, row["ticket_id"]))
        view = appointment_view(ctx, row)
        return {
            "appointment": view,
            "ticket": ticket,
            "late": view["late"],
            "message": f"您已签到，号码 {ticket['number']}",
        }, False
    if row["status"] == "cancelled":
        raise Conflict("该预约已取消，请直接取号", "appointment_cancelled")
    if row["status"] == "no_show":
        raise Conflict("预约时段已过，请直接取号", "appointment_missed")
    now = ctx.clock.timestamp()
    today = ctx.clock.business_day(now)
    if row["slot_day"] != today:
        raise Conflict(f"您预约的是 {row['slot_day']}，请当天前来签到", "not_today")
    opens = row["slot_start_ts"] - cfg.early_checkin_minutes * 60
    if now < opens:
        raise Conflict(
            f"您预约的时段是 {_hm(row['slot_start_ts'], ctx)}–{_hm(row['slot_end_ts'], ctx)}，"
            f"请于 {_hm(opens, ctx)} 后再来签到",
            "too_early",
        )
    late = now > row["slot_start_ts"] + cfg.late_grace_minutes * 60
    if req.qr:
        # No ID card read: the booking holds the hash. Enforce one active ticket per service.
        dup = tx.one(
            "SELECT number FROM tickets WHERE id_hash = ? AND service = ?"
            " AND status IN ('waiting', 'called') AND business_day = ?",
            (row["id_hash"], svc.code, today),
        )
        if dup is not None:
            raise Conflict(
                f"您已有“{svc.name}”的有效号票 {dup['number']}，请勿重复取号",
                "duplicate_active_ticket",
            )
    issue_req = IssueRequest(
        service=svc.code,
        # Late arrivals queue like walk-ins (the elderly class still applies to them).
        channel="kiosk" if late else "appointment",
        idempotency_key=f"appointment-{row['id']}",
        id_number=None if req.qr else req.id_number,
        name=req.name,
        device=req.device,
        id_hash=row["id_hash"] if req.qr else None,
        id_masked=row["id_masked"],
        name_masked=row["name_masked"],
    )
    ticket, _created = issue(ctx, tx, issue_req)
    # Keep a phone only where a message will be sent; otherwise it is erased here and now.
    contact = (phone or row["phone"]) if ctx.config.notify.webhook_url else None
    tx.execute(
        "UPDATE appointments SET status = 'checked_in', checked_in_ts = ?, ticket_id = ?,"
        " late = ?, phone = NULL WHERE id = ?",
        (now, ticket["id"], int(late), row["id"]),
    )
    if contact:
        tx.execute(
            "INSERT OR REPLACE INTO ticket_contacts (ticket_id, phone, phone_masked)"
            " VALUES (?, ?, ?)",
            (ticket["id"], contact, mask_phone(contact)),
        )
    view = appointment_view(ctx, get_appointment(tx.conn, row["id"]))
    tx.emit("appointment.checked_in", view)
    message = (
        f"签到成功，号码 {ticket['number']}（预约优先）"
        if not late
        else f"您已超过预约时段 {cfg.late_grace_minutes} 分钟，按普通号排队：{ticket['number']}"
    )
    return {
        "appointment": view,
        "ticket": ticket,
        "late": late,
        "message": message,
        "notify_phone_masked": mask_phone(contact) if contact else None,
    }, True


# -- CSV import ------------------------------------------------------------------------------------

CSV_COLUMNS = ("service", "slot_start", "id_number", "name", "phone", "external_ref")
CSV_REQUIRED = ("service", "slot_start", "id_number")
MAX_CSV_ROWS = 5000


@dataclass(frozen=True)
class CsvRow:
    line: int
    service: str
    slot_start: str
    id_number: str
    name: str | None
    phone: str | None
    external_ref: str | None


@dataclass(frozen=True)
class CsvError:
    line: int
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "code": self.code, "message": self.message}


_SLOT_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2})?$")


def parse_csv(text: str) -> tuple[list[CsvRow], list[CsvError]]:
    """Parse a booking CSV (UTF-8, header row); every bad row gets its own error, by line.

    Columns: service, slot_start (`YYYY-MM-DD HH:MM`, local time), id_number; optional name,
    phone, external_ref. Pure: checks formats only; the import checks slots and rules.
    """
    rows: list[CsvRow] = []
    errors: list[CsvError] = []
    text = text.lstrip("\ufeff")
    if not text.strip():
        return [], [CsvError(1, "csv_empty", "文件为空，第一行应为表头")]
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as err:
        return [], [CsvError(1, "csv_unreadable", f"无法解析 CSV：{err}")]
    header = [h.strip().lower() for h in records[0]]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        parts = []
        if missing:
            parts.append(f"缺少列 {', '.join(missing)}")
        if unknown:
            parts.append(f"未知列 {', '.join(unknown)}")
        if len(set(header)) != len(header):
            parts.append("列名重复")
        return [], [CsvError(1, "csv_header", "表头错误：" + "；".join(parts))]
    if len(records) - 1 > MAX_CSV_ROWS:
        return [], [CsvError(1, "csv_too_long", f"一次最多导入 {MAX_CSV_ROWS} 行")]
    seen_refs: set[str] = set()
    for line, rec in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in rec):
            continue  # blank line
        if len(rec) != len(header):
            errors.append(
                CsvError(line, "csv_columns", f"应有 {len(header)} 列，实际 {len(rec)} 列")
            )
            continue
        cells = {h: c.strip() for h, c in zip(header, rec, strict=True)}
        empty = [c for c in CSV_REQUIRED if not cells.get(c)]
        if empty:
            errors.append(CsvError(line, "csv_missing", f"缺少 {', '.join(empty)}"))
            continue
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{0,15}", cells["service"]):
            errors.append(CsvError(line, "csv_service", f"事项编码无效：{cells['service'][:20]}"))
            continue
        if not _SLOT_TEXT.match(cells["slot_start"]):
            errors.append(
                CsvError(line, "csv_slot", "slot_start 应为 YYYY-MM-DD HH:MM（当地时间）")
            )
            continue
        try:
            datetime.fromisoformat(cells["slot_start"].replace(" ", "T", 1))
        except ValueError:
            errors.append(CsvError(line, "csv_slot", "slot_start 不是有效的日期时间"))
            continue
        try:
            parse_id_number(cells["id_number"])
        except IdNumberError as err:
            errors.append(CsvError(line, err.code, err.message))
            continue
        try:
            phone = check_phone(cells.get("phone"))
        except HallError as err:
            errors.append(CsvError(line, err.code, err.message))
            continue
        ref = cells.get("external_ref") or None
        if ref is not None:
            if len(ref) > 128:
                errors.append(CsvError(line, "csv_ref", "external_ref 过长（最多128字符）"))
                continue
            if ref in seen_refs:
                errors.append(CsvError(line, "csv_duplicate_ref", f"external_ref 重复：{ref}"))
                continue
            seen_refs.add(ref)
        name = cells.get("name") or None
        if name is not None and len(name) > 64:
            errors.append(CsvError(line, "csv_name", "姓名过长"))
            continue
        rows.append(
            CsvRow(
                line, cells["service"], cells["slot_start"], cells["id_number"], name, phone, ref
            )
        )
    return rows, errors


def import_csv(ctx: HallContext, tx: Tx, text: str) -> dict[str, Any]:
    """Book every good row; each bad row is reported by line, the good ones still land."""
    rows, errors = parse_csv(text)
    booked: list[dict[str, Any]] = []
    for r in rows:
        tx.execute("SAVEPOINT csv_row")
        try:
            view, _created = book(
                ctx,
                tx,
                BookRequest(
                    r.service, r.slot_start, r.id_number, r.name, r.phone, r.external_ref, "csv"
                ),
            )
        except HallError as err:
            tx.execute("ROLLBACK TO csv_row")
            tx.execute("RELEASE csv_row")
            errors.append(CsvError(r.line, err.code, err.message))
            continue
        tx.execute("RELEASE csv_row")
        booked.append(view | {"line": r.line})
    errors.sort(key=lambda e: e.line)
    return {"booked": booked, "errors": [e.as_dict() for e in errors]}
