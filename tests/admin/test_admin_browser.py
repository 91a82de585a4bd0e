"""The /admin page in headless Chromium: the main flows, with screenshots in /test-artifacts/.

Flows: log in; create a service and see it in GET /api/v1/services (what the kiosk lists);
assign a window (its services and its staff); follow a 差评 up to closure. Screenshots are
taken at 1366×768, the smallest screen the page is designed for.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path("/test-artifacts/admin")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def _seed(db: Path) -> dict[str, str]:
    from queue_server.admin.accounts import create_account, create_token
    from queue_server.runtime.hall import Hall

    hall = Hall(db)
    try:

        def op(tx):  # type: ignore[no-untyped-def]
            create_account(tx, "admin", "Admin1234", "admin", "大厅管理员", None, "GZ0001")
            create_account(tx, "staff01", "Staff1234", "staff", "王芳", 1, "GZ0101")
            create_account(tx, "staff11", "Staff1234", "staff", "刘洋", 11, "GZ0111")
            return {
                "kiosk": create_token(tx, "kiosk", "kiosk-1"),
                "admin": create_token(tx, "admin", "admin-api"),
            } | {  # the window evaluators: only they rate a window's service
                f"evaluator-{no}": create_token(tx, "evaluator", f"evaluator-{no}", no)
                for no in (11, 12, 17)
            }

        return hall.run_sync(op)
    finally:
        hall.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("admin-browser") / "hall.db"
    tokens = _seed(db)
    srv = LiveServer(db)
    yield srv, tokens
    srv.stop()


@contextlib.contextmanager
def admin_page() -> Iterator[Any]:
    """A Chromium page at the staff/admin PC size (1366×768); its script errors collect in
    `page.errors`. Shared by the admin page's browser tests."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


@pytest.fixture(scope="module")
def page(server):
    with admin_page() as pg:
        yield pg


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _logged_in(page, url: str) -> None:
    """Log the page in as the admin unless its session already is (the tests share a page)."""
    page.goto(f"{url}/admin")
    page.wait_for_selector("#app:not([hidden]), #login:not([hidden])")
    if page.is_visible("#login"):
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "Admin1234")
        page.click("button[type=submit]")
        page.wait_for_selector("#app:not([hidden])")


def _busy_morning(url: str, tokens: dict[str, str]) -> dict:
    """Some activity so the floor and reports have something to show; returns a 差评 ticket."""
    k = {"Authorization": f"Bearer {tokens['kiosk']}"}
    a = {"Authorization": f"Bearer {tokens['admin']}"}
    for svc in ["SW"] * 6 + ["QYKB"] * 3 + ["GCJS"] * 2:
        assert (
            httpx.post(f"{url}/api/v1/tickets", json={"service": svc}, headers=k).status_code == 201
        )
    served = []
    for no in (11, 12, 17):
        t = httpx.post(f"{url}/api/v1/windows/{no}/call-next", headers=a).json()
        served.append(httpx.post(f"{url}/api/v1/tickets/{t['id']}/finish", headers=a).json())
    httpx.post(f"{url}/api/v1/windows/11/call-next", headers=a)
    httpx.post(f"{url}/api/v1/windows/13/pause", headers=a)
    for no in (19, 20, 23):
        httpx.post(f"{url}/api/v1/windows/{no}/close", headers=a)

    def ev(t: dict) -> dict[str, str]:
        key = "evaluator-" + str(t["window"])
        return {"Authorization": f"Bearer {tokens[key]}"}

    for t, level in zip(served[1:], (5, 4), strict=True):
        httpx.post(
            f"{url}/api/v1/evaluations", json={"ticket_id": t["id"], "level": level}, headers=ev(t)
        )
    bad = served[0]
    r = httpx.post(
        f"{url}/api/v1/evaluations",
        json={"ticket_id": bad["id"], "level": 1, "reasons": ["long_wait", "attitude"],
              "comment": "窗口人员一直在聊天"},
        headers=ev(bad),
    )  # fmt: skip
    assert r.status_code == 201
    return bad


