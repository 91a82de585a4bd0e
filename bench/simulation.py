"""The hall-day simulation: a whole business day against the real server over HTTP.

Time: the server runs its hall clock `time_scale`× faster than real time (`hall server
--time-scale N --start-time …`), and the simulation schedules every action on the same
accelerated clock (synchronised from `GET /hall`). So the server stamps, scores and estimates
in simulated hall minutes exactly as on a real day, and the load it sees is the day's load
compressed N times: the arrival curve's peaks are real peaks. If the server cannot keep up,
actions run late; the report shows the lag.

The day: citizens arrive from 08:30 to 17:30 along a curve with a morning peak (09:30–10:30),
a lunch dip (12:00–13:30) and an afternoon bump (14:30–15:30); each picks a service by its
share of demand and takes a ticket at one of the kiosks (real-name services with a valid
generated ID card; some green-channel, some appointments). Each window calls the next ticket
when it is free; the citizen comes (recalled once if slow), or not (recalled, then skipped
as 过号, and some come back and are re-activated); service times are lognormal around the
service's `avg_service_min`; some tickets are transferred to another service; after 办结
most citizens rate the service (好差评, 差评 with reasons). Windows pause for a break and
half of them for a staggered lunch. Windows stop at `last_call` even if people still wait
(the demo hall's 24 windows cannot serve 2,000 people at its configured service times).
Displays follow the event stream throughout (in a child process) and are checked at the end.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import random
import resource
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from bench.halls import city_hall, demand_shares, load_demo
from bench.httpclient import Connection, HttpError, Pool
from bench.invariants import IssuedTicket, Observations, Violations, check
from bench.listeners import ListenerProcess
from bench.serverproc import ServerProcess, TokenSpec, Usage
from bench.stats import Latency
from halldomain.idnumber import check_character

ZONE = ZoneInfo("Asia/Shanghai")

# Relative arrival intensity through the day (hour, weight), linear in between.
ARRIVAL_CURVE: list[tuple[float, float]] = [
    (8.5, 0.6), (9.0, 1.1), (9.5, 1.45), (10.0, 1.55), (10.5, 1.45), (11.0, 1.15),
    (11.5, 0.85), (12.0, 0.35), (12.5, 0.25), (13.0, 0.3), (13.5, 0.65), (14.0, 0.95),
    (14.5, 1.1), (15.0, 1.15), (15.5, 1.05), (16.0, 0.8), (16.5, 0.55), (17.0, 0.35),
    (17.5, 0.0),
]  # fmt: skip

NO_SHOW = 0.05  # called but never came (过号)
COME_BACK = 0.3  # of those, came back within the re-activation time
SLOW = 0.08  # came only after a recall (重呼)
TRANSFER = 0.03  # sent to another service (转窗)
EVALUATE = 0.6  # rated the service at the window evaluator (好差评)
SERVICE_CV = 0.5  # coefficient of variation of service times (lognormal)
LEVELS = [(5, 0.78), (4, 0.14), (3, 0.05), (2, 0.02), (1, 0.01)]
# the default list's codes (halldomain/ratings.py): what a window evaluator sends
BAD_REASONS = ["long_wait", "attitude", "unclear_notice", "burdensome_materials", "other"]
GREEN = [("disabled", 0.015), ("pregnant", 0.01), ("military", 0.01)]
APPOINTMENT = 0.05
ELDERLY = 0.18  # share of citizens aged 60 or more (their ID card gives them priority)


@dataclass
class Preset:
    name: str
    config: dict[str, Any]
    tickets: int
    kiosks: int
    displays: int
    time_scale: float
    last_call_h: float = 19.0  # windows stop calling (the hall closes)
    seed: int = 2026


def preset(name: str, quick: bool = False) -> Preset:
    if name == "demo":
        return Preset(
            "demo",
            load_demo(),
            tickets=300 if quick else 2000,
            kiosks=4,
            displays=4,
            time_scale=2400 if quick else 600,
        )
    if name == "city":
        return Preset(
            "city",
            city_hall(300),
            tickets=2000 if quick else 20000,
            kiosks=12,
            displays=30,
            time_scale=1200 if quick else 150,
        )
    raise ValueError(f"unknown preset {name!r} (demo or city)")


# -- the simulated clock --------------------------------------------------------------------


class SimClock:
    """The server's accelerated hall clock, as seen from the driver."""

    def __init__(self, server_ts: float, scale: float, at: float) -> None:
        self.ts0, self.scale, self.m0 = server_ts, scale, at

    def now(self) -> float:
        return self.ts0 + (time.monotonic() - self.m0) * self.scale

    def at(self, monotonic: float) -> float:
        """Hall time at a given `time.monotonic()` reading."""
        return self.ts0 + (monotonic - self.m0) * self.scale

    async def sleep_until(self, ts: float) -> float:
        """Sleep until hall time `ts`; returns how late we are (hall seconds, ≥ 0)."""
        delay = (ts - self.now()) / self.scale
        if delay > 0:
            await asyncio.sleep(delay)
        return max(0.0, self.now() - ts)

    async def sleep(self, hall_seconds: float) -> None:
        await asyncio.sleep(max(0.0, hall_seconds) / self.scale)


