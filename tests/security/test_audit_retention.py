"""The audit log (what is recorded, `hall audit verify`) and the retention purge."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import timedelta

from tests.conftest import ID_OTHER, ID_YOUNG
from tests.support import ROOT, hall_cmd

V1 = "/api/v1"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(hall_cmd(*args), cwd=ROOT, capture_output=True, text=True, timeout=60)


def actions(hall) -> list[str]:
    return [r["action"] for r in hall.db.rows("SELECT action FROM audit_log ORDER BY id")]


def test_security_relevant_actions_are_audited(api, hall, tmp_path):
    from queue_server.admin.accounts import create_account

    hall.run_sync(lambda tx: create_account(tx, "wang", "Secret123", "staff", "王工", 1))
    assert (
        api.post(f"{V1}/login", json={"username": "wang", "password": "nope-nope1"}).status_code
        == 401
    )
    token = api.post(f"{V1}/login", json={"username": "wang", "password": "Secret123"}).json()[
        "token"
    ]
    h = {"Authorization": f"Bearer {token}"}
    assert api.post(f"{V1}/windows/1/pause", headers=h).status_code == 200
    assert api.post(f"{V1}/windows/1/resume", headers=h).status_code == 200
    assert api.post(f"{V1}/logout", headers=h).status_code == 200
    api.who("kiosk")
    kiosk_id = hall.db.row("SELECT id FROM tokens WHERE role = 'kiosk'")["id"]
    assert api.post(f"{V1}/tokens/{kiosk_id}/revoke", headers=api.who("admin")).status_code == 200
    seen = actions(hall)
    for action in (
        "login",
        "window.paused",
        "window.open",
        "logout",
        "token.revoke",
        "retention.purge",
    ):
        assert action in seen, f"{action} is not audited: {seen}"
    failed = hall.db.row("SELECT * FROM audit_log WHERE action = 'login' AND result != 'ok'")
    assert failed["result"] == "bad_password"


def test_cli_token_backup_and_restore_are_audited(hall, tmp_path):
    db = tmp_path / "hall.db"
    hall.close()
    assert run_cli("token", "--db", str(db), "--role", "kiosk").returncode == 0
    out = run_cli("backup", "--db", str(db), str(tmp_path / "copy.db"))
    assert out.returncode == 0, out.stderr
    restored = tmp_path / "restored.db"
    out = run_cli("restore", "--db", str(restored), str(tmp_path / "copy.db"))
    assert out.returncode == 0, out.stderr
    conn = sqlite3.connect(db)
    assert {"token.create", "backup"} <= {
        r[0] for r in conn.execute("SELECT action FROM audit_log")
    }
    conn.close()
    conn = sqlite3.connect(restored)
    assert (
        conn.execute("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()[0]
        == "restore"
    )
    conn.close()
    for path in (db, restored):
        out = run_cli("audit", "verify", "--db", str(path))
        assert out.returncode == 0 and "intact" in out.stdout, out.stdout + out.stderr


def test_audit_verify_names_the_first_tampered_record(api, hall, tmp_path):
    for _ in range(3):
        api.post(f"{V1}/windows/2/pause", headers=api.who("admin"))
        api.post(f"{V1}/windows/2/resume", headers=api.who("admin"))
    db = tmp_path / "hall.db"
    hall.run_sync(lambda tx: None)
    copy = tmp_path / "tampered.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(db, copy)
    ok = run_cli("audit", "verify", "--db", str(copy))
    assert ok.returncode == 0 and "intact" in ok.stdout

    conn = sqlite3.connect(copy)
    # the triggers refuse it as it is
    try:
        conn.execute("UPDATE audit_log SET actor = 'nobody' WHERE id = 3")
        raise AssertionError("the audit log accepted an UPDATE")
    except sqlite3.DatabaseError as err:
        assert "append-only" in str(err)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute("UPDATE audit_log SET actor = 'nobody' WHERE id = 3")
    conn.commit()
    conn.close()
    bad = run_cli("audit", "verify", "--db", str(copy))
    assert bad.returncode == 1
    assert "record 3" in bad.stdout

    # deleting a record breaks the chain at the record after it
    shutil.copyfile(db, copy)
    conn = sqlite3.connect(copy)
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute("DELETE FROM audit_log WHERE id = 4")
    conn.commit()
    conn.close()
    bad = run_cli("audit", "verify", "--db", str(copy))
    assert bad.returncode == 1 and "record 5" in bad.stdout


def test_personal_data_is_purged_after_the_retention_days(api, hall, clock):
    from queue_server.admin import retention

    kiosk = api.who("kiosk")
    old = api.post(
        f"{V1}/tickets", json={"service": "HJ", "id_card": {"id_number": ID_YOUNG, "name": "张三"}},
        headers=kiosk,
    ).json()  # fmt: skip
    days = hall.config.security.retention_days
    clock.advance(timedelta(days=days - 1).total_seconds())
    recent = api.post(
        f"{V1}/tickets", json={"service": "HJ", "id_card": {"id_number": ID_OTHER, "name": "李四"}},
        headers=kiosk,
    ).json()  # fmt: skip
    assert hall.run_sync(lambda tx: retention.purge(hall.ctx, tx)) == 0  # nothing old enough
    clock.advance(timedelta(days=2).total_seconds())
    assert hall.run_sync(lambda tx: retention.purge_if_due(hall.ctx, tx)) == 1
    assert hall.run_sync(lambda tx: retention.purge_if_due(hall.ctx, tx)) is None  # once a day
    row = hall.db.row("SELECT * FROM tickets WHERE id = ?", (old["id"],))
    assert row["id_hash"] is None and row["id_masked"] is None and row["name_masked"] is None
    assert row["number"] == old["number"]  # the ticket stays for statistics
    kept = hall.db.row("SELECT * FROM tickets WHERE id = ?", (recent["id"],))
    assert kept["id_hash"] and kept["name_masked"] == "李*"
    last = hall.db.row("SELECT * FROM audit_log WHERE action = 'retention.purge' ORDER BY id DESC")
    assert '"tickets":1' in last["detail"]


def test_the_purge_runs_when_the_server_starts(tmp_path, clock):
    from fastapi.testclient import TestClient

    from queue_server.api import create_app
    from queue_server.runtime.hall import Hall

    hall = Hall(tmp_path / "start.db", clock=clock)
    try:
        assert hall.db.row("SELECT 1 FROM audit_log WHERE action = 'retention.purge'") is None
        with TestClient(create_app(hall)):
            pass
        assert hall.db.row("SELECT 1 FROM audit_log WHERE action = 'retention.purge'") is not None
    finally:
        hall.close()
