"""The admin page's 语音广播 and 信息发布 tabs in headless Chromium: send a broadcast now and
schedule a daily one; upload a poster (an SVG refused with a clear message), then take it down."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from tests.admin.test_admin_browser import ARTIFACTS, _logged_in, page, server, shot  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _admin_get(url: str, tokens: dict[str, str], path: str) -> list[dict]:
    r = httpx.get(f"{url}/api/v1{path}", headers={"Authorization": f"Bearer {tokens['admin']}"})
    r.raise_for_status()
    return list(r.json())


def test_broadcast_now_and_daily_from_the_admin_page(server, page):  # noqa: F811
    srv, tokens = server
    _logged_in(page, srv.url)
    page.goto(f"{srv.url}/admin#broadcasts")
    page.wait_for_selector("#bc-text")
    page.fill("#bc-text", "请保管好随身物品")
    page.click("#bc-send")
    page.wait_for_selector("tr[data-broadcast]")
    page.fill("#bc-text", "本厅将于17:00停止取号")
    page.select_option("#bc-schedule", "daily")
    page.fill("#bc-time", "16:45")
    page.click("#bc-send")
    page.wait_for_function("() => document.querySelectorAll('tr[data-broadcast]').length === 2")
    shot(page, "admin-broadcasts")
    got = _admin_get(srv.url, tokens, "/admin/broadcasts")
    by_text = {b["text"]: b for b in got}
    assert by_text["请保管好随身物品"]["sent_count"] == 1
    daily = by_text["本厅将于17:00停止取号"]
    assert (daily["schedule"], daily["time"], daily["working_days_only"]) == (
        "daily",
        "16:45",
        True,
    )
    assert page.errors == []


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (300, 420), (30, 90, 160)).save(buf, "PNG")
    return buf.getvalue()


def test_upload_a_poster_and_take_it_down(server, page):  # noqa: F811
    srv, tokens = server
    _logged_in(page, srv.url)
    page.goto(f"{srv.url}/admin#posters")
    page.wait_for_selector("#pt-file")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    page.set_input_files("#pt-file", {"name": "poster.png", "mimeType": "image/png", "buffer": svg})
    page.click("#pt-add")
    page.wait_for_selector("#toast.err:not([hidden])")
    assert "PNG" in page.inner_text("#toast")
    page.set_input_files(
        "#pt-file", {"name": "yibao.png", "mimeType": "image/png", "buffer": _png()}
    )
    page.fill("#pt-title", "医保政策告知")
    page.click("#pt-add")
    page.wait_for_selector("tr[data-poster] img")
    page.wait_for_function(
        "() => document.querySelector('tr[data-poster] img').naturalWidth === 300"
    )
    shot(page, "admin-posters")
    [p] = _admin_get(srv.url, tokens, "/admin/posters")
    assert p["title"] == "医保政策告知" and (p["width"], p["height"]) == (300, 420)
    page.once("dialog", lambda d: d.accept())
    page.click("tr[data-poster] button.danger")
    page.wait_for_selector("tr[data-poster]", state="detached")
    assert _admin_get(srv.url, tokens, "/admin/posters") == []
    assert page.errors == []