def arrival_times(n: int, rng: random.Random) -> list[float]:
    """n arrival hours drawn from the daily curve (a Poisson process given its count)."""
    # Piecewise-linear density: sample a segment by its area, then a point inside it.
    segs = list(zip(ARRIVAL_CURVE, ARRIVAL_CURVE[1:], strict=False))
    areas = [(h1 - h0) * (w0 + w1) / 2 for (h0, w0), (h1, w1) in segs]
    cum = [sum(areas[: i + 1]) for i in range(len(areas))]
    out = []
    for _ in range(n):
        i = bisect.bisect_left(cum, rng.random() * cum[-1])
        (h0, w0), (h1, w1) = segs[i]
        u = rng.random()
        if abs(w1 - w0) < 1e-9:
            x = u
        else:  # inverse CDF of a linear density on [0, 1]
            a, b = w0, w1 - w0
            x = (-a + math.sqrt(a * a + 2 * b * u * (a + b / 2))) / b
        out.append(h0 + x * (h1 - h0))
    return sorted(out)


def id_number(rng: random.Random, serial: int, today: date) -> str:
    """A valid resident ID number (GB 11643-1999) for a generated citizen."""
    age = rng.randint(60, 88) if rng.random() < ELDERLY else rng.randint(18, 59)
    birth = today.replace(year=today.year - age) - timedelta(days=rng.randint(1, 360))
    body = f"440203{birth:%Y%m%d}{serial % 1000:03d}"
    # The 6-digit region varies with the serial so that 17 digits stay unique.
    body = f"44{serial // 1000 % 10000:04d}" + body[6:]
    return body + check_character(body)


def lognormal_minutes(rng: random.Random, mean: float, cv: float = SERVICE_CV) -> float:
    sigma2 = math.log(1 + cv * cv)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


# -- results ---------------------------------------------------------------------------------


@dataclass
class DayFigures:
    preset: str
    windows: int
    kiosks: int
    displays: int
    time_scale: float
    arrivals: int
    issued: int
    refused: Counter[str]
    served: int
    no_shows: int
    reactivated: int
    recalls: int
    transfers: int
    evaluations: int
    bad_evaluations: int
    pauses: int
    left_waiting: int
    errors: Counter[str]
    real_seconds: float
    arrival_real_seconds: float
    requests: int
    latencies: dict[str, Latency]
    call_display: Latency
    usage: Usage
    db_bytes: int
    wait_min_mean: float
    wait_min_p90: float
    max_lag_hall_s: float
    p99_lag_hall_s: float
    display_reconnects: int
    displays_complete: bool
    events: int
    violations: Violations
    observations: Observations
    offered_load: float = 0.0  # work arriving / window time available (> 1: cannot keep up)
    driver_cores: float = 0.0  # CPU of the simulation's own process (kiosks, windows)
    displays_cores: float = 0.0  # CPU of the event-stream subscribers' process

    @property
    def tickets_per_s(self) -> float:
        return self.issued / self.arrival_real_seconds if self.arrival_real_seconds else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.real_seconds if self.real_seconds else 0.0

    @property
    def db_mb_per_10k(self) -> float:
        return self.db_bytes / 2**20 / self.issued * 10000 if self.issued else 0.0


# -- the simulation --------------------------------------------------------------------------


@dataclass
class _Window:
    no: int
    services: list[str]
    staff: Connection
    evaluator: Connection
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    breaks: list[tuple[float, float]] = field(default_factory=list)  # (start ts, hall seconds)