def test_login_floor_and_reports(server, page):
    srv, tokens = server
    _busy_morning(srv.url, tokens)
    page.goto(f"{srv.url}/admin")
    page.fill("input[name=username]", "staff01")
    page.fill("input[name=password]", "Staff1234")
    page.click("button[type=submit]")
    page.wait_for_selector("text=需要管理员账号")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "Admin1234")
    page.click("button[type=submit]")
    page.wait_for_selector("text=各事项排队")
    page.wait_for_selector(".tile.busy")
    shot(page, "01-floor")
    # The alert offers the closed window that serves the long queue; one click opens it.
    page.click("button[data-open='19']")
    # Open now, but nobody is logged in there: it does not count as serving.
    page.wait_for_selector(".tile[data-window='19'] >> text=无人在岗")
    a = {"Authorization": f"Bearer {tokens['admin']}"}
    assert httpx.get(f"{srv.url}/api/v1/windows/19", headers=a).json()["status"] == "open"
    page.click("nav >> text=统计报表")
    page.wait_for_selector("svg.chart")
    shot(page, "02-reports-hour")
    page.select_option("#report-form select[name=by]", "service")
    page.click("#report-go")
    page.wait_for_selector("td:has-text('税务')")
    shot(page, "03-reports-service")
    assert page.errors == []


def test_create_service_reaches_the_kiosk_list(server, page):
    srv, tokens = server
    page.goto(f"{srv.url}/admin#services")
    page.wait_for_selector("#svc-new")
    page.click("#svc-new")
    form = "#svc-form"
    page.fill(f"{form} [name=code]", "LNYL")
    page.fill(f"{form} [name=name]", "老年优待证办理")
    page.fill(f"{form} [name=prefix]", "M")
    page.fill(f"{form} [name=daily_quota]", "80")
    page.fill(f"{form} [name=guide]", "需携带：本人身份证、一寸照片一张")
    page.fill(f"{form} [name=forms]", "老年人优待证申请表")
    page.fill(f"{form} [name=item_codes]", "11440203mb2c1p0x7g0001210010000")  # 事项实施编码
    page.fill(f"{form} [name=department]", "区民政局")
    page.check("#svc-wins input[value='24']")
    shot(page, "04-service-form")
    page.click("#svc-save")
    page.wait_for_selector("td:has-text('老年优待证办理')")
    shot(page, "05-services")
    k = {"Authorization": f"Bearer {tokens['kiosk']}"}
    services = httpx.get(f"{srv.url}/api/v1/services", headers=k).json()
    new = next(s for s in services if s["code"] == "LNYL")
    assert new["name"] == "老年优待证办理" and new["prefix"] == "M"
    assert new["guide"].startswith("需携带") and new["forms"] == ["老年人优待证申请表"]
    assert new["location"] == "3楼A区24号窗口"  # 智能引导 from window 24's floor and zone
    a = {"Authorization": f"Bearer {tokens['admin']}"}
    cfg = httpx.get(f"{srv.url}/api/v1/admin/config", headers=a).json()["config"]
    lnyl = next(s for s in cfg["services"] if s["code"] == "LNYL")
    assert lnyl["item_codes"] == ["11440203MB2C1P0X7G0001210010000"]
    assert lnyl["department"] == "区民政局"
    t = httpx.post(f"{srv.url}/api/v1/tickets", json={"service": "LNYL"}, headers=k)
    assert t.status_code == 201 and t.json()["number"] == "M001"
    assert page.errors == []


def test_assign_a_window(server, page):
    srv, tokens = server
    page.goto(f"{srv.url}/admin#windows")
    page.wait_for_selector("#win-new")
    row = page.locator("tr", has=page.locator("td >> text=/^21$/"))
    row.locator("button:has-text('编辑')").click()
    page.check("#win-svcs input[value=LNYL]")
    page.fill("#win-svcs input[name=wt-LNYL]", "2")
    page.check("#win-staff label:has-text('刘洋') input")
    shot(page, "06-window-form")
    page.click("#win-save")
    page.wait_for_selector("tr:has(td:has-text('刘洋'))")
    shot(page, "07-windows")
    a = {"Authorization": f"Bearer {tokens['admin']}"}
    w21 = httpx.get(f"{srv.url}/api/v1/windows/21", headers=a).json()
    assert "LNYL" in w21["services"] and w21["weights"]["LNYL"] == 2
    login = httpx.post(
        f"{srv.url}/api/v1/login", json={"username": "staff11", "password": "Staff1234"}
    ).json()
    assert login["window"] == 21
    assert page.errors == []


