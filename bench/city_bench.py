"""A city of N simulated halls on a real Mosquitto, with the gateway under load from phones.

    python -m bench.city_bench [--halls 100,1000,3000] [--seconds 20] [--rate 500]
                               [--streams 2000] [--ops 400] [--no-hall-cpu]
    python -m bench.city_bench hall-cpu [--ops 400] [--busy-rate 20]

- Simulated halls (child processes, many MQTT clients each on one selector loop, no thread
  per hall) publish their retained status with realistic churn (a change every `--churn`
  seconds on average per hall, as the hall's 1 s coalescing allows at most), a heartbeat every
  30 s, and one ticket each whose place moves in its service's queue message, as real halls
  send them (queue_server/runtime/city.py);
- the gateway (`city.app`, a child process under uvicorn) records, for every status it takes,
  how long after the hall sent it (staleness: hall change → visible on the gateway);
- phones (this process, asyncio) ask for list pages and ticket pages at `--rate` requests/s
  (open loop) while `--streams` ticket pages stay open on their event streams;
- CPU and RSS of the broker and the gateway by psutil;
- after the city has stopped, the hall server's extra CPU per operation from publishing:
  `hall server` with and without `[city]`, tickets issued and called over HTTP at a busy
  and at a quiet pace (`hall_cpu`), and the publishing thread's own CPU (`publisher_cpu`).

Prints a Markdown section for docs/BENCHMARKS.md. Not part of `./hall test`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import heapq
import json
import os
import random
import resource
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import psutil

from bench.httpclient import Connection, HttpError
from bench.stats import Latency

ROOT = Path(__file__).resolve().parent.parent
PLACES = [(24.70 + 0.02 * (i % 10), 113.50 + 0.02 * (i // 10)) for i in range(50)]


def hall_id(i: int) -> str:
    return f"s{i:05d}"


def ticket_code(i: int) -> str:
    return hashlib.sha1(f"ticket-{i}".encode()).hexdigest()[:20]


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- simulated halls (child process) ------------------------------------------------------------
def simulate(args: argparse.Namespace) -> int:
    """Halls args.first..args.last-1 until SIGTERM; each a real MQTT 5 client with its user."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from halldomain.queues import code_digest

    raise_fd_limit()
    passwords = json.loads(Path(args.passwords).read_text())
    host, port = args.broker.rsplit(":", 1)
    rng = random.Random(args.first)
    sel = selectors.DefaultSelector()
    halls: list[dict[str, Any]] = []
    stop = False

    def on_term(*_a: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    for i in range(args.first, args.last):
        hid = hall_id(i)
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hall-{hid}", protocol=mqtt.MQTTv5)
        c.username_pw_set(f"hall-{hid}", passwords[f"hall-{hid}"])
        c.will_set(
            f"hall/v1/{hid}/online",
            orjson.dumps({"v": 1, "hall_id": hid, "online": False}),
            1,
            True,
        )
        c.connect(host, int(port), keepalive=60)
        sel.register(c.socket(), selectors.EVENT_READ, c)  # type: ignore[arg-type]
        lat, lon = PLACES[i % len(PLACES)]
        h: dict[str, Any] = {
            "c": c,
            "id": hid,
            "lat": lat + rng.uniform(-0.01, 0.01),
            "lon": lon + rng.uniform(-0.01, 0.01),
            "waiting": rng.randint(0, 30),
            "seq": 0,
            "next": time.monotonic() + rng.uniform(0, args.churn),
            "ahead": rng.randint(3, 20),
        }
        halls.append(h)
    last_beat = last_misc = time.monotonic()

    day = time.strftime("%Y-%m-%d")

    def status(h: dict[str, Any]) -> bytes:
        h["seq"] += 1
        services = [
            {
                "code": f"S{k}",
                "name": f"业务{k}",
                "waiting": max(0, h["waiting"] - 3 * k),
                "wait_low_min": 2 * k,
                "wait_high_min": 5 + 3 * k,
                "staffed_windows": 2,
                "open": True,
            }
            for k in range(6)
        ]
        return orjson.dumps(
            {
                "v": 1, "hall_id": h["id"], "name": f"模拟大厅{h['id']}", "address": "",
                "district": f"区{int(h['id'][1:]) % 12}", "lat": h["lat"], "lon": h["lon"],
                "hours": ["08:30-17:30"], "open_now": True, "accepts_remote": True, "queues": True,
                "services": services, "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                "seq": h["seq"], "bench_ts": time.time(),
            }
        )  # fmt: skip

    def ticket(h: dict[str, Any]) -> bytes:
        return orjson.dumps(
            {
                "v": 1, "hall_id": h["id"], "number": "A001", "service": "S0",
                "service_name": "业务0", "status": "waiting", "ahead": h["ahead"],
                "wait_low_min": h["ahead"], "wait_high_min": 3 * h["ahead"], "window": None,
                "rateable": False, "rated_level": None, "business_day": day,
            }
        )  # fmt: skip

    def queue(h: dict[str, Any], n: int) -> bytes:
        """Service S0's queue as a real hall sends it: digests in calling order, the hall's
        one followed ticket at its place `ahead`, others (codes nobody holds) around it."""
        order = [code_digest(h["id"], day, f"other-{k}") for k in range(24)]
        order[min(h["ahead"], 23)] = code_digest(h["id"], day, ticket_code(args.first + n))
        waits = [[0, 0, 2], [2, 3, 9], [5, 6, 21], [10, 12, 40], [20, 25, 80], [24, 30, 95]]
        return orjson.dumps(
            {
                "v": 1, "hall_id": h["id"], "service": "S0", "business_day": day,
                "order": order, "waits": waits, "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                "seq": h["seq"],
            }
        )  # fmt: skip

    time.sleep(0.5)
    for _ in range(3):
        for key, _ev in sel.select(0.2):
            key.data.loop_read()
    for n, h in enumerate(halls):
        c = h["c"]
        c.publish(
            f"hall/v1/{h['id']}/online",
            orjson.dumps({"v": 1, "hall_id": h["id"], "online": True}),
            1,
            True,
        )
        c.publish(f"hall/v1/{h['id']}/status", status(h), 1, True)
        c.publish(f"hall/v1/{h['id']}/tickets/{ticket_code(args.first + n)}", ticket(h), 1, True)
        c.publish(f"hall/v1/{h['id']}/queues/S0", queue(h, n), 0, True)
    print("simulated halls ready", flush=True)
    due = [(h["next"], n) for n, h in enumerate(halls)]
    heapq.heapify(due)
    while not stop:
        wait = max(0.0, min(0.05, due[0][0] - time.monotonic())) if due else 0.05
        for key, _ev in sel.select(wait):
            key.data.loop_read()
        now = time.monotonic()
        while due and due[0][0] <= now:
            _t, n = heapq.heappop(due)
            h = halls[n]
            h["waiting"] = max(0, h["waiting"] + rng.choice((-1, 1)))
            h["c"].publish(f"hall/v1/{h['id']}/status", status(h), 1, True)
            if rng.random() < 0.3:  # the followed ticket moves up (or a new one is issued)
                h["ahead"] = h["ahead"] - 1 if h["ahead"] > 0 else 20
                h["c"].publish(f"hall/v1/{h['id']}/queues/S0", queue(h, n), 0, True)
                if h["ahead"] == 20:  # the ticket's own message changes only when it does
                    code = ticket_code(args.first + n)
                    h["c"].publish(f"hall/v1/{h['id']}/tickets/{code}", ticket(h), 0, True)
            h["next"] = now + rng.expovariate(1.0 / args.churn) + 1.0  # coalesced: ≥ 1 s
            heapq.heappush(due, (h["next"], n))
        if now - last_beat > 30:
            last_beat = now
            for h in halls:
                beat = orjson.dumps({"v": 1, "hall_id": h["id"], "online": True})
                h["c"].publish(f"hall/v1/{h['id']}/online", beat, 1, True)
        if now - last_misc > 1:
            last_misc = now
            for h in halls:
                h["c"].loop_misc()
                if h["c"].want_write():
                    h["c"].loop_write()
    for h in halls:
        h["c"].disconnect()
    return 0


# -- the gateway (child process) ----------------------------------------------------------------
def gateway(args: argparse.Namespace) -> int:
    import uvicorn

    from city.app import create_app
    from city.link import GatewayLink, GatewaySettings

    raise_fd_limit()
    settings = GatewaySettings(broker=args.broker, password=args.password, lookup_timeout_s=3.0)
    link = GatewayLink(settings)
    stale: list[float] = []
    apply = link.state.apply

    def timed(topic: str, payload: Any) -> Any:
        out = apply(topic, payload)
        if isinstance(payload, dict) and "bench_ts" in payload and topic.endswith("/status"):
            stale.append(time.time() - payload["bench_ts"])
        return out

    link.state.apply = timed  # type: ignore[method-assign]
    reset = Path(args.stats + ".reset")

    dump = Path(args.stats + ".dump")

    def watch_reset() -> None:
        """`.reset`: start counting (the halls have settled); `.dump`: write the figures so
        far to `.quiet` and count afresh (the phones come next)."""
        while True:
            time.sleep(0.2)
            if reset.exists():
                reset.unlink()
                stale.clear()
            if dump.exists():
                dump.unlink()
                Path(args.stats + ".quiet").write_text(json.dumps({"stale": list(stale)}))
                stale.clear()

    threading.Thread(target=watch_reset, daemon=True).start()
    app = create_app(settings, link)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=args.port, log_level="warning", loop="uvloop",
        http="httptools", access_log=False, limit_concurrency=20000, backlog=4096,
    )  # fmt: skip

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()  # exit normally, so the figures are written

    try:
        Server(config).run()
    finally:
        Path(args.stats).write_text(json.dumps({"stale": stale, "junk": link.state.junk}))
    return 0