class HallDay:
    def __init__(self, p: Preset, server: ServerProcess, tokens: dict[str, list[str]]) -> None:
        self.p = p
        self.server = server
        self.rng = random.Random(p.seed)
        cfg = p.config
        self.services = {s["code"]: s for s in cfg["services"]}
        self.avg_min = {c: float(s.get("avg_service_min", 8.0)) for c, s in self.services.items()}
        shares = demand_shares(cfg)
        self.codes = list(shares)
        self.weights = [shares[c] for c in self.codes]
        h, port = server.host, server.port
        # A real kiosk serves one citizen at a time, but the citizen's own taps take far
        # longer than the request; compressed ×N, that is no longer true, so each kiosk may
        # have a few requests in flight and a slow server shows as lag, not as kiosk queues.
        self.kiosks = [Pool(h, port, t, size=8) for t in tokens["kiosk"]]
        self.windows = [
            _Window(w["no"], list(w["services"]), Connection(h, port, s), Connection(h, port, e))
            for w, s, e in zip(cfg["windows"], tokens["staff"], tokens["evaluator"], strict=True)
        ]
        self.by_service: dict[str, list[_Window]] = defaultdict(list)
        for w in self.windows:
            for c in w.services:
                self.by_service[c].append(w)
        self.idle: dict[str, set[int]] = defaultdict(set)
        self.waiting: Counter[str] = Counter()
        self.obs = Observations()
        self.lat: dict[str, list[float]] = defaultdict(list)
        self.call_sent: dict[tuple[int, int], float] = {}
        self.lags: list[float] = []
        self.stats: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.pending: set[asyncio.Task[Any]] = set()
        self.arrivals_done = False
        self.clock: SimClock | None = None

    # -- plumbing ----------------------------------------------------------------------
    async def req(
        self, kind: str, conn: Connection | Pool, method: str, path: str, body: Any = None
    ):  # type: ignore[no-untyped-def]
        try:
            reply = await conn.request(method, path, body)
        except HttpError as err:
            self.errors[f"{kind}: {err}"[:80]] += 1
            return None, time.monotonic()
        # Latency from writing the request: a kiosk serving one citizen at a time queues the
        # next one, and that queue is the hall's, not the server's.
        self.lat[kind].append(reply.elapsed)
        self.stats["requests"] += 1
        return reply, reply.sent_at

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    def add_waiting(self, service: str) -> None:
        self.waiting[service] += 1
        idle = self.idle[service]
        if idle:  # wake one idle window that serves this service
            no = idle.pop()
            w = next(x for x in self.by_service[service] if x.no == no)
            for c in w.services:
                self.idle[c].discard(no)
            w.wake.set()

    def anyone_waiting(self) -> bool:
        return any(n > 0 for n in self.waiting.values())

    def has_work(self, w: _Window) -> bool:
        return any(self.waiting[c] > 0 for c in w.services)

    # -- the day -----------------------------------------------------------------------
    async def run(self) -> None:
        hall = Connection(self.server.host, self.server.port, self.windows[0].staff.token)
        reply = await hall.request("GET", "/api/v1/hall")
        m = time.monotonic()
        await hall.close()
        info = reply.json()
        now_ts = datetime.fromisoformat(info["now"]).timestamp()
        self.clock = SimClock(now_ts, self.p.time_scale, m)
        self.day = datetime.fromisoformat(info["now"]).astimezone(ZONE).date()
        # The day starts at 08:30 or now, whichever is later (the server took a moment to start).
        opening = datetime.combine(self.day, datetime.min.time(), ZONE) + timedelta(hours=8.5)
        self.shift = max(0.0, now_ts + 60 - opening.timestamp())
        self.t_open = opening.timestamp() + self.shift
        self.t_last_call = self.hour(self.p.last_call_h)
        self._plan_breaks()
        self.real0 = time.monotonic()
        workers = [asyncio.create_task(self.window(w)) for w in self.windows]
        await self.arrivals()
        self.arrival_real = time.monotonic() - self.real0
        self.arrivals_done = True
        for w in self.windows:
            w.wake.set()
        await asyncio.gather(*workers)
        while self.pending:
            await asyncio.gather(*list(self.pending), return_exceptions=True)
        self.real_seconds = time.monotonic() - self.real0
        conns: list[Connection | Pool] = [*self.kiosks]
        conns += [c for w in self.windows for c in (w.staff, w.evaluator)]
        for c in conns:
            await c.close()

    def hour(self, h: float) -> float:
        opening = datetime.combine(self.day, datetime.min.time(), ZONE) + timedelta(hours=h)
        return opening.timestamp() + self.shift

    def _plan_breaks(self) -> None:
        for w in self.windows:
            start = self.rng.choice([(10.0, 11.5), (15.0, 16.5)])
            w.breaks.append((self.hour(self.rng.uniform(*start)), 15 * 60))
            if self.rng.random() < 0.5:
                w.breaks.append((self.hour(self.rng.uniform(11.75, 12.5)), 60 * 60))
            w.breaks.sort()

    async def arrivals(self) -> None:
        assert self.clock is not None
        hours = arrival_times(self.p.tickets, self.rng)
        citizens = []
        for i, h in enumerate(hours):
            due = self.hour(h)
            await self.clock.sleep_until(due)
            citizens.append(asyncio.create_task(self.citizen(i, due)))
        await asyncio.gather(*citizens)

    async def citizen(self, serial: int, due: float) -> None:
        rng = random.Random(self.p.seed * 1_000_003 + serial)
        code = rng.choices(self.codes, self.weights)[0]
        body: dict[str, Any] = {"service": code, "idempotency_key": uuid.uuid4().hex}
        body["channel"] = "appointment" if rng.random() < APPOINTMENT else "kiosk"
        if self.services[code].get("real_name"):
            body["id_card"] = {"id_number": id_number(rng, serial, self.day), "name": "张三"}
        x = rng.random()
        for cls, share in GREEN:
            if x < share:
                body["priority"] = cls
                break
            x -= share
        kiosk = self.kiosks[serial % len(self.kiosks)]
        reply, sent_at = await self.req("issue", kiosk, "POST", "/api/v1/tickets", body)
        self.stats["arrivals"] += 1
        assert self.clock is not None
        # How late the request went out against the arrival it stands for (hall seconds).
        self.lags.append(max(0.0, self.clock.at(sent_at) - due))
        if reply is None:
            return
        if reply.status == 201:
            t = reply.json()
            self.obs.issued.append(IssuedTicket(t["id"], t["number"], t["business_day"]))
            self.add_waiting(t["service"])
        elif reply.status == 409:
            self.refused[reply.json()["error"]["code"]] += 1
        else:
            self.errors[f"issue {reply.status}: {reply.body[:60]!r}"] += 1

    async def window(self, w: _Window) -> None:
        assert self.clock is not None
        clock = self.clock
        rng = random.Random(self.p.seed + w.no)
        await clock.sleep_until(self.t_open)
        while clock.now() < self.t_last_call:
            if w.breaks and clock.now() >= w.breaks[0][0]:
                _start, length = w.breaks.pop(0)
                await self.req("pause", w.staff, "POST", f"/api/v1/windows/{w.no}/pause")
                self.stats["pauses"] += 1
                await clock.sleep(length)
                await self.req("resume", w.staff, "POST", f"/api/v1/windows/{w.no}/resume")
                continue
            if not self.has_work(w):
                if self.arrivals_done and not self.pending and not self.anyone_waiting():
                    return
                await self.idle_wait(w, rng)
                continue
            reply, t0 = await self.req("call", w.staff, "POST", f"/api/v1/windows/{w.no}/call-next")
            if reply is None:
                continue
            if reply.status == 204:
                await self.idle_wait(w, rng)
                continue
            if reply.status != 200:
                self.errors[f"call-next {reply.status}: {reply.body[:60]!r}"] += 1
                await clock.sleep(60)
                continue
            t = reply.json()
            self.obs.calls.append((t["id"], t["call_count"]))
            self.call_sent[(t["id"], t["call_count"])] = t0
            self.waiting[t["service"]] -= 1
            await self.serve(w, t, rng)

    async def idle_wait(self, w: _Window, rng: random.Random) -> None:
        """Nobody waits for this window: wait until a ticket for it is issued (or a while)."""
        assert self.clock is not None
        w.wake.clear()
        for c in w.services:
            self.idle[c].add(w.no)
        timeout = 300 / self.clock.scale
        if w.breaks:
            timeout = min(timeout, max(0.0, w.breaks[0][0] - self.clock.now()) / self.clock.scale)
        try:
            await asyncio.wait_for(w.wake.wait(), timeout)
        except TimeoutError:
            pass
        for c in w.services:
            self.idle[c].discard(w.no)

    async def serve(self, w: _Window, t: dict[str, Any], rng: random.Random) -> None:
        assert self.clock is not None
        clock = self.clock
        tid, base = t["id"], f"/api/v1/tickets/{t['id']}"
        x = rng.random()
        if x < NO_SHOW:
            await clock.sleep(60)
            await self.req("recall", w.staff, "POST", f"{base}/recall")
            self.stats["recalls"] += 1
            await clock.sleep(60)
            await self.req("skip", w.staff, "POST", f"{base}/skip")
            self.stats["no_shows"] += 1
            if rng.random() < COME_BACK:
                self.spawn(self.come_back(w, tid, t["service"], rng.uniform(5, 25) * 60))
            return
        if x < NO_SHOW + SLOW:
            await clock.sleep(40)
            await self.req("recall", w.staff, "POST", f"{base}/recall")
            self.stats["recalls"] += 1
        minutes = lognormal_minutes(rng, self.avg_min[t["service"]])
        if rng.random() < TRANSFER:
            await clock.sleep(min(minutes, 3.0) * 60)
            target = rng.choice([c for c in self.codes if c != t["service"]])
            reply, _ = await self.req(
                "transfer", w.staff, "POST", f"{base}/transfer", {"service": target}
            )
            if reply is not None and reply.status == 200:
                self.stats["transfers"] += 1
                self.add_waiting(target)
            return
        await clock.sleep(minutes * 60)
        reply, _ = await self.req("finish", w.staff, "POST", f"{base}/finish")
        if reply is not None and reply.status == 200:
            self.stats["served"] += 1
            if rng.random() < EVALUATE:
                self.spawn(self.evaluate(w, tid, rng.random(), rng.random()))
        elif reply is not None:
            self.errors[f"finish {reply.status}: {reply.body[:60]!r}"] += 1

    async def come_back(self, w: _Window, tid: int, service: str, after: float) -> None:
        assert self.clock is not None
        await self.clock.sleep(after)
        reply, _ = await self.req(
            "reactivate", w.staff, "POST", f"/api/v1/tickets/{tid}/reactivate"
        )
        if reply is not None and reply.status == 200:
            self.stats["reactivated"] += 1
            self.add_waiting(service)

    async def evaluate(self, w: _Window, tid: int, x: float, y: float) -> None:
        level = 5
        for lv, share in LEVELS:
            if x < share:
                level = lv
                break
            x -= share
        body: dict[str, Any] = {"ticket_id": tid, "level": level, "channel": "window"}
        if level <= 2:
            body["reasons"] = BAD_REASONS[: 1 + int(y * 2)] if y < 0.5 else [BAD_REASONS[-1]]
            body["comment"] = "等了很久" if y < 0.3 else ""
            self.stats["bad_evaluations"] += 1
        reply, _ = await self.req("evaluate", w.evaluator, "POST", "/api/v1/evaluations", body)
        if reply is not None and reply.status == 201:
            self.stats["evaluations"] += 1
        elif reply is not None:
            self.errors[f"evaluate {reply.status}: {reply.body[:60]!r}"] += 1


