"""The pages in Debian's Chromium against a real server: staff calls, the display shows and
speaks it, staff finishes, the evaluator asks, the rating is stored."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import LiveServer, launch

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


AUTOPLAY_BLOCKED = """(() => {
  let activated = false;
  addEventListener("click", () => { activated = true; }, true);
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    return activated ? play.call(this)
      : Promise.reject(new DOMException("play() needs a user gesture", "NotAllowedError"));
  };
})();"""


# Every visible text's colour against the first opaque background behind it (WCAG 2.x).
LOW_CONTRAST = """(minRatio) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el.checkVisibility({ opacityProperty: true })) continue;
    if (el.closest("button:disabled, dialog:not([open])")) continue;  // disabled: exempt
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < minRatio) bad.push(`${n.textContent.trim().slice(0, 20)}: ${ratio.toFixed(2)}`);
  }
  return bad;
}"""


def test_contrast_check_catches_low_contrast(browser: Any) -> None:
    page = browser.new_page()
    page.set_content(
        "<body style='background:#fff'><p style='color:#777'>grey</p>"
        "<div style='background:#0b57a4'><span style='color:#fff'>ok</span></div></body>"
    )
    assert page.evaluate(LOW_CONTRAST, 4.5) == ["grey: 4.48"]
    page.close()


def assert_contrast(page: Any) -> None:
    page.wait_for_timeout(1600)  # let a call's flash finish
    assert page.evaluate(LOW_CONTRAST, 4.5) == []


def staff_login(page: Any, server: LiveServer, username: str, window: int | None = None) -> None:
    page.goto(f"{server.url}/staff")
    page.fill("#username", username)
    page.fill("#password", "Staff1234")
    if window is not None:
        page.fill("#login-window", str(window))
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#console:not([hidden])")
    page.wait_for_function("() => document.querySelector('#offline').hidden")


def press(page: Any, key: str) -> None:
    """Press a function key once the previous action has finished (the page ignores keys
    while a request is in flight, so a double press never calls twice)."""
    page.wait_for_function("() => !window.__staff.state.busy")
    page.keyboard.press(key)


def text(page: Any, sel: str) -> str:
    return str(page.inner_text(sel)).strip()


def test_call_display_voice_finish_and_rate(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    srv = live_server
    waiting = [srv.issue("HJ"), srv.issue("SB"), srv.issue("HJ", priority="military")]
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    staff = ctx.new_page()
    staff_login(staff, srv, "staff01")
    staff.wait_for_function("() => document.querySelectorAll('#queue li b').length >= 3")
    staff.screenshot(path=str(artifacts / "staff-idle-1366x768.png"))

    dctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    display = dctx.new_page()
    voice_requests: list[str] = []
    display.on(
        "request", lambda r: voice_requests.append(r.url) if "/voice/announce" in r.url else None
    )
    display.goto(f"{srv.url}/display?access_token={srv.tokens['display']}")
    display.wait_for_function("() => document.querySelectorAll('.wcell').length === 24")

    ectx = browser.new_context(viewport={"width": 1280, "height": 800})
    evaluator = ectx.new_page()
    evaluator.goto(f"{srv.url}/evaluator?window=1&access_token={srv.tokens['evaluator']}")
    evaluator.wait_for_function(
        "() => document.querySelector('#staff-name').textContent === '王芳'"
    )
    assert text(evaluator, "#staff-no") == "工号 GZ0101"
    evaluator.screenshot(path=str(artifacts / "evaluator-idle.png"))

    # F1 calls the next ticket: the military-priority one goes first, and the page says why.
    press(staff, "F1")
    staff.wait_for_function("() => document.querySelector('#cur-number').textContent !== '—'")
    called = text(staff, "#cur-number")
    assert called == waiting[2]["number"]
    assert "军人依法优先" in text(staff, "#cur-extra")
    assert "得分" in text(staff, "#cur-reason") or "依据" in text(staff, "#cur-reason")
    assert "实名 张*" in text(staff, "#cur-extra")

    # The display shows the call within a second and fetches its audio.
    display.wait_for_function(
        f"() => document.querySelector('#latest-number').textContent === '{called}'", timeout=5000
    )
    # How fast the call reaches displays is measured by `hall bench` (call → display latency);
    # a timed assertion here would only measure how busy the test machine is.
    assert text(display, "#latest-window") == "1"
    assert text(display, '.wcell[data-window="1"] .cur') == called
    display.wait_for_function("() => window.__hall.played.length >= 1", timeout=5000)
    assert any(f"number={called}" in u and "window=1" in u for u in voice_requests)
    staff.screenshot(path=str(artifacts / "staff-calling-1366x768.png"))
    display.screenshot(path=str(artifacts / "display-1920x1080.png"))
    assert_contrast(staff)
    assert_contrast(display)

    # F4 finishes: the evaluator asks for one of the five levels, nothing preselected.
    press(staff, "F4")
    evaluator.wait_for_selector("#screen-rate:not([hidden])", timeout=2000)
    labels = evaluator.locator("#levels button").all_inner_texts()
    assert labels == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert evaluator.evaluate("document.activeElement === document.body")
    assert text(evaluator, "#rate-number") == called
    evaluator.screenshot(path=str(artifacts / "evaluator-levels.png"))
    assert evaluator.evaluate(LOW_CONTRAST, 4.5) == []
    staff.wait_for_function("() => document.querySelector('#cur-number').textContent === '—'")
    display.wait_for_function(
        "() => document.querySelector('.wcell[data-window=\"1\"] .cur').textContent === '空闲'"
    )

    evaluator.click("button[data-level='4']")
    evaluator.wait_for_selector("#screen-thanks:not([hidden])")
    evaluator.screenshot(path=str(artifacts / "evaluator-thanks.png"))
    with srv.api(srv.login("admin", "Admin1234")) as api:
        ratings = [e for e in api.get("/evaluations").json() if e["ticket_number"] == called]
        assert len(ratings) == 1
        assert ratings[0]["level"] == 4 and ratings[0]["channel"] == "window"
        assert ratings[0]["window"] == 1 and ratings[0]["staff"] == "王芳"
        # The people rated never rate (403); the evaluator rates once per ticket (409).
        again = {"ticket_id": ratings[0]["ticket_id"], "level": 5, "channel": "window"}
        assert api.post("/evaluations", json=again).status_code == 403
    with srv.api(srv.tokens["evaluator"]) as api:
        assert api.post("/evaluations", json=again).status_code == 409
    staff.wait_for_function("() => document.querySelector('#today').textContent.includes('评价')")
    for c in (ctx, dctx, ectx):
        c.close()


def test_bad_rating_needs_a_reason_and_idle_timeout(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    srv = live_server
    t = srv.issue("YB")
    token = srv.login("staff01")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{srv.url}/evaluator?window=1&access_token={srv.tokens['evaluator']}&timeout=2")
    page.wait_for_function("() => document.querySelector('#staff-name').textContent === '王芳'")
    with srv.api(token) as api:
        called = api.post("/windows/1/call-ticket", json={"number": t["number"]}).json()
        api.post(f"/tickets/{called['id']}/finish").raise_for_status()
    page.wait_for_selector("#screen-rate:not([hidden])")
    page.click("button[data-level='1']")
    page.wait_for_selector("#screen-reasons:not([hidden])")
    assert page.is_disabled("#reasons-submit")
    page.click(".reason >> text=办事效率低")
    page.click(".reason >> text=等候时间过长")
    page.screenshot(path=str(artifacts / "evaluator-reasons.png"))
    assert page.evaluate(LOW_CONTRAST, 4.5) == []
    page.click("#reasons-submit")
    page.wait_for_selector("#screen-thanks:not([hidden])")
    with srv.api(token) as api:
        mine = [e for e in api.get("/evaluations").json() if e["ticket_id"] == called["id"]]
        assert mine[0]["level"] == 1
        assert mine[0]["reasons"] == ["slow", "long_wait"]  # codes, as the labels were picked
        assert mine[0]["reason_labels"] == ["办事效率低", "等候时间过长"]

    # Nobody rates the next one: after the timeout the tablet is idle again, nothing stored.
    t2 = srv.issue("YB")
    with srv.api(token) as api:
        c2 = api.post("/windows/1/call-ticket", json={"number": t2["number"]}).json()
        api.post(f"/tickets/{c2['id']}/finish").raise_for_status()
    page.wait_for_selector("#screen-rate:not([hidden])")
    page.wait_for_selector("#screen-idle:not([hidden])", timeout=5000)
    with srv.api(token) as api:
        assert not [e for e in api.get("/evaluations").json() if e["ticket_id"] == c2["id"]]
    page.close()


def test_two_tabs_on_one_window_never_show_a_stale_ticket(
    live_server: LiveServer, browser: Any
) -> None:
    srv = live_server
    for _ in range(3):
        srv.issue("SW")
    a_ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    b_ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    a, b = a_ctx.new_page(), b_ctx.new_page()
    staff_login(a, srv, "staff11")
    staff_login(b, srv, "staff11")
    seen: set[str] = set()
    for first, second in ((a, b), (b, a), (a, b)):
        before = text(first, "#cur-number")
        press(first, "F1")
        first.wait_for_function(
            f"() => !['—', '{before}'].includes(document.querySelector('#cur-number').textContent)"
        )
        number = text(first, "#cur-number")
        assert number not in seen  # every press called a new ticket, none twice
        seen.add(number)
        second.wait_for_function(
            f"() => document.querySelector('#cur-number').textContent === '{number}'", timeout=5000
        )
    # Both tabs press at once: the server serialises; both end on the same, latest ticket.
    a.evaluate("document.querySelector('[data-action=next]').click()")
    b.evaluate("document.querySelector('[data-action=next]').click()")
    time.sleep(0.8)
    with srv.api(srv.tokens["display"]) as api:
        current = api.get("/windows/11").json()["current"]
    expect = current["number"] if current else "—"
    for page in (a, b):
        page.wait_for_function(
            f"() => document.querySelector('#cur-number').textContent === '{expect}'", timeout=5000
        )
    a_ctx.close()
    b_ctx.close()


def test_staff_actions_transfer_pause_special_and_counter_ticket(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    srv = live_server
    t = srv.issue("SB")
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    staff_login(page, srv, "staff03")
    # 窗口代取号 (F8) for a service that needs no ID card.
    press(page, "F8")
    page.check("input[name=issue-service][value=SW]")
    page.click("#form-issue button[type=submit]")
    page.wait_for_selector("#issue-result:not([hidden])")
    issued = text(page, "#issue-result b")
    assert issued.startswith("D")
    page.screenshot(path=str(artifacts / "staff-counter-ticket.png"))
    page.keyboard.press("Escape")
    # 特呼 (F5) a ticket of a service this window serves, then 转移 (F6) to window 4 (serves 社保).
    press(page, "F5")
    page.fill("#special-number", str(t["number"]).lower())
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"() => document.querySelector('#cur-number').textContent === '{t['number']}'"
    )
    assert "特呼" in text(page, "#cur-reason")
    press(page, "F6")
    page.check("#transfer-windows input[value='window:4']")
    page.click("#form-transfer button[type=submit]")
    page.wait_for_function("() => document.querySelector('#cur-number').textContent === '—'")
    with srv.api(srv.tokens["display"]) as api:
        moved = api.get(f"/tickets/{t['id']}").json()
        assert moved["status"] == "waiting" and moved["target_window"] == 4
    # 暂停 (F7): the window badge and a band say so; F1 asks before resuming (Esc: no call).
    press(page, "F7")
    page.wait_for_function(
        "() => document.querySelector('#window-status').textContent === '暂停服务'"
    )
    assert page.is_visible("#paused-banner")
    press(page, "F1")
    page.wait_for_selector("#dlg-paused[open]")
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.querySelector('#toast').textContent.includes('未叫号')")
    page.screenshot(path=str(artifacts / "staff-paused.png"))
    press(page, "F7")
    page.wait_for_function(
        "() => document.querySelector('#window-status').textContent === '办理中'"
    )
    # 过号 (F3) after a call; 重呼 (F2) is announced again on the display.
    srv.issue("SB")  # someone for window 3 to call
    press(page, "F1")
    page.wait_for_function("() => document.querySelector('#cur-number').textContent !== '—'")
    press(page, "F2")
    page.wait_for_function("() => document.querySelector('#toast').textContent.includes('重呼')")
    press(page, "F3")
    page.wait_for_function("() => document.querySelector('#cur-number').textContent === '—'")
    page.close()


def test_wrong_password_is_refused_on_the_page(live_server: LiveServer, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{live_server.url}/staff")
    page.fill("#username", "staff14")
    page.fill("#password", "wrong-password-1")
    page.click("#login-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#login-error').textContent.includes('密码错误')"
    )
    assert page.is_hidden("#console")
    page.close()


def test_display_4k_and_restart_of_the_server(
    own_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    srv = own_server
    for service in ("HJ", "SB", "YB", "SW", "BDC", "QYKB"):
        srv.issue(service)
    token = srv.login("staff14")
    page = browser.new_page(viewport={"width": 3840, "height": 2160})
    page.goto(f"{srv.url}/display?access_token={srv.tokens['display']}")
    page.wait_for_function("() => document.querySelectorAll('.scell').length === 10")
    with srv.api(token) as api:
        first = api.post("/windows/14/call-next").json()
    page.wait_for_function(
        f"() => document.querySelector('#latest-number').textContent === '{first['number']}'"
    )
    assert page.is_hidden("#offline")
    page.screenshot(path=str(artifacts / "display-3840x2160.png"))

    # The server goes away (killed, as in a crash): the display keeps its last state and shows a small offline sign.
    srv.stop(kill=True)
    page.wait_for_selector("#offline:not([hidden])", timeout=5000)
    assert text(page, "#latest-number") == first["number"]
    page.screenshot(path=str(artifacts / "display-offline.png"))

    # It comes back on the same port: the display reconnects and shows a new call at once.
    srv.start()
    page.wait_for_selector("#offline", state="hidden", timeout=10000)
    srv.issue("BDC")
    with srv.api(srv.login("staff14")) as api:
        second = api.post("/windows/14/call-next").json()
    page.wait_for_function(
        f"() => document.querySelector('#latest-number').textContent === '{second['number']}'",
        timeout=2000,
    )
    page.close()


def test_display_asks_for_a_click_when_autoplay_is_blocked(
    live_server: LiveServer, pw: Any, artifacts: Path
) -> None:
    """Not started in kiosk mode: the browser blocks sound until a click; one visible prompt.

    Headless Chromium plays sound whatever --autoplay-policy says, so the refusal a desktop
    Chromium gives (play() rejected with NotAllowedError until the first click) is stubbed."""
    srv = live_server
    b = launch(pw, "--autoplay-policy=document-user-activation-required")
    try:
        page = b.new_page(viewport={"width": 1920, "height": 1080})
        page.add_init_script(AUTOPLAY_BLOCKED)
        page.goto(f"{srv.url}/display?access_token={srv.tokens['display']}")
        page.wait_for_function("() => document.querySelectorAll('.wcell').length === 24")
        srv.issue("GJJ")
        with srv.api(srv.login("staff01")) as api:
            t = api.post("/windows/1/call-next").json()
        page.wait_for_function(
            f"() => document.querySelector('#latest-number').textContent === '{t['number']}'"
        )
        page.wait_for_selector("#sound-prompt:not([hidden])", timeout=3000)
        page.screenshot(path=str(artifacts / "display-sound-prompt.png"))
        page.click("#sound-enable")
        page.wait_for_function("() => window.__hall.played.length >= 1", timeout=5000)
        assert page.is_hidden("#sound-prompt")
    finally:
        b.close()


def test_staff_page_warns_then_logs_out_when_idle(live_server: LiveServer, browser: Any) -> None:
    """The hall's idle timeout (30 min in the demo) on a fake page clock: a warning 20 s
    before, which a click dismisses, then the login screen with a reason."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.clock.install()
    staff_login(page, live_server, "staff02")
    page.clock.run_for("29:41")
    page.wait_for_selector("#dlg-idle[open]")
    page.click("#idle-stay")
    assert page.is_hidden("#dlg-idle")
    page.clock.run_for("29:41")
    page.wait_for_selector("#dlg-idle[open]")
    page.clock.run_for("00:25")
    page.wait_for_selector("#login:not([hidden])")
    assert "自动退出" in text(page, "#login-error")
    page.close()


