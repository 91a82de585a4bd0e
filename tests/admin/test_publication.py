"""The hall display's publication: the month's 好评率 and recent 整改 results, off by default,
never personal data."""

from __future__ import annotations

from queue_server.admin.accounts import create_account
from queue_server.ratings import evaluations, followup
from tests.admin.helpers import call_next, finish, issue, set_config

DAY = 86400


def rated(hall, level: int, reasons: list[str], comment: str = "", channel: str = "window"):
    t = issue(hall, "SW")
    assert call_next(hall, 11, staff="王芳")["id"] == t["id"]
    finish(hall, t["id"])
    return hall.run_sync(
        lambda tx: evaluations.create(hall.ctx, tx, t["id"], level, reasons, comment, channel, None)
    )


def rectify(hall, evaluation_id: int, measures: str) -> None:
    def op(tx):  # type: ignore[no-untyped-def]
        (case_id,) = tx.one(
            "SELECT id FROM followup_cases WHERE evaluation_id = ?", (evaluation_id,)
        )
        followup.record_followup(hall.ctx, tx, case_id, "satisfied", "已电话回访 13800138000", "a")
        followup.record_rectification(hall.ctx, tx, case_id, measures, "admin:李主任")

    hall.run_sync(op)


def test_off_by_default(api, hall):
    rated(hall, 1, ["long_wait"])
    r = api.get("/api/v1/publication", headers=api.who("display"))
    assert r.status_code == 200
    assert r.json() == {"satisfaction": None, "rectifications": None}


def test_month_rate_and_recent_rectifications_without_personal_data(api, hall, clock):
    hall.run_sync(
        lambda tx: create_account(tx, "staff11", "Staff1234", "staff", "王芳", 11, "GZ0111")
    )
    clock.advance(-20 * DAY)  # 2026-10-28: last month, not counted
    rated(hall, 1, ["slow"])
    clock.advance(20 * DAY)  # 2026-11-17
    for level in (5, 5, 4, 3):
        rated(hall, level, [])
    bad = rated(hall, 2, ["long_wait"], comment="张三 身份证 440102199001011234")
    rated(hall, 1, ["kiosk_slow"], channel="kiosk")  # rates the terminal, not the service
    older = rated(hall, 1, ["attitude"])
    rectify(hall, older["id"], "窗口人员服务规范培训")
    clock.advance(60)
    rectify(hall, bad["id"], "高峰时段增开潮汐窗口")
    set_config(hall, publication={"show_satisfaction": True, "show_rectifications": True})
    body = api.get("/api/v1/publication", headers=api.who("display")).json()
    sat = body["satisfaction"]
    assert sat == {
        "month": "2026-11", "ratings": 6, "good": 4, "rate": 0.6667, "rate_pct": "66.7%",
    }  # fmt: skip
    recent = body["rectifications"]
    assert [r["measures"] for r in recent] == ["高峰时段增开潮汐窗口", "窗口人员服务规范培训"]
    assert recent[0] == {
        "day": "2026-11-17",
        "service": hall.config.service("SW").name,
        "reasons": ["等候时间过长"],
        "measures": "高峰时段增开潮汐窗口",
    }
    text = str(body)
    for private in (
        "王芳",
        "GZ0111",
        bad["ticket_number"],
        "张三",
        "4401",
        "13800138000",
        "李主任",
    ):
        assert private not in text
    # Only the configured number, only within the configured days.
    set_config(hall, publication={"rectifications": 1})
    assert (
        len(api.get("/api/v1/publication", headers=api.who("display")).json()["rectifications"])
        == 1
    )
    clock.advance(31 * DAY)
    body = api.get("/api/v1/publication", headers=api.who("display")).json()
    assert body["rectifications"] == []
    assert body["satisfaction"]["month"] == "2026-12" and body["satisfaction"]["rate_pct"] == "—"
