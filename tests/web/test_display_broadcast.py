"""The display's broadcasts (语音广播) and posters (信息发布) in the browser: a broadcast sent while
a call is being said starts only after the call (and its second reading) has ended; posters
rotate in their own column at 1920×1080 and follow the administrator's changes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.web.conftest import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def open_display(srv: LiveServer, browser: Any) -> tuple[Any, list[Any]]:
    """The display, with its call audio held until the test lets it go."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    held: list[Any] = []
    page.route("**/api/v1/voice/announce**", lambda route: held.append(route))
    page.goto(f"{srv.url}/display?access_token={srv.tokens['display']}")
    page.wait_for_function("() => document.querySelectorAll('.wcell').length === 24")
    return page, held


def test_a_broadcast_sent_during_a_call_starts_only_after_the_call(
    own_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    """And a call made while the broadcast plays waits for its end: nothing is cut off."""
    srv = own_server
    srv.issue("HJ")
    srv.issue("HJ")
    page, held = open_display(srv, browser)
    admin = srv.api(srv.login("admin", "Admin1234"))
    number = admin.post("/windows/1/call-next").json()["number"]
    page.wait_for_function("() => window.__hall.announced.length === 1")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    held.pop(0).continue_()
    # The call is playing now: the administrator broadcasts.
    page.wait_for_function("() => window.__hall.timeline.some((t) => t.kind === 'call')")
    assert page.evaluate("() => window.__hall.timeline[0].end") is None
    r = admin.post("/admin/broadcasts", json={"text": "请保管好随身物品", "repeats": 2})
    assert r.status_code == 201, r.text
    shot = False
    for _ in range(600):
        while held:  # the call's second reading
            held.pop(0).continue_()
        timeline = page.evaluate("() => window.__hall.timeline")
        if not shot and timeline[-1]["kind"] == "broadcast" and timeline[-1]["end"] is None:
            assert page.is_visible("#broadcast")
            assert page.inner_text("#broadcast-text") == "请保管好随身物品"
            page.screenshot(path=str(artifacts / "display-broadcast-1920x1080.png"))
            shot = True
            # window 2 calls while the broadcast is being said
            second = admin.post("/windows/2/call-next").json()["number"]
        if len(timeline) >= 4 and timeline[3]["start"] is not None:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(page.evaluate("() => window.__hall.timeline"))
    assert [t["kind"] for t in timeline[:4]] == ["call", "call", "broadcast", "call"]
    first_call_end = max(t["end"] for t in timeline[:2])
    assert timeline[2]["start"] >= first_call_end  # the broadcast waited for the call
    assert timeline[3]["start"] >= timeline[2]["end"]  # the next call waited for the broadcast
    played = [c["number"] for c in page.evaluate("() => window.__hall.played")]
    assert played[:3] == [number, number, second]
    assert shot and page.is_hidden("#broadcast")
    admin.close()
    page.close()


def poster(title: str, colour: tuple[int, int, int], fmt: str) -> bytes:
    """A portrait policy poster with a Chinese title, as an administrator would upload."""
    img = Image.new("RGB", (600, 850), colour)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 64)
    draw.rectangle((30, 30, 570, 820), outline=(255, 255, 255), width=8)
    draw.text((300, 200), title, font=font, fill=(255, 255, 255), anchor="mm")
    small = ImageFont.truetype(FONT, 36)
    for i, line in enumerate(("一、办理材料", "二、办理流程", "三、咨询电话 12345")):
        draw.text((80, 360 + i * 90), line, font=small, fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def test_posters_rotate_on_the_display_at_1920x1080(
    own_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    srv = own_server
    admin = srv.api(srv.login("admin", "Admin1234"))
    ids = []
    for title, colour, fmt, pos in (
        ("医保政策告知", (20, 90, 160), "PNG", 1),
        ("不动产登记新规", (150, 40, 40), "JPEG", 2),
    ):
        up = admin.post(
            "/admin/media",
            content=poster(title, colour, fmt),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert up.status_code == 201, up.text
        body = {"title": title, "sha256": up.json()["sha256"], "position": pos, "seconds": 3}
        ids.append(admin.post("/admin/posters", json=body).json()["id"])
    page, _ = open_display(srv, browser)
    page.wait_for_function("() => document.querySelector('#poster-img').naturalWidth > 0")
    assert page.evaluate("() => window.__hall.poster") == ids[0]
    box = page.locator("#posters").bounding_box()
    assert box["x"] + box["width"] <= 1920 and box["y"] + box["height"] <= 1080
    assert page.inner_text("#poster-title") == "医保政策告知"
    # every service still shows, whole, in the narrower column
    for box in (".services", ".windows", ".latest"):
        sizes = page.evaluate(
            f"() => [document.querySelector('{box}').scrollHeight, document.querySelector('{box}').clientHeight]"
        )
        assert sizes[0] <= sizes[1] + 1, (box, sizes)
    page.screenshot(path=str(artifacts / "display-posters-1920x1080.png"))
    page.wait_for_function(f"() => window.__hall.poster === {ids[1]}", timeout=15000)
    # The administrator removes both: the column goes, the screen is as before.
    for pid in ids:
        assert admin.delete(f"/admin/posters/{pid}").status_code == 200
    page.wait_for_function("() => document.querySelector('#posters').hidden", timeout=15000)
    assert not page.evaluate("() => document.body.classList.contains('has-posters')")
    admin.close()
    page.close()
