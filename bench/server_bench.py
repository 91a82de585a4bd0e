"""Server benchmarks: tickets/s over HTTP, call→event latency, raw SQLite baseline.

1. Issue: 16 kiosk clients, each with one keep-alive connection, issue tickets back to back
   (a new idempotency key each, as a kiosk sends) for a fixed time against the real server.
2. Call→event: 20 displays follow the event stream while 24 windows call next at a paced
   rate (with kiosks still issuing); latency is from sending call-next to each display
   receiving that ticket.called event.
3. Baselines in this process, in the same run: the same `tickets.issue` operation through
   `Database` with 16 submitting threads (no HTTP), and raw sqlite3 doing the issue's writes
   (counter, ticket, event) with the same durability (WAL, synchronous=FULL), one commit each.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import sqlite3
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.halls import load_test_hall
from bench.httpclient import Connection
from bench.listeners import ListenerProcess
from bench.serverproc import ServerProcess, TokenSpec, Usage
from bench.stats import Latency

CLIENTS = 16
SUBSCRIBERS = 20
CALL_WINDOWS = 24


@dataclass
class ServerFigures:
    clients: int
    issue_seconds: float
    issued: int
    issue_errors: int
    issue_latency: Latency
    issue_usage: Usage
    subscribers: int
    calls: int
    call_rate: float
    call_latency: Latency
    call_event_latency: Latency
    events_complete: bool
    baseline_domain_rate: float
    baseline_sqlite_rate: float
    tmpfs_rate: float = 0.0
    tmpfs_latency: Latency | None = None

    @property
    def rate(self) -> float:
        return self.issued / self.issue_seconds if self.issue_seconds else 0.0

    @property
    def cpu_ms_per_ticket(self) -> float:
        return 1000 * self.issue_usage.cpu_s / self.issued if self.issued else 0.0

    @property
    def ratio_sqlite(self) -> float:
        return self.rate / self.baseline_sqlite_rate if self.baseline_sqlite_rate else 0.0

    @property
    def ratio_domain(self) -> float:
        return self.rate / self.baseline_domain_rate if self.baseline_domain_rate else 0.0


def _codes() -> list[str]:
    return [s["code"] for s in load_test_hall()["services"]]


async def _issue_load(
    host: str, port: int, tokens: list[str], seconds: float, lat: list[float] | None = None
) -> tuple[int, int]:
    """Every client issues back to back for `seconds`; returns (issued, errors)."""
    codes = _codes()
    issued = errors = 0
    stop = time.monotonic() + seconds

    async def client(token: str) -> None:
        nonlocal issued, errors
        conn = Connection(host, port, token)
        rng = random.Random(token)
        try:
            while time.monotonic() < stop:
                body = {
                    "service": rng.choice(codes),
                    "channel": "kiosk",
                    "idempotency_key": uuid.uuid4().hex,
                }
                reply = await conn.request("POST", "/api/v1/tickets", body)
                if lat is not None:
                    lat.append(reply.elapsed)
                if reply.status == 201:
                    issued += 1
                else:
                    errors += 1
        finally:
            await conn.close()

    await asyncio.gather(*(client(t) for t in tokens))
    return issued, errors


async def _call_load(
    host: str,
    port: int,
    window_tokens: dict[int, str],
    seconds: float,
    rate: float,
) -> tuple[dict[tuple[int, int], float], list[float]]:
    """Windows call next, together `rate` calls/s; returns send times by (ticket, call_count)."""
    sent: dict[tuple[int, int], float] = {}
    lat: list[float] = []
    interval = len(window_tokens) / rate
    start = time.monotonic()
    stop = start + seconds

    async def window(no: int, token: str, offset: float) -> None:
        conn = Connection(host, port, token)
        due = start + offset
        try:
            while due < stop:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                reply = await conn.request("POST", f"/api/v1/windows/{no}/call-next")
                lat.append(reply.elapsed)
                if reply.status == 200:
                    t = reply.json()
                    sent[(t["id"], t["call_count"])] = reply.sent_at
                due += interval
        finally:
            await conn.close()

    n = len(window_tokens)
    await asyncio.gather(
        *(window(no, tok, i * interval / n) for i, (no, tok) in enumerate(window_tokens.items()))
    )
    return sent, lat


def _max_event_id(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0])
    finally:
        conn.close()


# -- baselines --------------------------------------------------------------------------------


def baseline_domain(workdir: Path, seconds: float, threads: int = CLIENTS) -> float:
    """tickets/s of `tickets.issue` through the single writer, 16 threads, no HTTP."""
    from bench.halls import write_toml
    from queue_server.core import tickets
    from queue_server.runtime.hall import Hall

    path = write_toml(load_test_hall(), workdir / "domain.toml")
    hall = Hall(workdir / "domain.db", path)
    codes = _codes()
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        rng = random.Random(i)
        while time.monotonic() < stop:
            req = tickets.IssueRequest(
                service=rng.choice(codes), channel="kiosk", idempotency_key=uuid.uuid4().hex
            )
            hall.db.write(lambda tx, req=req: tickets.issue(hall.ctx, tx, req))  # type: ignore[misc]
            counts[i] += 1

    t0 = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - t0
    hall.close()
    return sum(counts) / elapsed


def baseline_sqlite(workdir: Path, seconds: float) -> float:
    """tickets/s of raw sqlite3 doing an issue's writes, one durable commit per ticket."""
    import sqlite_utils

    from queue_server.base.db import connect
    from queue_server.base.schema import MIGRATIONS

    conn = connect(workdir / "raw.db")  # WAL, synchronous=FULL: the server's settings
    MIGRATIONS.apply(sqlite_utils.Database(conn))
    codes = _codes()
    day = time.strftime("%Y-%m-%d")
    for code in codes:
        conn.execute(
            "INSERT INTO counters (business_day, service, next_seq, issued) VALUES (?, ?, 1, 0)",
            (day, code),
        )
    rng = random.Random(0)
    n = 0
    t0 = time.monotonic()
    stop = t0 + seconds
    while time.monotonic() < stop:
        code = rng.choice(codes)
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        seq = conn.execute(
            "SELECT next_seq FROM counters WHERE business_day = ? AND service = ?", (day, code)
        ).fetchone()[0]
        conn.execute(
            "UPDATE counters SET next_seq = ?, issued = issued + 1"
            " WHERE business_day = ? AND service = ?",
            (seq + 1, day, code),
        )
        number = f"{code[0]}{seq:05d}"
        cur = conn.execute(
            "INSERT INTO tickets (business_day, number, seq, service, original_service, status,"
            " priority, channel, issued_at, issued_ts, idempotency_key, device, code)"
            " VALUES (?,?,?,?,?,'waiting','ordinary','kiosk',?,?,?,'kiosk',?)",
            (
                day,
                f"{code}-{number}",
                seq,
                code,
                code,
                str(now),
                now,
                uuid.uuid4().hex,
                secrets.token_hex(10),
            ),  # fmt: skip
        )
        conn.execute(
            "INSERT INTO events (ts, type, data) VALUES (?, 'ticket.issued', ?)",
            (str(now), f'{{"id": {cur.lastrowid}, "number": "{number}"}}'),
        )
        conn.execute("COMMIT")
        n += 1
    elapsed = time.monotonic() - t0
    conn.close()
    return n / elapsed


