"""The ticket's QR page on a phone (360×740), in normal and large (适老化) text: progress while
waiting, the way to the window when called, then the five levels, coded reasons, a comment
and a 回访 phone number, submitted on the `qr` channel with the ticket's code alone."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.web.conftest import LiveServer
from tests.web.test_web_pages import LOW_CONTRAST

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PHONE = {"width": 360, "height": 740}

# Faults a phone user would see: text under the size, targets too small, a page wider than
# the screen (sideways scrolling).
FAULTS = """(minText) => {
  const faults = [];
  if (document.documentElement.scrollWidth > innerWidth) faults.push(`page ${document.documentElement.scrollWidth}px wide`);
  const visible = (e) => e.checkVisibility() && e.getClientRects().length > 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement;
    if (!n.textContent.trim() || !visible(e) || e.closest(".en")) continue;
    const size = parseFloat(getComputedStyle(e).fontSize);
    if (size < minText) faults.push(`text ${size}px: ${n.textContent.trim().slice(0, 12)}`);
  }
  for (const b of document.querySelectorAll("button, input, textarea")) {
    if (!visible(b)) continue;
    const r = b.getBoundingClientRect();
    if (r.height < 44 || r.width < 44) faults.push(`target ${Math.round(r.width)}x${Math.round(r.height)}: ${b.id || b.textContent.trim().slice(0, 8)}`);
  }
  return faults;
}"""


def staff(server: LiveServer) -> httpx.Client:
    return server.api(server.login("staff11", window=11))


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"ticket-{name}.png"), full_page=True)


def open_page(browser: Any, url: str, large: bool = False) -> Any:
    page = browser.new_page(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    page.goto(url)
    page.wait_for_selector("#state-line")
    if large:
        page.click("#text-size")
    return page


def test_a_phone_follows_its_ticket_and_rates_it_once(
    own_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    server = own_server
    server.issue("SW")
    server.issue("SW")
    mine = server.issue("SW")  # two ahead of this one
    url = str(mine["qr"])
    page = open_page(browser, url)
    page.wait_for_function("document.querySelector('#ahead').textContent.includes('2')")
    assert "等候中" in page.inner_text("#state-line")
    assert page.inner_text("#number") == mine["number"]
    assert page.evaluate(FAULTS, 18) == []
    assert page.evaluate(LOW_CONTRAST, 4.5) == []
    shot(page, artifacts, "waiting")

    with staff(server) as s:
        for _ in range(2):  # the two ahead are served first
            r = s.post("/windows/11/call-next")
            assert r.status_code == 200, r.text
            s.post(f"/tickets/{r.json()['id']}/finish")
        assert s.post("/windows/11/call-ticket", json={"ticket_id": mine["id"]}).status_code == 200
    page.reload()
    page.wait_for_function("document.body.dataset.status === 'called'")
    assert "1楼B区11号窗口" in page.inner_text(
        "#state-line"
    )  # 智能引导 from the window's floor and zone
    assert "Window 11 (Floor 1, Zone B)" in page.inner_text("#state-line-en")
    shot(page, artifacts, "called")

    with staff(server) as s:
        assert s.post(f"/tickets/{mine['id']}/finish").status_code == 200
    page.reload()
    page.wait_for_selector("#rate:not([hidden])")
    levels = page.locator("#levels .level")
    assert levels.count() == 5
    assert page.locator('#levels [aria-checked="true"]').count() == 0  # nothing preselected
    assert page.is_disabled("#submit")
    assert page.evaluate(FAULTS, 18) == []
    shot(page, artifacts, "rate")

    page.click('#levels [data-level="2"]')
    assert page.is_visible("#reasons") and page.is_disabled("#submit")  # a 差评 needs a reason
    with httpx.Client(base_url=f"{server.url}/api/v1") as c:
        hall = c.get(f"/public/tickets/{urlsplit(url).path.rsplit('/', 1)[1]}").json()["hall"]
    offered = page.eval_on_selector_all("#reason-list .reason", "bs => bs.map(b => b.dataset.code)")
    assert offered == [r["code"] for r in hall["ratings"]["reasons"] if "qr" in r["channels"]]
    page.click('#reason-list [data-code="long_wait"]')
    page.fill("#comment", "希望增加窗口")
    page.fill("#phone", "12345")
    page.click("#submit")
    assert "11位手机号" in page.inner_text("#rate-error")
    page.fill("#phone", "138 1234 1234")
    assert page.inner_text("#rate-error").strip() == ""  # corrected: the old error goes
    assert page.evaluate(LOW_CONTRAST, 4.5) == []
    shot(page, artifacts, "rate-bad")
    page.click("#submit")
    page.wait_for_selector("#done:not([hidden])")
    assert "感谢您的评价" in page.inner_text("#done-title")
    assert "138****1234" in page.inner_text("#done") and "13812341234" not in page.content()
    shot(page, artifacts, "thanks")

    db = sqlite3.connect(server.db)
    row = db.execute(
        "SELECT channel, level, reasons, comment, contact_phone_masked FROM evaluations"
        " WHERE ticket_id = ?",
        (mine["id"],),
    ).fetchone()
    db.close()
    assert row == ("qr", 2, '["long_wait"]', "希望增加窗口", "138****1234")

    again = open_page(browser, url)  # the same link later: rated, said so, no form
    again.wait_for_selector("#done:not([hidden])")
    assert "已评价" in again.inner_text("#done-title") and again.is_hidden("#rate")
    again.close()
    page.close()


def test_large_text_mode_at_phone_size(
    own_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    server = own_server
    t = server.issue("SW")
    page = open_page(browser, str(t["qr"]), large=True)
    assert page.get_attribute("#text-size", "aria-pressed") == "true"
    size = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#state-line')).fontSize)"
    )
    assert size >= 30
    assert page.evaluate(FAULTS, 30) == []
    shot(page, artifacts, "waiting-large")
    with staff(server) as s:
        assert s.post("/windows/11/call-ticket", json={"ticket_id": t["id"]}).status_code == 200
        assert s.post(f"/tickets/{t['id']}/finish").status_code == 200
    page.reload()  # the choice is kept on this phone
    page.wait_for_selector("#rate:not([hidden])")
    assert page.get_attribute("#text-size", "aria-pressed") == "true"
    page.click('#levels [data-level="1"]')
    assert page.evaluate(FAULTS, 30) == []
    assert page.evaluate(LOW_CONTRAST, 4.5) == []
    shot(page, artifacts, "rate-large")
    page.close()


def test_a_second_rating_from_another_phone_is_refused_on_the_page(
    own_server: LiveServer, browser: Any
) -> None:
    server = own_server
    t = server.issue("SW")
    with staff(server) as s:
        s.post("/windows/11/call-ticket", json={"ticket_id": t["id"]})
        s.post(f"/tickets/{t['id']}/finish")
    first, second = open_page(browser, str(t["qr"])), open_page(browser, str(t["qr"]))
    for page in (first, second):
        page.wait_for_selector("#rate:not([hidden])")
        page.click('#levels [data-level="5"]')
    first.click("#submit")
    first.wait_for_selector("#done:not([hidden])")
    second.click("#submit")  # its form was open before the first phone sent
    second.wait_for_selector("#done:not([hidden])")
    assert "无法再次评价" in second.inner_text("#done-title")
    assert "一次一评" in second.inner_text("#done-text")
    first.close()
    second.close()