def test_follow_up_a_bad_rating_to_closure(server, page):
    srv, _tokens = server
    page.goto(f"{srv.url}/admin#ratings")
    page.wait_for_selector("#cases [data-case]")
    shot(page, "08-ratings")
    page.click("#cases [data-case]")
    page.wait_for_selector("#case-assign")
    assert page.is_disabled("#case-close")  # no follow-up yet: cannot close
    page.fill("#case-assignee", "张科长")
    page.click("#case-assign")
    page.wait_for_selector("text=已于")
    page.select_option("#case-result", "satisfied")
    page.fill("#case-note", "已电话回访，向群众致歉，群众表示理解")
    page.click("#case-followup")
    page.wait_for_selector("text=向群众致歉")
    page.fill("#case-measures", "窗口工作纪律专项整顿，纳入月度考核")
    page.click("#case-rectify")
    page.wait_for_selector("text=专项整顿")
    shot(page, "09-case-followed-up")
    page.fill("#case-conclusion", "已回访并整改完毕")
    page.click("#case-close")
    page.wait_for_selector("#modal .tag.ok:has-text('已办结')")
    shot(page, "10-case-closed")
    page.click("#case-x")
    page.wait_for_selector("text=0 件未办结")
    assert page.errors == []


def test_devices_toml_and_audit_pages(server, page):
    srv, _tokens = server
    page.goto(f"{srv.url}/admin#devices")
    page.wait_for_selector("#pair-go")
    page.fill("#pair-name", "kiosk-2")
    page.click("#pair-go")
    page.wait_for_selector("#pair-out b")
    code = page.inner_text("#pair-out b")
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    paired = httpx.post(f"{srv.url}/api/v1/devices/pair", json={"code": code}).json()
    h = {"Authorization": f"Bearer {paired['token']}"}
    httpx.post(
        f"{srv.url}/api/v1/devices/heartbeat",
        json={"health": {"printer": {"status": "warn", "detail": "打印纸将用完"}}},
        headers=h,
    )
    page.click("nav >> text=设备管理")
    page.reload()
    page.wait_for_selector("td:has-text('打印纸将用完')")
    shot(page, "11-devices")
    page.goto(f"{srv.url}/admin#toml")
    page.wait_for_selector("#toml-text")
    text = httpx.get(
        f"{srv.url}/api/v1/admin/config.toml",
        headers={"Authorization": f"Bearer {_tokens['admin']}"},
    ).text
    page.fill("#toml-text", text.replace("per_window_alert = 10.0", "per_window_alert = 6.0"))
    page.click("#toml-preview")
    page.wait_for_selector("td:has-text('oversight.per_window_alert')")
    shot(page, "12-toml-preview")
    page.click("#toml-apply")
    page.wait_for_selector("text=已导入")
    page.goto(f"{srv.url}/admin#audit")
    page.wait_for_selector("td:has-text('config.import')")
    shot(page, "13-audit")
    page.goto(f"{srv.url}/admin#hall")
    page.wait_for_selector("#hall-save")
    shot(page, "14-hall-settings")
    page.goto(f"{srv.url}/admin#routing")
    page.wait_for_selector("#routing-save")
    shot(page, "15-routing")
    page.goto(f"{srv.url}/admin#uploads")
    page.wait_for_selector("#retry")
    shot(page, "16-uploads")
    assert page.errors == []


