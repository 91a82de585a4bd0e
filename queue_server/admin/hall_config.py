"""The live hall configuration: change it without a restart, diff it, export and import TOML.

The hall TOML file and the live configuration are one truth: the live one is stored as JSON
in `meta` ('config'), exported as TOML with the same keys, and a TOML imported here goes
through the same validation (`parse_config`) as at start-up. Every change is one operation:
validate the whole new configuration, store it, add or drop `windows` rows, swap
`ctx.config`, emit `config.changed` and append an audit record with before and after.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import tomli_w

from queue_server.base import audit
from queue_server.base.config import HallConfig, HallConfigError, parse_config
from queue_server.base.db import Tx
from queue_server.base.errors import Conflict, Invalid
from queue_server.core.context import HallContext

# Lists whose items have a natural key: diffs name the item, not its position.
_KEYED_LISTS = {"services": "code", "windows": "no"}
_SECTION_ORDER = (
    "hall", "routing", "security", "calendar", "followup", "upload", "oversight",
    "services", "windows",
)  # fmt: skip


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # "added" | "removed" | "changed"
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "before": self.before, "after": self.after}


# Write-only settings: shown, exported, diffed and audited as MASK, never as themselves.
SECRETS = (("upload", "app_secret"), ("city", "password"))
MASK = "********"
_SECRET_PATHS = {f"{section}.{key}" for section, key in SECRETS}


def config_dict(cfg: HallConfig) -> dict[str, Any]:
    data = cfg.model_dump(mode="json")
    # TOML has no null: the optional [city] section, and its unset keys, are left out.
    city = data.pop("city", None)
    if city is not None:
        data["city"] = {k: v for k, v in city.items() if v is not None}
    for section, key in SECRETS:
        if (data.get(section) or {}).get(key):
            data[section][key] = MASK
    return {k: data[k] for k in _SECTION_ORDER if k in data} | data


def keep_secrets(old: HallConfig, new: HallConfig) -> HallConfig:
    """`new` with every secret that came back as MASK (an edited page, an exported file)
    replaced by the live one."""
    for section, key in SECRETS:
        part = getattr(new, section)
        if part is None or getattr(part, key) != MASK:
            continue
        current = getattr(getattr(old, section), key, "")
        if not current:
            raise Invalid(f"{section}.{key}：请填写密钥", "secret_required")
        new = new.model_copy(update={section: part.model_copy(update={key: current})})
    return new


def _secret_changes(old: HallConfig, new: HallConfig) -> list[Change]:
    out = []
    for section, key in SECRETS:
        before = getattr(getattr(old, section), key, "")
        after = getattr(getattr(new, section), key, "")
        if before != after:
            out.append(Change(f"{section}.{key}", "changed", MASK if before else "", "(已更换)"))
    return out


def version(conn: Any) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'config_version'").fetchone()
    return int(row[0]) if row else 1


def to_toml(cfg: HallConfig) -> str:
    """The live configuration as a hall TOML file (loads back to the same configuration)."""
    header = (
        f"# {cfg.hall.name}: hall configuration exported from the live server.\n"
        "# Every key is documented in docs/CONFIG.md; import it again from /admin.\n\n"
    )
    return header + tomli_w.dumps(config_dict(cfg))


def from_toml(text: str, source: str = "imported TOML") -> HallConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise Invalid(f"{source}: 不是有效的 TOML：{err}", "invalid_toml") from None
    return validate(data, source)


def validate(data: Any, source: str = "new configuration") -> HallConfig:
    if not isinstance(data, dict):
        raise Invalid("配置必须是一个对象", "invalid_config")
    try:
        return parse_config(data, source)
    except HallConfigError as err:
        raise Invalid(str(err), "invalid_config") from None


def diff(before: Any, after: Any, path: str = "") -> list[Change]:
    """What changes from `before` to `after`, as paths such as `services[HJ].daily_quota`."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[Change] = []
        for key in list(before) + [k for k in after if k not in before]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in after:
                out.append(Change(sub, "removed", before[key], None))
            elif key not in before:
                out.append(Change(sub, "added", None, after[key]))
            else:
                out += diff(before[key], after[key], sub)
        return out
    key_field = _KEYED_LISTS.get(path)
    if key_field and isinstance(before, list) and isinstance(after, list):
        b = {str(item[key_field]): item for item in before}
        a = {str(item[key_field]): item for item in after}
        out = []
        for key in list(b) + [k for k in a if k not in b]:
            sub = f"{path}[{key}]"
            if key not in a:
                out.append(Change(sub, "removed", b[key], None))
            elif key not in b:
                out.append(Change(sub, "added", None, a[key]))
            else:
                out += diff(b[key], a[key], sub)
        return out
    if before != after:
        return [Change(path, "changed", before, after)]
    return []