# -- the whole server benchmark ---------------------------------------------------------------


def run_server_bench(
    quick: bool = False, log: object = print, workdir: Path | None = None
) -> ServerFigures:
    issue_s = 3.0 if quick else 20.0
    call_s = 2.0 if quick else 10.0
    base_s = 2.0 if quick else 8.0
    say = log if callable(log) else print
    with tempfile.TemporaryDirectory(prefix="hall-bench-", dir=workdir) as tmp:
        root = Path(tmp)
        server = ServerProcess(root, load_test_hall())
        specs = [TokenSpec("kiosk", name=f"kiosk-{i}") for i in range(CLIENTS)]
        specs += [TokenSpec("staff", window=no) for no in range(1, CALL_WINDOWS + 1)]
        specs += [TokenSpec("display", name=f"display-{i}") for i in range(SUBSCRIBERS)]
        tokens = server.create_tokens(specs)
        kiosks = tokens[:CLIENTS]
        windows = dict(
            zip(range(1, CALL_WINDOWS + 1), tokens[CLIENTS : CLIENTS + CALL_WINDOWS], strict=True)
        )
        displays = tokens[CLIENTS + CALL_WINDOWS :]
        server.start()
        try:
            say(f"server bench: {CLIENTS} clients issuing for {issue_s:.0f} s …")
            _arun(_issue_load(server.host, server.port, kiosks, 1.0))  # warm-up
            lat: list[float] = []
            span = server.span()
            t0 = time.monotonic()
            issued, errors = _arun(_issue_load(server.host, server.port, kiosks, issue_s, lat))
            elapsed = time.monotonic() - t0
            usage = span.end()

            say(f"server bench: {SUBSCRIBERS} displays, {CALL_WINDOWS} windows calling …")
            listeners = ListenerProcess(server.host, server.port, displays, replay_from=None)
            listeners.start()
            try:
                call_rate = 100.0

                async def calls_with_background() -> tuple[
                    dict[tuple[int, int], float], list[float]
                ]:
                    bg = asyncio.create_task(_paced_issue(server, kiosks[:4], call_s, 100.0))
                    out = await _call_load(server.host, server.port, windows, call_s, call_rate)
                    await bg
                    return out

                sent, call_lat = _arun(calls_with_background())
                last_id = _max_event_id(server.db_path)
                result = listeners.finish(last_id, timeout=15)
            finally:
                listeners.kill()
        finally:
            server.stop()
        deltas = [
            seen[key] - t_sent
            for seen in result.called_at
            for key, t_sent in sent.items()
            if key in seen
        ]
        expected = len(sent) * SUBSCRIBERS
        say("server bench: raw SQLite and in-process baselines …")
        domain_rate = baseline_domain(root, base_s)
        sqlite_rate = baseline_sqlite(root, base_s)
    tmpfs_rate, tmpfs_lat = 0.0, None
    shm = Path("/dev/shm")
    if not quick and shm.is_dir() and os.access(shm, os.W_OK):
        say("server bench: diagnostic issue run with the database on tmpfs …")
        tmpfs_rate, tmpfs_lat = issue_only(shm, 8.0)
    return ServerFigures(
        clients=CLIENTS,
        issue_seconds=elapsed,
        issued=issued,
        issue_errors=errors,
        issue_latency=Latency.of(lat),
        issue_usage=usage,
        subscribers=SUBSCRIBERS,
        calls=len(sent),
        call_rate=call_rate,
        call_latency=Latency.of(call_lat),
        call_event_latency=Latency.of(deltas),
        events_complete=result.caught_up and len(deltas) == expected,
        baseline_domain_rate=domain_rate,
        baseline_sqlite_rate=sqlite_rate,
        tmpfs_rate=tmpfs_rate,
        tmpfs_latency=tmpfs_lat,
    )


