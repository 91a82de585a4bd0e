"""Caller keypad press → LED update and → hall display event, through the bridge, against the
real server.

A pty-emulated caller keypad (drivers/caller/emulator.py) is bridged by `CallerBridge` to a
`hall server` subprocess on a fresh database; each sample is the wall time from the key frame
written on the pty to the display frame decoded back from it: frame parse, one or two HTTP
round trips with the window's staff token, the server's transaction, the display frame. A
display's event-stream subscriber times the same press to the `ticket.called` /
`ticket.recalled` event it receives (what updates the hall display and the window screens).
Run with `python -m bench.keypad_bench [--quick] [--write-docs]`; `hall bench` runs it too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.halls import load_test_hall
from bench.serverproc import ServerProcess, TokenSpec
from bench.stats import Latency

BAUD = 9600


def wire_ms(nbytes: int, baud: int = BAUD) -> float:
    """Time on a real 8N1 line (10 bits a byte); a pty has none, so it is added separately."""
    return nbytes * 10 / baud * 1000


class EventClock(threading.Thread):
    """Reads GET /events as the hall display does; notes when each call or recall arrives."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(name="keypad-bench-events", daemon=True)
        self.url, self.token = url, token
        self.arrivals: list[float] = []
        self.ready = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        timeout = httpx.Timeout(10, read=None)
        url = f"{self.url}/api/v1/events"
        try:
            with httpx.stream("GET", url, headers=headers, timeout=timeout) as r:
                self.ready.set()
                kind = ""
                for line in r.iter_lines():
                    if self.done.is_set():
                        return
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:") and kind in ("ticket.called", "ticket.recalled"):
                        self.arrivals.append(time.perf_counter())
        except httpx.HTTPError:
            if not self.done.is_set():  # the server stopping at the end is expected
                raise

    def wait_for(self, count: int, timeout: float = 10.0) -> float | None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.0005)
        return self.arrivals[count - 1] if len(self.arrivals) >= count else None


def measure(n: int) -> dict[str, list[float]]:
    from drivers.caller import CallerEmulator
    from hallcli.bridges import CallerBridge

    work = Path(tempfile.mkdtemp(prefix="keypad-bench-"))
    server = ServerProcess(work, load_test_hall())
    staff, kiosk, display = server.create_tokens(
        [TokenSpec("staff", 1), TokenSpec("kiosk"), TokenSpec("display")]
    )
    server.start()
    url = f"http://{server.host}:{server.port}"
    emulator = CallerEmulator().start()
    bridge = CallerBridge(emulator.url, url, staff, window=1).start()
    samples: dict[str, list[float]] = {"call": [], "recall": [], "event": []}
    events = EventClock(url, display)
    try:
        assert emulator.wait_display(0, 30) is not None, "the bridge never showed anything"
        with httpx.Client(
            base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {kiosk}"}, timeout=10
        ) as c:
            for _ in range(n):
                r = c.post("/tickets", json={"service": "SB", "channel": "kiosk"})
                r.raise_for_status()
        events.start()
        events.ready.wait(10)
        time.sleep(0.2)  # the stream's headers came; its subscription is in place
        for _ in range(n):
            for key in ("call", "recall"):
                before = emulator.shown_count()
                t0 = time.perf_counter()
                emulator.press(key, addr=1)
                shown = emulator.wait_display(before, 30)
                samples[key].append(time.perf_counter() - t0)
                if shown is None or not shown.text[:1].isalpha():
                    raise RuntimeError(f"{key}: the keypad showed {shown}")
                arrived = events.wait_for(len(samples["event"]) + 1)
                if arrived is None:
                    raise RuntimeError(f"{key}: no event reached the display's stream")
                samples["event"].append(arrived - t0)
    finally:
        events.done.set()
        bridge.stop()
        emulator.stop()
        server.stop()
    return samples


def run(quick: bool = False, write_docs: bool = False, command: str = "") -> None:
    from bench.report import RunContext, write_section
    from drivers.caller import encode_display, encode_press

    ctx = RunContext(Path(tempfile.mkdtemp(prefix="keypad-bench-ctx-")))
    n = 20 if quick else 100
    samples = measure(n)
    lat = {k: Latency.of(v) for k, v in samples.items()}
    both = Latency.of(samples["call"] + samples["recall"])
    event = lat.pop("event")
    wire = wire_ms(len(encode_press(1, "call"))) + wire_ms(len(encode_display(1, "A0023")))
    print("caller keypad press → LED through the bridge (pty, live server), ms p50 / p95 / p99")
    for key, figure in lat.items():
        print(f"  {key:<8} n={figure.n:<4} {figure.cells()}   max {figure.max:.1f}")
    print(f"  all      n={both.n:<4} {both.cells()}   + {wire:.1f} ms on a 9600-baud line")
    print(f"  → display event n={event.n:<4} {event.cells()}   max {event.max:.1f}")
    if not write_docs:
        return
    m = ctx.finish()
    command = command or "python -m bench.keypad_bench --write-docs" + (" --quick" if quick else "")
    rows = "\n".join(
        f"| {label} | {f.n} | {f.p50:.1f} ms | {f.p95:.1f} ms | {f.p99:.1f} ms | {f.max:.1f} ms |"
        for label, f in (
            ("呼叫 call-next", lat["call"]),
            ("重呼 recall", lat["recall"]),
            ("all", both),
            ("→ hall display (event stream)", event),
        )
    )
    body = f"""## Caller keypad: press → LED and hall display

Measured {m.started:%Y-%m-%d %H:%M} UTC at commit {m.commit} by `{command}`. Machine: {m.line()}

A caller keypad emulated on a pty is bridged by `hall device caller run`'s `CallerBridge` to a
`hall server` subprocess; each sample runs from the key frame written on the pty to the
keypad's display frame read back: frame parse, HTTP with the window's staff token (呼叫 is one
`call-next`, 重呼 looks up the window's current ticket and then recalls it: two round trips),
the server's transaction, the display frame. A pty has no baud rate: a real 9600-baud line
adds {wire:.1f} ms (a 9-byte key frame and a 14-byte display frame of "A0023"). The last
row times the same presses to the `ticket.called` / `ticket.recalled` event read by an
event-stream subscriber with a display token, as the hall display and the window screens
receive it (the page's own rendering is under "Rehearsal rig").

| key | n | p50 | p95 | p99 | max |
|---|---|---|---|---|---|
{rows}
"""
    write_section("keypad", body)
    print("wrote docs/BENCHMARKS.md (Caller keypad)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="20 presses of each key instead of 100")
    p.add_argument("--write-docs", action="store_true", help="write the figures to BENCHMARKS.md")
    args = p.parse_args(argv)
    run(args.quick, args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