def test_generated_config_forms_follow_the_schema(server, page):
    srv, tokens = server
    _logged_in(page, srv.url)
    a = {"Authorization": f"Bearer {tokens['admin']}"}
    schema = httpx.get(f"{srv.url}/api/v1/admin/config/schema", headers=a).json()
    hall = schema["$defs"]["HallSection"]["properties"]
    page.goto(f"{srv.url}/admin#hall")
    page.wait_for_selector("#hall-save")
    # One input per field, by its type; the field's description is the help text.
    assert page.get_attribute("#hall-form [name=enforce_hours]", "type") == "checkbox"
    assert page.eval_on_selector("#hall-form [name=notices]", "e => e.tagName") == "TEXTAREA"
    options = page.eval_on_selector_all(
        "#hall-form select[name=staffing] option", "os => os.map(o => o.value)"
    )
    assert options == hall["staffing"]["enum"]
    assert hall["staffing"]["description"][:40] in page.inner_text("#hall-form")
    wait = "#ov-form [name=wait_alert_min]"
    assert page.get_attribute(wait, "step") == "1"  # an integer field
    shot(page, "17-hall-generated-form")
    page.fill(wait, "45")
    page.fill("#hall-form [name=notices]", "今日下午社保窗口系统升级\n请提前取号")
    page.click("#hall-save")
    page.wait_for_selector("text=大厅设置已生效")
    cfg = httpx.get(f"{srv.url}/api/v1/admin/config", headers=a).json()["config"]
    assert cfg["oversight"]["wait_alert_min"] == 45
    assert cfg["hall"]["notices"] == ["今日下午社保窗口系统升级", "请提前取号"]
    snap_appointments = cfg["appointments"]
    page.goto(f"{srv.url}/admin#routing")
    page.wait_for_selector("#routing-save")
    page.select_option("#routing-form select[name=policy]", "interleave")
    page.fill("#routing-form [name=interleave_n]", "3")
    page.click("#routing-save")
    page.wait_for_selector("text=叫号规则已生效")
    routing = httpx.get(f"{srv.url}/api/v1/admin/config", headers=a).json()["config"]["routing"]
    assert routing["policy"] == "interleave" and routing["interleave_n"] == 3
    assert "ordinary" in routing["classes"]  # the hand-made class table is kept
    # The other sections: whole forms from the schema, keyed as in docs/CONFIG.md.
    page.goto(f"{srv.url}/admin#more")
    page.wait_for_selector("#more-save")
    sec = schema["$defs"]["SecuritySection"]["properties"]
    assert page.get_attribute("#sec-security [name=lockout_minutes]", "max") == str(
        sec["lockout_minutes"]["maximum"]
    )
    assert sec["lockout_minutes"]["description"] in page.inner_text("#sec-security")
    assert page.get_attribute("#sec-appointments [name=enabled]", "type") == "checkbox"
    shot(page, "19-more-settings")
    page.fill("#sec-security [name=lockout_minutes]", "20")
    page.click("#more-save")
    page.wait_for_selector("text=设置已生效")
    cfg = httpx.get(f"{srv.url}/api/v1/admin/config", headers=a).json()["config"]
    assert cfg["security"]["lockout_minutes"] == 20
    assert cfg["appointments"] == snap_appointments  # untouched sections come back unchanged
    assert page.errors == []


def test_data_shows_as_text_never_as_markup(server, page):
    srv, tokens = server
    _logged_in(page, srv.url)
    a = {"Authorization": f"Bearer {tokens['admin']}"}
    snap = httpx.get(f"{srv.url}/api/v1/admin/config", headers=a).json()
    cfg = snap["config"]
    evil = '<img src=x onerror="window.__pwned=1">证明'
    cfg["services"].append({"code": "XSS", "name": evil, "prefix": "X"})
    r = httpx.put(
        f"{srv.url}/api/v1/admin/config",
        json={"config": cfg, "version": snap["version"]},
        headers=a,
    )
    assert r.status_code == 200, r.text
    page.goto(f"{srv.url}/admin#services")
    page.wait_for_selector("td:has-text('XSS')")
    row = page.locator("tr", has=page.locator("td >> text=/^XSS$/"))
    assert row.locator("td").nth(1).inner_text() == evil
    assert page.locator("#main img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.errors == []


def test_the_floor_resyncs_after_the_stream_reconnects(server, page):
    """Events lost while the stream was down: the page reloads the floor on reconnect."""
    srv, tokens = server
    _logged_in(page, srv.url)
    a = {"Authorization": f"Bearer {tokens['admin']}"}
    httpx.post(f"{srv.url}/api/v1/windows/14/open", headers=a)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    # Every stream connection carries no events and ends at once (as when a proxy cuts it):
    # the page learns of changes only by the snapshot it takes when it reconnects.
    page.route(
        "**/api/v1/events**",
        lambda route: route.fulfill(
            status=200, headers={"Content-Type": "text/event-stream"}, body="retry: 500\n\n"
        ),
    )
    page.goto("about:blank")  # a fresh page load: its stream goes through the route
    page.goto(f"{srv.url}/admin#floor")
    page.wait_for_selector(".tile[data-window='14'].open")
    seen.clear()
    try:
        assert httpx.post(f"{srv.url}/api/v1/windows/14/close", headers=a).status_code == 200
        page.wait_for_selector(".tile[data-window='14'] >> text=已关闭")
        shot(page, "18-floor-after-resync")
        reconnects = [i for i, u in enumerate(seen) if "/api/v1/events" in u]
        assert reconnects, seen  # the stream reconnected
        after = seen[reconnects[0] :]
        assert any(u.endswith("/api/v1/admin/config") for u in after)  # the resync snapshot
        assert any(u.endswith("/api/v1/admin/floor") for u in after)
    finally:
        page.unroute("**/api/v1/events**")
    assert page.errors == []