def test_evaluator_refuses_a_token_of_another_window(live_server: LiveServer, browser: Any) -> None:
    page = browser.new_page()
    page.goto(
        f"{live_server.url}/evaluator?window=2&access_token={live_server.tokens['evaluator']}"
    )
    page.wait_for_selector("#screen-setup:not([hidden])")
    assert "属于 1 号窗口" in text(page, "#setup-text")
    page.close()


def test_display_and_staff_reload_a_live_configuration_change(
    own_server: LiveServer, browser: Any
) -> None:
    """config.changed: the display shows the new service and notices, the staff console the
    window's new name, without a reload of the page."""
    srv = own_server
    display = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    display.goto(f"{srv.url}/display?access_token={srv.tokens['display']}")
    display.wait_for_function("() => document.querySelectorAll('.scell').length > 0")
    staff = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    staff_login(staff, srv, "staff01")
    staff.wait_for_function(
        "() => document.querySelector('#window-name').textContent === '综合窗口'"
    )
    with srv.api(srv.login("admin", "Admin1234")) as api:
        snap = api.get("/admin/config").json()
        cfg = snap["config"]
        cfg["hall"]["notices"] = ["今日下午延时服务至 18:00"]
        cfg["services"].append({"code": "LNYL", "name": "老年优待证办理", "prefix": "M"})
        cfg["windows"][0]["name"] = "综合窗口（含老年优待证）"
        cfg["windows"][0]["services"]["LNYL"] = 1.0
        r = api.put("/admin/config", json={"config": cfg, "version": snap["version"]})
        assert r.status_code == 200, r.text
    display.wait_for_function(
        "() => document.querySelector('#notices').textContent.includes('延时服务')"
    )
    display.wait_for_function(
        "() => document.querySelector('.scell[data-service=\"LNYL\"]') !== null"
    )
    staff.wait_for_function(
        "() => document.querySelector('#window-name').textContent.includes('老年优待证')"
    )
