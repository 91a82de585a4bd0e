"""The migration that turns stored Chinese reasons into codes (m604_reason_codes)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from queue_server.base.schema import MIGRATIONS


def test_old_label_reasons_become_codes_and_unknown_ones_move_to_the_comment(
    tmp_path: Path,
) -> None:
    db = sqlite_utils.Database(tmp_path / "old.db")
    MIGRATIONS.apply(db, stop_before="m604_reason_codes")
    old = [
        (1, 2, ["等候时间过长", "办事效率低"], ""),  # the evaluator's labels
        (2, 1, ["反应慢、等待久"], "太慢"),  # the kiosk's label
        (3, 1, ["态度太差", "其他"], "下次改进"),  # a free text that is on no list
        (4, 2, ["说不清"], ""),  # only free text: a 差评 keeps a reason
        (5, 5, [], "很好"),
    ]
    for ev_id, level, reasons, comment in old:
        db.execute(
            "INSERT INTO evaluations (id, ticket_id, ticket_number, business_day, service,"
            " channel, level, reasons, comment, created_at)"
            " VALUES (?, ?, 'A001', '2026-11-30', 'SW', 'window', ?, ?, ?, '2026-11-30T09:00')",
            (ev_id, ev_id, level, json.dumps(reasons, ensure_ascii=False), comment),
        )
    for record_id, status in (("r1", "pending"), ("r3", "sent")):
        ev_id = int(record_id[1])
        payload = {
            "record_id": record_id,
            "reasons": old[ev_id - 1][2],
            "comment": old[ev_id - 1][3],
        }
        db.execute(
            "INSERT INTO upload_queue (record_id, evaluation_id, payload, status, created_at)"
            " VALUES (?, ?, ?, ?, '2026-11-30T09:00')",
            (record_id, ev_id, json.dumps(payload, ensure_ascii=False), status),
        )
    db.conn.commit()
    MIGRATIONS.apply(db)
    got = {
        r[0]: (json.loads(r[1]), r[2])
        for r in db.execute("SELECT id, reasons, comment FROM evaluations").fetchall()
    }
    assert got == {
        1: (["long_wait", "slow"], ""),
        2: (["kiosk_slow"], "太慢"),
        3: (["other"], "原因：态度太差；下次改进"),
        4: (["other"], "原因：说不清"),
        5: ([], "很好"),
    }
    queued = {
        r[0]: json.loads(r[1])
        for r in db.execute("SELECT record_id, payload FROM upload_queue").fetchall()
    }
    assert queued["r1"]["reasons"] == ["long_wait", "slow"]  # not sent yet: uploads codes
    assert queued["r3"]["reasons"] == ["态度太差", "其他"]  # already sent: as it was sent
