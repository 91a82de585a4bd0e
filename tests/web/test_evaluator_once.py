"""The window evaluator and the ticket's QR page share one rating (一次一评): whichever comes
second is refused, and the evaluator says so on screen, then goes back to idle."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.conftest import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def finished_at_window_1(srv: LiveServer) -> dict:
    t = srv.issue("YB")
    with srv.api(srv.login("staff01")) as api:
        assert api.post("/windows/1/call-ticket", json={"ticket_id": t["id"]}).status_code == 200
        api.post(f"/tickets/{t['id']}/finish").raise_for_status()
    return t


def rate_by_qr(srv: LiveServer, t: dict) -> httpx.Response:
    code = str(t["qr"]).rsplit("/t/", 1)[1]
    with srv.api() as c:
        return c.post(
            "/evaluations", json={"ticket_id": t["id"], "level": 5, "channel": "qr", "code": code}
        )


def evaluator(browser: Any, srv: LiveServer) -> Any:
    page = browser.new_page(viewport={"width": 800, "height": 1280})
    page.goto(f"{srv.url}/evaluator?window=1&access_token={srv.tokens['evaluator']}&timeout=600")
    page.wait_for_function("() => document.querySelector('#hall-name').textContent !== ''")
    return page


def test_a_tap_after_the_qr_rating_is_refused_on_screen(own_server: LiveServer, browser: Any):
    srv = own_server
    page = evaluator(browser, srv)
    t = finished_at_window_1(srv)
    page.wait_for_selector("#screen-rate:not([hidden])")
    page.route("**/api/v1/events**", lambda route: route.abort())  # the tablet hears nothing new

    def qr_first(route: Any) -> None:
        assert rate_by_qr(srv, t).status_code == 201  # the phone's rating lands just before
        route.continue_()

    page.route("**/api/v1/evaluations", qr_first)
    page.click('#levels [data-level="5"]')
    page.wait_for_selector("#screen-thanks:not([hidden])")
    assert page.inner_text("#thanks-title") == "本次服务已评价"
    assert f"号票 {t['number']} 已通过扫码评价过" in page.inner_text("#thanks-text")
    page.wait_for_selector("#screen-idle:not([hidden])")  # then back to idle
    page.close()


def test_a_qr_rating_while_the_tablet_asks_ends_the_question(own_server: LiveServer, browser: Any):
    srv = own_server
    page = evaluator(browser, srv)
    t = finished_at_window_1(srv)
    page.wait_for_selector("#screen-rate:not([hidden])")
    assert rate_by_qr(srv, t).status_code == 201
    page.wait_for_selector("#screen-thanks:not([hidden])")
    assert "已通过扫码评价过" in page.inner_text("#thanks-text")
    page.wait_for_selector("#screen-idle:not([hidden])")
    page.close()
