"""The staff console at 1366x768: the waiting list in the order the window will call, the 过号
list to call again from, a pause nobody can miss that F1 never silently ends, and transfer
choices limited to what can serve the ticket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import LiveServer, id_number
from tests.web.test_web_pages import assert_contrast, press, staff_login, text

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

VIEWPORT = {"width": 1366, "height": 768}


def listed(page: Any, sel: str = "#queue") -> list[str]:
    return [str(x).strip() for x in page.locator(f"{sel} li b").all_inner_texts()]


def wait_current(page: Any, number: str) -> None:
    page.wait_for_function(
        f"() => document.querySelector('#cur-number').textContent === '{number}'"
    )


def log_out(page: Any) -> None:
    """End the session, so the shared server does not keep this staff member on duty."""
    page.click("#logout")
    page.wait_for_selector("#login:not([hidden])")
    page.close()


def test_the_list_is_the_calling_order_and_no_shows_can_be_called_again(
    own_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    srv = own_server
    first = srv.issue("SB")
    second = srv.issue("GJJ")
    elder = srv.issue("YB", id_card={"id_number": id_number(900, birth="19500101")})
    assert elder["priority"] == "elderly"
    hj = srv.issue("HJ")
    elsewhere = srv.issue("SB")
    last = srv.issue("SB")
    with srv.api(srv.login("admin", "Admin1234")) as api:
        api.post(f"/tickets/{elsewhere['id']}/transfer", json={"window": 2}).raise_for_status()
    page = browser.new_page(viewport=VIEWPORT)
    staff_login(page, srv, "staff01")
    page.wait_for_function("() => document.querySelectorAll('#queue li b').length === 5")
    order = listed(page)
    # issue order would put the elderly ticket third; it is called first (offset 15), and
    # 户籍 (weight 2 at window 1) goes before the older ordinary tickets
    assert order[0] == elder["number"]
    assert elsewhere["number"] not in order  # sent to window 2: not this window's
    assert set(order) == {t["number"] for t in (first, second, elder, hj, last)}
    page.screenshot(path=str(artifacts / "staff-queue-order-1366x768.png"))

    calls = []
    for _ in order:
        before = text(page, "#cur-number")
        press(page, "F1")
        page.wait_for_function(
            f"() => document.querySelector('#cur-number').textContent !== '{before}'"
        )
        calls.append(text(page, "#cur-number"))
        if len(calls) < len(order):  # the rest of the list is still the rest of the calls
            page.wait_for_function(
                f"() => document.querySelectorAll('#queue li b').length === {len(order) - len(calls)}"
            )
            assert listed(page) == order[len(calls) :]
    assert calls == order

    # 过号 (F3): the ticket goes to the 过号 list; 特呼 from there calls it again.
    press(page, "F3")
    page.wait_for_function(
        f"() => [...document.querySelectorAll('#noshow li b')].some(b => b.textContent === '{order[-1]}')"
    )
    assert text(page, "#noshow-count") == "1"
    page.screenshot(path=str(artifacts / "staff-noshow-1366x768.png"))
    assert_contrast(page)
    page.click(f"#noshow li:has(b:text-is('{order[-1]}')) button[data-noshow=call]")
    wait_current(page, order[-1])
    page.wait_for_function("() => document.querySelector('#noshow-count').textContent === '0'")
    # Skipped again, then put back in the queue (重新排队): it is waiting again.
    press(page, "F3")
    page.wait_for_function("() => document.querySelector('#noshow-count').textContent === '1'")
    page.click("#noshow button[data-noshow=requeue]")
    page.wait_for_function(
        f"() => [...document.querySelectorAll('#queue li b')].some(b => b.textContent === '{order[-1]}')"
    )
    assert text(page, "#noshow-count") == "0"
    page.close()


def test_transfer_offers_only_what_can_serve_the_ticket(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    srv = live_server
    t = srv.issue("HJ")
    admin = srv.login("admin", "Admin1234")
    with srv.api(admin) as api:
        api.post("/windows/4/pause").raise_for_status()
    page = browser.new_page(viewport=VIEWPORT)
    staff_login(page, srv, "staff02")
    press(page, "F5")
    page.fill("#special-number", str(t["number"]))
    page.keyboard.press("Enter")
    wait_current(page, str(t["number"]))
    press(page, "F6")
    page.wait_for_selector("#transfer-windows input")
    services = page.eval_on_selector_all("#transfer-services input", "els => els.map(e => e.value)")
    windows = page.eval_on_selector_all("#transfer-windows input", "els => els.map(e => e.value)")
    assert "service:HJ" not in services and "service:SW" in services
    with srv.api(admin) as api:
        expect = [
            f"window:{w['no']}"
            for w in api.get("/windows").json()
            if w["status"] == "open" and "HJ" in w["services"] and w["no"] != 2
        ]
    # 户籍 is served at 1–6, 9, 10, 21, 22 and 24: not 2 (this one), not 4 (paused)
    assert windows == expect and "window:4" not in windows and "window:1" in windows
    page.screenshot(path=str(artifacts / "staff-transfer-1366x768.png"))
    submit = page.locator("#form-transfer button[type=submit]").bounding_box()
    assert submit is not None and submit["y"] + submit["height"] <= VIEWPORT["height"]
    page.check("input[value='window:1']")
    page.click("#form-transfer button[type=submit]")
    wait_current(page, "—")
    with srv.api(srv.tokens["display"]) as api:
        moved = api.get(f"/tickets/{t['id']}").json()
        assert moved["status"] == "waiting" and moved["target_window"] == 1
    with srv.api(admin) as api:
        api.post("/windows/4/resume").raise_for_status()
        api.post(f"/tickets/{t['id']}/cancel").raise_for_status()
    log_out(page)


def test_paused_is_obvious_and_f1_asks_before_resuming(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    srv = live_server
    t = srv.issue("BDC")
    page = browser.new_page(viewport=VIEWPORT)
    staff_login(page, srv, "staff14")
    press(page, "F7")
    page.wait_for_selector("#paused-banner:not([hidden])")
    assert "暂停" in text(page, "#paused-banner")
    banner = page.locator("#paused-banner").bounding_box()
    assert banner is not None and banner["width"] > 1000  # a full-width band
    page.screenshot(path=str(artifacts / "staff-paused-1366x768.png"))
    assert_contrast(page)
    press(page, "F1")
    page.wait_for_selector("#dlg-paused[open]")
    page.screenshot(path=str(artifacts / "staff-paused-f1-1366x768.png"))
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.querySelector('#toast').textContent.includes('未叫号')")
    with srv.api(srv.tokens["display"]) as api:
        win = api.get("/windows/14").json()
        assert win["status"] == "paused" and win["current"] is None
    assert text(page, "#cur-number") == "—"
    press(page, "F1")
    page.wait_for_selector("#dlg-paused[open]")
    page.keyboard.press("Enter")  # 恢复并叫号
    page.wait_for_function("() => document.querySelector('#cur-number').textContent !== '—'")
    page.wait_for_selector("#paused-banner", state="hidden")
    assert text(page, "#window-status") == "办理中"
    with srv.api(srv.tokens["display"]) as api:
        assert api.get(f"/tickets/{t['id']}").json()["status"] in ("called", "waiting")
    press(page, "F4")
    log_out(page)


def test_staff_see_when_the_hall_display_cannot_speak(
    own_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    """A display whose browser blocks sound reports it; window staff see it on their console
    (the calls are silent), and the line goes when the display can speak again."""
    srv = own_server
    page = browser.new_page(viewport=VIEWPORT)
    staff_login(page, srv, "staff01")
    assert page.is_hidden("#device-alerts")
    blocked = {"health": {"audio": {"status": "warn", "detail": "浏览器阻止了声音"}}, "state": {}}
    with srv.api(srv.tokens["display"]) as api:
        api.post("/devices/heartbeat", json=blocked).raise_for_status()
    page.wait_for_selector("#device-alerts:not([hidden])", timeout=15000)
    assert "声音" in text(page, "#device-alerts")
    page.screenshot(path=str(artifacts / "staff-display-sound-blocked-1366x768.png"))
    with srv.api(srv.tokens["display"]) as api:
        api.post(
            "/devices/heartbeat", json={"health": {"audio": {"status": "ok"}}}
        ).raise_for_status()
    page.wait_for_selector("#device-alerts", state="hidden", timeout=15000)
    log_out(page)
