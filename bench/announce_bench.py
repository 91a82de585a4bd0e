"""How late the last person hears their number when every window calls at opening time.

Plays the display's announcement queue through the real policy (`voice.plan_next`) with the
real audio: each planned announcement is composed by `voice.Voice` from the hall's clips
(espeak-ng, or its own recordings) and its length measured with `soxi`; when each call's own
reading ends inside that audio comes from the clip lengths (`Voice.heard_at`). Between two
announcements the display asks the server for the plan and fetches the audio: that cost is
measured here against the composition (warm clip cache) plus a fixed LAN allowance.

Run: `python -m bench.announce_bench [--windows 24] [--spacing 0.2] [--write-docs]`;
`./hall bench` runs it too.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from queue_server.base.config import load_config
from queue_server.core import voice

NETWORK_S = 0.1  # the plan request and the audio fetch on the hall LAN, and decoding


@dataclass
class Result:
    policy: str
    worst_s: float
    median_s: float
    drained_s: float  # the last announcement has ended
    plans: list[str]

    def row(self) -> str:
        return (
            f"| {self.policy} | {self.worst_s:.1f} s | {self.median_s:.1f} s |"
            f" {self.drained_s:.1f} s | {len(self.plans)} |"
        )


def soxi_seconds(wav: bytes) -> float:
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        f.write(wav)
        f.flush()
        out = subprocess.run(["soxi", "-D", f.name], capture_output=True, text=True, check=True)
    return float(out.stdout)


def opening_calls(windows: int) -> list[tuple[str, int]]:
    """The first ticket of each window's first service in the demo hall: A001 at 1, …"""
    cfg = load_config(None)
    prefix = {s.code: s.prefix for s in cfg.services}
    seq: dict[str, int] = {}
    out = []
    for w in cfg.windows[:windows]:
        code = next(iter(w.services))
        seq[code] = seq.get(code, 0) + 1
        out.append((f"{prefix[code]}{seq[code]:03d}", w.no))
    return out


def simulate(
    v: voice.Voice, calls: list[tuple[str, int]], spacing: float, policy: str, overhead: float
) -> Result:
    """Calls come `spacing` s apart; the display plays one announcement at a time."""
    arrivals = [(i * spacing, voice.Pending(n, w, n)) for i, (n, w) in enumerate(calls)]
    called_at = {p.number: t for t, p in arrivals}
    heard: dict[str, float] = {}
    queue: list[voice.Pending] = []
    plans: list[str] = []
    t, nxt = 0.0, 0
    while nxt < len(arrivals) or queue:
        while nxt < len(arrivals) and arrivals[nxt][0] <= t:
            queue.append(arrivals[nxt][1])
            nxt += 1
        if not queue:
            t = arrivals[nxt][0]
            continue
        plan = plan_old(queue) if policy == "before" else voice.plan_next(queue)
        assert plan is not None
        start = t + overhead
        said = list(plan.calls)
        wav = v.announcement_of(said, plan.repeats, plan.form, plan.tempo)
        for (number, _), end in zip(said, v.heard_at(said, plan.form, plan.tempo), strict=True):
            heard[number] = start + end
        t = start + soxi_seconds(wav)
        plans.append(f"{len(said)}×{plan.form}@{plan.tempo:g}")
        again = [queue[i] for i in plan.said] if plan.again else []
        queue = [q for i, q in enumerate(queue) if i not in plan.done]
        # Calls that came while this was said are queued before its second reading.
        while nxt < len(arrivals) and arrivals[nxt][0] <= t:
            queue.append(arrivals[nxt][1])
            nxt += 1
        queue += [voice.Pending(q.number, q.window, q.ticket, repeat=True) for q in again]
    delays = [heard[n] - called_at[n] for n, _ in calls]
    return Result(policy, max(delays), statistics.median(delays), t, plans)


def plan_old(queue: list[voice.Pending]) -> voice.Utterance:
    """The display's queue before the policy: one call per audio, in full, said once instead
    of twice when more than two were waiting (the queue includes the one being said)."""
    head = queue[0]
    repeats = 1 if len(queue) > 2 else 2
    return voice.Utterance(((head.number, head.window),), "full", repeats, (0,))


def measure_overhead(v: voice.Voice, calls: list[tuple[str, int]]) -> float:
    """Planning and composing one grouped announcement (clips cached), plus NETWORK_S."""
    v.warm()
    times = []
    for i in range(0, len(calls) - 4, 4):
        group = calls[i : i + 4]
        t0 = time.perf_counter()
        voice.plan_next([voice.Pending(n, w) for n, w in group])
        v.announcement_of(group, 1, "short", voice.LOAD_TEMPO)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) + NETWORK_S


def run(windows: int = 24, spacing: float = 0.2, write_docs: bool = False) -> list[Result]:
    v = voice.Voice(cache_dir=Path(tempfile.mkdtemp(prefix="announce-bench-")))
    calls = opening_calls(windows)
    overhead = measure_overhead(v, calls)
    one_full = soxi_seconds(v.announcement(*calls[0], repeats=2))
    one_short = soxi_seconds(v.announcement(*calls[0], repeats=1, form="short"))
    results = [simulate(v, calls, spacing, p, overhead) for p in ("before", "now")]
    print(f"announcements: {windows} windows call {spacing:g} s apart at opening")
    print(f"  one call in full, twice: {one_full:.1f} s; short form once: {one_short:.1f} s")
    print(f"  per announcement: {overhead * 1000:.0f} ms to plan, compose and fetch")
    for r in results:
        print(
            f"  {r.policy:<6} worst {r.worst_s:5.1f} s  median {r.median_s:5.1f} s"
            f"  all said after {r.drained_s:5.1f} s  ({len(r.plans)} audios)"
        )
    if write_docs:
        from bench.report import _git_commit, write_section

        espeak = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True)
        body = f"""## Announcements at opening time

Measured {time.strftime("%Y-%m-%d %H:%M", time.gmtime())} UTC at commit {_git_commit()} by
`python -m bench.announce_bench` (also run by `./hall bench`), {espeak.stdout.split(" Data")[0]}.
{windows} windows of the demo hall call their first ticket {spacing:g} s apart; the display
plays one announcement at a time (never cut off). The delay is from the call to the end of
that call's own reading, from the real clips (each measured; audio lengths with `soxi`), plus
{overhead * 1000:.0f} ms per announcement to plan, compose (measured) and fetch it
({NETWORK_S * 1000:.0f} ms allowed for the LAN). One call in full, twice: {one_full:.1f} s;
the short form "A001 一号窗口" once: {one_short:.1f} s.

| policy | worst delay | median delay | last announcement ends | audios |
|---|---|---|---|---|
{results[0].row()}
{results[1].row()}

"before": one call per audio in full, once instead of twice when more than two wait.
"now" (`voice.plan_next`, docs/WEB.md "Announcement policy"): in full twice while at most two
calls wait, the second reading queued behind calls that came meanwhile; more waiting: the
short form once, up to {voice.GROUP} calls to one audio, {voice.LOAD_TEMPO:g}× as fast (pitch
kept), second readings dropped; repeats of a waiting call are dropped, first calls never. Plans: {", ".join(results[1].plans)}.
"""
        write_section("announce", body)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--windows", type=int, default=24)
    ap.add_argument("--spacing", type=float, default=0.2, help="seconds between two calls")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    run(args.windows, args.spacing, args.write_docs)


if __name__ == "__main__":
    main()