def issue_only(directory: Path, seconds: float) -> tuple[float, Latency]:
    """The issue benchmark alone, with the server's database in `directory`."""
    with tempfile.TemporaryDirectory(prefix="hall-bench-", dir=directory) as tmp:
        server = ServerProcess(Path(tmp), load_test_hall())
        kiosks = server.create_tokens([TokenSpec("kiosk", name=f"k{i}") for i in range(CLIENTS)])
        server.start()
        try:
            _arun(_issue_load(server.host, server.port, kiosks, 1.0))
            lat: list[float] = []
            t0 = time.monotonic()
            issued, _errors = _arun(_issue_load(server.host, server.port, kiosks, seconds, lat))
            elapsed = time.monotonic() - t0
        finally:
            server.stop()
    return issued / elapsed, Latency.of(lat)


async def _paced_issue(
    server: ServerProcess, tokens: list[str], seconds: float, rate: float
) -> None:
    """Kiosks issuing at `rate` tickets/s in the background (the hall does not stop issuing)."""
    codes = _codes()
    interval = len(tokens) / rate
    start = time.monotonic()

    async def kiosk(i: int, token: str) -> None:
        conn = Connection(server.host, server.port, token)
        due = start + i * interval / len(tokens)
        try:
            while due < start + seconds:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                body = {"service": random.choice(codes), "idempotency_key": uuid.uuid4().hex}
                await conn.request("POST", "/api/v1/tickets", body)
                due += interval
        finally:
            await conn.close()

    await asyncio.gather(*(kiosk(i, t) for i, t in enumerate(tokens)))


def _arun(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine on uvloop (the server's loop too), asyncio's loop if it is missing."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is pinned
        return asyncio.run(coro)
    return uvloop.run(coro)