# -- phones (this process) ----------------------------------------------------------------------
async def phones(
    port: int, n_halls: int, rate: float, seconds: float, streams: int
) -> dict[str, Any]:
    """Open `streams` ticket event streams (and wait until they are, at most 60 s), then ask at
    `rate`/s for list and ticket pages while they stay open."""
    frames = 0
    opened = 0
    closed = 0  # of those opened, ended before the load did
    stream_tasks = []

    async def stream(i: int) -> None:
        nonlocal frames, opened, closed
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        path = f"/h/{hall_id(i)}/t/{ticket_code(i)}/events"
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                return
            opened += 1
            try:
                while True:
                    chunk = await reader.read(65536)
                    if not chunk:
                        return
                    frames += chunk.count(b"data: ")
            finally:
                closed += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            writer.close()

    t_open = time.monotonic()
    for i in range(streams):
        stream_tasks.append(asyncio.create_task(stream(i % n_halls)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    # The pages are measured with the streams open (the steady state), not while the gateway
    # is still looking up 2,000 tickets: the opening is a figure of its own.
    while opened < streams and time.monotonic() - t_open < 60:
        await asyncio.sleep(0.05)
    open_s = time.monotonic() - t_open
    opened_at_start = opened
    pool = [Connection("127.0.0.1", port) for _ in range(64)]
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for c in pool:
        free.put_nowait(c)
    lat_list: list[float] = []
    lat_ticket: list[float] = []
    errors = 0
    rng = random.Random(7)

    async def one(k: int, scheduled: float) -> None:
        nonlocal errors
        conn = await free.get()
        try:
            if k % 2 == 0:
                lat, lon = PLACES[rng.randrange(len(PLACES))]
                path = f"/?lat={lat:.3f}&lon={lon:.3f}" if k % 4 == 0 else "/?sort=wait"
                sink = lat_list
            else:
                i = rng.randrange(n_halls)
                path = f"/h/{hall_id(i)}/t/{ticket_code(i)}"
                sink = lat_ticket
            r = await conn.request("GET", path)
            if r.status != 200:
                errors += 1
            sink.append(time.monotonic() - scheduled)  # from when it was due: queueing counts
        except HttpError:
            errors += 1
        finally:
            free.put_nowait(conn)

    t0 = time.monotonic()
    tasks = []
    k = 0
    while time.monotonic() - t0 < seconds:
        due = t0 + k / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(k, due)))
        k += 1
    await asyncio.gather(*tasks)
    achieved = k / (time.monotonic() - t0)
    frames_during = frames
    open_at_end = opened - closed
    for t in stream_tasks:
        t.cancel()
    await asyncio.gather(*stream_tasks, return_exceptions=True)
    for c in pool:
        await c.close()
    return {
        "list": Latency.of(lat_list),
        "ticket": Latency.of(lat_ticket),
        "errors": errors,
        "achieved": achieved,
        "streams_open": opened_at_start,
        "streams_open_s": open_s,
        "streams_open_end": open_at_end,
        "stream_frames": frames_during,
    }


