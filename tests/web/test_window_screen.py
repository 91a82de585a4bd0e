"""The window screen (窗口屏) in Chromium at the bar and 7–10" panel sizes: the text fits,
and calls, pauses and resumes reach it through the event stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import LiveServer, _start_server
from tests.web.test_web_pages import LOW_CONTRAST

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SIZES = [(1280, 400), (800, 480), (1024, 600)]
LONG_NAME = "综合窗口（户籍、社保、医保、公积金、出入境证件）"
KEY_ELEMENTS = [
    "window-no", "window-name", "serving-label", "ticket", "paused", "staff-name", "staff-no",
    "services",
]  # fmt: skip

# Every shown key element keeps its text inside its box and its box inside the screen.
OVERFLOWS = """(ids) => {
  const bad = [];
  for (const id of ids) {
    const e = document.getElementById(id);
    if (!e || !e.checkVisibility() || !e.textContent.trim()) continue;
    if (e.scrollWidth > e.clientWidth) bad.push(`${id}: text ${e.scrollWidth} > ${e.clientWidth}`);
    if (e.scrollHeight > e.clientHeight + 1) bad.push(`${id}: height ${e.scrollHeight} > ${e.clientHeight}`);
    const r = e.getBoundingClientRect();
    if (r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5 || r.left < -0.5 || r.top < -0.5)
      bad.push(`${id}: outside the screen`);
  }
  const d = document.documentElement;
  if (d.scrollWidth > innerWidth || d.scrollHeight > innerHeight) bad.push("page scrolls");
  return bad;
}"""


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose window 3 has a long name and shows the staff member on duty."""
    server = _start_server(tmp_path_factory.mktemp("window-screen"))
    try:
        admin = server.login("admin", "Admin1234")
        with server.api(admin) as c:
            snap = c.get("/admin/config").json()
            config = snap["config"]
            for w in config["windows"]:
                if w["no"] == 3:
                    w["name"] = LONG_NAME
            config["window_screen"] = {"show_staff": True, "photo_url": "/photos/{staff_no}.jpg"}
            r = c.put("/admin/config", json={"config": config, "version": snap["version"]})
            assert r.status_code == 200, r.text
        yield server
    finally:
        server.stop()


def _open(browser: Any, server: LiveServer, size: tuple[int, int], window: int = 3) -> Any:
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    token = server.tokens["display"]
    page.goto(f"{server.url}/window-screen?window={window}&access_token={token}")
    page.wait_for_function("() => window.__screen && window.__screen.state.screen !== null")
    return page


def _text(page: Any, sel: str) -> str:
    return str(page.locator(sel).inner_text()).strip()


def _no_overflow(page: Any) -> None:
    assert page.evaluate(OVERFLOWS, KEY_ELEMENTS) == []


def test_screen_shows_nobody_when_the_hall_keeps_staff_private(live_server: LiveServer) -> None:
    with live_server.api(live_server.tokens["display"]) as c:
        body = c.get("/windows/1/screen").json()
    assert body["show_staff"] is False and body["staff"] is None
    assert body["window"]["no"] == 1
    assert [s["code"] for s in body["services"]] == ["HJ", "SB", "YB", "GJJ"]


def test_unknown_window_is_a_clear_404(live_server: LiveServer) -> None:
    with live_server.api(live_server.tokens["display"]) as c:
        r = c.get("/windows/999/screen")
    assert r.status_code == 404
    assert "999" in r.json()["error"]["message"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_window_screen_fits_and_follows_calls_and_pauses(
    browser: Any, hall: LiveServer, artifacts: Path, size: tuple[int, int]
) -> None:
    name = f"window-screen-{size[0]}x{size[1]}"
    page = _open(browser, hall, size)
    try:
        assert _text(page, "#window-no") == "3号窗口"
        assert _text(page, "#window-name") == LONG_NAME
        assert "社保业务" in _text(page, "#services")
        _no_overflow(page)

        staff = hall.login("staff03", window=3)
        ticket = hall.issue("SB")
        with hall.api(staff) as c:
            called = c.post("/windows/3/call-ticket", json={"ticket_id": ticket["id"]})
            assert called.status_code == 200, called.text
        page.wait_for_function(
            "(n) => document.getElementById('ticket').textContent === n", arg=ticket["number"]
        )
        assert _text(page, "#serving-label") == "正在办理"
        page.wait_for_function("() => document.getElementById('staff-name').textContent === '陈静'")
        assert _text(page, "#staff-no") == "工号 GZ0103"
        # The hall serves no photo here: the broken image goes, the initial shows.
        page.wait_for_function("() => !document.querySelector('#staff-photo img')")
        assert _text(page, "#staff-photo") == "陈"
        _no_overflow(page)
        assert page.evaluate(LOW_CONTRAST, 4.5) == []
        page.screenshot(path=str(artifacts / f"{name}-serving.png"))

        with hall.api(staff) as c:
            assert c.post("/windows/3/pause").status_code == 200
        page.wait_for_selector("#paused:not([hidden])")
        assert _text(page, "#paused") == "暂停服务"
        assert not page.locator("#ticket").is_visible()
        _no_overflow(page)
        assert page.evaluate(LOW_CONTRAST, 4.5) == []
        page.screenshot(path=str(artifacts / f"{name}-paused.png"))

        with hall.api(staff) as c:
            assert c.post("/windows/3/resume").status_code == 200
            page.wait_for_selector("#paused", state="hidden")
            assert _text(page, "#ticket") == ticket["number"]
            finished = c.post(f"/tickets/{ticket['id']}/finish", json={})
            assert finished.status_code == 200, finished.text
        page.wait_for_function("() => document.getElementById('ticket').textContent === '—'")
        assert _text(page, "#serving-label") == "请稍候"
        _no_overflow(page)
    finally:
        page.close()


def test_window_screen_catches_up_after_the_stream_was_cut(browser: Any, hall: LiveServer) -> None:
    page = _open(browser, hall, (800, 480), window=1)
    try:
        page.evaluate("() => window.__screen.stream.stop()")
        staff = hall.login("staff01", window=1)
        ticket = hall.issue("SB")
        with hall.api(staff) as c:
            assert (
                c.post("/windows/1/call-ticket", json={"ticket_id": ticket["id"]}).status_code
                == 200
            )
        assert _text(page, "#ticket") != ticket["number"]  # nothing arrives while cut off
        page.evaluate("() => window.__screen.stream.start()")
        page.wait_for_function(
            "(n) => document.getElementById('ticket').textContent === n", arg=ticket["number"]
        )
        with hall.api(staff) as c:
            assert c.post(f"/tickets/{ticket['id']}/skip", json={}).status_code == 200
        page.wait_for_function("() => document.getElementById('ticket').textContent === '—'")
    finally:
        page.close()


def test_screen_api_gives_the_photo_address_when_the_hall_enables_staff(hall: LiveServer) -> None:
    hall.login("staff03", window=3)
    with hall.api(hall.tokens["display"]) as c:
        body = c.get("/windows/3/screen").json()
    assert body["show_staff"] is True
    assert body["staff"]["name"] == "陈静" and body["staff"]["photo"] == "/photos/GZ0103.jpg"
    assert body["window"]["name"] == LONG_NAME


def test_window_screen_without_a_token_explains_the_setup(browser: Any, hall: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 800, "height": 480})
    try:
        page.goto(f"{hall.url}/window-screen?window=3")
        page.wait_for_selector("#setup:not([hidden])")
        assert "access_token" in _text(page, "#setup")
    finally:
        page.close()
