"""SQLite storage: one writer thread with group commit, read connections, durable events.

Every state change is an *operation*: a function of a `Tx` run by the single writer thread
(docs/ARCHITECTURE.md, "One writer, group commit"). The writer takes whatever operations are queued, opens one
`BEGIN IMMEDIATE` transaction, runs each inside its own SAVEPOINT (so each operation is atomic
on its own: a failing one rolls back alone) and commits once. Issuing and calling are each one
such operation, serialised by the one writer, so two windows can never get the same ticket.

Storage faults (disk full, a read-only file or directory, an I/O error) fail the whole batch
with `StorageUnavailable` (HTTP 503): SQLite rolls the transaction back, so nothing half-done
lands, and the next batch tries again. `write_fault` says whether the last write failed so;
`probe_write` checks with a real write (for /health). A database that cannot be written at
start-up is refused (`DatabaseUnwritable`).

Durability: WAL with `synchronous=FULL`. A commit is acknowledged only after the WAL is on
disk, so a power cut loses nothing that a client was told about; group commit amortises the
fsync across everything queued meanwhile. See docs/OPERATIONS.md.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
import sqlite_utils

from queue_server.base.errors import StorageUnavailable
from queue_server.base.schema import MIGRATIONS

log = logging.getLogger("hall.db")
T = TypeVar("T")
MAX_BATCH = 256
# After a write failed on storage, /health reports writes failing until a real write succeeds,
# or for this long with its small test writes going through.
FAULT_HOLD_S = 60.0


def in_chunks(ids: Sequence[Any], size: int = 500) -> Iterator[tuple[Sequence[Any], str]]:
    """`ids` for an `IN (…)` list, in slices of at most `size` (under SQLite's limit on
    variables), each with its `?,?,…` marks."""
    for i in range(0, len(ids), size):
        part = ids[i : i + size]
        yield part, ",".join("?" * len(part))


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    data: dict[str, Any]
    wire: bytes  # pre-formatted text/event-stream frame

    @classmethod
    def make(cls, id: int, type: str, data: dict[str, Any], body: bytes | None = None) -> Event:
        """`body`: the JSON of `data` when the caller already has it."""
        if body is None:
            body = orjson.dumps(data)
        wire = b"id: %d\nevent: %s\ndata: %s\n\n" % (id, type.encode(), body)
        return cls(id, type, data, wire)


class Tx:
    """What an operation sees: the write connection and a way to emit events atomically."""

    def __init__(self, conn: sqlite3.Connection, now_iso: str) -> None:
        self.conn = conn
        self.events: list[Event] = []
        self.now_iso = now_iso

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def emit(self, type: str, data: dict[str, Any]) -> Event:
        body = orjson.dumps(data)  # once: the stored row and the live frame share it
        cur = self.conn.execute(
            "INSERT INTO events (ts, type, data) VALUES (?, ?, ?)",
            (self.now_iso, type, body.decode()),
        )
        ev = Event.make(int(cur.lastrowid or 0), type, data, body)
        self.events.append(ev)
        return ev


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    return conn


class _LoopFuture:
    """An asyncio future waiting on the writer thread (see `Database.submit_async`)."""

    __slots__ = ("loop", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        self.loop = loop
        self.future = future

    def done(self) -> bool:
        return False  # settled exactly once, by the writer, through _settle


def _settle(
    outcomes: list[tuple[Any, Any, BaseException | None]],
) -> None:
    """Resolve a batch's futures: concurrent ones here, asyncio ones in one call per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, Any]]] = {}
    for fut, result, failure in outcomes:
        if isinstance(fut, _LoopFuture):
            by_loop.setdefault(fut.loop, []).append((fut.future, result, failure))
        elif failure is not None:
            fut.set_exception(failure)
        else:
            fut.set_result(result)
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve_on_loop, items)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            pass


