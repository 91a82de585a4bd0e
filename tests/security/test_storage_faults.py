"""Storage faults: a full disk, a read-only database, an I/O error.

Writes answer 503 `storage_unavailable` (kiosks then issue from their lease), /health says
writes fail, the server refuses to start on a database it cannot write, and after recovery
nothing is lost or corrupt (`PRAGMA integrity_check`, `hall audit verify`). The full disk and
the read-only database at start-up are real: a small tmpfs, filled or remounted read-only
(root only); I/O errors and a read-only file under a running server are injected.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from queue_server.admin.accounts import create_token
from queue_server.base.db import DatabaseUnwritable, Tx
from queue_server.base.errors import STORAGE_MESSAGE
from tests.support import ROOT, hall_cmd


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of its own (needs root: CAP_SYS_ADMIN)."""
    mnt = tmp_path / "fs"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def remount(mnt: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mnt)], check=True)


def fill(path: Path) -> None:
    """Write until the file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    chunk = b"\0" * 65536
    try:
        while True:
            try:
                os.write(fd, chunk)
            except OSError as err:
                if err.errno != errno.ENOSPC:
                    raise
                if len(chunk) == 1:
                    break
                chunk = chunk[: len(chunk) // 2]
    finally:
        os.close(fd)


@contextlib.contextmanager
def serving(db: Path, clock) -> Iterator[tuple]:
    from queue_server.api import create_app
    from queue_server.runtime.hall import Hall

    hall = Hall(db, clock=clock)
    kiosk = hall.run_sync(lambda tx: create_token(tx, "kiosk", "kiosk-1"))
    try:
        with TestClient(create_app(hall), raise_server_exceptions=False) as client:
            yield hall, client, {"Authorization": f"Bearer {kiosk}"}
    finally:
        hall.close()


def issue(client, headers):
    return client.post("/api/v1/tickets", json={"service": "SW"}, headers=headers)


def assert_storage_error(r) -> None:
    assert r.status_code == 503, r.text
    err = r.json()["error"]
    assert err["code"] == "storage_unavailable" and err["message"] == STORAGE_MESSAGE


def assert_intact(db: Path, numbers: list[str]) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = [r[0] for r in conn.execute("SELECT number FROM tickets ORDER BY id")]
    finally:
        conn.close()
    assert stored == numbers  # every ticket a client was given, none it was refused
    out = subprocess.run(
        hall_cmd("audit", "verify", "--db", str(db)), cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0 and "intact" in out.stdout, out.stdout + out.stderr


def test_full_disk_answers_503_and_recovers_without_loss(small_fs, clock):
    db = small_fs / "hall.db"
    filler = small_fs / "filler"
    numbers: list[str] = []
    with serving(db, clock) as (hall, client, k):
        for _ in range(3):
            r = issue(client, k)
            assert r.status_code == 201
            numbers.append(r.json()["number"])
        assert client.get("/api/v1/health").json() == {"status": "ok"}
        fill(filler)
        refused = None
        for _ in range(5000):  # the WAL may still have room for a few
            r = issue(client, k)
            if r.status_code != 201:
                refused = r
                break
            numbers.append(r.json()["number"])
        assert refused is not None, "the disk never filled"
        assert_storage_error(refused)
        assert_storage_error(issue(client, k))  # still full: still refused, cleanly
        h = client.get("/api/v1/health")
        assert h.status_code == 503
        assert h.json()["status"] == "degraded" and h.json()["writes"] == "failing"
        filler.unlink()
        r = issue(client, k)
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
        assert client.get("/api/v1/health").json() == {"status": "ok"}
    assert_intact(db, numbers)


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (10, "disk I/O error"),  # SQLITE_IOERR
        (8, "attempt to write a readonly database"),  # SQLITE_READONLY (remounted read-only)
        (13, "database or disk is full"),  # SQLITE_FULL inside an operation
    ],
)
def test_injected_storage_error_fails_the_batch_and_nothing_lands(
    hall, api, monkeypatch, code, text
):
    """A file system cannot be remounted read-only under open files, nor made to fail I/O
    on demand: the writer's SQLite calls raise what SQLite would."""
    k = api.who("kiosk")
    first = issue(api, k).json()["number"]
    real = Tx.execute
    failures = []

    def flaky(self, sql, params=()):
        if sql.lstrip().startswith("INSERT INTO tickets") and not failures:
            failures.append(sql)
            err = sqlite3.OperationalError(text)
            err.sqlite_errorcode = code  # type: ignore[attr-defined]
            raise err
        return real(self, sql, params)

    monkeypatch.setattr(Tx, "execute", flaky)
    assert_storage_error(issue(api, k))
    assert failures
    assert hall.db.write_fault is not None
    h = api.get("/api/v1/health")
    assert h.status_code == 503 and h.json()["writes"] == "failing"
    r = issue(api, k)  # the next write goes through
    assert r.status_code == 201
    rows = hall.db.rows("SELECT number FROM tickets ORDER BY id")
    assert [x[0] for x in rows] == [first, r.json()["number"]]
    assert hall.db.write_fault is None
    assert api.get("/api/v1/health").json() == {"status": "ok"}


def test_refuses_to_start_on_a_database_it_cannot_write(small_fs, clock):
    from queue_server.runtime.hall import Hall

    db = small_fs / "hall.db"
    Hall(db, clock=clock).close()
    remount(small_fs, "ro")
    try:
        with pytest.raises(DatabaseUnwritable, match="cannot write the database"):
            Hall(db, clock=clock)
        out = subprocess.run(
            hall_cmd("server", "--db", str(db), "--port", "0"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode != 0
        assert "cannot write the database" in out.stderr and "Traceback" not in out.stderr
    finally:
        remount(small_fs, "rw")
    # The same on a full disk.
    fill(small_fs / "filler")
    with pytest.raises(DatabaseUnwritable):
        Hall(db, clock=clock)
