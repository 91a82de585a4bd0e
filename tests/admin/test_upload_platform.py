"""Upload a platform accepts: names and values mapped, requests signed, the secret kept secret,
and exactly one record per rating at a platform that fails, hangs and restarts."""

from __future__ import annotations

import asyncio
import hmac
import logging

import orjson
import pytest

from queue_server.base.config import UploadSection
from queue_server.core import tickets
from queue_server.ratings import evaluations, upload
from queue_server.runtime.hall import Hall
from tests.admin.fake_platform import DUPLICATE, FakePlatform, upload_config
from tests.admin.helpers import call_next, issue, set_config

KEY, SECRET = "hall-440100-01", "s3cr3t-Ab9!kq"


def once(hall, now: float) -> tuple[int, int]:
    return asyncio.run(upload.process_once(hall, now))


def served(hall, case_no: str | None, item_code: str | None = None, window: int = 11):
    t = issue(hall)
    assert call_next(hall, window)["id"] == t["id"]
    return hall.run_sync(
        lambda tx: tickets.finish(hall.ctx, tx, t["id"], None, case_no=case_no, item_code=item_code)
    )


def rate(hall, ticket_id: int, level: int, reasons: list[str], channel: str = "window"):
    return hall.run_sync(
        lambda tx: evaluations.create(hall.ctx, tx, ticket_id, level, reasons, "", channel, None)
    )


def test_names_values_dates_lists_and_constants_are_mapped():
    cfg = UploadSection(**upload_config("http://x", KEY, SECRET))
    record = {
        "record_id": "h-1", "case_no": "4401002026113000017", "case_nos": ["4401002026113000017"],
        "item_code": "11440100MB2C1234560001140030000", "department": "市民政局", "window": 11,
        "staff_no": "GZ0111", "channel": "qr", "level": 2, "reasons": ["long_wait", "slow"],
        "comment": "等了很久", "evaluated_at": "2026-11-30T01:02:03+00:00",
        "business_day": "2026-11-30", "ticket_number": "A023",
    }  # fmt: skip
    body = upload.wire_body(record, cfg, "Asia/Shanghai")
    assert body == {
        "projectNo": "4401002026113000017", "taskCode": "11440100MB2C1234560001140030000",
        "deptName": "市民政局", "windowNo": 11, "staffNo": "GZ0111", "pf": "3",
        "satisfaction": "02", "alternate": "A01,A02", "appraisald": "等了很久",
        "assessTime": "20261130090203", "bizDay": "20261130",
        "areaCode": "440100", "version": "3.0",
    }  # fmt: skip
    # Without a field map every field keeps its name; values and dates are still formatted.
    plain = upload.wire_body(record, cfg.model_copy(update={"field_map": {}}), "Asia/Shanghai")
    assert plain["channel"] == "3" and plain["reasons"] == "A01,A02"
    assert plain["case_nos"] == "4401002026113000017" and plain["ticket_number"] == "A023"
    # A value the platform has no code for is never sent as it is.
    with pytest.raises(upload.Unmapped, match="reasons.*unskilled"):
        upload.wire_body(record | {"reasons": ["unskilled"]}, cfg, "Asia/Shanghai")


@pytest.mark.parametrize("sign,digest", [("hmac-sha256", "sha256"), ("hmac-sm3", "sm3")])
def test_signature_headers(sign, digest):
    cfg = UploadSection(**upload_config("http://x", KEY, SECRET, sign))
    data = orjson.dumps({"projectNo": "1", "pf": "1"})
    h = upload.sign_headers(data, cfg, now=1_764_464_523.25, nonce="n0nce")
    assert h["X-App-Key"] == KEY and h["X-Timestamp"] == "1764464523250"
    assert h["X-Nonce"] == "n0nce"
    want = hmac.new(SECRET.encode(), b"1764464523250" + b"n0nce" + data, digest).hexdigest()
    assert h["X-Signature"] == want
    assert upload.sign_headers(data, cfg.model_copy(update={"sign": "none"})) == {}
    with pytest.raises(ValueError, match="app_key and app_secret"):
        UploadSection(sign="hmac-sm3", app_key=KEY)