# -- the hall server's extra CPU per ticket -----------------------------------------------------
CPU_WINDOWS = (11, 12, 13)  # the demo hall's tax windows, calling the SW tickets issued


async def _hall_ops(
    host: str,
    port: int,
    kiosk: str,
    staff: dict[int, str],
    ops: int,
    rate: float,
    latencies: list[float] | None = None,
) -> int:
    """`ops` operations at `rate`/s, alternating: a SW ticket issued at the kiosk, the next
    called at one of the tax windows (which finishes the one before); with `ops` negative,
    -`ops` tickets issued. Returns the failures; each answer's latency into `latencies`."""
    issue_only = ops < 0
    ops = abs(ops)
    k = Connection(host, port, kiosk)
    w = {no: Connection(host, port, tok) for no, tok in staff.items()}
    failed = 0
    start = time.monotonic()
    try:
        for n in range(ops):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            if issue_only or n % 2 == 0:
                r = await k.request("POST", "/api/v1/tickets", {"service": "SW"})
            else:
                no = CPU_WINDOWS[(n // 2) % len(CPU_WINDOWS)]
                r = await w[no].request("POST", f"/api/v1/windows/{no}/call-next")
            failed += r.status not in (200, 201)
            if latencies is not None:
                latencies.append(r.elapsed)
    finally:
        for c in (k, *w.values()):
            await c.close()
    return failed


def publisher_cpu(broker: Any, ops: int, rate: float) -> dict[str, float]:
    """The publishing thread's own CPU (`time.thread_time`, so no other thread's work and no
    noise from the machine counts), in-process, `ops` operations at `rate`/s as in `hall_cpu`:
    per publication and per operation."""
    from queue_server.base.config import CitySection, load_config
    from queue_server.core import tickets, windows
    from queue_server.runtime.city import CityLink
    from queue_server.runtime.hall import Hall

    section = CitySection(broker=broker.url, hall_id="cpu", password=broker.hall_password("cpu"))
    base = load_config()
    services = [s.model_copy(update={"daily_quota": 0}) for s in base.services]
    cfg = base.model_copy(
        update={
            "hall": base.hall.model_copy(update={"staffing": "open"}),
            "services": services,
            "city": section,
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        hall = Hall(Path(tmp) / "hall.db", config=cfg)
        link = CityLink(hall, section)
        hall.add_commit_listener(link.on_commit)
        link.start()
        link.connected.wait(10)

        def op(n: int) -> None:
            if n % 2 == 0:
                hall.run_sync(
                    lambda tx: tickets.issue(hall.ctx, tx, tickets.IssueRequest(service="SW"))
                )
            else:
                no = CPU_WINDOWS[(n // 2) % len(CPU_WINDOWS)]
                hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, no, "s"))

        for _ in range(30):
            op(0)
        time.sleep(1.5)
        cycles, cpu = link.cycles, link.cycle_cpu_s
        start = time.monotonic()
        for n in range(ops):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            op(n)
        time.sleep(1.2)
        cycles, cpu = link.cycles - cycles, link.cycle_cpu_s - cpu
        link.stop()
        hall.close()
    return {
        "publications": cycles,
        "per_publication_ms": 1000 * cpu / max(cycles, 1),
        "publisher_ms_per_op": 1000 * cpu / ops,
    }


def hall_cpu(
    broker: Any, ops: int, busy_rate: float, quiet_ops: int = 40, quiet_rate: float = 1.0
) -> dict[str, float]:
    """The hall server's CPU per operation (`hall server`, real HTTP: a ticket issued at the
    kiosk or the next called at a window, ~30 waiting), without and with the `[city]` link.
    `busy`: `busy_rate` operations/s, the link coalescing its publications to 1/s; `quiet`:
    `quiet_rate`/s, so nearly every operation is a publication of its own (the most
    publishing can cost one operation). Runs alternate without/with; the median of each."""
    from bench.halls import load_test_hall
    from bench.serverproc import ServerProcess, TokenSpec

    lat: dict[bool, list[float]] = {False: [], True: []}

    def run(with_link: bool, n_ops: int, rate: float, root: Path) -> float:
        config = load_test_hall()
        if with_link:
            config["city"] = {
                "broker": broker.url, "hall_id": "cpu", "password": broker.hall_password("cpu"),
            }  # fmt: skip
        work = Path(tempfile.mkdtemp(dir=root))
        server = ServerProcess(work, config)
        specs = [TokenSpec("kiosk", name="kiosk-cpu")]
        specs += [TokenSpec("staff", window=no) for no in CPU_WINDOWS]
        kiosk, *staff = server.create_tokens(specs)
        server.start()
        host, port, windows = server.host, server.port, dict(zip(CPU_WINDOWS, staff, strict=True))
        try:
            failed = asyncio.run(_hall_ops(host, port, kiosk, windows, -30, 30.0))  # 30 waiting
            failed += asyncio.run(_hall_ops(host, port, kiosk, windows, 40, 30.0))  # warm
            time.sleep(1.5)  # the warm-up's publications done
            span = server.span()
            sink = lat[with_link] if rate == busy_rate else None
            failed += asyncio.run(_hall_ops(host, port, kiosk, windows, n_ops, rate, sink))
            time.sleep(1.2)  # the last coalesced publication
            usage = span.end()
        finally:
            server.stop()
        if failed:
            raise RuntimeError(f"{failed} of {n_ops} operations failed")
        return usage.cpu_s / n_ops

    out: dict[str, float] = publisher_cpu(broker, ops, busy_rate)
    with tempfile.TemporaryDirectory() as tmp:
        for mode, n_ops, rate in (("busy", ops, busy_rate), ("quiet", quiet_ops, quiet_rate)):
            off: list[float] = []
            on: list[float] = []
            for _ in range(3):
                off.append(run(False, n_ops, rate, Path(tmp)))
                on.append(run(True, n_ops, rate, Path(tmp)))
            a, b = sorted(off)[1], sorted(on)[1]
            out[f"{mode}_off_ms"] = a * 1000
            out[f"{mode}_on_ms"] = b * 1000
            out[f"{mode}_extra_pct"] = 100 * (b - a) / a
    for with_link, key in ((False, "off"), (True, "on")):
        latency = Latency.of(lat[with_link])
        out[f"latency_{key}_p50"], out[f"latency_{key}_p99"] = latency.p50, latency.p99
    return out


def cpu_table(c: dict[str, float], ops: int, busy_rate: float) -> list[str]:
    """The hall's extra CPU from publishing, as Markdown lines."""
    share = 100 * c["publisher_ms_per_op"] / c["busy_off_ms"]
    return [
        "Hall server (`hall server`, real HTTP), CPU per operation (a ticket issued or the next "
        "called, alternating, about 30 waiting), without → with the `[city]` link, the median "
        "of 3 alternating runs each:",
        "",
        "| pace | without (ms) | with (ms) | extra |",
        "|---|---|---|---|",
        f"| busy hall: {busy_rate:.0f} operations/s, publications coalesced to 1/s | "
        f"{c['busy_off_ms']:.2f} | {c['busy_on_ms']:.2f} | {c['busy_extra_pct']:+.0f} % |",
        "| quiet hall: 1 operation/s, nearly each its own publication (the most per operation) | "
        f"{c['quiet_off_ms']:.2f} | {c['quiet_on_ms']:.2f} | {c['quiet_extra_pct']:+.0f} % |",
        "",
        f"Issue and call latency in the busy runs, p50 / p99: {c['latency_off_p50']:.1f} / "
        f"{c['latency_off_p99']:.1f} ms without, {c['latency_on_p50']:.1f} / "
        f"{c['latency_on_p99']:.1f} ms with the link.",
        "",
        f"The publishing thread's own CPU (`time.thread_time`, in-process, {ops} operations at "
        f"{busy_rate:.0f}/s): {c['per_publication_ms']:.2f} ms per publication "
        f"({c['publications']:.0f} publications), {c['publisher_ms_per_op']:.3f} ms per "
        f"operation = **{share:.1f} % of the issue path** ({c['busy_off_ms']:.2f} ms above).",
    ]


def hall_cpu_only(args: argparse.Namespace) -> int:
    """`hall-cpu`: the hall's extra CPU alone, on its own Mosquitto (no simulated city)."""
    from city.broker import Broker

    work = Path(tempfile.mkdtemp(prefix="city-bench-cpu-"))
    broker = Broker(work / "broker", halls=["cpu"]).start()
    try:
        c = hall_cpu(broker, args.ops, args.busy_rate)
    finally:
        broker.remove()
    print(f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print("\n".join(cpu_table(c, args.ops, args.busy_rate)))
    return 0


# -- one run ------------------------------------------------------------------------------------
def cpu_of(p: psutil.Process) -> float:
    t = p.cpu_times()
    return t.user + t.system


def run_city(
    n: int,
    seconds: float,
    rate: float,
    streams: int,
    churn: float,
    load: bool,
) -> dict[str, Any]:
    from city.broker import Broker, free_port

    raise_fd_limit()
    work = Path(tempfile.mkdtemp(prefix="city-bench-"))
    ids = [hall_id(i) for i in range(n)]
    broker = Broker(work / "broker", halls=ids).start()
    pw_file = work / "passwords.json"
    pw_file.write_text(json.dumps(broker.passwords))
    gw_port = free_port()
    stats = work / "gw-stats.json"
    py = sys.executable
    gw = subprocess.Popen(
        [py, "-m", "bench.city_bench", "gateway", "--broker", broker.url, "--password",
         broker.gateway_password(), "--port", str(gw_port), "--stats", str(stats)],
        cwd=ROOT,
    )  # fmt: skip
    sims = []
    per = 1000
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with __import__("socket").create_connection(("127.0.0.1", gw_port), 0.5):
                    break
            except OSError:
                time.sleep(0.2)
        for first in range(0, n, per):
            sims.append(
                subprocess.Popen(
                    [
                        py,
                        "-m",
                        "bench.city_bench",
                        "simulate",
                        "--broker",
                        f"127.0.0.1:{broker.port}",
                        "--passwords",
                        str(pw_file),
                        "--first",
                        str(first),
                        "--last",
                        str(min(n, first + per)),
                        "--churn",
                        str(churn),
                    ],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    text=True,
                )  # fmt: skip
            )
        for s in sims:
            assert s.stdout is not None
            s.stdout.readline()
        time.sleep(3)  # the first statuses settle
        Path(str(stats) + ".reset").touch()
        time.sleep(0.5)
        bproc, gproc = psutil.Process(broker.proc.pid), psutil.Process(gw.pid)  # type: ignore[union-attr]
        b0, g0, t0 = cpu_of(bproc), cpu_of(gproc), time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - t0
        out: dict[str, Any] = {
            "halls": n,
            "broker_cpu": (cpu_of(bproc) - b0) / wall,
            "gateway_cpu": (cpu_of(gproc) - g0) / wall,
            "broker_rss": bproc.memory_info().rss / 2**20,
            "gateway_rss": gproc.memory_info().rss / 2**20,
        }
        Path(str(stats) + ".dump").touch()
        quiet = Path(str(stats) + ".quiet")
        while not quiet.exists():
            time.sleep(0.1)
        time.sleep(0.2)
        out["quiet_stale"] = Latency.of(json.loads(quiet.read_text())["stale"])
        if load:
            b0, g0, t0 = cpu_of(bproc), cpu_of(gproc), time.monotonic()
            out.update(asyncio.run(phones(gw_port, n, rate, seconds, streams)))
            wall = time.monotonic() - t0
            out["load_broker_cpu"] = (cpu_of(bproc) - b0) / wall
            out["load_gateway_cpu"] = (cpu_of(gproc) - g0) / wall
            out["load_gateway_rss"] = gproc.memory_info().rss / 2**20
            out["load_broker_rss"] = bproc.memory_info().rss / 2**20
    finally:
        for s in sims:
            s.terminate()
        gw.send_signal(signal.SIGTERM)
        try:
            gw.wait(20)
        except subprocess.TimeoutExpired:
            gw.kill()
        for s in sims:
            try:
                s.wait(10)
            except subprocess.TimeoutExpired:
                s.kill()
        broker.remove()
    data: dict[str, Any] = {"stale": [], "junk": 0}
    if stats.exists():
        data = json.loads(stats.read_text())
    out["stale"] = Latency.of(data["stale"])
    out["junk"] = data["junk"]
    return out


def markdown(runs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        "| halls | status msgs seen | staleness p50 / p95 / p99 ms | broker CPU (cores) | "
        "broker RSS MiB | gateway CPU (cores) | gateway RSS MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        q = r["quiet_stale"]
        lines.append(
            f"| {r['halls']:,} | {q.n:,} | {q.cells()} | {r['broker_cpu']:.2f} | "
            f"{r['broker_rss']:.0f} | {r['gateway_cpu']:.2f} | {r['gateway_rss']:.0f} |"
        )
    loaded = [r for r in runs if "list" in r]
    for r in loaded:
        lines += [
            "",
            f"Under load at {r['halls']:,} halls: phones offered {args.rate:.0f} requests/s, "
            f"{r['achieved']:.0f}/s sent, {r['errors']} errors; "
            f"ticket event streams: {r['streams_open']:,} of {args.streams:,} open "
            f"{r['streams_open_s']:.1f} s after they were asked for (before the page load "
            f"began), {r['streams_open_end']:,} at its end "
            f"({r['stream_frames']:,} frames received). Broker {r['load_broker_cpu']:.2f} cores, {r['load_broker_rss']:.0f} MiB; "
            f"gateway {r['load_gateway_cpu']:.2f} cores, {r['load_gateway_rss']:.0f} MiB; "
            f"status staleness meanwhile {r['stale'].cells()} ms (p50 / p95 / p99).",
            "",
            "| page | n | p50 / p95 / p99 ms (from when due) |",
            "|---|---|---|",
            f"| list (`/?lat=…`, `/?sort=wait`) | {r['list'].n:,} | {r['list'].cells()} |",
            f"| ticket (`/h/{{hall}}/t/{{code}}`) | {r['ticket'].n:,} | {r['ticket'].cells()} |",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="city_bench")
    sub = p.add_subparsers(dest="cmd")
    s = sub.add_parser("simulate")
    s.add_argument("--broker")
    s.add_argument("--passwords")
    s.add_argument("--first", type=int)
    s.add_argument("--last", type=int)
    s.add_argument("--churn", type=float, default=5.0)
    g = sub.add_parser("gateway")
    g.add_argument("--broker")
    g.add_argument("--password")
    g.add_argument("--port", type=int)
    g.add_argument("--stats")
    p.add_argument("--halls", default="100,1000,3000")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--rate", type=float, default=500.0)
    p.add_argument("--streams", type=int, default=2000)
    p.add_argument("--churn", type=float, default=5.0, help="mean seconds between a hall's changes")
    p.add_argument("--ops", type=int, default=400, help="hall operations per CPU measurement")
    p.add_argument("--busy-rate", type=float, default=20.0, help="operations/s of the busy hall")
    p.add_argument(
        "--load-at",
        type=int,
        default=0,
        help="halls of the run under phone load (default: the largest)",
    )
    p.add_argument(
        "--no-hall-cpu", action="store_true", help="skip the hall's CPU runs (`hall-cpu`)"
    )
    c = sub.add_parser("hall-cpu", help="only the hall server's extra CPU from publishing")
    c.add_argument("--ops", type=int, default=400)
    c.add_argument("--busy-rate", type=float, default=20.0)
    args = p.parse_args(argv)
    if args.cmd == "hall-cpu":
        return hall_cpu_only(args)
    if args.cmd == "simulate":
        return simulate(args)
    if args.cmd == "gateway":
        return gateway(args)
    sizes = [int(x) for x in args.halls.split(",")]
    load_at = args.load_at or max(sizes)
    runs = []
    for n in sizes:
        r = run_city(
            n,
            args.seconds,
            args.rate,
            args.streams,
            args.churn,
            n == load_at,
        )
        runs.append(r)
        print(f"{n} halls: staleness {r['quiet_stale'].cells()} ms (quiet)", flush=True)
    print()
    print(f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print(markdown(runs, args))
    if not args.no_hall_cpu:  # after the city has stopped: nothing else on the machine
        print()
        return hall_cpu_only(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
