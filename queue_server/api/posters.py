"""Image notices (信息发布): upload (POST /admin/media, the image as the raw body), the
rotation (/admin/posters), what a display shows now (GET /posters) and the images themselves
(GET /media/{sha256}, with their checked type and nosniff)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from queue_server.admin import posters
from queue_server.api.common import Who, hall_of, json, require
from queue_server.base.db import Tx

router = APIRouter()
RowId = Annotated[int, PathParam(ge=1, le=2**62)]


class PosterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=100, description="What the poster is, for the list")
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="An uploaded image (POST /admin/media)"
    )
    position: int = Field(0, ge=0, le=9999, description="Place in the rotation, smallest first")
    seconds: int = Field(15, ge=3, le=600, description="Seconds it is shown each turn")
    valid_from: str | None = Field(None, max_length=40, description="Shown from (date or ISO time)")
    valid_to: str | None = Field(
        None, max_length=40, description="Shown until (a date: to its end)"
    )


class PosterPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=100)
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    position: int | None = Field(None, ge=0, le=9999)
    seconds: int | None = Field(None, ge=3, le=600)
    valid_from: str | None = Field(None, max_length=40, description="empty string: no bound")
    valid_to: str | None = Field(None, max_length=40, description="empty string: no bound")


@router.post("/admin/media", status_code=201)
async def upload_media(request: Request, who: Who) -> Response:
    """Upload an image: the request body is the file's bytes (any Content-Type; the type is
    read from the bytes). PNG, JPEG or WebP, at most `posters.max_kib` KiB and
    `posters.max_pixels` pixels a side; 413 too large, 422 anything else refused."""
    require(who, "admin")
    hall = hall_of(request)
    cfg = hall.config.posters
    data = await request.body()
    mime, width, height = posters.check_image(data, cfg.max_kib * 1024, cfg.max_pixels)

    def op(tx: Tx) -> dict[str, Any]:
        sha = posters.store(tx, data, mime, width, height)
        hall.audit(tx, who.actor, "media.upload", sha, mime=mime, size=len(data))
        return {"sha256": sha, "mime": mime, "width": width, "height": height,
                "size": len(data), "url": posters.media_url(sha)}  # fmt: skip

    return json(await hall.run(op), 201)


@router.get("/admin/posters")
async def list_posters(request: Request, who: Who) -> Response:
    """Every poster in rotation order, with its validity (also those not shown now)."""
    require(who, "admin")
    return json([posters.view(r) for r in posters.list_all(hall_of(request).db.reader)])


@router.post("/admin/posters", status_code=201)
async def create_poster(body: PosterIn, request: Request, who: Who) -> Response:
    require(who, "admin")
    hall = hall_of(request)

    def op(tx: Tx) -> dict[str, Any]:
        row = posters.save(hall.ctx, tx, who.actor, body.model_dump())
        hall.audit(tx, who.actor, "poster.create", str(row["id"]), title=row["title"])
        return posters.view(row)

    return json(await hall.run(op), 201)


@router.patch("/admin/posters/{poster_id}")
async def update_poster(
    poster_id: RowId, body: PosterPatch, request: Request, who: Who
) -> Response:
    """Change a poster's title, image, place, seconds or validity (only the fields given)."""
    require(who, "admin")
    hall = hall_of(request)
    # null leaves a field as it is; for the validity bounds it (like "") removes the bound
    fields = {
        k: v
        for k, v in body.model_dump(exclude_unset=True).items()
        if v is not None or k in ("valid_from", "valid_to")
    }

    def op(tx: Tx) -> dict[str, Any]:
        row = posters.save(hall.ctx, tx, who.actor, fields, poster_id)
        hall.audit(tx, who.actor, "poster.update", str(poster_id), **fields)
        return posters.view(row)

    return json(await hall.run(op))


@router.delete("/admin/posters/{poster_id}")
async def delete_poster(poster_id: RowId, request: Request, who: Who) -> Response:
    require(who, "admin")
    hall = hall_of(request)

    def op(tx: Tx) -> None:
        title = posters.delete(tx, poster_id)
        hall.audit(tx, who.actor, "poster.delete", str(poster_id), title=title)

    await hall.run(op)
    return json({"status": "deleted"})


@router.get("/posters")
async def current_posters(request: Request, who: Who) -> Response:
    """The posters a display shows now (valid at this moment), in rotation order."""
    hall = hall_of(request)
    return json(posters.active(hall.ctx, hall.db.reader))


@router.get(
    "/media/{sha256}",
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}},
)
async def get_media(sha256: str, request: Request, who: Who) -> Response:
    """An uploaded image by its SHA-256, with the type checked at upload, nosniff, and a
    sandboxing CSP; it never changes, so it may be cached."""
    row = posters.media(hall_of(request).db.reader, sha256)
    return Response(
        bytes(row["data"]),
        media_type=row["mime"],
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": "inline",
            "Cache-Control": "private, max-age=31536000, immutable",
        },
    )
