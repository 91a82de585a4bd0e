"""The 差评 cycle on the /admin page in headless Chromium: overdue cases on the floor and in
the list, the phone masked until the assigned handler reveals it, an appeal its appellant cannot
review, a 12345 hand-off waiting in the queue. Screenshots in /test-artifacts/admin/."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.admin.test_admin_browser import admin_page, shot
from tests.support import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PHONE = "13812341234"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _seed(db: Path) -> None:
    from queue_server.admin import accounts
    from queue_server.base.clock import FixedClock
    from queue_server.core import tickets, windows
    from queue_server.ratings import evaluations
    from queue_server.runtime.hall import Hall

    # Yesterday morning, inside opening hours, whenever the test runs.
    day = datetime.now(SHANGHAI).date() - timedelta(days=1)
    hall = Hall(db, clock=FixedClock(datetime.combine(day, time(10, 0), SHANGHAI)))
    try:

        def op(tx):  # type: ignore[no-untyped-def]
            accounts.create_account(tx, "admin", "Admin1234", "admin", "大厅管理员", None, "GZ0001")
            accounts.create_account(tx, "staff11", "Staff1234", "staff", "王芳", 11, "GZ0111")
            for reasons in (["attitude"], ["long_wait"]):
                t = tickets.issue(hall.ctx, tx, tickets.IssueRequest(service="SW"))[0]
                windows.call_next(hall.ctx, tx, 11, "王芳")
                tickets.finish(hall.ctx, tx, t["id"], None)
                evaluations.create(hall.ctx, tx, t["id"], 1, reasons, "", "window", None)
            # The first citizen left a phone (the QR page passes it); the second case is late.
            tx.execute(
                "UPDATE followup_cases SET contact_phone = ?, contact_masked = '138****1234'"
                " WHERE id = 1",
                (PHONE,),
            )
            tx.execute("UPDATE followup_cases SET followup_due_day = '2026-01-05' WHERE id = 2")

        hall.run_sync(op)
    finally:
        hall.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("case-browser") / "hall.db"
    _seed(db)
    srv = LiveServer(db)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(server):
    with admin_page() as pg:
        yield pg


def test_case_cycle_on_the_admin_page(server, page):
    page.goto(f"{server.url}/admin")
    page.wait_for_selector("#login:not([hidden])")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "Admin1234")
    page.click("button[type=submit]")
    page.wait_for_selector("#app:not([hidden])")
    page.goto(f"{server.url}/admin#floor")
    page.wait_for_selector("[data-case-alert='2']")
    assert "回访超期" in page.inner_text("[data-case-alert='2']")
    assert page.query_selector("[data-case-alert='1']") is None
    shot(page, "20-floor-case-alert")

    page.goto(f"{server.url}/admin#ratings")
    page.wait_for_selector("#cases [data-case='2']")
    assert "回访超期" in page.inner_text("#cases [data-case='2']")
    page.check("#only-overdue")
    page.wait_for_selector("#cases [data-case='1']", state="detached")
    shot(page, "21-cases-overdue")
    page.uncheck("#only-overdue")

    page.click("#cases [data-case='1']")
    page.wait_for_selector("#case-reveal")
    assert page.inner_text("#case-contact").startswith("138****1234")
    assert PHONE not in page.content()
    page.click("#case-reveal")  # not assigned to this account: refused
    page.wait_for_selector("text=只有被指派回访的账号可以查看完整号码")
    assert PHONE not in page.content()
    page.select_option("#case-account", "admin")
    page.click("#case-assign")
    page.wait_for_selector("text=已于")
    page.click("#case-reveal")
    page.wait_for_selector(f"#case-contact:has-text('{PHONE}')")
    shot(page, "22-case-contact-revealed")

    page.select_option("#case-appeal-kind", "malicious")
    page.fill("#case-appeal-reason", "该群众当日多次恶意差评")
    page.click("#case-appeal-go")
    page.wait_for_selector("#case-review")
    page.fill("#case-decision-note", "自己复核自己")
    page.click("#case-review")
    page.wait_for_selector("text=申诉人不能复核自己的申诉")
    shot(page, "23-case-appeal-own-review-refused")
    page.click("#case-x")

    page.click("#cases [data-case='2']")
    page.wait_for_selector("#case-handoff:not([disabled])")
    page.click("#case-handoff")
    page.wait_for_selector("#case-hotline:has-text('待发送')")
    assert page.is_disabled("#case-assign")  # handed off: waits for 12345's outcome
    shot(page, "24-case-handed-off")
    page.click("#case-x")

    page.goto(f"{server.url}/admin#hall")
    page.wait_for_selector("#fu-form")
    assert "差评核实回访期限" in page.inner_text("#fu-form")
    page.locator("#fu-form").scroll_into_view_if_needed()
    shot(page, "25-followup-settings")
    assert page.errors == []
