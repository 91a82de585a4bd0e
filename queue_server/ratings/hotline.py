"""The 12345 hand-off: a 差评 case sent to the 12345 hotline, and its outcome received back.

国办发〔2019〕51号 links 好差评 with the 12345 hotline (12345 热线). A hand-off is stored in
`hotline_outbox` in the same transaction as the case moving to `handed_off`, then posted by a
background task (queue_server.base.outbound; retries back off `[followup].hotline_backoff_base_s`
doubling up to `hotline_backoff_max_s`, never given up), so a webhook that is down loses
nothing. The stored record carries masked forms only (citizen 张* / 4401**********1234, phone
138****1234); the full phone is added at sending time only when `hotline_send_phone` is set,
read from the case (so a purged number is never sent).

Both directions are signed with the shared secret from the environment variable named by
`hotline_secret_env`: headers `X-Hall-Timestamp` (Unix seconds), `X-Hall-Nonce` and
`X-Hall-Signature` = hex HMAC-SHA256(secret, "{timestamp}.{nonce}.{body}"). An outcome is
accepted once: a timestamp further than `hotline_max_skew_s` from the clock or a nonce seen
before is refused (replay), and the same 12345 reference twice is answered as a duplicate.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import os
import sqlite3
import time
import uuid
from typing import TYPE_CHECKING, Any

import orjson

from queue_server.base import outbound
from queue_server.base.config import FollowupSection
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, Invalid, NotFound, StorageUnavailable, Unauthorized
from queue_server.core.context import HallContext
from queue_server.ratings import followup, upload

if TYPE_CHECKING:
    from queue_server.base.handle import HallHandle

log = logging.getLogger("hall.hotline")
ACTOR = "hotline:12345"
OUTCOME_PATH = "/api/v1/hotline/outcome"
POLL_S = 2.0


def secret(cfg: FollowupSection) -> bytes:
    return os.environ.get(cfg.hotline_secret_env, "").encode()


def signature(key: bytes, ts: str, nonce: str, body: bytes) -> str:
    return hmac.new(key, f"{ts}.{nonce}.".encode() + body, hashlib.sha256).hexdigest()


def sign_headers(key: bytes, body: bytes, now: float) -> dict[str, str]:
    ts, nonce = str(int(now)), uuid.uuid4().hex
    return {
        "X-Hall-Timestamp": ts,
        "X-Hall-Nonce": nonce,
        "X-Hall-Signature": signature(key, ts, nonce, body),
    }


def hand_off(ctx: HallContext, tx: Tx, case_id: int, note: str, actor: str) -> dict[str, Any]:
    """Hand the case's 回访 to 12345: the case waits in `handed_off` for the outcome."""
    row = followup._case(tx.conn, case_id)
    status = followup.move(tx, row, "hand_off")
    note = followup._text(note, "转办说明", required=False)
    view = followup.get(ctx, tx.conn, case_id)
    record = {
        "record_id": f"{upload.hall_uid(tx)}-case-{case_id}",
        "case_id": case_id,
        "hall": ctx.config.hall.name,
        "ticket_number": view["ticket_number"],
        "business_day": view["business_day"],
        "service_code": view["service"],
        "service_name": view["service_name"],
        "window": view["window"],
        "staff": view["staff"],
        "channel": view["channel"],
        "level": view["level"],
        "reasons": view["reasons"],
        "comment": view["comment"],
        "evaluated_at": view["evaluated_at"],
        "citizen_masked": view["citizen"],
        "phone_masked": view["contact"],
        "followup_due_day": view["followup_due_day"],
        "rectify_due_day": view["due_day"],
        "note": note,
        "handed_off_at": tx.now_iso,
        "reply_to": OUTCOME_PATH,
    }
    tx.execute(
        "INSERT INTO hotline_outbox (case_id, record_id, payload, created_at) VALUES (?,?,?,?)",
        (case_id, record["record_id"], orjson.dumps(record).decode(), tx.now_iso),
    )
    tx.execute("UPDATE followup_cases SET status = ? WHERE id = ?", (status, case_id))
    return followup._changed(ctx, tx, case_id, "hotline.hand_off", actor)


def due(conn: sqlite3.Connection, now: float) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT h.*, c.contact_phone FROM hotline_outbox h JOIN followup_cases c"
        " ON c.id = h.case_id WHERE h.status = 'pending' AND h.next_attempt_ts <= ?"
        " ORDER BY h.created_at, h.case_id LIMIT 50",
        (now,),
    ).fetchall()


def _sent(tx: Tx, case_id: int) -> None:
    tx.execute(
        "UPDATE hotline_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?,"
        " last_error = '' WHERE case_id = ?",
        (tx.now_iso, case_id),
    )


def _failed(tx: Tx, case_id: int, error: str, now: float, cfg: FollowupSection) -> None:
    policy = outbound.RetryPolicy(cfg.hotline_backoff_base_s, cfg.hotline_backoff_max_s)
    outbound.schedule_retry(tx, "hotline_outbox", "case_id", case_id, error, now, policy)


