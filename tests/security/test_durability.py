"""Live: kill -9 under issuing and calling, event-stream resume, backup and restore under load,
and a damaged database file refused at start-up with one clear line."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
import time

import httpx
import pytest

from tests.security.livehelp import Load, event_ids, sse_ids
from tests.support import ROOT, LiveServer, hall_cmd, make_token

BUSY = str(ROOT / "tests" / "data" / "busy.toml")
pytestmark = pytest.mark.e2e


def test_kill_9_during_issuing_and_calling_then_the_stream_resumes_without_gaps(tmp_path):
    db = tmp_path / "hall.db"
    server = LiveServer(db, "--config", BUSY)
    kiosk, display = make_token(db, "kiosk"), make_token(db, "display")
    staff = {11: make_token(db, "staff", 11), 12: make_token(db, "staff", 12)}
    seen: list[int] = []
    watcher = threading.Thread(target=sse_ids, args=(server.url, display), kwargs={"into": seen})
    watcher.start()
    time.sleep(0.5)  # live stream: subscribe before the load
    load = Load(server.url, kiosk, staff).start()
    time.sleep(2.5)
    server.kill9()
    load.finish()
    watcher.join(15)
    assert not load.errors
    assert len(load.issued) > 30 and len(load.called) > 5, (len(load.issued), len(load.called))
    assert seen, "the display saw nothing before the crash"

    # every event a subscriber saw was durable, in order, once, and without a gap
    table = event_ids(db)
    assert seen == sorted(set(seen))
    assert set(seen) <= set(table)
    assert table[table.index(seen[0]) : table.index(seen[-1]) + 1] == seen

    server = LiveServer(db)
    try:
        # a display reconnecting with Last-Event-ID gets every later event exactly once
        # (from the middle of what it saw, so the replay spans the crash)
        mid = seen[len(seen) // 2]
        expected = event_ids(db, mid)
        resumed = sse_ids(server.url, display, last_id=mid, until=expected[-1])
        assert resumed == expected
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {kiosk}"}, timeout=10
        ) as c:
            for tid, number, _at in load.issued:
                r = c.get(f"/api/v1/tickets/{tid}")
                assert r.status_code == 200 and r.json()["number"] == number
            for tid, window in load.called:
                t = c.get(f"/api/v1/tickets/{tid}").json()
                assert t["status"] in ("called", "done") and t["window"] == window
            fresh = [
                c.post("/api/v1/tickets", json={"service": "SW"}).json()["number"]
                for _ in range(10)
            ]
        assert not {n for _, n, _ in load.issued} & set(fresh), "a number was reused"
        # the stream goes on live after the restart, ids still growing
        last = event_ids(db)[-1]
        assert last > seen[-1]
        windows_called = [w for _, w in load.called]
        assert len(windows_called) == len({tid for tid, _ in load.called}), "a ticket called twice"
    finally:
        assert server.stop() == 0


def test_online_backup_under_load_and_restore(tmp_path):
    db = tmp_path / "hall.db"
    server = LiveServer(db, "--config", BUSY)
    kiosk = make_token(db, "kiosk")
    staff = {11: make_token(db, "staff", 11), 12: make_token(db, "staff", 12)}
    load = Load(server.url, kiosk, staff).start()
    try:
        time.sleep(1.5)
        backups = []
        for i in range(2):
            with load.lock:
                acked_before = list(load.issued)
            out = tmp_path / f"backup-{i}.db"
            r = subprocess.run(
                hall_cmd("backup", "--db", str(db), str(out)),
                cwd=ROOT, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert r.returncode == 0, r.stderr  # within the 60 s subprocess timeout
            backups.append((out, acked_before))
            time.sleep(0.5)
        assert load.issued and not load.errors
    finally:
        load.finish()
        assert server.stop() == 0
    for out, acked_before in backups:
        assert oct(out.stat().st_mode & 0o777) == "0o600"
        conn = sqlite3.connect(out)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {r[0] for r in conn.execute("SELECT id FROM tickets")}
        dup = conn.execute(
            "SELECT number FROM tickets GROUP BY business_day, number HAVING COUNT(*) > 1"
        ).fetchall()
        conn.close()
        assert not dup
        assert {tid for tid, _, _ in acked_before} <= ids, "an acknowledged ticket is missing"
        verify = subprocess.run(
            hall_cmd("audit", "verify", "--db", str(out)), cwd=ROOT, capture_output=True, text=True
        )
        assert verify.returncode == 0, verify.stdout

    # restore the last backup over the (stopped) server's database and serve from it
    out, acked_before = backups[-1]
    r = subprocess.run(
        hall_cmd("restore", "--db", str(db), str(out)), cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    server = LiveServer(db)
    try:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {kiosk}"}, timeout=10
        ) as c:
            for tid, number, _at in acked_before:
                assert c.get(f"/api/v1/tickets/{tid}").json()["number"] == number
            conn = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
            in_backup = {r[0] for r in conn.execute("SELECT number FROM tickets")}
            conn.close()
            new = c.post("/api/v1/tickets", json={"service": "SW"})
            assert new.status_code == 201 and new.json()["number"] not in in_backup
    finally:
        assert server.stop() == 0
    verify = subprocess.run(
        hall_cmd("audit", "verify", "--db", str(db)), cwd=ROOT, capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout


def _start_fails_cleanly(db) -> str:
    r = subprocess.run(
        hall_cmd("server", "--db", str(db), "--port", "0"),
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("hall server: ")
    return lines[0]


def test_a_file_that_is_not_a_database_is_refused_with_one_line(tmp_path):
    bad = tmp_path / "hall.db"
    bad.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    line = _start_fails_cleanly(bad)
    assert "not a usable SQLite database" in line


def test_a_corrupted_database_is_refused_with_one_line(tmp_path):
    db = tmp_path / "hall.db"
    make_token(db, "kiosk")  # initialises the demo hall
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    assert pages > 4
    data = bytearray(db.read_bytes())
    for p in range(2, pages):  # scribble over every page's b-tree header but the first
        data[p * page : p * page + 12] = b"\xa5" * 12
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(bytes(data))
    shutil.copyfile(damaged, tmp_path / "evidence.db")
    line = _start_fails_cleanly(damaged)
    assert "integrity check failed" in line or "not a usable SQLite database" in line
    assert damaged.read_bytes() == (tmp_path / "evidence.db").read_bytes(), "it was modified"