# -- running a preset -----------------------------------------------------------------------


def _read_db(
    db: Path,
) -> tuple[list[tuple[int, str, dict[str, Any]]], dict[int, tuple[str, str]], list[float], int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        events = [
            (r[0], r[1], orjson.loads(r[2]))
            for r in conn.execute("SELECT id, type, data FROM events ORDER BY id")
        ]
        tickets = {
            r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, business_day, number FROM tickets")
        }
        waits = [
            r[0] / 60.0
            for r in conn.execute(
                "SELECT called_ts - issued_ts FROM tickets WHERE called_ts IS NOT NULL"
            )
        ]
        left = conn.execute("SELECT COUNT(*) FROM tickets WHERE status = 'waiting'").fetchone()[0]
    finally:
        conn.close()
    return events, tickets, waits, int(left)


def run_day(
    p: Preset, log: Any = print, workdir: Path | None = None, keep_db: Path | None = None
) -> DayFigures:
    """Run one hall day against a fresh server; returns the figures and any violations."""
    say = log if callable(log) else print
    day = datetime.now(ZONE).date()
    start = datetime.combine(day, datetime.min.time(), ZONE) + timedelta(hours=8, minutes=25)
    with tempfile.TemporaryDirectory(prefix="hall-day-", dir=workdir) as tmp:
        server = ServerProcess(
            Path(tmp), p.config, time_scale=p.time_scale, start_time=start.isoformat()
        )
        windows = [w["no"] for w in p.config["windows"]]
        specs = [TokenSpec("kiosk", name=f"kiosk-{i + 1}") for i in range(p.kiosks)]
        specs += [TokenSpec("staff", window=no) for no in windows]
        specs += [TokenSpec("evaluator", window=no) for no in windows]
        specs += [TokenSpec("display", name=f"display-{i + 1}") for i in range(p.displays)]
        toks = server.create_tokens(specs)
        k, n = p.kiosks, len(windows)
        tokens = {
            "kiosk": toks[:k],
            "staff": toks[k : k + n],
            "evaluator": toks[k + n : k + 2 * n],
            "display": toks[k + 2 * n :],
        }
        server.start()
        say(
            f"hall day ({p.name}): {p.tickets} arrivals, {n} windows, {p.kiosks} kiosks,"
            f" {p.displays} displays, hall clock ×{p.time_scale:g} …"
        )
        listeners = ListenerProcess(server.host, server.port, tokens["display"], replay_from=0)
        sim = HallDay(p, server, tokens)
        try:
            listeners.start()
            span = server.span()
            own0 = resource.getrusage(resource.RUSAGE_SELF)
            _arun(sim.run())
            usage = span.end()
            own1 = resource.getrusage(resource.RUSAGE_SELF)
            driver_cpu = own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime
            displays_cpu = listeners.cpu_seconds()
            events_now, *_ = _read_db(server.db_path)
            last_id = events_now[-1][0] if events_now else 0
            seen = listeners.finish(last_id, timeout=60)
        finally:
            listeners.kill()
            server.stop()
        events, tickets, waits, left = _read_db(server.db_path)
        db_bytes = server.db_bytes()
        if keep_db is not None:
            shutil.copyfile(server.db_path, keep_db)
    obs = sim.obs
    obs.server_events = events
    obs.final_tickets = tickets
    obs.subscribers = {f"display-{i + 1}": ids for i, ids in enumerate(seen.ids)}
    violations = check(obs)
    deltas = [
        at[key] - sent for at in seen.called_at for key, sent in sim.call_sent.items() if key in at
    ]
    waits.sort()
    lags = sorted(sim.lags)
    return DayFigures(
        preset=p.name,
        windows=len(sim.windows),
        kiosks=p.kiosks,
        displays=p.displays,
        time_scale=p.time_scale,
        arrivals=sim.stats["arrivals"],
        issued=len(obs.issued),
        refused=sim.refused,
        served=sim.stats["served"],
        no_shows=sim.stats["no_shows"],
        reactivated=sim.stats["reactivated"],
        recalls=sim.stats["recalls"],
        transfers=sim.stats["transfers"],
        evaluations=sim.stats["evaluations"],
        bad_evaluations=sim.stats["bad_evaluations"],
        pauses=sim.stats["pauses"],
        left_waiting=left,
        errors=sim.errors,
        real_seconds=sim.real_seconds,
        arrival_real_seconds=sim.arrival_real,
        requests=sim.stats["requests"],
        latencies={k: Latency.of(v) for k, v in sim.lat.items()},
        call_display=Latency.of(deltas),
        usage=usage,
        db_bytes=db_bytes,
        wait_min_mean=statistics.fmean(waits) if waits else 0.0,
        wait_min_p90=waits[int(0.9 * (len(waits) - 1))] if waits else 0.0,
        max_lag_hall_s=lags[-1] if lags else 0.0,
        p99_lag_hall_s=lags[int(0.99 * (len(lags) - 1))] if lags else 0.0,
        display_reconnects=sum(seen.reconnects),
        displays_complete=seen.caught_up,
        events=len(events),
        violations=violations,
        observations=obs,
        offered_load=offered_load(p),
        driver_cores=driver_cpu / usage.wall_s if usage.wall_s else 0.0,
        displays_cores=displays_cpu / usage.wall_s if usage.wall_s else 0.0,
    )


def offered_load(p: Preset) -> float:
    """Window-hours the day's arrivals need at the configured service times, divided by the
    window-hours the hall has (08:30 to last call, less a 15-minute break and, for half the
    windows, a lunch hour)."""
    shares = demand_shares(p.config)
    total = sum(shares.values())
    minutes = {s["code"]: float(s.get("avg_service_min", 8.0)) for s in p.config["services"]}
    need_h = p.tickets * sum(shares[c] / total * minutes[c] for c in shares) / 60
    have_h = len(p.config["windows"]) * (p.last_call_h - 8.5 - 0.25 - 0.5)
    return need_h / have_h if have_h > 0 else 0.0


def _arun(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is pinned
        return asyncio.run(coro)
    return uvloop.run(coro)
