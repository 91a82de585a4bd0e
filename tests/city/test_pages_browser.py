"""The gateway's public pages on a 360×740 phone in headless Chromium: the hall list, the
ticket page following its ticket live, the "即将到号" notification, and the QR rating
delivered to the hall through the broker. Screenshots go to test-artifacts/city/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.city.conftest import SW_WINDOW, finish, issue, wait_for
from tests.web.conftest import ARTIFACTS, launch

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PHONE = {"width": 360, "height": 740}
SHOTS = ARTIFACTS.parent / "city"
# Records notifications instead of showing them (headless Chromium has no notification UI).
FAKE_NOTIFICATION = """
window.__notes = [];
window.Notification = class { constructor(t, o) { window.__notes.push([t, o && o.body]); }
  static get permission() { return 'granted'; }
  static requestPermission() { return Promise.resolve('granted'); } };
"""


@pytest.fixture
def live_gateway(broker) -> Iterator[str]:
    import uvicorn

    from city.app import create_app
    from city.broker import free_port
    from city.link import GatewaySettings

    settings = GatewaySettings(
        broker=broker.url, password=broker.gateway_password(), answer_wait_s=5.0
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, what="the gateway")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def phone_browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw)
        try:
            yield b
        finally:
            b.close()


def fits(page: Any, name: str) -> None:
    page.screenshot(path=SHOTS / name, full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_phone_pages_list_follow_and_rate(linked_hall, live_gateway, phone_browser):
    from queue_server.core import tickets, windows

    SHOTS.mkdir(parents=True, exist_ok=True)
    hall, _link = linked_hall("h1", status_interval_s=0.2)
    _other, _ = linked_hall("h2", status_interval_s=0.2, lat=24.9, lon=113.7, district="浈江区")
    ahead = [issue(hall) for _ in range(3)]
    mine = issue(hall)
    ctx = phone_browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    ctx.add_init_script(FAKE_NOTIFICATION)
    page = ctx.new_page()
    try:
        page.goto(live_gateway + "/")
        page.wait_for_selector('[data-hall="h1"]')
        page.wait_for_selector('[data-hall="h2"]')
        assert "政务服务地图" in page.inner_text("header")
        fits(page, "list.png")

        page.goto(f"{live_gateway}/?lang=en&big=1")
        page.wait_for_selector('[data-hall="h1"]')
        assert page.evaluate("document.documentElement.classList.contains('big')")
        fits(page, "list-en-big.png")
        page.goto(f"{live_gateway}/?big=0")

        page.goto(f"{live_gateway}/h/h1/t/{mine['code']}")
        page.wait_for_selector("#no")
        assert page.inner_text("#no") == mine["number"]
        assert page.inner_text("#ahead").startswith("3")
        wait_for(lambda: page.evaluate("window.__notes.length") > 0, what="即将到号")
        assert page.evaluate("window.__notes[0][0]") == "即将到号"
        fits(page, "ticket-waiting.png")

        finish(hall, ahead[0]["id"])  # the place moves through the queue message alone
        page.wait_for_function("document.getElementById('ahead').textContent.startsWith('2')")

        hall.run_sync(
            lambda tx: windows.call_ticket(hall.ctx, tx, SW_WINDOW, None, mine["id"], "staff")
        )
        page.wait_for_function("document.getElementById('st').textContent.includes('请到窗口')")
        assert str(SW_WINDOW) in page.inner_text("#st")
        page.screenshot(path=SHOTS / "ticket-called.png", full_page=True)

        hall.run_sync(lambda tx: tickets.finish(hall.ctx, tx, mine["id"], SW_WINDOW))
        page.wait_for_selector("#rate:not([hidden])")
        page.click(".levels label:nth-child(5)")
        page.screenshot(path=SHOTS / "ticket-rate.png", full_page=True)
        page.click("#rf button[type=submit]")
        page.wait_for_function("document.getElementById('rmsg').textContent.includes('谢谢')")
        page.wait_for_selector("#rated:not([hidden])")
        assert "谢谢" in page.inner_text("#ratedmsg") and page.is_hidden("#row-ahead")
        page.screenshot(path=SHOTS / "ticket-rated.png", full_page=True)
        rows = hall.db.reader.execute(
            "SELECT level, channel FROM evaluations WHERE ticket_id = ?", (mine["id"],)
        ).fetchall()
        assert [tuple(r) for r in rows] == [(5, "qr")]
        assert ahead  # the three before it were never called: only the one rated
    finally:
        ctx.close()
