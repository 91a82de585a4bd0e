"""Store and forward of 好差评 records to the provincial platform.

A record is queued in the same transaction as the rating (so it cannot be lost), with a
stable `record_id` the platform deduplicates on (idempotent: sending twice is harmless).
A background task posts due records; a failure schedules the next try with exponential
backoff (`[upload]` backoff_base_s doubling up to backoff_max_s: queue_server.base.outbound's retry
policy) and never gives up. All state is in SQLite, so a restart resumes where it stopped.

The national record carries (国办发〔2019〕51号): case/ticket number, 事项实施编码, service code,
department, window, staff account and 工号, the kiosk rated, channel, level, reasons, comment
and time (never the citizen's phone number). Field names on the wire follow
`[upload].field_map` because each province's interface names them its own way.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
import uuid
from typing import TYPE_CHECKING, Any

import orjson

from queue_server.base import outbound
from queue_server.base.config import UploadSection
from queue_server.base.db import Tx
from queue_server.core.context import HallContext

if TYPE_CHECKING:
    from queue_server.runtime.hall import Hall

log = logging.getLogger("hall.upload")
RECORD_FIELDS = (
    "record_id", "hall", "ticket_number", "business_day", "service_code", "service_name",
    "window", "staff", "staff_no", "channel", "level", "level_label", "reasons", "comment", "evaluated_at",
    "case_no", "cases", "item_codes", "department", "staff_account", "device",
)  # fmt: skip
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
    record = {
        "record_id": record_id,
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
        # the 办件编号 and 事项实施编码 from 办结, the department, the staff account recorded
        # at the call, and for a `kiosk` rating the terminal rated
        "case_no": evaluation.get("case_no"),
        "cases": evaluation.get("cases", []),
        "item_codes": evaluation.get("item_codes", []),
        "department": evaluation.get("department") or "",
        "staff_account": evaluation.get("staff_account") or "",
        "device": evaluation.get("device") or "",
    }
    tx.execute(
        "INSERT OR IGNORE INTO upload_queue (record_id, evaluation_id, payload, created_at)"
        " VALUES (?, ?, ?, ?)",
        (record_id, evaluation["id"], orjson.dumps(record).decode(), tx.now_iso),
    )
    return record_id


def wire_body(record: dict[str, Any], cfg: UploadSection) -> dict[str, Any]:
    """The record under the platform's field names (unmapped fields keep their own name)."""
    if not cfg.field_map:
        return dict(record)
    return {platform: record.get(ours) for platform, ours in cfg.field_map.items()}


def backoff(attempts: int, cfg: UploadSection) -> float:
    """Delay before the next try after `attempts` failures: base × 2^(attempts-1), capped."""
    return outbound.RetryPolicy(cfg.backoff_base_s, cfg.backoff_max_s).delay(attempts)


def due(conn: sqlite3.Connection, now: float, limit: int = BATCH) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM upload_queue WHERE status = 'pending' AND next_attempt_ts <= ?"
        " ORDER BY created_at, record_id LIMIT ?",
        (now, limit),
    ).fetchall()


def mark_sent(tx: Tx, record_id: str) -> None:
    tx.execute(
        "UPDATE upload_queue SET status = 'sent', attempts = attempts + 1, sent_at = ?,"
        " last_error = '' WHERE record_id = ?",
        (tx.now_iso, record_id),
    )
    tx.execute(
        "UPDATE evaluations SET upload_status = 'sent' WHERE id ="
        " (SELECT evaluation_id FROM upload_queue WHERE record_id = ?)",
        (record_id,),
    )


def mark_failed(tx: Tx, record_id: str, error: str, now: float, cfg: UploadSection) -> None:
    row = tx.one("SELECT attempts FROM upload_queue WHERE record_id = ?", (record_id,))
    attempts = (row["attempts"] if row else 0) + 1
    tx.execute(
        "UPDATE upload_queue SET attempts = ?, next_attempt_ts = ?, last_error = ?"
        " WHERE record_id = ?",
        (attempts, now + backoff(attempts, cfg), error[:300], record_id),
    )


def retry_now(tx: Tx) -> int:
    cur = tx.execute("UPDATE upload_queue SET next_attempt_ts = 0 WHERE status = 'pending'")
    return int(cur.rowcount)


def post(endpoint: str, body: dict[str, Any], record_id: str, timeout: float) -> str | None:
    """POST one record; None on success, else a short reason. 409 means already received."""
    try:
        outbound.post_json(endpoint, body, timeout, idempotency_key=record_id, also_ok=(409,))
    except outbound.DeliveryFailed as err:
        return str(err)
    return None


async def process_once(hall: Hall, now: float | None = None) -> tuple[int, int]:
    """Send every due record once; returns (sent, failed)."""
    cfg: UploadSection = hall.config.upload
    if not cfg.endpoint:
        return 0, 0
    now = time.time() if now is None else now
    sent = failed = 0
    for row in due(hall.db.reader, now):
        record = orjson.loads(row["payload"])
        body = wire_body(record, cfg)
        problem = await asyncio.to_thread(post, cfg.endpoint, body, row["record_id"], cfg.timeout_s)
        rid = row["record_id"]
        if problem is None:
            await hall.run(functools.partial(mark_sent, record_id=rid))
            sent += 1
        else:
            failure = functools.partial(mark_failed, record_id=rid, error=problem, now=now, cfg=cfg)
            await hall.run(failure)
            failed += 1
            log.info("upload of %s failed: %s", rid, problem)
    return sent, failed


async def run_forever(hall: Hall, poll_s: float = POLL_S) -> None:
    """The background uploader (started by Hall.start_background)."""
    while True:
        try:
            await process_once(hall)
        except Exception:  # noqa: BLE001 - the uploader must never stop
            log.exception("upload pass failed")
        await asyncio.sleep(poll_s)


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
            "record": orjson.loads(r["payload"]),
        }
        for r in conn.execute(sql, params).fetchall()
    ]
