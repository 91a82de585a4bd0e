"""Image notices (信息发布): posters (a policy notice, a guide) the hall display shows in rotation.

An uploaded image is checked before it is kept: its size (`posters.max_kib`), its type by its
first bytes, never by a file name or a declared type (PNG, JPEG or WebP only: SVG and HTML can
carry scripts), that Pillow decodes it as that type, and its pixel dimensions
(`posters.max_pixels`). It is stored content-addressed: by its SHA-256, once however often it
is uploaded. A poster is an image with a title, its place in the rotation, the seconds it is
shown, and optional valid-from/valid-to times; every change is the event `posters.changed`.
"""

from __future__ import annotations

import hashlib
import io
import re
import sqlite3
import warnings
from datetime import datetime, timedelta
from typing import Any

from queue_server.base.db import Tx
from queue_server.base.errors import HallError, Invalid, NotFound
from queue_server.core.context import HallContext

MIMES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EDITABLE = ("title", "sha256", "position", "seconds", "valid_from", "valid_to")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TooLarge(HallError):
    status = 413


def sniff(data: bytes) -> str | None:
    """The image kind from its magic bytes: "png", "jpeg", "webp", or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def check_image(data: bytes, max_bytes: int, max_pixels: int) -> tuple[str, int, int]:
    """(MIME type, width, height) of an acceptable poster image, else a clear error."""
    if len(data) > max_bytes:
        raise TooLarge(
            f"图片过大（{len(data) // 1024} KiB），上限 {max_bytes // 1024} KiB", "too_large"
        )
    if not data:
        raise Invalid("没有收到图片", "empty_image")
    kind = sniff(data)
    if kind is None:
        raise Invalid("只接受 PNG、JPEG 或 WebP 图片（不接受 SVG、HTML 等）", "unsupported_type")
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                decoded = (img.format or "").lower()
                if width > max_pixels or height > max_pixels:
                    raise Invalid(
                        f"图片尺寸 {width}×{height} 超过上限 {max_pixels}×{max_pixels} 像素",
                        "too_many_pixels",
                    )
                img.verify()
    except HallError:
        raise
    except Exception:  # noqa: BLE001 - any decoder complaint means: not a usable image
        raise Invalid("图片已损坏或无法识别", "bad_image") from None
    if decoded != kind:
        raise Invalid("图片内容与其格式不符", "bad_image")
    return MIMES[kind], width, height


def store(tx: Tx, data: bytes, mime: str, width: int, height: int) -> str:
    """Keep the image under its SHA-256 (once); returns the hash."""
    sha = hashlib.sha256(data).hexdigest()
    tx.execute(
        "INSERT OR IGNORE INTO media (sha256, mime, width, height, size, data, created_at)"
        " VALUES (?,?,?,?,?,?,?)",
        (sha, mime, width, height, len(data), data, tx.now_iso),
    )
    return sha


def media(conn: sqlite3.Connection, sha: str) -> sqlite3.Row:
    row = None
    if SHA_RE.match(sha):
        row = conn.execute("SELECT mime, data FROM media WHERE sha256 = ?", (sha,)).fetchone()
    if row is None:
        raise NotFound("没有这张图片", "media_not_found")
    return row  # type: ignore[no-any-return]


def media_url(sha: str) -> str:
    return f"/api/v1/media/{sha}"


def _bound(ctx: HallContext, text: str | None, end: bool) -> str | None:
    """A valid-from/to time as stored (ISO, the hall's zone); a date alone means the start of
    that day (from) or its end (to)."""
    if not text:
        return None
    try:
        if _DAY_RE.match(text):
            day = datetime.fromisoformat(text).replace(tzinfo=ctx.clock.zone)
            return ctx.clock.iso((day + timedelta(days=1 if end else 0)).timestamp())
        return ctx.clock.iso(ctx.clock.parse_iso(text))
    except ValueError:
        raise Invalid(
            f"时间格式不正确：{text[:32]}（应为 2026-12-01 或 2026-12-01T08:00）", "bad_time"
        ) from None


def view(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "sha256": row["sha256"],
        "url": media_url(row["sha256"]),
        "position": row["position"],
        "seconds": row["seconds"],
        "valid_from": row["valid_from"],
        "valid_to": row["valid_to"],
        "width": row["width"],
        "height": row["height"],
        "created_by": row["created_by"],
    }


_SELECT = "SELECT p.*, m.width, m.height FROM posters p JOIN media m ON m.sha256 = p.sha256"


def list_all(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(f"{_SELECT} ORDER BY p.position, p.id").fetchall()


def active(ctx: HallContext, conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The posters to show now, in rotation order."""
    now = ctx.clock.timestamp()
    out = []
    for row in list_all(conn):
        if row["valid_from"] and ctx.clock.parse_iso(row["valid_from"]) > now:
            continue
        if row["valid_to"] and ctx.clock.parse_iso(row["valid_to"]) <= now:
            continue
        out.append(view(row))
    return out


def get(conn: sqlite3.Connection, poster_id: int) -> sqlite3.Row:
    row = conn.execute(f"{_SELECT} WHERE p.id = ?", (poster_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {poster_id} 的图片公告", "poster_not_found")
    return row  # type: ignore[no-any-return]


def save(
    ctx: HallContext,
    tx: Tx,
    actor: str,
    fields: dict[str, Any],
    poster_id: int | None = None,
) -> sqlite3.Row:
    """Create (poster_id None) or change a poster; `fields` are those given."""
    if "sha256" in fields:
        media(tx.conn, fields["sha256"])  # 404 unless uploaded
    if "title" in fields:
        fields["title"] = " ".join(str(fields["title"]).split())
        if not fields["title"]:
            raise Invalid("请填写标题", "empty_title")
    for key, end in (("valid_from", False), ("valid_to", True)):
        if key in fields:
            fields[key] = _bound(ctx, fields[key], end)
    if poster_id is None:
        cur = tx.execute(
            "INSERT INTO posters (title, sha256, position, seconds, valid_from, valid_to,"
            " created_by, created_at) VALUES (?,?,?,?,?,?,?,?)",
            (fields["title"], fields["sha256"], fields.get("position", 0),
             fields.get("seconds", 15), fields.get("valid_from"), fields.get("valid_to"),
             actor, tx.now_iso),
        )  # fmt: skip
        poster_id = int(cur.lastrowid or 0)
    else:
        get(tx.conn, poster_id)
        for key, value in fields.items():
            if key not in EDITABLE:
                raise Invalid(f"不能修改 {key}", "bad_field")
            tx.execute(f"UPDATE posters SET {key} = ? WHERE id = ?", (value, poster_id))
    row = get(tx.conn, poster_id)
    if row["valid_from"] and row["valid_to"] and row["valid_to"] <= row["valid_from"]:
        raise Invalid("结束时间应晚于开始时间", "bad_time")
    tx.emit("posters.changed", {"id": poster_id})
    return row


def delete(tx: Tx, poster_id: int) -> str:
    row = get(tx.conn, poster_id)
    tx.execute("DELETE FROM posters WHERE id = ?", (poster_id,))
    tx.emit("posters.changed", {"id": poster_id})
    return str(row["title"])
