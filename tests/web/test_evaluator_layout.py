"""The evaluator tablet at the sizes halls buy (800x1280 and 600x1024 portrait, 1280x800 and
1024x600 landscape): every label on one line, nothing overlapping, everything on screen, text
of at least 30 px, zoom allowed, prompts spoken, more time before idle, and a rating asked
only after an explicit 办结."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import LiveServer
from tests.web.test_web_pages import LOW_CONTRAST

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SIZES = [(800, 1280), (1280, 800), (600, 1024), (1024, 600)]

# Layout faults on the visible screen, as readable strings (empty: none).
LAYOUT_FAULTS = """() => {
  const faults = [];
  const vw = innerWidth, vh = innerHeight;
  const visible = (e) => e.checkVisibility() && e.getClientRects().length > 0;
  const name = (e) => (e.id ? "#" + e.id : e.tagName.toLowerCase()) +
    (e.textContent.trim() ? "「" + e.textContent.trim().slice(0, 12) + "」" : "");
  const px = (v) => parseFloat(v);
  const lineOf = (e) => {
    const cs = getComputedStyle(e);
    return cs.lineHeight === "normal" ? px(cs.fontSize) * 1.2 : px(cs.lineHeight);
  };
  // 1. text of at least 30 px
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement;
    if (!n.textContent.trim() || !visible(e)) continue;
    const size = px(getComputedStyle(e).fontSize);
    if (size < 30) faults.push(`text ${size}px: ${n.textContent.trim().slice(0, 12)}`);
  }
  // 2. labels and header items on one line, and inside their box
  const oneLine = [...document.querySelectorAll("button, header .win, header .hall, h1")]
    .filter(visible);
  for (const e of oneLine) {
    const r = document.createRange();
    r.selectNodeContents(e);
    const text = r.getBoundingClientRect();
    const line = lineOf(e);
    if (e.tagName === "BUTTON" || e.closest("header")) {
      if (text.height > line * 1.5) faults.push(`wraps: ${name(e)} ${text.height} > ${line}`);
      const box = e.getBoundingClientRect();
      if (text.left < box.left - 1 || text.right > box.right + 1) faults.push(`spills: ${name(e)}`);
    }
  }
  const header = document.querySelector("header");
  const headerLine = Math.max(...[...header.querySelectorAll("*")].filter(visible)
    .map(lineOf));
  if (header.getBoundingClientRect().height > headerLine * 1.8) faults.push("header wraps");
  // 3. nothing overlaps, 4. everything inside the viewport
  const screen = document.querySelector(".screen:not([hidden])");
  const boxes = [header, ...screen.querySelectorAll("h1, .sub, button, .error:not(:empty)"),
    ...document.querySelectorAll("#timer > *")].filter(visible);
  const rects = boxes.map((e) => [e, e.getBoundingClientRect()]);
  for (const [e, b] of rects) {
    if (b.left < -0.5 || b.top < -0.5 || b.right > vw + 0.5 || b.bottom > vh + 0.5) {
      faults.push(`off screen: ${name(e)} ${Math.round(b.left)},${Math.round(b.top)}` +
        ` ${Math.round(b.right)},${Math.round(b.bottom)} (viewport ${vw}x${vh})`);
    }
  }
  for (let i = 0; i < rects.length; i++) {
    for (let j = i + 1; j < rects.length; j++) {
      const [a, ra] = rects[i], [b, rb] = rects[j];
      if (a.contains(b) || b.contains(a)) continue;
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 0.5 && h > 0.5) faults.push(`overlap: ${name(a)} / ${name(b)}`);
    }
  }
  return faults;
}"""


# Every ticket number the rating screen has shown, in order.
ASKED = """window.__asked = [];
addEventListener("DOMContentLoaded", () => {
  const n = document.querySelector("#rate-number");
  new MutationObserver(() => { if (n.textContent) window.__asked.push(n.textContent); })
    .observe(n, { childList: true, characterData: true, subtree: true });
});"""


def finish_at_window_1(srv: LiveServer, staff_token: str) -> dict[str, Any]:
    t = srv.issue("YB")
    with srv.api(staff_token) as api:
        called = api.post("/windows/1/call-ticket", json={"number": t["number"]}).json()
        api.post(f"/tickets/{called['id']}/finish").raise_for_status()
    return dict(called)


def open_evaluator(browser: Any, srv: LiveServer, size: tuple[int, int], extra: str = "") -> Any:
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(f"{srv.url}/evaluator?window=1&access_token={srv.tokens['evaluator']}{extra}")
    page.wait_for_function("() => document.querySelector('#hall-name').textContent !== ''")
    return page


def test_layout_fault_check_catches_the_old_faults(browser: Any) -> None:
    """The check itself: a wrapped label, small text, overlap and a button off screen."""
    page = browser.new_page(viewport={"width": 600, "height": 400})
    page.set_content(
        "<body style='margin:0;font-size:30px'><header style='height:40px'>"
        "<span class='win'>一号窗口</span></header><main><section class='screen'>"
        "<h1 style='margin-top:-30px'>标题</h1>"
        "<button style='width:40px;font-size:30px'>非常满意</button>"
        "<p class='sub' style='font-size:20px'>小字</p>"
        "<button style='position:absolute;top:390px'>提交评价</button></section></main></body>"
    )
    faults = page.evaluate(LAYOUT_FAULTS)
    assert any(f.startswith("wraps: button「非常满意") for f in faults), faults
    assert any(f.startswith("text 20px") for f in faults), faults
    assert any(f.startswith("overlap: header") for f in faults), faults
    assert any(f.startswith("off screen: button「提交评价") for f in faults), faults
    page.close()


def test_rating_and_reasons_fit_every_tablet_size(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    srv = live_server
    page = open_evaluator(browser, srv, SIZES[0], "&timeout=600")
    meta = page.get_attribute("meta[name=viewport]", "content") or ""
    assert "user-scalable=no" not in meta and "maximum-scale" not in meta  # zoom allowed
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        assert page.evaluate(LAYOUT_FAULTS) == [], f"idle at {w}x{h}"
        page.screenshot(path=str(artifacts / f"evaluator-idle-{w}x{h}.png"))
    called = finish_at_window_1(srv, srv.login("staff01"))
    page.wait_for_selector("#screen-rate:not([hidden])")
    assert page.inner_text("#rate-number") == called["number"]
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        assert page.evaluate(LAYOUT_FAULTS) == [], f"levels at {w}x{h}"
        page.screenshot(path=str(artifacts / f"evaluator-levels-{w}x{h}.png"))
    page.click("button[data-level='2']")
    page.wait_for_selector("#screen-reasons:not([hidden])")
    page.click(".reason >> text=办事流程不清楚")
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        assert page.evaluate(LAYOUT_FAULTS) == [], f"reasons at {w}x{h}"
        page.screenshot(path=str(artifacts / f"evaluator-reasons-{w}x{h}.png"))
        box = page.locator("#reasons-submit").bounding_box()
        assert box is not None and box["y"] + box["height"] <= h and box["x"] + box["width"] <= w
    page.click("#reasons-back")
    page.close()


def test_prompts_are_spoken_and_more_time_is_offered(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    srv = live_server
    page = browser.new_page(viewport={"width": 800, "height": 1280})
    page.clock.install()
    page.goto(f"{srv.url}/evaluator?window=1&access_token={srv.tokens['evaluator']}&timeout=30")
    page.wait_for_function("() => document.querySelector('#hall-name').textContent !== ''")
    called = finish_at_window_1(srv, srv.login("staff01"))
    page.wait_for_selector("#screen-rate:not([hidden])")
    spoken = page.evaluate("window.__evaluator.spoken")
    assert any("请您对本次服务进行评价" in s and called["number"] in s for s in spoken), spoken
    assert page.is_hidden("#more-time")
    page.clock.run_for("00:16")  # 14 s left: the warning and its button
    page.wait_for_selector("#more-time:not([hidden])")
    assert "再等一会" in page.inner_text("#more-time")
    assert any("再等一会" in s for s in page.evaluate("window.__evaluator.spoken"))
    assert page.evaluate(LAYOUT_FAULTS) == []
    page.screenshot(path=str(artifacts / "evaluator-more-time-800x1280.png"))
    assert page.evaluate(LOW_CONTRAST, 4.5) == []
    page.click("#more-time")
    assert page.inner_text("#timer-left") == "30"
    assert page.is_hidden("#more-time")
    page.clock.run_for("00:20")  # past the first deadline: still asking
    assert page.is_visible("#screen-rate")
    page.click("button[data-level='5']")
    page.wait_for_selector("#screen-thanks:not([hidden])")
    assert "感谢您的评价！" in page.evaluate("window.__evaluator.spoken")
    page.close()


def test_only_an_explicit_finish_asks_for_a_rating(own_server: LiveServer, browser: Any) -> None:
    """F1 (call-next) finishes the ticket still called at the window implicitly: the person
    at the counter is already the next citizen, so the tablet does not ask them."""
    srv = own_server
    page = browser.new_page(viewport={"width": 800, "height": 1280})
    page.add_init_script(ASKED)
    page.goto(f"{srv.url}/evaluator?window=1&access_token={srv.tokens['evaluator']}&timeout=600")
    page.wait_for_function("() => document.querySelector('#hall-name').textContent !== ''")
    first, second = srv.issue("YB"), srv.issue("YB")
    token = srv.login("staff01")
    with srv.api(token) as api:
        a = api.post("/windows/1/call-next").json()
        assert a["number"] == first["number"]
        b = api.post("/windows/1/call-next").json()  # finishes `a` implicitly
        assert b["number"] == second["number"]
        api.post(f"/tickets/{b['id']}/finish").raise_for_status()  # 办结
        assert api.get(f"/tickets/{a['id']}").json()["status"] == "done"
    page.wait_for_selector("#screen-rate:not([hidden])")
    assert page.inner_text("#rate-number") == b["number"]
    assert page.evaluate("window.__asked") == [b["number"]]
    page.close()