def _resolve_on_loop(items: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for fut, result, failure in items:
        if fut.done():  # the request was cancelled (client went away)
            continue
        if failure is not None:
            fut.set_exception(failure)
        else:
            fut.set_result(result)


class DatabaseDamaged(RuntimeError):
    """The database file failed its integrity check at start-up."""


class DatabaseUnwritable(DatabaseDamaged):
    """The database cannot be written at start-up: read-only, disk full, or an I/O error."""


# SQLite primary result codes that mean the storage, not the operation, failed.
SQLITE_READONLY, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN = 8, 10, 11, 13, 14
STORAGE_CODES = {SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN}
STORAGE_WORDS = ("disk is full", "disk i/o error", "readonly database", "unable to open")


def storage_fault(err: BaseException) -> bool:
    """Whether an exception says the database file cannot be written (not a bad operation)."""
    if isinstance(err, StorageUnavailable):
        return True
    if not isinstance(err, sqlite3.DatabaseError):
        return isinstance(err, OSError) and err.errno in (28, 30, 5)  # ENOSPC, EROFS, EIO
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in STORAGE_CODES:
        return True
    text = str(err).lower()
    return any(w in text for w in STORAGE_WORDS)


# Told the events of each commit, on the writer thread (Database.add_commit_listener).
CommitListener = Callable[[list[Event]], None]


class Database:
    """The hall's SQLite file: migrations at open, one writer thread, a reader for queries."""

    def __init__(self, path: str | Path, clock_iso: Callable[[], str]) -> None:
        self.path = Path(path)
        self._clock_iso = clock_iso
        # The last storage fault of a write (None: the last write went through) and when.
        self.write_fault: str | None = None
        self.write_fault_at = 0.0
        self._probe: tuple[float, str | None] | None = None
        try:
            self._write = connect(self.path)
        except sqlite3.DatabaseError as err:  # garbage where the database should be
            if storage_fault(err):
                raise self._unwritable(err) from None
            raise DatabaseDamaged(f"{self.path}: not a usable SQLite database ({err})") from None
        self._check_integrity()
        try:
            MIGRATIONS.apply(sqlite_utils.Database(self._write))
            self._check_writable()
        except sqlite3.DatabaseError as err:
            if self._write.in_transaction:
                self._write.execute("ROLLBACK")
            if storage_fault(err):
                raise self._unwritable(err) from None
            raise
        self.reader = connect(self.path, readonly=True)
        self._commit_listeners: list[CommitListener] = []
        self._queue: queue.SimpleQueue[
            tuple[Callable[[Tx], Any], concurrent.futures.Future[Any] | _LoopFuture] | None
        ] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="hall-db-writer", daemon=True)
        self._thread.start()
        self._closed = False

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Call `listener(events)` on the writer thread after each commit that emitted events,
        in the order added. A listener must not block: hand work to another thread."""
        self._commit_listeners.append(listener)

    def _unwritable(self, err: BaseException) -> DatabaseUnwritable:
        if hasattr(self, "_write"):
            self._write.close()
        return DatabaseUnwritable(
            f"{self.path}: cannot write the database ({err}); check that the file and its "
            "directory are writable by this user, the disk has free space, and the disk "
            "reports no errors"
        )

    def _check_writable(self) -> None:
        """One real write and commit: refuse to start on a database that cannot take one."""
        self._write.execute("BEGIN IMMEDIATE")
        self._write.execute(
            "INSERT INTO meta (key, value) VALUES ('write_check', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (self._clock_iso(),),
        )
        self._write.execute("COMMIT")

    def _check_integrity(self) -> None:
        try:
            result = self._write.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise DatabaseDamaged(f"{self.path}: not a usable SQLite database ({err})") from None
        if result != "ok":
            raise DatabaseDamaged(f"{self.path}: integrity check failed: {result}")

    # -- writing ---------------------------------------------------------------------------
    def submit(self, op: Callable[[Tx], T]) -> concurrent.futures.Future[T]:
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        if self._closed:
            fut.set_exception(RuntimeError("database is closed"))
            return fut
        self._queue.put((op, fut))
        return fut

    def submit_async(self, op: Callable[[Tx], T]) -> asyncio.Future[T]:
        """Queue an operation from the event loop; the future resolves on that loop.

        Cheaper than wrapping `submit`'s concurrent future (no Condition and RLock per
        operation, no callback chain), and the writer hands a whole batch's results to the
        loop in one call instead of one wake-up per operation.
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        if self._closed:
            fut.set_exception(RuntimeError("database is closed"))
            return fut
        self._queue.put((op, _LoopFuture(loop, fut)))
        return fut

    def write(self, op: Callable[[Tx], T]) -> T:
        """Run an operation in the writer and wait for its commit (for CLI and tests)."""
        return self.submit(op).result()

    def probe_write(self, max_age_s: float = 5.0, timeout_s: float = 5.0) -> str | None:
        """None if writes work, else what is wrong: the last real write failed on storage
        (until one succeeds; a small test write can fit where a ticket does not), or a test
        write fails now. Checked afresh at most every `max_age_s`."""
        now = time.monotonic()
        if self._probe is not None and now - self._probe[0] < max_age_s:
            return self._probe[1]
        try:
            self.submit(self._probe_op).result(timeout=timeout_s)
            fault = None
        except concurrent.futures.TimeoutError:
            fault = "写入超时"
        except Exception as err:  # noqa: BLE001 - any failure to write is the answer
            fault = str(err.__cause__ or err) or type(err).__name__
        if fault is None and self.write_fault is not None:
            if time.time() - self.write_fault_at < FAULT_HOLD_S:
                fault = self.write_fault
            else:  # long enough with test writes going through: call it recovered
                self.write_fault = None
        self._probe = (time.monotonic(), fault)
        return fault

    @staticmethod
    def _probe_op(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('write_check', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (tx.now_iso,),
        )

    def _run(self) -> None:
        conn = self._write
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            self._run_batch(conn, batch)

    def _run_batch(self, conn: sqlite3.Connection, batch: list[Any]) -> None:
        outcomes: list[
            tuple[concurrent.futures.Future[Any], Any, BaseException | None, list[Event]]
        ] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            now_iso = self._clock_iso()
            for op, fut in batch:
                tx = Tx(conn, now_iso)
                conn.execute("SAVEPOINT op")
                try:
                    result = op(tx)
                except BaseException as err:  # noqa: BLE001 - each op fails alone
                    if storage_fault(err):
                        raise  # the storage failed, not the operation: the whole batch goes
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    outcomes.append((fut, None, err, []))
                else:
                    conn.execute("RELEASE op")
                    outcomes.append((fut, result, None, tx.events))
            conn.execute("COMMIT")
        except BaseException as err:  # noqa: BLE001 - the commit itself failed: nothing landed
            failure: BaseException = err
            if storage_fault(err):
                log.error("write batch failed, storage unavailable: %s", err)
                self.write_fault = str(err)
                self.write_fault_at = time.time()
                self._probe = None
                failure = StorageUnavailable()
                failure.__cause__ = err
            else:
                log.exception("write batch failed")
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.DatabaseError:  # SQLite has rolled back itself, or cannot yet
                log.exception("rollback after a failed batch")
            _settle([(fut, None, failure) for _op, fut in batch if not fut.done()])
            return
        if self.write_fault is not None and any(op is not self._probe_op for op, _f in batch):
            self.write_fault = None  # a real write went through: recovered
            self._probe = None
        events = [ev for *_rest, evs in outcomes for ev in evs]
        if events:
            for listener in self._commit_listeners:
                try:
                    listener(events)
                except Exception:  # noqa: BLE001 - one listener must not starve the others
                    log.exception("commit listener %r failed", listener)
        _settle([(fut, result, failure) for fut, result, failure, _evs in outcomes])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=10)
        self.reader.close()
        self._write.close()

    # -- reading ---------------------------------------------------------------------------
    def rows(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.reader.execute(sql, params).fetchall()

    def row(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        return self.reader.execute(sql, params).fetchone()

    def backup(self, out: str | Path) -> None:
        """Online backup of the live database (sqlite3 backup API, page by page)."""
        dest = sqlite3.connect(str(out))
        try:
            src = connect(self.path, readonly=True)
            with dest:
                src.backup(dest, pages=1024)
            src.close()
        finally:
            dest.close()