def test_exactly_one_record_per_rating_through_failures_hangs_and_restarts(tmp_path, clock):
    store: dict = {}
    script = ["503", "hang_after", "500", "hang", "ok", "503", "hang_after", "ok"]
    platform = FakePlatform(KEY, SECRET, store=store, script=script, hang_s=1.5)
    hall = Hall(tmp_path / "hall.db", clock=clock)
    cfg = upload_config(platform.url, KEY, SECRET) | {"timeout_s": 0.5, "backoff_base_s": 1}
    set_config(hall, upload=cfg)
    cases = [f"44010020261130{n:05d}" for n in range(1, 7)]
    levels = [5, 2, 4, 1, 3, 5]
    for case, level in zip(cases, levels, strict=True):
        t = served(hall, case, "11440100MB2C1234560001140030000")
        rate(hall, t["id"], level, ["long_wait"] if level <= 2 else [])
    now = 1000.0
    try:
        for step in range(40):
            once(hall, now)
            now += 10_000  # past any backoff
            if step == 2:  # the hall's server restarts mid-way
                hall.close()
                hall = Hall(tmp_path / "hall.db", clock=clock)
            if step == 4:  # and so does the platform, keeping what it stored, on a new port
                platform.close()
                platform = FakePlatform(KEY, SECRET, store=store, script=["503", "hang_after"])
                set_config(hall, upload={"endpoint": platform.url})
            if upload.summary(hall.db.reader)["pending"] == 0:
                break
        assert upload.summary(hall.db.reader) == {"pending": 0, "sent": 6, "retrying": 0}
        assert sorted(store) == cases  # one record per rating, under its 办件编号
        assert [store[c]["satisfaction"] for c in cases] == [f"0{n}" for n in levels]
        assert store[cases[1]]["alternate"] == "A01" and store[cases[1]]["pf"] == "1"
        # The lost acknowledgements came back as the platform's duplicate error, and those
        # records count as delivered (noted as such), not as failures retried for ever.
        rows = hall.db.rows("SELECT record_id, outcome FROM upload_queue ORDER BY record_id")
        assert sum(r["outcome"] == "duplicate" for r in rows) == 2
        assert {r["outcome"] for r in rows} == {"accepted", "duplicate"}
        # Idempotent from here: a record sent again (a lost status update) changes nothing.
        hall.run_sync(lambda tx: tx.execute("UPDATE upload_queue SET status = 'pending'"))
        assert once(hall, now) == (6, 0)
        assert sorted(store) == cases and len(platform.outcomes("duplicate")) >= 6
    finally:
        hall.close()
        platform.close()


def test_a_kiosk_rating_is_its_own_record_and_a_ticket_without_case_no_gets_one(hall, clock):
    platform = FakePlatform(KEY, SECRET)
    try:
        set_config(hall, upload=upload_config(platform.url, KEY, SECRET))
        t = served(hall, "CASE-1")
        rate(hall, t["id"], 5, [])
        rate(hall, t["id"], 4, [], channel="kiosk")
        bare = served(hall, None)
        rate(hall, bare["id"], 4, [])
        assert once(hall, 0.0) == (3, 0)
        assert len(platform.store) == 3 and "CASE-1" in platform.store
        kiosk = [r for r in platform.store.values() if r["pf"] == "2"]
        assert kiosk and kiosk[0]["projectNo"] != "CASE-1"
    finally:
        platform.close()


def test_unmapped_value_and_bad_signature_hold_the_record_back(hall, clock):
    platform = FakePlatform(KEY, SECRET)
    try:
        cfg = upload_config(platform.url, KEY, "wrong-secret")
        set_config(hall, upload=cfg)
        t = served(hall, "CASE-2")
        rate(hall, t["id"], 2, ["unskilled"])
        assert once(hall, 0.0) == (0, 1)
        (row,) = upload.list_records(hall.db.reader)
        assert row["status"] == "pending" and "unskilled" in row["last_error"]
        assert platform.log == []  # nothing unmapped went out
        vm = {**cfg["value_map"], "reasons": {**cfg["value_map"]["reasons"], "unskilled": "A03"}}
        set_config(hall, upload={"value_map": vm})
        assert once(hall, 100.0) == (0, 1)  # now the platform refuses the signature
        (row,) = upload.list_records(hall.db.reader)
        assert row["status"] == "pending" and "401" in row["last_error"]
        assert platform.store == {}
        set_config(hall, upload={"app_secret": SECRET})
        assert once(hall, 1000.0) == (1, 0)
        assert platform.store["CASE-2"]["alternate"] == "A03"
    finally:
        platform.close()


