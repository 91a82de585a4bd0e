"""Store and forward of 好差评 records to the provincial platform.

A record is queued in the same transaction as the rating (so it cannot be lost), with a
stable `record_id` and the 办件编号 (`case_no`) the platform deduplicates on (idempotent:
sending twice is harmless). A background task posts due records; a failure schedules the next
try with exponential backoff (`[upload]` backoff_base_s doubling up to backoff_max_s:
queue_server.base.outbound's retry policy) and never gives up. All state is in SQLite, so a restart
resumes where it stopped.

The national record carries (国办发〔2019〕51号; DOMAIN.md): the 办件编号 (the business system's
number given at 办结, not the daily ticket number), the 事项实施编码, department, window, staff
and 工号, channel, level, reason codes, comment and time. Each province's interface names and
codes these its own way, so the wire body is built from `[upload]`: `field_map` (names),
`value_map` (channel, level, reason codes...), `datetime_format`/`date_format`,
`list_separator` and `constants`. A value with no code in its map holds the record back (it is
retried, the reason shown on the admin page) rather than being sent uncoded.

Requests are signed as provincial platforms ask (`sign`): headers with the app key, a
timestamp (ms), a fresh nonce and the hex HMAC-SHA256 or HMAC-SM3, keyed with the app secret,
of timestamp + nonce + body (the exact bytes sent). The secret is never logged; the admin API,
TOML export and audit show it masked (queue_server.admin.hall_config).

The platform's answer: 2xx with an ok result code is `accepted`; HTTP 409 or a result code in
`duplicate_codes` ("this 办件编号 was already received", e.g. after a lost acknowledgement) is
`duplicate` and counts as delivered; anything else, or no answer, is a failure to retry.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import sqlite3
import time
import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from queue_server.base import outbound
from queue_server.base.config import UploadSection
from queue_server.base.db import Tx
from queue_server.base.handle import HallHandle
from queue_server.core.context import HallContext

log = logging.getLogger("hall.upload")
RECORD_FIELDS = (
    "record_id", "case_no", "case_nos", "item_code", "department", "hall", "ticket_number",
    "business_day", "service_code", "service_name", "window", "staff", "staff_no", "channel",
    "level", "level_label", "reasons", "comment", "evaluated_at", "staff_account", "device",
)  # fmt: skip
DATETIME_FIELDS = ("evaluated_at",)
DATE_FIELDS = ("business_day",)
DIGESTS = {"hmac-sha256": "sha256", "hmac-sm3": "sm3"}


class Unmapped(ValueError):
    """A record value the platform has no code for (`[upload].value_map`)."""


BATCH = 50
POLL_S = 2.0


def hall_uid(tx: Tx) -> str:
    row = tx.one("SELECT value FROM meta WHERE key = 'hall_uid'")
    if row is not None:
        return str(row["value"])
    uid = uuid.uuid4().hex[:12]
    tx.execute("INSERT INTO meta (key, value) VALUES ('hall_uid', ?)", (uid,))
    return uid


def enqueue(ctx: HallContext, tx: Tx, evaluation: dict[str, Any]) -> str:
    """Queue one rating for upload (called by evaluations.create in its transaction)."""
    record_id = f"{hall_uid(tx)}-{evaluation['id']}"
    svc = ctx.config.service(evaluation["service"])
    cases = tx.execute(
        "SELECT case_no, item_code FROM ticket_cases WHERE ticket_id = ? ORDER BY rowid",
        (evaluation["ticket_id"],),
    ).fetchall()
    if evaluation["channel"] == "kiosk" or not cases:
        # The kiosk rates the terminal, not the case; a ticket finished without the business
        # system's number has none: either way the record's own id is its unique number.
        case_no, case_nos = record_id, []
    else:
        case_no, case_nos = str(cases[0]["case_no"]), [str(c["case_no"]) for c in cases]
    item_code = next((str(c["item_code"]) for c in cases if c["item_code"]), "")
    record = {
        "record_id": record_id,
        "case_no": case_no,
        "case_nos": case_nos,
        "item_code": item_code or next(iter(getattr(svc, "item_codes", None) or []), ""),
        "department": _department(ctx, svc, evaluation["window"]),
        "hall": ctx.config.hall.name,
        "ticket_number": evaluation["ticket_number"],
        "business_day": evaluation["business_day"],
        "service_code": evaluation["service"],
        "service_name": svc.name if svc else evaluation["service"],
        "window": evaluation["window"],
        "staff": evaluation["staff"],
        "staff_no": evaluation.get("staff_no") or "",
        "channel": evaluation["channel"],
        "level": evaluation["level"],
        "level_label": evaluation["level_label"],
        "reasons": evaluation["reasons"],
        "comment": evaluation["comment"],
        "evaluated_at": evaluation["created_at"],
        # the staff account and 工号 recorded at the call; for a `kiosk` rating the terminal
        "staff_account": evaluation.get("staff_account") or "",
        "device": evaluation.get("device") or "",
    }
    tx.execute(
        "INSERT OR IGNORE INTO upload_queue (record_id, evaluation_id, payload, created_at)"
        " VALUES (?, ?, ?, ?)",
        (record_id, evaluation["id"], orjson.dumps(record).decode(), tx.now_iso),
    )
    return record_id


def _configured(item: object, name: str) -> str:
    """A setting services and windows may carry (read defensively: older configurations and
    branches do not have it)."""
    value = getattr(item, name, "") if item is not None else ""
    return value if isinstance(value, str) else ""


def _department(ctx: HallContext, svc: object, window: int | None) -> str:
    """The department responsible: the service's, else the window's, else ""."""
    found = _configured(svc, "department")
    if not found and window is not None:
        win = next((w for w in ctx.config.windows if w.no == window), None)
        found = _configured(win, "department")
    return found


def wire_body(record: dict[str, Any], cfg: UploadSection, timezone: str) -> dict[str, Any]:
    """The record as the platform wants it: values coded, dates formatted, lists joined, then
    under the platform's field names (all fields under their own names when `field_map` is
    empty), plus `constants`. Raises Unmapped for a value the platform has no code for."""
    record = _complete(record)
    values = {k: _wire_value(k, v, cfg, timezone) for k, v in record.items()}
    if cfg.field_map:
        body = {platform: values.get(ours) for platform, ours in cfg.field_map.items()}
    else:
        body = values
    return body | dict(cfg.constants)


def _complete(record: dict[str, Any]) -> dict[str, Any]:
    """A record queued before case numbers were kept: its own id is its unique number."""
    out = dict(record)
    if not out.get("case_no"):
        out["case_no"] = out["record_id"]
    for key, empty in (("case_nos", []), ("item_code", ""), ("department", "")):
        out.setdefault(key, empty)
    return out


def _wire_value(field: str, value: Any, cfg: UploadSection, timezone: str) -> Any:
    codes = cfg.value_map.get(field)
    if codes is not None and value is not None:
        items = value if isinstance(value, list) else [value]
        missing = [str(v) for v in items if str(v) not in codes]
        if missing:
            raise Unmapped(f"value_map.{field} 没有 {'、'.join(missing)} 的编码")
        mapped = [codes[str(v)] for v in items]
        value = mapped if isinstance(value, list) else mapped[0]
    if field in DATETIME_FIELDS and cfg.datetime_format and value:
        moment = datetime.fromisoformat(str(value)).astimezone(ZoneInfo(timezone))
        value = moment.strftime(cfg.datetime_format)
    elif field in DATE_FIELDS and cfg.date_format and value:
        value = date.fromisoformat(str(value)).strftime(cfg.date_format)
    if isinstance(value, list) and cfg.list_separator:
        value = cfg.list_separator.join(str(v) for v in value)
    return value


def sign_headers(
    data: bytes, cfg: UploadSection, now: float | None = None, nonce: str | None = None
) -> dict[str, str]:
    """The signature headers for one request body (none when `sign` is "none"): app key,
    timestamp in ms, a fresh nonce, and hex HMAC(app_secret, timestamp + nonce + body)."""
    digest = DIGESTS.get(cfg.sign)
    if digest is None:
        return {}
    stamp = str(round((time.time() if now is None else now) * 1000))
    nonce = nonce or uuid.uuid4().hex
    mac = hmac.new(cfg.app_secret.encode(), stamp.encode() + nonce.encode() + data, digest)
    return {
        cfg.app_key_header: cfg.app_key,
        cfg.timestamp_header: stamp,
        cfg.nonce_header: nonce,
        cfg.signature_header: mac.hexdigest(),
    }


def retry_policy(cfg: UploadSection) -> outbound.RetryPolicy:
    return outbound.RetryPolicy(cfg.backoff_base_s, cfg.backoff_max_s)


def backoff(attempts: int, cfg: UploadSection) -> float:
    """Delay before the next try after `attempts` failures: base × 2^(attempts-1), capped."""
    return retry_policy(cfg).delay(attempts)


def due(conn: sqlite3.Connection, now: float, limit: int = BATCH) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM upload_queue WHERE status = 'pending' AND next_attempt_ts <= ?"
        " ORDER BY created_at, record_id LIMIT ?",
        (now, limit),
    ).fetchall()


def mark_sent(tx: Tx, record_id: str, outcome: str = "accepted") -> None:
    """Delivered: `accepted`, or `duplicate` (the platform already had this 办件编号)."""
    tx.execute(
        "UPDATE upload_queue SET status = 'sent', attempts = attempts + 1, sent_at = ?,"
        " last_error = '', outcome = ? WHERE record_id = ?",
        (tx.now_iso, outcome, record_id),
    )
    tx.execute(
        "UPDATE evaluations SET upload_status = 'sent' WHERE id ="
        " (SELECT evaluation_id FROM upload_queue WHERE record_id = ?)",
        (record_id,),
    )


def mark_failed(tx: Tx, record_id: str, error: str, now: float, cfg: UploadSection) -> None:
    outbound.schedule_retry(
        tx, "upload_queue", "record_id", record_id, error, now, retry_policy(cfg)
    )


def retry_now(tx: Tx) -> int:
    cur = tx.execute("UPDATE upload_queue SET next_attempt_ts = 0 WHERE status = 'pending'")
    return int(cur.rowcount)


def deliver(record: dict[str, Any], cfg: UploadSection, timezone: str) -> tuple[str, str]:
    """Send one record: ("accepted" | "duplicate", "") when delivered, else ("", reason)."""
    try:
        body = wire_body(record, cfg, timezone)
    except (Unmapped, ValueError) as err:
        return "", f"映射失败：{err}"[: outbound.REASON_CHARS]
    data = orjson.dumps(body)
    headers = {"Content-Type": "application/json; charset=utf-8"}
    headers["Idempotency-Key"] = str(record["record_id"])
    try:
        headers |= sign_headers(data, cfg)
    except ValueError as err:  # a digest this system cannot compute
        return "", f"签名失败：{err}"[: outbound.REASON_CHARS]
    try:
        status, text = outbound.post_raw(cfg.endpoint, data, headers, cfg.timeout_s)
    except outbound.DeliveryFailed as err:
        return "", str(err)
    return _outcome(status, text, cfg)


def _outcome(status: int, text: str, cfg: UploadSection) -> tuple[str, str]:
    if status == 409:
        return "duplicate", ""
    code = _result_code(text, cfg.result_code_field)
    if code is not None and code in cfg.duplicate_codes:
        return "duplicate", ""
    if 200 <= status < 300 and (code is None or code in cfg.ok_codes):
        return "accepted", ""
    return "", f"HTTP {status}: {text[:200]}"[: outbound.REASON_CHARS]


def _result_code(text: str, field: str) -> str | None:
    if not field:
        return None
    try:
        answer = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(answer, dict) or answer.get(field) is None:
        return None
    return str(answer[field])


async def process_once(hall: HallHandle, now: float | None = None) -> tuple[int, int]:
    """Send every due record once; returns (sent, failed)."""
    cfg: UploadSection = hall.config.upload
    if not cfg.endpoint:
        return 0, 0
    now = time.time() if now is None else now
    tz = hall.config.hall.timezone
    sent = failed = 0
    for row in due(hall.db.reader, now):
        record = orjson.loads(row["payload"])
        outcome, problem = await asyncio.to_thread(deliver, record, cfg, tz)
        rid = row["record_id"]
        if outcome:
            await hall.run(functools.partial(mark_sent, record_id=rid, outcome=outcome))
            sent += 1
        else:
            failure = functools.partial(mark_failed, record_id=rid, error=problem, now=now, cfg=cfg)
            await hall.run(failure)
            failed += 1
            log.info("upload of %s failed: %s", rid, problem)
    return sent, failed


async def run_forever(hall: HallHandle, poll_s: float = POLL_S) -> None:
    """The background uploader (started by Hall.start_background)."""
    await outbound.keep_sending(lambda: process_once(hall), poll_s, log, "upload")


def summary(conn: sqlite3.Connection) -> dict[str, Any]:
    counts = dict(
        conn.execute("SELECT status, COUNT(*) FROM upload_queue GROUP BY status").fetchall()
    )
    failing = conn.execute(
        "SELECT COUNT(*) FROM upload_queue WHERE status = 'pending' AND attempts > 0"
    ).fetchone()[0]
    return {
        "pending": int(counts.get("pending", 0)),
        "sent": int(counts.get("sent", 0)),
        "retrying": int(failing),
    }


def list_records(
    conn: sqlite3.Connection, status: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    sql = "SELECT * FROM upload_queue"
    params: list[Any] = []
    if status:
        sql += " WHERE status = ?"
        params.append(status)
    sql += " ORDER BY created_at DESC, record_id DESC LIMIT ?"
    params.append(limit)
    return [
        {
            "record_id": r["record_id"],
            "evaluation_id": r["evaluation_id"],
            "status": r["status"],
            "attempts": r["attempts"],
            "next_attempt_ts": r["next_attempt_ts"],
            "last_error": r["last_error"],
            "created_at": r["created_at"],
            "sent_at": r["sent_at"],
            "outcome": r["outcome"],
            "record": orjson.loads(r["payload"]),
        }
        for r in conn.execute(sql, params).fetchall()
    ]