def _post(url: str, body: dict[str, Any], key: bytes, record_id: str, timeout: float) -> str | None:
    try:
        outbound.post_json(
            url,
            body,
            timeout,
            idempotency_key=record_id,
            also_ok=(409,),
            sign=lambda data: sign_headers(key, data, time.time()),
        )
    except outbound.DeliveryFailed as err:
        return str(err)
    return None


async def process_once(hall: HallHandle, now: float | None = None) -> tuple[int, int]:
    """Send every due hand-off once; returns (sent, failed)."""
    cfg = hall.config.followup
    if not cfg.hotline_url:
        return 0, 0
    now = time.time() if now is None else now
    key = secret(cfg)
    sent = failed = 0
    for row in due(hall.db.reader, now):
        body = orjson.loads(row["payload"])
        if cfg.hotline_send_phone and row["contact_phone"]:
            body["phone"] = row["contact_phone"]
        if key:
            problem = await asyncio.to_thread(
                _post, cfg.hotline_url, body, key, row["record_id"], cfg.hotline_timeout_s
            )
        else:
            problem = f"未设置共享密钥（环境变量 {cfg.hotline_secret_env}），转办暂存本地队列"
        if problem is None:
            await hall.run(functools.partial(_sent, case_id=row["case_id"]))
            sent += 1
        else:
            fail = functools.partial(
                _failed, case_id=row["case_id"], error=problem, now=now, cfg=cfg
            )
            await hall.run(fail)
            failed += 1
            log.info("12345 hand-off of case %s failed: %s", row["case_id"], problem)
    return sent, failed


async def run_forever(hall: HallHandle, poll_s: float = POLL_S) -> None:
    """The background sender (started by Hall.start_background)."""
    await outbound.keep_sending(lambda: process_once(hall), poll_s, log, "12345 hand-off")


def verify(
    cfg: FollowupSection, headers: dict[str, str], body: bytes, now: float
) -> tuple[str, float]:
    """Check an inbound request's signature and freshness; returns (nonce, timestamp)."""
    ts, nonce, sig = (headers.get(h, "") for h in ("x-hall-timestamp", "x-hall-nonce",
                                                     "x-hall-signature"))  # fmt: skip
    if not (ts.isdigit() and 8 <= len(nonce) <= 64 and sig):
        raise Unauthorized("缺少或无效的签名头", "signature_missing")
    key = secret(cfg)
    if not key:
        raise StorageUnavailable(
            "未配置 12345 共享密钥，不能接收回访结果", "hotline_not_configured"
        )
    if not hmac.compare_digest(signature(key, ts, nonce, body), sig.lower()):
        raise Unauthorized("签名不正确", "bad_signature")
    if abs(now - int(ts)) > cfg.hotline_max_skew_s:
        raise Unauthorized("签名时间超出允许范围", "stale_signature")
    return nonce, float(ts)


def receive_outcome(
    ctx: HallContext, tx: Tx, nonce: str, now: float, outcome: dict[str, Any]
) -> dict[str, Any]:
    """Record 12345's 回访 outcome on its case (the case moves to followed_up)."""
    cfg = ctx.config.followup
    tx.execute(
        "DELETE FROM hotline_nonces WHERE received_ts < ?", (now - 2 * cfg.hotline_max_skew_s,)
    )
    if tx.one("SELECT 1 FROM hotline_nonces WHERE nonce = ?", (nonce,)):
        raise Conflict("重复的请求（nonce 已使用）", "replayed")
    tx.execute("INSERT INTO hotline_nonces (nonce, received_ts) VALUES (?, ?)", (nonce, now))
    record_id = str(outcome.get("record_id", ""))
    result = outcome.get("result")
    ref = str(outcome.get("ref", "")).strip()[:64]
    note = followup._text(str(outcome.get("note", "")), "回访情况")
    if result not in followup.RESULTS:
        raise Invalid("result 应为 satisfied / unsatisfied / unreachable", "invalid_result")
    box = tx.one("SELECT * FROM hotline_outbox WHERE record_id = ?", (record_id,))
    if box is None:
        raise NotFound(f"没有转办记录 {record_id}", "handoff_not_found")
    case_id = int(box["case_id"])
    if box["outcome_at"] and ref and box["outcome_ref"] == ref:
        return followup.get(ctx, tx.conn, case_id) | {"duplicate": True}
    row = followup._case(tx.conn, case_id)
    status = followup.move(tx, row, "hotline_outcome")
    text = f"12345{'（' + ref + '）' if ref else ''}：{note}"
    tx.execute(
        "UPDATE followup_cases SET status = ?, followup_at = ?, followup_by = ?,"
        " followup_note = ?, followup_result = ? WHERE id = ?",
        (status, tx.now_iso, ACTOR, text, result, case_id),
    )
    tx.execute(
        "UPDATE hotline_outbox SET outcome_ref = ?, outcome_at = ? WHERE case_id = ?",
        (ref, tx.now_iso, case_id),
    )
    return followup._changed(ctx, tx, case_id, "hotline.outcome", ACTOR, result=result, ref=ref)


def summary(conn: sqlite3.Connection) -> dict[str, int]:
    counts = dict(
        conn.execute("SELECT status, COUNT(*) FROM hotline_outbox GROUP BY status").fetchall()
    )
    return {"pending": int(counts.get("pending", 0)), "sent": int(counts.get("sent", 0))}
