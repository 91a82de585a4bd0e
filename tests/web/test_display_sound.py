"""The display when the browser blocks sound: a neutral prompt on the public screen (never
developer text), the display reports "sound blocked" as its health, and the admin's device
list shows it until a tap turns the voice on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import LiveServer, launch
from tests.web.test_web_pages import AUTOPLAY_BLOCKED, LOW_CONTRAST

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Words a citizen must never read on the hall screen.
DEVELOPER_WORDS = ("kiosk", "docs/", ".md", "浏览器", "autoplay", "token", "令牌", "模式启动")


def display_health(srv: LiveServer, admin: str) -> dict[str, Any]:
    with srv.api(admin) as api:
        devices = api.get("/admin/devices").json()
    return next(d for d in devices if d["name"] == "display-1")


def test_blocked_sound_shows_a_neutral_prompt_and_is_reported(
    own_server: LiveServer, pw: Any, artifacts: Path
) -> None:
    """Chromium started without --autoplay-policy (not in kiosk mode). Headless Chromium plays
    sound whatever the policy says, so the refusal a desktop Chromium gives (play() rejected
    with NotAllowedError until the first tap) is stubbed."""
    srv = own_server
    admin = srv.login("admin", "Admin1234")
    b = launch(pw)
    try:
        page = b.new_page(viewport={"width": 1920, "height": 1080})
        page.set_default_timeout(10000)
        page.add_init_script(AUTOPLAY_BLOCKED)
        page.goto(f"{srv.url}/display?access_token={srv.tokens['display']}")
        page.wait_for_function("() => window.__hall.beats >= 1")
        assert display_health(srv, admin)["level"] == "ok"

        srv.issue("GJJ")
        with srv.api(admin) as api:
            t = api.post("/windows/1/call-next").json()
        page.wait_for_function(
            f"() => document.querySelector('#latest-number').textContent === '{t['number']}'"
        )
        page.wait_for_selector("#sound-prompt:not([hidden])", timeout=5000)
        page.screenshot(path=str(artifacts / "display-sound-blocked.png"))
        assert page.inner_text("#sound-prompt").strip() == "点击屏幕开启语音播报"
        page.wait_for_timeout(1600)  # let the call's flash finish
        assert page.evaluate(LOW_CONTRAST, 4.5) == []
        # Nothing on the page, visible or not, is a note for developers.
        everything = page.evaluate("() => document.body.textContent")
        for word in DEVELOPER_WORDS:
            assert word not in everything, word
        # The prompt is small and in a corner: it covers none of the call.
        box = page.locator("#sound-prompt").bounding_box()
        assert box["width"] * box["height"] < 0.02 * 1920 * 1080, box
        latest = page.locator("#latest").bounding_box()
        assert box["x"] > latest["x"] + latest["width"] or box["y"] > latest["y"] + latest["height"]

        # The server knows: the admin's device list shows the display's sound as blocked.
        page.wait_for_function("() => window.__hall.beats >= 2")
        d = display_health(srv, admin)
        assert d["level"] == "warn"
        assert d["health"]["audio"]["status"] == "warn"
        assert "音响" in d["summary"] and "点" in d["summary"]
        # … and so does the admin's live floor (实时监控).
        floor = b.new_page(viewport={"width": 1366, "height": 768})
        floor.goto(f"{srv.url}/admin")
        floor.fill("input[name=username]", "admin")
        floor.fill("input[name=password]", "Admin1234")
        floor.click("button[type=submit]")
        floor.wait_for_selector("#floor-devices [data-device='display-1']", timeout=10000)
        line = floor.inner_text("#floor-devices [data-device='display-1']")
        assert "大厅显示屏" in line and "音响" in line, line
        floor.screenshot(path=str(artifacts / "admin-floor-sound-blocked.png"))
        floor.close()

        # Staff tap the screen anywhere: the call is said, the warning clears.
        page.mouse.click(600, 900)
        page.wait_for_function("() => window.__hall.played.length >= 1", timeout=10000)
        assert page.is_hidden("#sound-prompt")
        page.wait_for_function("() => window.__hall.beats >= 3")
        assert display_health(srv, admin)["level"] == "ok"
    finally:
        b.close()
