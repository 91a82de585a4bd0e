"""The provincial upload queue: idempotent records, backoff, a failing endpoint, a restart."""

from __future__ import annotations

import asyncio

import pytest

from queue_server.admin.accounts import create_account
from queue_server.ratings import upload
from queue_server.runtime.hall import Hall
from tests.admin.helpers import FakeProvince, rate, served_ticket, set_config


@pytest.fixture
def province():
    fake = FakeProvince()
    yield fake
    fake.close()


def once(hall, now: float) -> tuple[int, int]:
    return asyncio.run(upload.process_once(hall, now))


def test_records_survive_a_failing_endpoint_and_a_restart(tmp_path, clock, province):
    hall = Hall(tmp_path / "hall.db", clock=clock)
    hall.run_sync(
        lambda tx: create_account(tx, "staff11", "Staff1234", "staff", "王芳", 11, "GZ0111")
    )
    set_config(hall, upload={"endpoint": province.url, "backoff_base_s": 5, "backoff_max_s": 60})
    a, b = served_ticket(hall), served_ticket(hall)
    rate(hall, a["id"], 5)
    rate(hall, b["id"], 1, ["long_wait"])
    province.failing = True
    assert once(hall, 1000.0) == (0, 2)
    assert once(hall, 1004.0) == (0, 0)  # backing off: 5 s after the first failure
    assert once(hall, 1005.0) == (0, 2)
    rows = hall.db.rows("SELECT attempts, next_attempt_ts FROM upload_queue")
    assert [(r["attempts"], r["next_attempt_ts"]) for r in rows] == [(2, 1015.0), (2, 1015.0)]
    hall.close()  # the server goes down with both records unsent

    hall = Hall(tmp_path / "hall.db", clock=clock)
    try:
        province.failing = False
        assert once(hall, 1015.0) == (2, 0)
        assert len(province.records) == 2
        got = sorted(province.records.values(), key=lambda r: r["level"])
        assert got[0]["ticket_number"] == b["number"] and got[0]["reasons"] == ["long_wait"]
        assert got[0]["service_code"] == "SW" and got[0]["window"] == 11
        assert got[0]["staff"] == "王芳" and got[0]["staff_no"] == "GZ0111"
        assert got[0]["channel"] == "window"
        assert got[1]["level"] == 5 and got[1]["evaluated_at"].startswith("2026-11-17T09:00")
        assert {
            r["upload_status"] for r in hall.db.rows("SELECT upload_status FROM evaluations")
        } == {"sent"}
        assert once(hall, 5000.0) == (0, 0)  # nothing sent twice
        # A lost acknowledgement: the record goes again and the platform dedups it.
        hall.run_sync(lambda tx: tx.execute("UPDATE upload_queue SET status = 'pending'"))
        assert once(hall, 5000.0) == (2, 0)
        assert len(province.records) == 2 and len(province.requests) == 8
        assert len({r["key"] for r in province.requests}) == 2
    finally:
        hall.close()


def test_backoff_doubles_and_is_capped():
    from queue_server.base.config import UploadSection

    cfg = UploadSection(backoff_base_s=5, backoff_max_s=60)
    assert [upload.backoff(n, cfg) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_field_mapping_and_unconfigured_endpoint(hall, province):
    t = served_ticket(hall)
    rate(hall, t["id"], 3)
    assert once(hall, 0.0) == (0, 0)  # no endpoint yet: kept, not dropped
    set_config(
        hall,
        upload={
            "endpoint": province.url,
            "field_map": {"sjbh": "record_id", "bjbh": "ticket_number", "sxbm": "service_code",
                          "pjdj": "level", "pjqd": "channel"},
        },
    )  # fmt: skip
    province.fail_next = 1
    assert once(hall, 0.0) == (0, 1)
    assert once(hall, 100.0) == (1, 0)
    (body,) = province.records.values()
    assert set(body) == {"sjbh", "bjbh", "sxbm", "pjdj", "pjqd"}
    assert body["bjbh"] == t["number"] and body["pjdj"] == 3


def test_admin_sees_queue_and_can_retry(api, hall, province):
    t = served_ticket(hall)
    rate(hall, t["id"], 4)
    h = api.who("admin")
    q = api.get("/api/v1/admin/uploads", headers=h).json()
    assert q["summary"]["pending"] == 1 and q["records"][0]["record"]["level"] == 4
    set_config(hall, upload={"endpoint": province.url})
    r = api.post("/api/v1/admin/uploads/retry", headers=h).json()
    assert r["sent"] + len(province.records) >= 1
    assert api.get("/api/v1/admin/uploads", headers=h).json()["summary"]["sent"] == 1
