"""The publication in headless Chromium: the hall display (1920×1080) with the month's 好评率 and
a 整改 result, and the admin reports (1366×768) with the offline indicators, whose rates read
exactly as the CSV has them. Screenshots in /test-artifacts/admin/."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests.admin.test_admin_browser import (
    ARGS,
    ARTIFACTS,
    CHROMIUM,
    _busy_morning,
    _logged_in,
    _seed,
)
from tests.support import LiveServer
from tests.web.test_web_pages import LOW_CONTRAST

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from queue_server.admin.accounts import create_token
    from queue_server.runtime.hall import Hall

    db = tmp_path_factory.mktemp("publication") / "hall.db"
    tokens = _seed(db)
    hall = Hall(db)
    try:
        tokens["display"] = hall.run_sync(lambda tx: create_token(tx, "display", "display-1"))
    finally:
        hall.close()
    srv = LiveServer(db)
    try:
        _publish(srv.url, tokens)
        yield srv, tokens
    finally:
        srv.stop()


def _publish(url: str, tokens: dict[str, str]) -> None:
    """A morning with a 差评 followed up and rectified, and the publication switched on."""
    a = {"Authorization": f"Bearer {tokens['admin']}"}
    _busy_morning(url, tokens)
    (case,) = httpx.get(f"{url}/api/v1/admin/cases", headers=a).json()
    for step, body in (
        ("followup", {"result": "satisfied", "note": "已回访，群众认可"}),
        ("rectify", {"measures": "高峰时段增开潮汐窗口，并提醒窗口人员规范服务"}),
    ):
        r = httpx.post(f"{url}/api/v1/admin/cases/{case['id']}/{step}", json=body, headers=a)
        assert r.status_code == 200, r.text
    cfg = httpx.get(f"{url}/api/v1/admin/config", headers=a).json()["config"]
    cfg["publication"] |= {"show_satisfaction": True, "show_rectifications": True}
    r = httpx.put(f"{url}/api/v1/admin/config", json={"config": cfg}, headers=a)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def test_display_publishes_rate_and_rectification(published, chromium):
    srv, tokens = published
    page = chromium.new_page(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{srv.url}/display?access_token={tokens['display']}&voice=off")
    page.wait_for_selector("#publication:not([hidden]) #pub-fixes li")
    rate = page.inner_text("#pub-rate")
    assert "月好评率" in rate and "66.7%" in rate and "3 条评价" in rate
    fix = page.inner_text("#pub-fixes")
    assert "差评整改公示" in fix and "高峰时段增开潮汐窗口" in fix and "等候时间过长" in fix
    assert "窗口人员一直在聊天" not in fix and "刘洋" not in fix  # no comment, no staff name
    box = page.eval_on_selector("#publication", "e => e.getBoundingClientRect().toJSON()")
    assert box["bottom"] <= 1080 - 60 and box["height"] < 140  # above the ticker, one strip
    assert page.evaluate("document.documentElement.scrollHeight") <= 1080
    assert page.evaluate(LOW_CONTRAST, 4.5) == []
    page.screenshot(path=str(ARTIFACTS / "30-display-publication.png"))
    assert errors == []
    page.close()


def test_reports_show_offline_indicators_as_the_csv_has_them(published, chromium):
    srv, tokens = published
    page = chromium.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    _logged_in(page, srv.url)
    page.click("nav >> text=统计报表")
    page.wait_for_selector("#offline-indicators")
    page.select_option("#report-form select[name=by]", "window")
    page.click("#report-go")
    page.wait_for_selector("td:has-text('11 号窗口')")
    page.screenshot(path=str(ARTIFACTS / "31-reports-offline-indicators.png"))
    page.locator("#report-body table").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "32-reports-table.png"))
    kpis = page.inner_text("#offline-indicators")
    for name in ("整体满意度", "服务效率", "服务水平", "服务态度"):
        assert name in kpis
    heads = [h.strip() for h in page.locator("#report-body thead th").all_inner_texts()]
    cells = [
        [c.strip() for c in row.locator("td").all_inner_texts()]
        for row in page.locator("#report-body tbody tr").all()
    ]
    a = {"Authorization": f"Bearer {tokens['admin']}"}
    day = httpx.get(f"{srv.url}/api/v1/hall", headers=a).json()["business_day"]
    text = httpx.get(f"{srv.url}/api/v1/admin/reports.csv?by=window&day_from={day}", headers=a).text
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    for name in ("过号率", "好评率", "整体满意度", "服务效率", "服务水平", "服务态度"):
        on_screen = [row[heads.index(name)] for row in cells]
        assert on_screen == [line[table[0].index(name)] for line in table[1:]], name
    assert any(c.endswith("%") for row in cells for c in row)
    page.close()


def test_the_app_secret_is_a_masked_password_field_kept_on_save(published, chromium):
    srv, tokens = published
    a = {"Authorization": f"Bearer {tokens['admin']}"}
    secret = "Pl4tform-S3cret-77"
    cfg = httpx.get(f"{srv.url}/api/v1/admin/config", headers=a).json()["config"]
    cfg["upload"] |= {"sign": "hmac-sm3", "app_key": "hall-01", "app_secret": secret}
    r = httpx.put(f"{srv.url}/api/v1/admin/config", json={"config": cfg}, headers=a)
    assert r.status_code == 200 and secret not in r.text
    page = chromium.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    _logged_in(page, srv.url)
    page.goto(f"{srv.url}/admin#hall")
    page.wait_for_selector("#hall-save")
    field = "#up-form [name=app_secret]"
    assert page.get_attribute(field, "type") == "password"
    assert page.eval_on_selector(field, "e => e.value") == "********"
    assert secret not in page.content()
    page.locator(field).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "33-upload-settings.png"))
    # The publication switches are on the same page (switched on by the fixture).
    assert page.is_checked("#pub-form [name=show_satisfaction]")
    page.locator("#pub-form").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "34-publication-settings.png"))
    page.fill("#up-form [name=timeout_s]", "8")
    page.click("#hall-save")
    page.wait_for_selector("text=大厅设置已生效")
    audit = httpx.get(f"{srv.url}/api/v1/admin/audit?action=config.", headers=a).json()
    secret_changes = [
        c
        for rec in audit
        for c in rec["detail"].get("changes", [])
        if c["path"] == "upload.app_secret"
    ]
    assert len(secret_changes) == 1  # set once by the API; the page's save kept it
    assert secret not in str(audit)
    page.close()
