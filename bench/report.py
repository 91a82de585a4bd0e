"""The machine a run happened on, how busy it was, and the Markdown written to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import resource
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.server_bench import ServerFigures
from bench.simulation import DayFigures
from bench.stats import percentile

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
DOC_HEAD = """# Benchmarks

Figures from `./hall bench`, each section written by the run that measured it, with the
machine, date and commit. Reproduce them with:

```sh
./hall bench                      # server benchmarks + demo and city hall days (≈ 5–8 min)
./hall bench --quick              # small runs of each (under a minute)
./hall bench --preset city        # one hall day (demo | city | all | none)
./hall bench --write-docs         # also rewrite this file's sections
```

The code is in `bench/`: `server_bench.py` (issue rate, call→event latency, baselines),
`simulation.py` (the hall day), `invariants.py` (what must hold after any day),
`halls.py` (the load-test and generated city hall configurations), `httpclient.py` and
`listeners.py` (the load generator and the event-stream subscribers). `tests/bench/` runs a
50-ticket day and checks that the invariant checker both passes and catches planted faults.

Each section sits between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` markers and is
rewritten only by its own benchmark; add a section (e.g. the kiosk's) with its own markers.
Figures from a shared or busy machine say so in their machine line (load average, CPU used
by other processes during the run, fsync latency of the disk).
"""


def fsync_ms(directory: Path, n: int = 100) -> tuple[float, float]:
    """p50 and p90 of fsync after a 4 KiB write in `directory` (what a durable commit waits)."""
    path = directory / f".fsync-probe-{os.getpid()}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    times = []
    try:
        for _ in range(n):
            os.write(fd, b"\0" * 4096)
            t0 = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - t0)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    times.sort()
    return percentile(times, 50) * 1000, percentile(times, 90) * 1000


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    # the figures file itself is written section by section during one run
    changed = [line for line in dirty.splitlines() if not line.endswith("docs/BENCHMARKS.md")]
    return (out or "unknown") + (" (with uncommitted changes)" if changed else "")


def _own_cpu() -> float:
    """CPU seconds of this process and its finished children (servers, displays)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def _busy_cpu() -> float:
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


@dataclass
class Machine:
    nproc: int
    cpu: str
    ram_gib: float
    system: str
    python: str
    sqlite: str
    commit: str
    started: datetime
    fsync_p50_ms: float
    fsync_p90_ms: float
    load_start: float
    others_cores: float = 0.0
    load_end: float = 0.0

    def line(self) -> str:
        return (
            f"{self.nproc} × {self.cpu}, {self.ram_gib:.1f} GiB RAM, {self.system}, "
            f"Python {self.python}, SQLite {self.sqlite}; fsync on the benchmark disk "
            f"p50 {self.fsync_p50_ms:.1f} ms, p90 {self.fsync_p90_ms:.1f} ms. "
            f"Load average {self.load_start:.1f} at the start, {self.load_end:.1f} at the end; "
            f"other processes on this (shared) machine used {self.others_cores:.2f} cores on "
            f"average during the run."
        )


class RunContext:
    """Records the machine at the start and how much CPU others took during the run."""

    def __init__(self, workdir: Path) -> None:
        p50, p90 = fsync_ms(workdir)
        self.machine = Machine(
            nproc=os.cpu_count() or 1,
            cpu=_cpu_model(),
            ram_gib=psutil.virtual_memory().total / 2**30,
            system=f"{platform.system()} {platform.release()}",
            python=platform.python_version(),
            sqlite=sqlite3.sqlite_version,
            commit=_git_commit(),
            started=datetime.now(UTC),
            fsync_p50_ms=p50,
            fsync_p90_ms=p90,
            load_start=os.getloadavg()[0],
        )
        self._busy0 = _busy_cpu()
        self._own0 = _own_cpu()
        self._t0 = time.monotonic()
        self.server_cpu = 0.0  # server subprocesses are not our children until reaped

    def finish(self) -> Machine:
        wall = time.monotonic() - self._t0
        others = (_busy_cpu() - self._busy0) - (_own_cpu() - self._own0)
        self.machine.others_cores = max(0.0, others / wall) if wall else 0.0
        self.machine.load_end = os.getloadavg()[0]
        return self.machine


# -- Markdown --------------------------------------------------------------------------------


def _ok(ok: bool) -> str:
    return "met" if ok else "**missed**"


def server_markdown(f: ServerFigures, m: Machine, quick: bool) -> str:
    run = "`./hall bench --quick`" if quick else "`./hall bench`"
    rows = [
        ("figure", "target", "measured", ""),
        ("---", "---", "---", "---"),
        (
            f"tickets issued over HTTP, {f.clients} concurrent clients",
            "≥ 1,000 /s",
            f"{f.rate:,.0f} /s ({f.issued:,} in {f.issue_seconds:.0f} s, {f.issue_errors} errors)",
            _ok(f.rate >= 1000),
        ),
        (
            "issue latency p50 / p95 / p99",
            "p99 ≤ 25 ms",
            f"{f.issue_latency.cells()} ms",
            _ok(f.issue_latency.p99 <= 25),
        ),
        (
            f"call → event latency p50 / p95 / p99, {f.subscribers} event-stream subscribers",
            "p99 ≤ 50 ms",
            f"{f.call_event_latency.cells()} ms ({f.call_event_latency.n:,} deliveries"
            + ("" if f.events_complete else ", **some missing**")
            + ")",
            _ok(f.call_event_latency.p99 <= 50 and f.events_complete),
        ),
        (
            f"call-next latency p50 / p95 / p99 ({f.call_rate:.0f} calls/s + 100 issues/s)",
            "",
            f"{f.call_latency.cells()} ms",
            "",
        ),
        (
            "server CPU while issuing / peak memory",
            "",
            f"{f.issue_usage.cores:.2f} cores / {f.issue_usage.peak_rss_mb:.0f} MB RSS",
            "",
        ),
        (
            "server CPU per issued ticket (all threads)",
            "",
            f"{f.cpu_ms_per_ticket:.2f} ms → at most ≈ {1000 / f.cpu_ms_per_ticket:,.0f} /s on"
            " one free core (estimate: one interpreter, ignores fsync waits)"
            if f.cpu_ms_per_ticket
            else "–",
            "",
        ),
        (
            "raw SQLite baseline: the issue's writes, one durable commit each (WAL, FULL)",
            "",
            f"{f.baseline_sqlite_rate:,.0f} /s → server / raw = **{f.ratio_sqlite:.2f}**",
            "",
        ),
        (
            "in-process baseline: `tickets.issue` through the single writer, 16 threads",
            "",
            f"{f.baseline_domain_rate:,.0f} /s → server / in-process = **{f.ratio_domain:.2f}**",
            "",
        ),
    ]
    if f.tmpfs_rate:
        rows.append(
            (
                "diagnostic: the same HTTP issue run with the database on tmpfs (fsync ≈ 0)",
                "",
                f"{f.tmpfs_rate:,.0f} /s, p99 {f.tmpfs_latency.p99:.1f} ms"
                if f.tmpfs_latency
                else f"{f.tmpfs_rate:,.0f} /s",
                "",
            )
        )
    table = "\n".join("| " + " | ".join(r) + " |" for r in rows)
    reading = _server_reading(f, m)
    return f"""## Server

Measured {m.started:%Y-%m-%d %H:%M} UTC at commit {m.commit} by {run}, one run (ratios are
between figures of that same run). Machine: {m.line()}

The real `hall server` runs as a subprocess on 127.0.0.1 with a fresh database; the load
generator is a minimal HTTP/1.1 keep-alive client on asyncio (`bench/httpclient.py`), so the
client costs a fraction of what the server does; the 20 subscribers read the event stream in
a separate process. Issue: {f.clients} clients issue back to back (each request a new
idempotency key, as a kiosk sends). Call → event: 24 windows call next at {f.call_rate:.0f}
calls/s in total while kiosks keep issuing at 100/s; the latency is from writing the
call-next request to each subscriber reading that `ticket.called` event.

{table}

{reading}
"""


def _server_reading(f: ServerFigures, m: Machine) -> str:
    """What limited this run, from the run's own figures."""
    out = []
    if m.others_cores > 0.3 * m.nproc:
        out.append(
            f"This machine was shared: other processes used {m.others_cores:.1f} of its "
            f"{m.nproc} cores during the run and the server got {f.issue_usage.cores:.2f} cores "
            "while issuing, so throughput and latency here are bounded by the CPU left over, not "
            "by the server alone; treat them as a floor and the CPU per ticket as the figure that "
            "carries to another machine."
        )
    if f.tmpfs_rate:
        if f.tmpfs_rate < 1.15 * f.rate:
            out.append(
                f"With the database on tmpfs (no fsync cost) the rate was {f.tmpfs_rate:,.0f}/s "
                f"against {f.rate:,.0f}/s on disk: durable commits were not the limit in this run."
            )
        else:
            share = 1 - f.rate / f.tmpfs_rate
            out.append(
                f"With the database on tmpfs the rate was {f.tmpfs_rate:,.0f}/s against "
                f"{f.rate:,.0f}/s on disk (fsync p50 {m.fsync_p50_ms:.1f} ms): in this run the "
                f"durable commits cost about {share:.0%} of the rate."
            )
    if f.issue_latency.p99 > 25 and f.issue_usage.cores > 0.7:
        out.append(
            f"While issuing, the server used {f.issue_usage.cores:.2f} cores at "
            f"{f.cpu_ms_per_ticket:.2f} ms of CPU per ticket: one Python interpreter (the "
            "event loop and the writer share it) was close to saturated, so each of the "
            f"{f.clients} requests in flight waits for the others (p50 ≈ {f.clients} × "
            f"{f.cpu_ms_per_ticket:.2f} ms ≈ {f.clients * f.cpu_ms_per_ticket:.0f} ms) and the "
            "tail above that is scheduling and commit jitter. Most of that CPU is HTTP request "
            "handling in FastAPI/Starlette; the issue transaction itself is about a fifth "
            "(py-spy)."
        )
    out.append(
        "Every issue is one durable transaction acknowledged only after the WAL is on disk; "
        "the writer commits whatever is queued as one group, which is why the server can beat "
        "the one-commit-per-ticket raw SQLite loop when fsync is slow."
    )
    return " ".join(out)


def day_markdown(
    days: list[DayFigures], m: Machine, quick: bool, server: ServerFigures | None
) -> str:
    run = "`./hall bench --quick`" if quick else "`./hall bench`"
    head = ["", *[f"{d.preset} hall" for d in days]]

    def row(label: str, fn) -> str:  # type: ignore[no-untyped-def]
        return "| " + " | ".join([label, *[fn(d) for d in days]]) + " |"

    def lat(d: DayFigures, kind: str) -> str:
        x = d.latencies.get(kind)
        return f"{x.cells()} ms" if x else "–"

    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        row("windows / kiosks / displays", lambda d: f"{d.windows} / {d.kiosks} / {d.displays}"),
        row("hall clock speed", lambda d: f"×{d.time_scale:g}"),
        row(
            "arrivals / tickets issued / refused",
            lambda d: (
                f"{d.arrivals:,} / {d.issued:,} / {sum(d.refused.values())}"
                + (f" ({', '.join(f'{k} {v}' for k, v in d.refused.items())})" if d.refused else "")
            ),
        ),
        row(
            "served / no-shows (re-activated) / transfers / recalls",
            lambda d: (
                f"{d.served:,} / {d.no_shows} ({d.reactivated}) / {d.transfers} / {d.recalls}"
            ),
        ),
        row(
            "evaluations (差评 with reasons) / window pauses",
            lambda d: f"{d.evaluations:,} ({d.bad_evaluations}) / {d.pauses}",
        ),
        row(
            "offered work / window time available",
            lambda d: (
                f"{d.offered_load:.2f}"
                + (" (more than the hall can serve)" if d.offered_load > 1 else "")
            ),
        ),
        row("still waiting when windows stopped", lambda d: f"{d.left_waiting:,}"),
        row(
            "hall wait, mean / p90 (hall minutes)",
            lambda d: f"{d.wait_min_mean:.1f} / {d.wait_min_p90:.1f}",
        ),
        row("real duration", lambda d: f"{d.real_seconds:.0f} s"),
        row("tickets/s sustained (over the arrival period)", lambda d: f"{d.tickets_per_s:.1f}"),
        row("HTTP requests/s (all kinds)", lambda d: f"{d.requests_per_s:.0f}"),
        row("issue latency p50 / p95 / p99", lambda d: lat(d, "issue")),
        row("call-next latency p50 / p95 / p99", lambda d: lat(d, "call")),
        row("finish latency p50 / p95 / p99", lambda d: lat(d, "finish")),
        row("call → display latency p50 / p95 / p99", lambda d: f"{d.call_display.cells()} ms"),
        row(
            "arrival → issue request sent, lag p99 / max (hall s)",
            lambda d: f"{d.p99_lag_hall_s:.0f} / {d.max_lag_hall_s:.0f}",
        ),
        row(
            "server CPU (cores, average) / peak memory",
            lambda d: f"{d.usage.cores:.2f} / {d.usage.peak_rss_mb:.0f} MB",
        ),
        row(
            "load generator CPU: simulation / displays (cores)",
            lambda d: f"{d.driver_cores:.2f} / {d.displays_cores:.2f}",
        ),
        row(
            "server CPU per HTTP request",
            lambda d: f"{1000 * d.usage.cpu_s / d.requests:.2f} ms" if d.requests else "–",
        ),
        row("database size per 10,000 tickets", lambda d: f"{d.db_mb_per_10k:.1f} MB"),
        row(
            "events / display reconnects (cut off, resumed)",
            lambda d: f"{d.events:,} / {d.display_reconnects}",
        ),
        row(
            "invariants (numbers, calls, acknowledged, delivery)",
            lambda d: "all held" if not d.violations else f"**{d.violations.total} violations**",
        ),
        row(
            "request errors",
            lambda d: str(sum(d.errors.values())) if d.errors else "0",
        ),
    ]
    reading = _day_reading(days)
    ratio = ""
    if server is not None:
        ratio = (
            f"\nRaw SQLite baseline in this run: {server.baseline_sqlite_rate:,.0f} tickets/s "
            f"(one durable commit each); the server's HTTP issue rate is "
            f"{server.ratio_sqlite:.2f}× that (see Server).\n"
        )
    return f"""## Hall day

Measured {m.started:%Y-%m-%d %H:%M} UTC at commit {m.commit} by {run}, one run. Machine:
{m.line()}

A whole business day against the real server over HTTP (`bench/simulation.py`): the server
runs its hall clock faster than real time (`hall server --time-scale N`) and the simulation
schedules every arrival and window action on that clock, so waits, scores and estimates are
in hall minutes. Arrivals follow a daily curve (morning peak 09:30–10:30, lunch dip
12:00–13:30, afternoon bump), services are chosen by share of demand, service times are
lognormal around each service's `avg_service_min` (CV 0.5); 5 % no-shows (recalled, skipped,
30 % of them re-activated), 8 % recalled once, 3 % transferred, 60 % rate the service
(3 % 差评, always with reasons); every window takes a 15-minute break and half take a lunch
hour; windows stop calling at 19:00, whoever still waits. The demo hall's own service times
need more window time than its 24 windows have for 2,000 people (the "offered work" row), so
its queue grows all day: that is the configuration, not the server. The city hall is
generated (`bench/halls.py`: 30 services, 200 comprehensive and 100 dedicated windows) and
written to a temporary TOML file from which the database is initialised (the path
`hall server --config` takes on an empty database; credentials are created before the server
starts). The invariants are checked at the end against the server's own event log and
tickets: no number twice, no ticket called twice, every acknowledged ticket present, every
event delivered to every display in order.

{chr(10).join(lines)}
{ratio}
{reading}
"""


def _day_reading(days: list[DayFigures]) -> str:
    """What the figures say about keeping up, from the run's own numbers."""
    out = []
    for d in days:
        call = d.latencies.get("call")
        # Behind: arrivals went out late, or a window waited over a hall minute per action.
        slow = call is not None and call.p95 / 1000 * d.time_scale > 60
        if call is not None and (d.p99_lag_hall_s > 120 or slow):
            out.append(
                f"The {d.preset} hall compressed ×{d.time_scale:g} was more than the server "
                f"could follow on this machine ({d.usage.cores:.2f} cores used; call-next p50 "
                f"{call.p50:.0f} ms, p95 {call.p95:.0f} ms): the hall clock turns each wait into "
                f"{call.p50 / 1000 * d.time_scale:.0f}–{call.p95 / 1000 * d.time_scale:.0f} hall "
                "seconds per window action, so windows served more slowly than their service "
                "times and queues grew beyond what the offered work alone explains. The "
                "invariants held throughout."
            )
        elif d.offered_load > 1:
            out.append(
                f"The {d.preset} hall kept up with its clock (arrival lag p99 "
                f"{d.p99_lag_hall_s:.0f} hall s); its long waits come from offered work "
                f"{d.offered_load:.2f}× its window time."
            )
    return " ".join(out)


def write_section(name: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the `<!-- bench:NAME -->` section of BENCHMARKS.md."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = doc.read_text(encoding="utf-8") if doc.exists() else DOC_HEAD
    if begin in text and end in text:
        before, _, rest = text.partition(begin)
        _, _, after = rest.partition(end)
        text = before + block.rstrip("\n") + after
    else:
        text = text.rstrip("\n") + "\n\n" + block
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def write_heading_section(heading: str, body: str, doc: Path = DOC) -> Path:
    """Replace (or append) the section of BENCHMARKS.md that starts with `heading` and runs to
    the next `## ` heading or `<!-- bench:… -->` marker (a marked section's own start); the
    studies (fairness, wait estimate) write theirs this way."""
    old = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if heading in old:
        before, rest = old.split(heading, 1)
        ends = [i for i in (rest.find("\n## "), rest.find("\n<!-- bench:")) if i >= 0]
        nxt = min(ends) if ends else -1
        after = rest[nxt + 1 :] if nxt >= 0 else ""
        new = before + body + ("\n" + after if after else "")
    else:
        new = old.rstrip("\n") + "\n\n" + body
    doc.write_text(new, encoding="utf-8")
    return doc
