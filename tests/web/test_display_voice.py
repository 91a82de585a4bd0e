"""The display's announcement queue in the browser: many windows calling at once are said in
the short form, several to one audio, every first call once and in order; a call whose ticket
left the window before it was said is not said."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def open_display(srv: LiveServer, browser: Any) -> tuple[Any, list[Any]]:
    """The display, with its audio requests held until the test lets them go."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    held: list[Any] = []
    page.route("**/api/v1/voice/announce**", lambda route: held.append(route))
    page.goto(f"{srv.url}/display?access_token={srv.tokens['display']}")
    page.wait_for_function("() => document.querySelectorAll('.wcell').length === 24")
    return page, held


def release(page: Any, held: list[Any], plays: int) -> None:
    """Let the audio through until `plays` announcements have started."""
    for _ in range(900):
        while held:
            held.pop(0).continue_()
        if page.evaluate("() => window.__hall.played.length") >= plays:
            return
        page.wait_for_timeout(100)
    raise AssertionError(page.evaluate("() => window.__hall.plans"))


def test_many_calls_at_once_are_said_short_and_grouped(
    own_server: LiveServer, browser: Any
) -> None:
    srv = own_server
    for _ in range(6):
        srv.issue("HJ")
    page, held = open_display(srv, browser)
    admin = srv.api(srv.login("admin", "Admin1234"))
    numbers = [admin.post(f"/windows/{no}/call-next").json()["number"] for no in range(1, 7)]
    # The first call's audio is held: the other five queue up behind it meanwhile.
    page.wait_for_function("() => window.__hall.announced.length === 6")
    release(page, held, 7)
    plans = page.evaluate("() => window.__hall.plans")
    assert [(p["form"], len(p["calls"]), p["again"]) for p in plans] == [
        ("full", 1, True),  # the first, alone when it came
        ("short", 4, False),  # five waiting: the short form, four to one audio; no 2nd reading
        ("full", 1, True),  # the last, alone again
        ("full", 1, False),  # and its second reading
    ]
    played = page.evaluate("() => window.__hall.played.map((c) => c.number)")
    assert played == [*numbers, numbers[-1]]
    admin.close()
    page.close()


def test_a_call_skipped_before_it_is_said_is_not_said(own_server: LiveServer, browser: Any) -> None:
    srv = own_server
    for _ in range(3):
        srv.issue("HJ")
    page, held = open_display(srv, browser)
    admin = srv.api(srv.login("admin", "Admin1234"))
    a = admin.post("/windows/1/call-next").json()
    b = admin.post("/windows/2/call-next").json()
    c = admin.post("/windows/3/call-next").json()
    page.wait_for_function("() => window.__hall.announced.length === 3")
    # Window 2 skips its ticket while window 1's call is still being fetched.
    admin.post(f"/tickets/{b['id']}/skip").raise_for_status()
    page.wait_for_function("() => document.querySelector('#recent').textContent.indexOf('2号') < 0")
    release(page, held, 2)
    played = page.evaluate("() => window.__hall.played.map((c) => c.number)")
    assert played[:2] == [a["number"], c["number"]]
    assert b["number"] not in played
    admin.close()
    page.close()