def preview(ctx: HallContext, new: HallConfig) -> list[dict[str, Any]]:
    new = keep_secrets(ctx.config, new)
    changes = [
        c for c in diff(config_dict(ctx.config), config_dict(new)) if c.path not in _SECRET_PATHS
    ] + _secret_changes(ctx.config, new)
    return [c.as_dict() for c in changes]


def _check_removals(tx: Tx, old: HallConfig, new: HallConfig) -> None:
    gone_windows = {w.no for w in old.windows} - {w.no for w in new.windows}
    for no in sorted(gone_windows):
        busy = tx.one(
            "SELECT number FROM tickets WHERE status IN ('called', 'waiting')"
            " AND (window = ? AND status = 'called' OR target_window = ?)",
            (no, no),
        )
        if busy is not None:
            raise Conflict(f"{no} 号窗口还有号票 {busy['number']} 未办结，不能删除", "window_busy")
    new_codes = {s.code for s in new.services}
    for svc in old.services:
        if svc.code in new_codes:
            continue
        busy = tx.one(
            "SELECT number FROM tickets WHERE service = ? AND status IN ('waiting', 'called')",
            (svc.code,),
        )
        if busy is not None:
            raise Conflict(
                f"事项“{svc.name}”还有号票 {busy['number']} 在排队，不能删除", "service_busy"
            )


def apply(
    ctx: HallContext,
    tx: Tx,
    new: HallConfig,
    actor: str,
    expected_version: int | None = None,
    action: str = "config.update",
) -> dict[str, Any]:
    """Make `new` the live configuration (one operation: all of it or nothing)."""
    current = version(tx.conn)
    if expected_version is not None and expected_version != current:
        raise Conflict(
            "配置已被其他管理员修改，请刷新后再试（当前版本 "
            f"{current}，您编辑的是版本 {expected_version}）",
            "config_version_conflict",
        )
    old = ctx.config
    new = keep_secrets(old, new)
    changes = [
        c for c in diff(config_dict(old), config_dict(new)) if c.path not in _SECRET_PATHS
    ] + _secret_changes(old, new)
    if not changes:
        return {"version": current, "changes": []}
    _check_removals(tx, old, new)
    new_version = current + 1
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('config', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (new.model_dump_json(),),
    )
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('config_version', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(new_version),),
    )
    old_nos = {w.no for w in old.windows}
    new_nos = {w.no for w in new.windows}
    for w in new.windows:
        if w.no not in old_nos:
            tx.execute(
                "INSERT OR IGNORE INTO windows (no, status, status_since) VALUES (?, ?, ?)",
                (w.no, w.status, tx.now_iso),
            )
    for no in old_nos - new_nos:
        tx.execute("DELETE FROM windows WHERE no = ?", (no,))
        # Staff bound to a window that is gone would be refused at login; unbind them.
        tx.execute("UPDATE accounts SET window = NULL WHERE window = ?", (no,))
    listed = [c.as_dict() for c in changes]
    audit.append(
        tx.conn, tx.now_iso, actor, action, f"config v{new_version}", "ok",
        {"version": new_version, "changes": listed},
    )  # fmt: skip
    tx.emit(
        "config.changed",
        {
            "version": new_version,
            "by": actor,
            "paths": [c.path for c in changes][:100],
            "sections": sorted({c.path.split(".")[0].split("[")[0] for c in changes}),
        },
    )
    # Last, so that a failure above leaves the running configuration untouched.
    ctx.config = new
    if new.hall.timezone != old.hall.timezone:
        ctx.clock.zone = ZoneInfo(new.hall.timezone)
    ctx.invalidate_capacity()
    return {"version": new_version, "changes": listed}


def snapshot(ctx: HallContext, conn: Any) -> dict[str, Any]:
    return {"version": version(conn), "config": config_dict(ctx.config)}
