"""Device registration with one-time pairing codes, and the device list with health.

An administrator creates a short code for a kiosk, display or evaluator (valid 10 minutes,
once); the device posts it to `POST /api/v1/devices/pair` and receives its own token, so no
one copies tokens by hand. Only the code's hash is stored, like tokens.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from datetime import datetime
from typing import Any

import orjson

from queue_server.accounts import create_token
from queue_server.db import Tx
from queue_server.errors import Conflict, Invalid, Unauthorized

DEVICE_ROLES = ("kiosk", "display", "evaluator")
ROLE_LABELS = {"kiosk": "自助取号机", "display": "大厅显示屏", "evaluator": "评价器"}
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed on a kiosk
CODE_LEN = 8
CODE_TTL_S = 600
STALE_S = 120
PART_LABELS = {
    "printer": "打印机", "idcard": "身份证读卡器", "reader": "读卡器", "camera": "摄像头",
    "scanner": "扫码器", "network": "网络", "screen": "屏幕", "keypad": "按键", "audio": "音响",
}  # fmt: skip  # a device that has not reported for this long is shown offline


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def create_code(
    tx: Tx, role: str, window: int | None, name: str, actor: str, now_ts: float
) -> dict[str, Any]:
    if role not in DEVICE_ROLES:
        raise Invalid(f"设备类型应为 {'、'.join(DEVICE_ROLES)}", "unknown_role")
    name = name.strip()
    if not name or len(name) > 64:
        raise Invalid("请填写设备名称（不超过 64 字）", "invalid_name")
    if role == "evaluator" and window is None:
        raise Invalid("评价器需要绑定窗口号", "window_required")
    if tx.one(
        "SELECT 1 FROM tokens WHERE name = ? AND kind = 'device' AND revoked_at IS NULL", (name,)
    ):
        raise Conflict(f"已有名为 {name} 的设备，请换一个名称或先注销旧设备", "device_exists")
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))
    code = f"{raw[:4]}-{raw[4:]}"
    tx.execute(
        "INSERT INTO pairing_codes (code_hash, role, window, name, created_by, created_at,"
        " expires_ts) VALUES (?,?,?,?,?,?,?)",
        (code_hash(code), role, window, name, actor, tx.now_iso, now_ts + CODE_TTL_S),
    )
    return {"code": code, "role": role, "window": window, "name": name, "ttl_s": CODE_TTL_S}


def redeem(tx: Tx, code: str, now_ts: float) -> dict[str, Any]:
    """Exchange a pairing code for the device's token (once)."""
    row = tx.one("SELECT * FROM pairing_codes WHERE code_hash = ?", (code_hash(code),))
    if row is None or row["used_at"] is not None or row["expires_ts"] < now_ts:
        raise Unauthorized("配对码无效、已使用或已过期，请向管理员重新获取", "invalid_pairing_code")
    tx.execute("UPDATE pairing_codes SET used_at = ? WHERE code_hash = ?", (tx.now_iso, row[0]))
    token = create_token(tx, row["role"], row["name"], row["window"])
    return {"token": token, "role": row["role"], "window": row["window"], "name": row["name"]}


def _health_text(health: dict[str, Any]) -> tuple[str, str]:
    """(worst level, one-line Chinese summary) from a heartbeat's health map."""
    order = {"ok": 0, "warn": 1, "warning": 1, "error": 2, "fail": 2, "offline": 2}
    worst = "ok"
    parts = []
    for part, info in sorted(health.items()):
        info = info if isinstance(info, dict) else {"status": str(info)}
        st = str(info.get("status", "ok")).lower()
        if order.get(st, 1) > order.get(worst, 0):
            worst = "error" if order.get(st, 1) >= 2 else "warn"
        if st != "ok":
            detail = info.get("detail") or info.get("message") or st
            parts.append(f"{PART_LABELS.get(part, part)}：{detail}")
    return worst, "；".join(parts) or "正常"


def list_devices(conn: sqlite3.Connection, now_ts: float) -> list[dict[str, Any]]:
    tokens = conn.execute(
        "SELECT id, role, window, name, created_at FROM tokens"
        " WHERE kind = 'device' AND revoked_at IS NULL AND role IN ('kiosk','display','evaluator')"
        " ORDER BY role, name"
    ).fetchall()
    health = {r["device"]: r for r in conn.execute("SELECT * FROM device_health").fetchall()}
    out = []
    seen = set()
    for t in tokens:
        seen.add(t["name"])
        out.append(
            _device(t["name"], t["role"], t["window"], t["id"], health.get(t["name"]), now_ts)
        )
    for name, h in health.items():
        if name not in seen and h["role"] in DEVICE_ROLES:
            out.append(_device(name, h["role"], None, None, h, now_ts))
    return out


def _device(
    name: str, role: str, window: int | None, token_id: int | None, h: Any, now_ts: float
) -> dict[str, Any]:
    level, text, last_seen, online = "unknown", "从未上报", None, False
    if h is not None:
        last_seen = h["last_seen"]
        level, text = _health_text(orjson.loads(h["health"]))
        online = now_ts - datetime.fromisoformat(last_seen).timestamp() <= STALE_S
        if not online:
            level, text = "offline", f"离线（最后上报 {last_seen[11:19]}）；{text}"
    return {
        "name": name,
        "role": role,
        "role_label": ROLE_LABELS.get(role, role),
        "window": window,
        "token_id": token_id,
        "last_seen": last_seen,
        "online": online,
        "level": level,
        "summary": f"{ROLE_LABELS.get(role, role)} {name}：{text}",
        "health": orjson.loads(h["health"]) if h is not None else {},
        "state": orjson.loads(h["state"]) if h is not None else {},
    }


def revoke(tx: Tx, token_id: int) -> str:
    row = tx.one(
        "SELECT name FROM tokens WHERE id = ? AND kind = 'device' AND revoked_at IS NULL",
        (token_id,),
    )
    if row is None:
        raise Invalid("没有这个设备", "device_not_found")
    tx.execute("UPDATE tokens SET revoked_at = ? WHERE id = ?", (tx.now_iso, token_id))
    return str(row["name"])
