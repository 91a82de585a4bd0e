"""Device registration with one-time pairing codes, and the device list with health.

An administrator creates a short code for a kiosk, display or evaluator (valid 10 minutes,
once); the device posts it to `POST /api/v1/devices/pair` and receives its own token, so no
one copies tokens by hand. Only the code's hash is stored, like tokens.

Device traffic is bounded per device, so one chatty or broken device costs the hall little:
- heartbeats: `HEARTBEATS_PER_MINUTE` per device (429 beyond), each report at most
  `MAX_PARTS` parts and `MAX_STATE_KEYS` state keys of `MAX_TEXT` characters, `MAX_REPORT_BYTES`
  in all (422 beyond);
- the event log: `device.health` is written only when a part's status changes, and at most once
  per device every `HEALTH_EVENT_INTERVAL_S` (a change in between is shown in the device list at
  once and evented at the next heartbeat after the interval); the retention purge drops device
  events after a week (queue_server.admin.retention);
- pairing: failed codes are counted per source address (`PairingGuard`), so a client guessing
  codes is slowed down without blocking every other device's pairing.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from queue_server.admin.accounts import create_token
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, Invalid, TooMany, Unauthorized
from queue_server.core.antiscalping import TokenBucket

DEVICE_ROLES = ("kiosk", "display", "evaluator")
ROLE_LABELS = {"kiosk": "自助取号机", "display": "大厅显示屏", "evaluator": "评价器"}
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed on a kiosk
CODE_LEN = 8
CODE_TTL_S = 600
STALE_S = 120
HEARTBEATS_PER_MINUTE = 12  # a kiosk beats every 15 s, plus one now and then on a change
HEALTH_EVENT_INTERVAL_S = 60.0
MAX_PARTS = 16
MAX_STATE_KEYS = 32
MAX_TEXT = 200  # characters of any one key or value a device sends
MAX_REPORT_BYTES = 4096
PAIR_FAILURES_PER_MINUTE = 10  # per source address
MAX_SOURCES = 10_000
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


def _check_text(value: Any) -> None:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise Invalid(f"设备上报的文字过长（每项不超过 {MAX_TEXT} 字）", "report_too_large")


def check_report(health: dict[str, dict[str, str]], state: dict[str, Any]) -> tuple[str, str]:
    """422 for a report beyond the bounds; else (health JSON, state JSON) to store."""
    if len(health) > MAX_PARTS or len(state) > MAX_STATE_KEYS:
        raise Invalid(
            f"设备上报的项目过多（部件不超过 {MAX_PARTS} 个，状态不超过 {MAX_STATE_KEYS} 项）",
            "report_too_large",
        )
    for part, info in health.items():
        _check_text(part)
        if len(info) > 8:
            raise Invalid("设备上报的部件信息过多", "report_too_large")
        for k, v in info.items():
            _check_text(k)
            _check_text(v)
    for k, v in state.items():
        _check_text(k)
        _check_text(v)
    health_json = orjson.dumps(health).decode()
    state_json = orjson.dumps(state).decode()
    if len(health_json) + len(state_json) > MAX_REPORT_BYTES:
        raise Invalid(f"设备上报内容过大（不超过 {MAX_REPORT_BYTES} 字节）", "report_too_large")
    return health_json, state_json


def _signature(health: dict[str, Any]) -> str:
    """What the floor reacts to: each part's status (not its free text)."""
    parts = {
        p: str((i if isinstance(i, dict) else {"status": i}).get("status", "ok")).lower()
        for p, i in health.items()
    }
    return orjson.dumps(parts, option=orjson.OPT_SORT_KEYS).decode()


class Heartbeats:
    """Per-device heartbeat limits and the last `device.health` event of each device."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self.bucket = TokenBucket(HEARTBEATS_PER_MINUTE, now=now)
        self._evented: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, device_key: str) -> None:
        if not self.bucket.allow(device_key):
            raise TooMany(
                f"设备上报过于频繁（每分钟最多 {HEARTBEATS_PER_MINUTE} 次）",
                "heartbeat_rate_limited",
            )

    def should_event(self, device: str, signature: str, stored: str | None) -> bool:
        """A status change, and not within the interval after this device's last event."""
        now = self.now()
        with self._lock:
            last = self._evented.get(device)
            if last is None:
                changed = stored is None or _signature(orjson.loads(stored)) != signature
            else:
                changed = last[0] != signature
            if not changed or (last is not None and now - last[1] < HEALTH_EVENT_INTERVAL_S):
                return False
            self._evented[device] = (signature, now)
            self._evented.move_to_end(device)
            while len(self._evented) > MAX_SOURCES:
                self._evented.popitem(last=False)
            return True


def record_heartbeat(
    tx: Tx,
    beats: Heartbeats,
    device: str,
    role: str,
    health: dict[str, Any],
    health_json: str,
    state_json: str,
) -> None:
    """Store a device's latest report; write `device.health` only as `Heartbeats` allows."""
    before = tx.one("SELECT health FROM device_health WHERE device = ?", (device,))
    tx.execute(
        "INSERT INTO device_health (device, role, last_seen, health, state) VALUES (?,?,?,?,?)"
        " ON CONFLICT (device) DO UPDATE SET role = excluded.role,"
        " last_seen = excluded.last_seen, health = excluded.health, state = excluded.state",
        (device, role, tx.now_iso, health_json, state_json),
    )
    stored = before["health"] if before is not None else None
    if beats.should_event(device, _signature(health), stored):
        tx.emit("device.health", {"device": device, "role": role, "health": health})


class PairingGuard:
    """Failed pairing codes per source address in the last minute; a source past the limit
    gets 429 (the others pair as usual)."""

    def __init__(
        self, now: Callable[[], float], per_minute: int = PAIR_FAILURES_PER_MINUTE
    ) -> None:
        self.now = now
        self.per_minute = per_minute
        self._fails: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, source: str) -> None:
        now = self.now()
        with self._lock:
            recent = [t for t in self._fails.get(source, ()) if now - t < 60]
            if recent:
                self._fails[source] = recent
            else:
                self._fails.pop(source, None)
            if len(recent) >= self.per_minute:
                raise TooMany("配对尝试过于频繁，请一分钟后再试", "too_many_attempts")

    def failed(self, source: str) -> None:
        with self._lock:
            self._fails.setdefault(source, []).append(self.now())
            self._fails.move_to_end(source)
            while len(self._fails) > MAX_SOURCES:
                self._fails.popitem(last=False)


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


def attention(conn: sqlite3.Connection, now_ts: float, window: int | None) -> list[dict[str, Any]]:
    """What window staff should know about the hall's devices: a display that cannot speak or
    show (blocked sound, offline) and their own window's evaluator, when not well."""
    return [
        {"name": d["name"], "role": d["role"], "level": d["level"], "summary": d["summary"]}
        for d in list_devices(conn, now_ts)
        if d["level"] in ("warn", "error", "offline")
        and (d["role"] == "display" or (d["role"] == "evaluator" and d["window"] == window))
    ]


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
