"""What a 好差评 record carries (DOMAIN.md): the 办件编号 and 事项实施编码 from 办结, the
department, the staff account and 工号 recorded at the call, the kiosk a kiosk rating rates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlite_utils

from halldomain import itemcodes, places
from queue_server.base.config import HallConfigError, load_config, parse_config
from queue_server.base.schema import MIGRATIONS

V1 = "/api/v1"
PASSWORD = "Zheng-Wu-2026!"
ITEM = "11440200MB2C92640Q4442117047000"


def login(api, hall, username: str, name: str, staff_no: str, window: int = 11) -> dict:
    from queue_server.admin.accounts import create_account

    hall.run_sync(
        lambda tx: create_account(tx, username, PASSWORD, "staff", name, window, staff_no)
    )
    r = api.post(f"{V1}/login", json={"username": username, "password": PASSWORD, "window": window})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def serve(api, staff: dict, window: int = 11, **finish) -> dict:
    t = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=api.who("kiosk")).json()
    called = api.post(f"{V1}/windows/{window}/call-next", headers=staff)
    assert called.json()["id"] == t["id"], called.text
    done = api.post(f"{V1}/tickets/{t['id']}/finish", json=finish, headers=staff)
    assert done.status_code == 200, done.text
    return t


def test_the_record_names_the_account_and_staff_no_recorded_at_the_call(api, hall):
    # two accounts share a display name: matching the name to a 工号 later cannot tell them apart
    first = login(api, hall, "wang.li", "王丽", "GZ0107", window=11)
    login(api, hall, "wang.li2", "王丽", "GZ0233", window=12)
    t = serve(api, first, case_no="BJ-2026-000187", item_code=ITEM.lower())
    r = api.post(
        f"{V1}/evaluations",
        json={"ticket_id": t["id"], "level": 5, "channel": "window"},
        headers=api.who("evaluator", 11),
    )
    assert r.status_code == 201, r.text
    ev = r.json()
    assert (ev["staff"], ev["staff_account"], ev["staff_no"]) == ("王丽", "wang.li", "GZ0107")
    assert ev["case_no"] == "BJ-2026-000187"
    assert ev["cases"] == [{"case_no": "BJ-2026-000187", "item_code": ITEM}]
    assert ev["item_codes"] == [ITEM]
    assert ev["department"] == "区税务局"  # the service's department in the demo hall
    assert ev["device"] is None
    payload = json.loads(hall.db.row("SELECT payload FROM upload_queue")["payload"])
    assert payload["staff_no"] == "GZ0107" and payload["staff_account"] == "wang.li"
    assert payload["case_no"] == "BJ-2026-000187" and payload["item_code"] == ITEM
    assert payload["department"] == "区税务局"


def test_without_a_case_the_record_takes_the_services_only_item_code(api, hall):
    staff = login(api, hall, "li.na", "李娜", "GZ0301")
    t = serve(api, staff)
    ev = api.post(
        f"{V1}/evaluations",
        json={"ticket_id": t["id"], "level": 4, "channel": "window"},
        headers=api.who("evaluator", 11),
    ).json()
    sw = hall.config.service("SW")
    assert ev["case_no"] is None and ev["cases"] == []
    assert ev["item_codes"] == sw.item_codes and len(sw.item_codes) == 1


def test_a_token_without_an_account_records_no_guessed_staff_no(api, hall):
    from queue_server.admin.accounts import create_account

    hall.run_sync(lambda tx: create_account(tx, "x", PASSWORD, "staff", "staff-11", 11, "GZ9"))
    t = serve(api, api.who("staff", 11))  # a device token named like the account
    row = hall.db.row("SELECT staff, staff_account, staff_no FROM tickets WHERE id = ?", [t["id"]])
    assert tuple(row) == ("staff-11", None, None)


def test_a_kiosk_rating_names_the_kiosk_not_a_window_or_staff(api, hall):
    staff = login(api, hall, "zhao.min", "赵敏", "GZ0404")
    t = serve(api, staff)
    r = api.post(
        f"{V1}/evaluations",
        json={"ticket_id": t["id"], "level": 2, "channel": "kiosk", "reasons": ["kiosk_slow"]},
        headers=api.who("kiosk"),
    )
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["device"] == "kiosk-None"  # the kiosk token's name (tests/conftest.make_token)
    assert ev["window"] is None and ev["staff"] is None and ev["staff_no"] is None


def test_finish_refuses_an_item_code_of_the_wrong_shape_in_chinese(api, hall):
    staff = login(api, hall, "sun.li", "孙丽", "GZ0505")
    t = api.post(f"{V1}/tickets", json={"service": "SW"}, headers=api.who("kiosk")).json()
    api.post(f"{V1}/windows/11/call-next", headers=staff)
    r = api.post(
        f"{V1}/tickets/{t['id']}/finish",
        json={"case_no": "BJ-1", "item_code": "ITEM-1"},
        headers=staff,
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_item_code"
    assert "事项实施编码" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        (ITEM, True),
        ("11100000000013338W000105001000", True),
        ("11100000000013338W", False),  # a credit code alone
        ("000105001000", False),  # a basic code alone
        ("11100000000013338I000105001000", False),  # I is not in the credit code alphabet
        ("11440200MB2C92640Q-4442117047", False),
    ],
)
def test_item_code_shape(code: str, ok: bool) -> None:
    assert itemcodes.is_item_code(code) is ok


def test_services_carry_item_codes_and_windows_a_location() -> None:
    cfg = load_config()
    assert all(s.department and s.item_codes for s in cfg.services)
    data = {
        "services": [{"code": "SW", "name": "税务", "prefix": "A", "item_codes": ["ITEM-1"]}],
        "windows": [{"no": 1, "services": {"SW": 1}}],
    }
    with pytest.raises(HallConfigError, match="item_codes"):
        parse_config(data)
    data["services"][0]["item_codes"] = [ITEM.lower()]
    data["windows"][0].update(floor="3", zone="B", department="区税务局")
    cfg = parse_config(data)
    assert cfg.services[0].item_codes == [ITEM]
    assert cfg.windows[0].guide == "3楼B区1号窗口"
    assert places.window_guide(12, "负一楼", "东区") == "负一楼东区12号窗口"
    assert places.window_guide(12) == "12号窗口"
    assert places.window_guide_en(12, "3", "B") == "Window 12 (Floor 3, Zone B)"


def test_migrations_keep_ratings_and_give_them_their_uploaded_staff_no(tmp_path: Path) -> None:
    db = sqlite_utils.Database(tmp_path / "old.db")
    MIGRATIONS.apply(db, stop_before="m620_ticket_staff_account")
    db.execute(
        "INSERT INTO tickets (id, business_day, number, seq, service, original_service, status,"
        " priority, channel, issued_at, issued_ts, window, staff, code)"
        " VALUES (1, '2026-11-30', 'D001', 1, 'SW', 'SW', 'done', 'ordinary', 'kiosk',"
        " '2026-11-30T09:00+08:00', 0, 11, '王丽', 'abc')"
    )
    db.execute(
        "INSERT INTO evaluations (id, ticket_id, ticket_number, business_day, service, window,"
        " staff, channel, level, reasons, comment, created_at)"
        " VALUES (1, 1, 'D001', '2026-11-30', 'SW', 11, '王丽', 'window', 5, '[]', '好',"
        " '2026-11-30T09:10+08:00')"
    )
    db.execute(
        "INSERT INTO upload_queue (record_id, evaluation_id, payload, created_at)"
        " VALUES ('h-1', 1, ?, '2026-11-30T09:10+08:00')",
        (json.dumps({"record_id": "h-1", "staff_no": "GZ0107"}),),
    )
    db.conn.commit()
    MIGRATIONS.apply(db)
    MIGRATIONS.apply(db)  # applied twice: nothing changes
    row = db.execute(
        "SELECT level, comment, staff, staff_no, cases FROM evaluations WHERE id = 1"
    ).fetchone()
    assert tuple(row) == (5, "好", "王丽", "GZ0107", "[]")
    t = db.execute("SELECT number, staff, staff_account FROM tickets WHERE id = 1").fetchone()
    assert tuple(t) == ("D001", "王丽", None)
    indexes = {r[1] for r in db.execute("PRAGMA index_list(evaluations)").fetchall()}
    assert "evaluations_one_per_visit" in indexes
