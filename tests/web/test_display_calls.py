"""The hall display's 当前叫号 panel shows only calls that still send someone somewhere: a
ticket skipped, transferred or finished, or a paused window, takes its call off the screen;
with no valid call the panel welcomes instead of "请到 — 号窗口". Also after a reload and after
a reconnect that replays missed events (Last-Event-ID)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import LiveServer
from tests.web.test_web_pages import LOW_CONTRAST

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# What the panel shows: the big call (or the welcome) and the recent list, as visible text.
PANEL = """() => {
  const vis = (sel) => { const e = document.querySelector(sel); return e && e.checkVisibility() ? e.innerText.replace(/\\s+/g, " ").trim() : null; };
  return {
    latest: vis("#latest"),
    welcome: vis("#welcome"),
    recent: [...document.querySelectorAll("#recent li")].filter((li) => li.checkVisibility())
      .map((li) => li.innerText.replace(/\\s+/g, " ").trim()),
  };
}"""


def panel(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(PANEL))


def wait_panel(page: Any, latest: str | None, recent: list[str]) -> None:
    """Wait until the big call shows `latest` (a ticket number, None: the welcome) and the
    recent list is exactly `recent` (ticket numbers, newest first)."""
    want_latest = "null" if latest is None else f"'{latest}'"
    want_recent = "[" + ",".join(f"'{n}'" for n in recent) + "]"
    try:
        page.wait_for_function(
            f"""() => {{
              const p = ({PANEL})();
              const top = p.latest === null ? null : document.querySelector('#latest-number').textContent;
              const rec = p.recent.map((t) => t.split(' ')[0]);
              return top === {want_latest} && (p.latest !== null || p.welcome !== null)
                && JSON.stringify(rec) === JSON.stringify({want_recent});
            }}""",
            timeout=5000,
        )
    except Exception:
        raise AssertionError(f"panel is {panel(page)}, expected {latest} / {recent}") from None


def assert_no_dash(page: Any) -> None:
    p = panel(page)
    shown = " ".join(str(v) for v in (p["latest"], p["welcome"], *p["recent"]))
    assert "—" not in shown and "请到  号" not in shown, p


def open_display(srv: LiveServer, browser: Any) -> Any:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{srv.url}/display?access_token={srv.tokens['display']}&voice=off")
    page.wait_for_function("() => document.querySelectorAll('.wcell').length === 24")
    return page


def test_panel_shows_only_valid_calls(
    own_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    srv = own_server
    page = open_display(srv, browser)

    # No call yet: a welcome, no "请到 — 号窗口".
    wait_panel(page, None, [])
    p = panel(page)
    assert p["welcome"] == "欢迎光临 请取号后留意叫号"
    assert p["latest"] is None
    assert_no_dash(page)
    page.screenshot(path=str(artifacts / "display-idle-welcome.png"))
    assert page.evaluate(LOW_CONTRAST, 4.5) == []

    for _ in range(5):
        srv.issue("HJ")
    admin = srv.api(srv.login("admin", "Admin1234"))
    called = {}
    for no in (1, 2, 3):
        r = admin.post(f"/windows/{no}/call-next")
        assert r.status_code == 200, r.text
        called[no] = r.json()
    n1, n2, n3 = (called[no]["number"] for no in (1, 2, 3))
    wait_panel(page, n3, [n2, n1])
    # 智能引导: the demo hall gives window 3 a floor and zone
    assert panel(page)["latest"] == f"{n3} 请到 3 号窗口办理 1楼A区3号窗口"
    page.screenshot(path=str(artifacts / "display-three-calls.png"))

    # 过号 at window 3: its call goes; window 2's is now the one on the big panel.
    admin.post(f"/tickets/{called[3]['id']}/skip").raise_for_status()
    wait_panel(page, n2, [n1])
    # Transferred to another service: nobody should walk to window 2 for it any more.
    admin.post(f"/tickets/{called[2]['id']}/transfer", json={"service": "SB"}).raise_for_status()
    wait_panel(page, n1, [])
    # Window 1 pauses: its call is off the screen, the welcome is back.
    admin.post("/windows/1/pause").raise_for_status()
    wait_panel(page, None, [])
    assert_no_dash(page)
    # It resumes, still serving the same ticket: the call shows again.
    admin.post("/windows/1/resume").raise_for_status()
    wait_panel(page, n1, [])
    # 办结: the person is already at the window; the panel no longer sends anyone there.
    admin.post(f"/tickets/{called[1]['id']}/finish").raise_for_status()
    wait_panel(page, None, [])
    page.screenshot(path=str(artifacts / "display-after-finish.png"))

    # A call, then the window calls the next one: only the new call of that window is shown.
    first = admin.post("/windows/4/call-next").json()
    wait_panel(page, first["number"], [])
    second = admin.post("/windows/4/call-next").json()
    wait_panel(page, second["number"], [])
    admin.close()
    page.close()


def test_panel_is_right_after_a_reload_and_after_a_replayed_reconnect(
    own_server: LiveServer, browser: Any
) -> None:
    srv = own_server
    for _ in range(3):
        srv.issue("HJ")
    admin = srv.api(srv.login("admin", "Admin1234"))
    a = admin.post("/windows/1/call-next").json()
    b = admin.post("/windows/2/call-next").json()
    page = open_display(srv, browser)
    wait_panel(page, b["number"], [a["number"]])

    # Cut from the stream while window 2 skips its ticket and window 1 pauses; on reconnect
    # the missed events are replayed (last_event_id) and a snapshot is taken: nothing stale.
    srv.issue("SB")  # an event the display has seen, so it resumes from there
    page.wait_for_function("() => window.__hall.stream.lastId !== null")
    page.evaluate("() => window.__hall.stream.stop()")
    admin.post(f"/tickets/{b['id']}/skip").raise_for_status()
    admin.post("/windows/1/pause").raise_for_status()
    page.evaluate("() => window.__hall.stream.start()")
    wait_panel(page, None, [])

    # A fresh load sees the same: the paused window's ticket is still 'called' on the server
    # but sends nobody anywhere.
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('.wcell').length === 24")
    wait_panel(page, None, [])
    admin.post("/windows/1/resume").raise_for_status()
    wait_panel(page, a["number"], [])
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('.wcell').length === 24")
    wait_panel(page, a["number"], [])
    admin.close()
    page.close()