def test_the_secret_never_leaves_through_config_export_audit_or_logs(api, hall, caplog):
    caplog.set_level(logging.DEBUG)
    platform = FakePlatform(KEY, SECRET, script=["503"])
    try:
        h = api.who("admin")
        cfg = api.get("/api/v1/admin/config", headers=h).json()
        cfg["config"]["upload"] |= upload_config(platform.url, KEY, SECRET)
        r = api.put("/api/v1/admin/config", json={"config": cfg["config"]}, headers=h)
        assert r.status_code == 200, r.text
        assert SECRET not in r.text
        assert hall.config.upload.app_secret == SECRET
        got = api.get("/api/v1/admin/config", headers=h).json()
        assert got["config"]["upload"]["app_secret"] == "********"
        exported = api.get("/api/v1/admin/config.toml", headers=h).text
        assert SECRET not in exported and 'app_secret = "********"' in exported
        # Sending the mask back (any edit of the page) keeps the secret.
        got["config"]["upload"]["timeout_s"] = 7.0
        r = api.put("/api/v1/admin/config", json={"config": got["config"]}, headers=h)
        assert r.status_code == 200, r.text
        assert hall.config.upload.app_secret == SECRET and hall.config.upload.timeout_s == 7.0
        # Importing the exported TOML keeps it too.
        r = api.post(
            "/api/v1/admin/config/import", json={"toml": exported, "apply": True}, headers=h
        )
        assert r.status_code == 200, r.text
        assert hall.config.upload.app_secret == SECRET
        # A new secret is recorded as changed, without either value.
        got["config"]["upload"]["app_secret"] = "n3w-s3cret-xyz"
        r = api.put("/api/v1/admin/config", json={"config": got["config"]}, headers=h)
        assert r.status_code == 200 and "n3w-s3cret-xyz" not in r.text
        assert any(c["path"] == "upload.app_secret" for c in r.json()["changes"])
        audit_rows = hall.db.rows("SELECT * FROM audit_log")
        assert audit_rows and not any(
            SECRET in str(dict(a)) or "n3w-s3cret-xyz" in str(dict(a)) for a in audit_rows
        )
        t = served(hall, "CASE-3")
        rate(hall, t["id"], 5, [])
        once(hall, 0.0)
        logged = caplog.text + str(upload.list_records(hall.db.reader))
        assert "upload of" in caplog.text and SECRET not in logged
        assert "n3w-s3cret-xyz" not in logged
    finally:
        platform.close()


def test_duplicate_code_answer_counts_as_delivered(hall):
    platform = FakePlatform(KEY, SECRET)
    try:
        set_config(hall, upload=upload_config(platform.url, KEY, SECRET))
        platform.store["CASE-9"] = {"projectNo": "CASE-9"}  # received earlier by another path
        t = served(hall, "CASE-9")
        rate(hall, t["id"], 5, [])
        assert once(hall, 0.0) == (1, 0)
        (row,) = hall.db.rows("SELECT status, outcome FROM upload_queue")
        assert (row["status"], row["outcome"]) == ("sent", "duplicate")
        assert platform.log == [("CASE-9", "duplicate")]
        assert DUPLICATE in hall.config.upload.duplicate_codes
    finally:
        platform.close()


def test_records_queued_before_the_migration_still_go(tmp_path, clock):
    """m630 keeps the queue: sent records stay sent (outcome accepted), a pending record
    queued before case numbers were kept goes under its record id as 办件编号."""
    import sqlite_utils

    from queue_server.base.schema import MIGRATIONS

    db = sqlite_utils.Database(tmp_path / "hall.db")
    MIGRATIONS.apply(db, stop_before="m630_upload_outcome")
    old = {"record_id": "old-1", "channel": "window", "level": 4, "reasons": [],
           "evaluated_at": "2026-11-16T10:00:00+08:00", "business_day": "2026-11-16"}  # fmt: skip
    for rid, status in (("old-1", "pending"), ("old-0", "sent")):
        db.execute(
            "INSERT INTO upload_queue (record_id, evaluation_id, payload, status, created_at)"
            " VALUES (?, 1, ?, ?, '2026-11-16T10:00')",
            (rid, orjson.dumps(old | {"record_id": rid}).decode(), status),
        )
    db.conn.commit()
    db.conn.close()
    hall = Hall(tmp_path / "hall.db", clock=clock)
    platform = FakePlatform(KEY, SECRET)
    try:
        rows = {r["record_id"]: r["outcome"] for r in hall.db.rows("SELECT * FROM upload_queue")}
        assert rows == {"old-0": "accepted", "old-1": ""}
        set_config(hall, upload=upload_config(platform.url, KEY, SECRET))
        assert once(hall, 0.0) == (1, 0)
        assert platform.store["old-1"]["assessTime"] == "20261116100000"
    finally:
        hall.close()
        platform.close()


def test_the_platform_refuses_a_record_missing_a_required_field(hall):
    platform = FakePlatform(KEY, SECRET)
    try:
        set_config(hall, upload=upload_config(platform.url, KEY, SECRET) | {"constants": {}})
        t = served(hall, "CASE-4")
        rate(hall, t["id"], 4, [])
        assert once(hall, 0.0) == (0, 1)
        (row,) = upload.list_records(hall.db.reader)
        assert row["status"] == "pending" and "400" in row["last_error"]
        assert "areaCode" in row["last_error"] and platform.store == {}
    finally:
        platform.close()
