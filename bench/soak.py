"""Soak: a real server under steady load for minutes; no errors, memory flat, streams whole.

Default load: 50 tickets/s issued by kiosks (one in ten real-name, with an ID card),
300 windows calling (call next, sometimes skip, finish and rate), 30 display event streams.
Every 10 s it samples the server's RSS, request latencies and counts; at the end it checks
that every display saw every event id exactly once, in order, with no gap against the events
table. Not a test: run it with `python -m bench.soak [--duration 600]`.

Exit status 0 when there were no errors (no 5xx, no failed requests, no stream gaps) and
memory stayed flat (RSS at the end within 20% + 20 MiB of RSS after the first minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sqlite3
import ssl
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.serverproc import HallServer

ROOT = Path(__file__).resolve().parent.parent
SERVICES = [
    ("ZH", "综合受理", "A"),
    ("SW", "税务业务", "B"),
    ("SB", "社保业务", "C"),
    ("YB", "医保业务", "D"),
    ("GJJ", "公积金", "E"),
    ("QYKB", "企业开办", "F"),
    ("BDC", "不动产登记", "G"),
    ("HJ", "户籍业务", "H"),
    ("CRJ", "出入境", "J"),
    ("JJ", "交警业务", "K"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗欧阳"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
_ID_RE = re.compile(rb"(?m)^id: (\d+)$")


def soak_config(windows: int) -> str:
    lines = [
        "[hall]",
        'name = "压力测试大厅"',
        "enforce_hours = false",
        "",
        "[security]",
        "issue_per_device_per_minute = 6000",
        "max_event_streams = 200",
        "",
    ]
    for code, name, prefix in SERVICES:
        lines += [
            "[[services]]",
            f'code = "{code}"',
            f'name = "{name}"',
            f'prefix = "{prefix}"',
            "number_range = [1, 99999]",
            "avg_service_min = 6.0",
            "",
        ]
    for no in range(1, windows + 1):
        codes = random.Random(no).sample([s[0] for s in SERVICES], 3)
        served = ", ".join(f"{c} = {w}" for c, w in zip(codes, (3, 2, 1), strict=True))
        lines += [
            "[[windows]]",
            f"no = {no}",
            f'name = "{no}号窗口"',
            f"services = {{ {served} }}",
            "",
        ]
    return "\n".join(lines)


def id_number(rng: random.Random) -> str:
    """A well-formed GB 11643 number (fictitious) with its MOD 11-2 check character."""
    body = f"110105{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body += f"{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float, status: int) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        key = f"{kind}:{status}"
        self.counts[key] = self.counts.get(key, 0) + 1
        if status >= 500:
            self.errors.append(f"{kind} answered {status}")

    def drain(self) -> dict[str, list[float]]:
        out, self.latencies = self.latencies, {}
        return out


class Soak:
    def __init__(self, url: str, tokens: dict[str, Any], args: argparse.Namespace) -> None:
        self.url = url
        self.tokens = tokens
        self.args = args
        self.stats = Stats()
        self.stop = asyncio.Event()
        self.stream_ids: list[list[int]] = [[] for _ in range(args.streams)]
        self.rng = random.Random(9)
        self.tls = ssl.create_default_context()  # built once: each one costs ~50 ms

    async def timed(
        self, c: httpx.AsyncClient, kind: str, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = await c.request(method, path, **kw)
        except httpx.HTTPError as err:
            self.stats.errors.append(f"{kind}: {type(err).__name__} {err}")
            return None
        self.stats.record(kind, time.perf_counter() - t0, r.status_code)
        return r

    async def issuer(self) -> None:
        interval = 1.0 / self.args.rate
        kiosks = self.tokens["kiosk"]
        # One small client per kiosk: httpx's shared pool degrades with hundreds in flight.
        clients = [self.client(4) for _ in kiosks]
        nxt = time.perf_counter()
        pending: set[asyncio.Task[Any]] = set()
        i = 0
        while not self.stop.is_set():
            i += 1
            code = self.rng.choice(SERVICES)[0]
            body: dict[str, Any] = {"service": code, "idempotency_key": uuid.uuid4().hex}
            if i % 10 == 0:
                name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
                body["id_card"] = {"id_number": id_number(self.rng), "name": name}
            k = i % len(kiosks)
            headers = {"Authorization": f"Bearer {kiosks[k]}"}
            t = asyncio.create_task(
                self.timed(
                    clients[k], "issue", "POST", "/api/v1/tickets", json=body, headers=headers
                )
            )
            pending.add(t)
            t.add_done_callback(pending.discard)
            nxt += interval
            await asyncio.sleep(max(0.0, nxt - time.perf_counter()))
        await asyncio.gather(*pending)
        for c in clients:
            await c.aclose()

    def client(self, connections: int) -> httpx.AsyncClient:
        # Idle connections are dropped before the server's 5 s keep-alive timeout would race.
        limits = httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=3
        )
        return httpx.AsyncClient(base_url=self.url, timeout=15, limits=limits, verify=self.tls)

    async def window(self, no: int, token: str) -> None:
        async with self.client(1) as c:
            await self.staff(c, no, token)

    async def staff(self, c: httpx.AsyncClient, no: int, token: str) -> None:
        h = {"Authorization": f"Bearer {token}"}
        rng = random.Random(no)
        mean_service = self.args.windows / self.args.rate  # keeps the queue short but non-empty
        await asyncio.sleep(rng.uniform(0, mean_service))
        while not self.stop.is_set():
            r = await self.timed(c, "call", "POST", f"/api/v1/windows/{no}/call-next", headers=h)
            if r is None or r.status_code != 200:  # nobody waiting: staff look again shortly
                await asyncio.sleep(rng.uniform(2.0, 5.0))
                continue
            ticket = r.json()
            await asyncio.sleep(rng.expovariate(1.0 / mean_service))
            roll = rng.random()
            if roll < 0.05:
                await self.timed(
                    c, "skip", "POST", f"/api/v1/tickets/{ticket['id']}/skip", headers=h
                )
            elif roll < 0.30:
                done = await self.timed(
                    c, "finish", "POST", f"/api/v1/tickets/{ticket['id']}/finish", headers=h
                )
                if done is not None and done.status_code == 200:
                    level = rng.choice((5, 5, 5, 4, 4, 3, 2))
                    await self.timed(
                        c,
                        "evaluate",
                        "POST",
                        "/api/v1/evaluations",
                        json={
                            "ticket_id": ticket["id"],
                            "level": level,
                            "reasons": ["long_wait"] if level <= 2 else [],
                            "channel": "window",
                        },
                        headers={"Authorization": f"Bearer {self.tokens['evaluator'][no - 1]}"},
                    )

    async def display(self, n: int) -> None:
        h = {"Authorization": f"Bearer {self.tokens['display']}"}
        ids = self.stream_ids[n]
        timeout = httpx.Timeout(5, read=30)
        async with (
            httpx.AsyncClient(base_url=self.url, timeout=timeout, verify=self.tls) as c,
            c.stream("GET", "/api/v1/events", headers=h) as r,
        ):
            if r.status_code != 200:
                self.stats.errors.append(f"display {n}: stream answered {r.status_code}")
                return
            buf = b""
            async for chunk in r.aiter_raw():
                buf += chunk
                cut = buf.rfind(b"\n\n")
                if cut < 0:
                    continue
                ids.extend(int(m) for m in _ID_RE.findall(buf[: cut + 2]))
                buf = buf[cut + 2 :]
                if self.stop.is_set():
                    return

    async def run(self, proc: psutil.Process, db: Path) -> list[dict[str, Any]]:
        samples: list[dict[str, Any]] = []
        displays = [asyncio.create_task(self.display(n)) for n in range(self.args.streams)]
        await asyncio.sleep(1.0)  # streams start live: connect them before the load
        workers = [asyncio.create_task(self.issuer())]
        workers += [
            asyncio.create_task(self.window(no, tok))
            for no, tok in enumerate(self.tokens["staff"], start=1)
        ]
        t0 = time.monotonic()
        next_sample = t0 + self.args.sample
        while time.monotonic() - t0 < self.args.duration:
            await asyncio.sleep(max(0.0, min(1.0, next_sample - time.monotonic())))
            if time.monotonic() >= next_sample:
                samples.append(self.sample(proc, db, time.monotonic() - t0))
                next_sample += self.args.sample
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*workers), 60)
        await asyncio.sleep(2.0)  # let the streams catch the last events
        for d in displays:
            d.cancel()
        for res in await asyncio.gather(*displays, return_exceptions=True):
            if isinstance(res, Exception):
                self.stats.errors.append(f"display: {type(res).__name__} {res}")
        return samples

    def sample(self, proc: psutil.Process, db: Path, elapsed: float) -> dict[str, Any]:
        lat = self.stats.drain()
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            waiting = conn.execute(
                "SELECT COUNT(*) FROM tickets WHERE status='waiting'"
            ).fetchone()[0]
            issued = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        finally:
            conn.close()
        row: dict[str, Any] = {
            "t_s": round(elapsed),
            "rss_mib": round(proc.memory_info().rss / 2**20, 1),
            "cpu_s": round(sum(proc.cpu_times()[:2]), 1),
            "tickets": issued,
            "waiting": waiting,
            "errors": len(self.stats.errors),
        }
        for kind in ("issue", "call"):
            xs = sorted(lat.get(kind, []))
            if xs:
                row[f"{kind}_per_s"] = round(len(xs) / self.args.sample, 1)
                row[f"{kind}_p50_ms"] = round(1000 * xs[len(xs) // 2], 1)
                row[f"{kind}_p99_ms"] = round(1000 * xs[min(len(xs) - 1, int(len(xs) * 0.99))], 1)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        return row


def check_streams(soak: Soak, db: Path) -> list[str]:
    """Every display saw every event id exactly once, in order, no gap vs the events table."""
    problems = []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for n, ids in enumerate(soak.stream_ids):
            if not ids:
                problems.append(f"display {n}: no events")
                continue
            if ids != sorted(set(ids)):
                problems.append(f"display {n}: ids out of order or repeated")
            table = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM events WHERE id BETWEEN ? AND ? ORDER BY id", (ids[0], ids[-1])
                )
            ]
            if table != ids:
                missing = len(set(table) - set(ids))
                problems.append(f"display {n}: {missing} events missing of {len(table)}")
    finally:
        conn.close()
    return problems


def prepare(workdir: Path, windows: int, kiosks: int) -> tuple[Path, dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    from queue_server.admin.accounts import create_token
    from queue_server.runtime.hall import Hall

    cfg = workdir / "soak.toml"
    cfg.write_text(soak_config(windows), encoding="utf-8")
    db = workdir / "soak.db"
    hall = Hall(db, cfg)
    try:

        def make(tx: Any) -> dict[str, Any]:
            return {
                "kiosk": [create_token(tx, "kiosk", f"kiosk-{i}") for i in range(kiosks)],
                "staff": [
                    create_token(tx, "staff", f"staff-{no}", no) for no in range(1, windows + 1)
                ],
                "display": create_token(tx, "display", "display"),
                "evaluator": [  # one per window: an evaluator rates only its own window
                    create_token(tx, "evaluator", f"evaluator-{no}", no)
                    for no in range(1, windows + 1)
                ],
            }

        tokens = hall.run_sync(make)
    finally:
        hall.close()
    return db, tokens


def start_server(db: Path, log: Path) -> HallServer:
    """The server under soak; its stderr goes to `log`."""
    server = HallServer(db, log=log)
    server.start(timeout=30)
    return server


def report(
    samples: list[dict[str, Any]], problems: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    rss = [s["rss_mib"] for s in samples]
    base = next((s["rss_mib"] for s in samples if s["t_s"] >= 60), rss[0] if rss else 0.0)
    issue_rates = [s.get("issue_per_s", 0) for s in samples]
    p99 = [s.get("issue_p99_ms", 0) for s in samples]
    call_p99 = [s.get("call_p99_ms", 0) for s in samples]
    summary = {
        "duration_s": args.duration,
        "rate_target": args.rate,
        "windows": args.windows,
        "streams": args.streams,
        "tickets": samples[-1]["tickets"] if samples else 0,
        "issue_per_s_mean": round(statistics.mean(issue_rates), 1) if issue_rates else 0,
        "issue_p99_ms_max": max(p99, default=0),
        "call_p99_ms_max": max(call_p99, default=0),
        "rss_mib_first": rss[0] if rss else 0,
        "rss_mib_after_1min": base,
        "rss_mib_end": rss[-1] if rss else 0,
        "rss_mib_max": max(rss, default=0),
        "errors": problems,
    }
    flat = not rss or rss[-1] <= base * 1.2 + 20
    summary["memory_flat"] = flat
    summary["ok"] = flat and not problems
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=600, help="seconds of load (default 600)")
    ap.add_argument("--rate", type=float, default=50, help="tickets issued per second")
    ap.add_argument("--windows", type=int, default=300)
    ap.add_argument("--streams", type=int, default=30, help="display event streams")
    ap.add_argument("--kiosks", type=int, default=20)
    ap.add_argument("--sample", type=float, default=10, help="seconds between samples")
    ap.add_argument("--json", help="write samples and summary to this file")
    ap.add_argument("--dir", help="where the database goes (default: the system temp dir)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hall-soak-", dir=args.dir) as tmp:
        work = Path(tmp)
        db, tokens = prepare(work, args.windows, args.kiosks)
        server = start_server(db, work / "server.log")
        assert server.proc is not None
        try:
            soak = Soak(server.url, tokens, args)
            samples = asyncio.run(soak.run(psutil.Process(server.proc.pid), db))
            alive = server.proc.poll() is None
        finally:
            code = server.stop(timeout=30)
        problems = list(dict.fromkeys(soak.stats.errors))[:20] + check_streams(soak, db)
        if not alive:
            problems.append("the server died during the soak")
        if code != 0:
            problems.append(f"the server exited with {code}")
        log_text = (work / "server.log").read_text(errors="replace")
        if "Traceback" in log_text:
            problems.append("the server logged a traceback")
        summary = report(samples, problems, args)
        summary["status_counts"] = dict(sorted(soak.stats.counts.items()))
        summary["failed_requests"] = len(soak.stats.errors)
        summary["events_per_stream"] = [len(ids) for ids in soak.stream_ids][:3]
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"samples": samples, "summary": summary}, ensure_ascii=False, indent=2)
        )
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
