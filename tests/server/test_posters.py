"""Image notices (信息发布): uploads checked by their bytes (type, size, pixels), stored by
content, served with their type and nosniff; the rotation and its validity."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import timedelta

import pytest
from PIL import Image


def image(fmt: str = "PNG", size: tuple[int, int] = (60, 80)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, fmt)
    return buf.getvalue()


def upload(api, data: bytes, content_type: str = "application/octet-stream"):
    return api.post(
        "/api/v1/admin/media",
        content=data,
        headers={**api.who("admin"), "Content-Type": content_type},
    )


@pytest.mark.parametrize(
    ("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_png_jpeg_webp_are_kept_by_content_and_served_with_their_type(api, fmt, mime) -> None:
    data = image(fmt)
    r = upload(api, data)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["sha256"] == hashlib.sha256(data).hexdigest()
    assert (out["mime"], out["width"], out["height"]) == (mime, 60, 80)
    assert upload(api, data).json()["sha256"] == out["sha256"]  # stored once
    got = api.get(out["url"], headers=api.who("display"))
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == mime
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "unsupported_type",
        ),
        (b"<!doctype html><script>alert(1)</script>", "unsupported_type"),
        (b"GIF89a" + b"\x00" * 40, "unsupported_type"),
        (b"\x89PNG\r\n\x1a\n" + b"not really a png" * 4, "bad_image"),
        (b"", "empty_image"),
    ],
)
def test_svg_html_and_fakes_are_refused_whatever_they_claim_to_be(api, data, code) -> None:
    r = upload(api, data, "image/png")
    assert r.status_code == 422 and r.json()["error"]["code"] == code, r.text


def test_a_png_named_jpeg_is_taken_for_what_its_bytes_say(api) -> None:
    r = upload(api, image("PNG"), "image/jpeg")
    assert r.status_code == 201 and r.json()["mime"] == "image/png"


def test_size_and_pixel_limits_come_from_the_configuration(api, hall) -> None:
    big = image("PNG", (5000, 10))
    r = upload(api, big)
    assert r.status_code == 422 and r.json()["error"]["code"] == "too_many_pixels"
    admin = api.who("admin")
    snap = api.get("/api/v1/admin/config", headers=admin).json()
    snap["config"]["posters"]["max_kib"] = 16
    put = {"config": snap["config"], "version": snap["version"]}
    assert api.put("/api/v1/admin/config", json=put, headers=admin).status_code == 200
    noisy = io.BytesIO()
    Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3)).save(noisy, "PNG")
    assert len(noisy.getvalue()) > 16 * 1024
    r = upload(api, noisy.getvalue())
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_only_an_administrator_uploads(api) -> None:
    r = api.post("/api/v1/admin/media", content=image(), headers=api.who("staff", 1))
    assert r.status_code == 403
    assert api.get("/api/v1/media/" + "0" * 64, headers=api.who("display")).status_code == 404
    assert api.get("/api/v1/media/../../etc", headers=api.who("display")).status_code == 404


def test_rotation_in_order_within_validity_with_events_and_audit(api, hall, clock) -> None:
    admin = api.who("admin")
    a = upload(api, image("PNG")).json()["sha256"]
    b = upload(api, image("JPEG")).json()["sha256"]
    today = clock.now().date()
    body = {"title": "医保政策", "sha256": a, "position": 2, "seconds": 10}
    assert api.post("/api/v1/admin/posters", json=body, headers=admin).status_code == 201
    later = {"title": "不动产新规", "sha256": b, "position": 1, "seconds": 20,
             "valid_from": (today + timedelta(days=1)).isoformat()}  # fmt: skip
    p2 = api.post("/api/v1/admin/posters", json=later, headers=admin).json()
    ended = {"title": "旧通知", "sha256": b, "valid_to": (today - timedelta(days=1)).isoformat()}
    assert api.post("/api/v1/admin/posters", json=ended, headers=admin).status_code == 201
    shown = api.get("/api/v1/posters", headers=api.who("display")).json()
    assert [p["title"] for p in shown] == ["医保政策"]
    clock.advance(86400)
    shown = api.get("/api/v1/posters", headers=api.who("display")).json()
    assert [(p["title"], p["seconds"]) for p in shown] == [("不动产新规", 20), ("医保政策", 10)]
    r = api.patch(f"/api/v1/admin/posters/{p2['id']}", json={"position": 9}, headers=admin)
    assert r.status_code == 200
    shown = api.get("/api/v1/posters", headers=api.who("display")).json()
    assert [p["title"] for p in shown] == ["医保政策", "不动产新规"]
    assert api.delete(f"/api/v1/admin/posters/{p2['id']}", headers=admin).status_code == 200
    kinds = [r["type"] for r in hall.db.rows("SELECT type FROM events WHERE type LIKE 'posters.%'")]
    assert len(kinds) == 5
    actions = {r["action"] for r in hall.db.rows("SELECT action FROM audit_log")}
    assert {"media.upload", "poster.create", "poster.update", "poster.delete"} <= actions


def test_a_poster_needs_an_uploaded_image_and_sane_times(api) -> None:
    admin = api.who("admin")
    r = api.post("/api/v1/admin/posters", json={"title": "x", "sha256": "a" * 64}, headers=admin)
    assert r.status_code == 404
    sha = upload(api, image()).json()["sha256"]
    for extra in ({"valid_from": "明天"}, {"valid_from": "2026-12-02", "valid_to": "2026-12-01"}):
        r = api.post(
            "/api/v1/admin/posters", json={"title": "x", "sha256": sha, **extra}, headers=admin
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "bad_time", r.text


def test_a_patch_with_nulls_changes_only_the_bounds(api) -> None:
    admin = api.who("admin")
    sha = upload(api, image()).json()["sha256"]
    body = {"title": "x", "sha256": sha, "valid_to": "2099-01-01"}
    p = api.post("/api/v1/admin/posters", json=body, headers=admin).json()
    patch = {"title": None, "sha256": None, "position": None, "seconds": None, "valid_to": None}
    r = api.patch(f"/api/v1/admin/posters/{p['id']}", json=patch, headers=admin)
    assert r.status_code == 200, r.text
    assert (r.json()["title"], r.json()["sha256"], r.json()["valid_to"]) == ("x", sha, None)
