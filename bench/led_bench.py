"""LED strip (条屏) bus benchmark: frame rate on a 9600-baud RS-485 bus with 100 windows calling
at opening time, computed from the frame bytes and measured through the pty emulator.

    python -m bench.led_bench [--quick] [--write-docs]

Three figures per shipped template: (1) wire arithmetic, frame bytes × 10 bits (8N1) / 9600;
(2) the bus writer into a fake port paced at 9600 baud, with 100 windows calling at once and
then again while the bus is behind (how long until every strip shows its newest call, how long
`show()` took the caller); (3) the same frames through a real pseudo-terminal to the emulator,
which decodes them (a pty does not pace at 9600 baud, so this is the software's own ceiling).
Prints figures; asserts nothing (the tests carry no timings).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from drivers.led import TEMPLATES, FakeLedPort, LedBus, LedEmulator, encode_frame, open_led_bus

BAUD = 9600
BITS_PER_BYTE = 10  # start + 8 data + stop (8N1)
WINDOWS = 100


def call_text(window: int, seq: int) -> str:
    return f"{'ABCDEFGH'[window % 8]}{seq:03d} 请到{window}号窗口"


class PacedPort(FakeLedPort):
    """A fake port that takes as long per write as the bytes need on the wire."""

    def __init__(self, baud: int = BAUD) -> None:
        super().__init__()
        self.baud = baud
        self.times: list[float] = []

    def write(self, data: bytes) -> int:
        time.sleep(len(data) * BITS_PER_BYTE / self.baud)
        self.times.append(time.perf_counter())
        return super().write(data)


@dataclass
class Figures:
    template: str
    frame_bytes_mean: float
    frame_bytes_max: int
    wire_ms: float
    wire_fps: float
    wire_drain_s: float
    paced_fps: float
    paced_drain_s: float
    second_wave_drain_s: float
    replaced: int
    show_p99_us: float
    show_max_us: float
    pty_fps: float
    pty_drain_s: float
    pty_bad: int


def measure(name: str, rounds: int) -> Figures:
    template = TEMPLATES[name]
    frames = [encode_frame(template, w, call_text(w, w)) for w in range(1, WINDOWS + 1)]
    sizes = [len(f) for f in frames]
    mean = statistics.mean(sizes)
    wire_s = mean * BITS_PER_BYTE / BAUD

    # Paced at 9600 baud: a burst of 100 calls, then a second call at every window while the
    # first burst is still on the wire (newest text wins).
    paced: list[float] = []
    second: list[float] = []
    show_us: list[float] = []
    replaced = 0
    for _ in range(rounds):
        port = PacedPort()
        bus = LedBus(lambda port=port: port, template).start()  # type: ignore[misc]
        try:
            t0 = time.perf_counter()
            for w in range(1, WINDOWS + 1):
                s0 = time.perf_counter()
                bus.show(w, call_text(w, w))
                show_us.append((time.perf_counter() - s0) * 1e6)
            time.sleep(0.5)  # half a second into the burst every window calls again
            for w in range(1, WINDOWS + 1):
                s0 = time.perf_counter()
                bus.show(w, call_text(w, 100 + w))
                show_us.append((time.perf_counter() - s0) * 1e6)
            bus.wait_idle(60.0)
            end = port.times[-1]
            first_done = port.times[WINDOWS - 1] if len(port.times) >= WINDOWS else end
            paced.append(first_done - t0)
            second.append(end - t0)
            replaced += bus.replaced
        finally:
            bus.stop()
    sent_per_round = WINDOWS  # the first burst alone
    paced_fps = sent_per_round / statistics.median(paced)

    # Through a real pty to the decoding emulator (no baud pacing on a pty).
    pty: list[float] = []
    bad = 0
    for _ in range(rounds):
        with LedEmulator(template) as emu:
            bus = open_led_bus(emu.url, template).start()
            try:
                t0 = time.perf_counter()
                for w in range(1, WINDOWS + 1):
                    bus.show(w, call_text(w, w))
                emu.wait_for(lambda e: len(e.screens) == WINDOWS, timeout=60)
                pty.append(time.perf_counter() - t0)
                bad += emu.bad_bytes
            finally:
                bus.stop()
    pty_s = statistics.median(pty)
    show_us.sort()
    return Figures(
        template=name,
        frame_bytes_mean=mean,
        frame_bytes_max=max(sizes),
        wire_ms=wire_s * 1000,
        wire_fps=1 / wire_s,
        wire_drain_s=sum(sizes) * BITS_PER_BYTE / BAUD,
        paced_fps=paced_fps,
        paced_drain_s=statistics.median(paced),
        second_wave_drain_s=statistics.median(second),
        replaced=replaced // rounds,
        show_p99_us=show_us[min(len(show_us) - 1, int(len(show_us) * 0.99))],
        show_max_us=show_us[-1],
        pty_fps=WINDOWS / pty_s,
        pty_drain_s=pty_s,
        pty_bad=bad,
    )


def markdown(
    figs: list[Figures],
    machine_line: str,
    started: str,
    commit: str,
    rounds: int,
    command: str = "python -m bench.led_bench --write-docs",
) -> str:
    slow = min(figs, key=lambda f: f.wire_fps)
    fast = max(figs, key=lambda f: f.wire_fps)
    rows = "\n".join(
        f"| {f.template} | {f.frame_bytes_mean:.1f} (max {f.frame_bytes_max}) | {f.wire_ms:.1f} ms"
        f" | {f.wire_fps:.1f} | {f.wire_drain_s:.2f} s | {f.paced_fps:.1f} | {f.paced_drain_s:.2f} s"
        f" | {f.second_wave_drain_s:.2f} s ({f.replaced} replaced) | {f.show_p99_us:.0f} µs /"
        f" {f.show_max_us:.0f} µs | {f.pty_fps:.0f} ({f.pty_drain_s * 1000:.0f} ms, {f.pty_bad} bad bytes) |"
        for f in figs
    )
    return f"""## LED strips (条屏) on a 9600-baud RS-485 bus

Measured {started} UTC at commit {commit} by `{command}`,
median of {rounds} round(s). Machine: {machine_line}

Opening time: {WINDOWS} windows call at once, text `A023 请到3号窗口` style (GB2312, window
numbers 1–{WINDOWS}); half a second later every window calls again while the first burst is
still on the wire. *Wire* is arithmetic: frame bytes × 10 bits (8N1) / 9600 baud. *Paced* is
the bus writer (`drivers/led/bus.py`) into a port that takes the wire time per write.
*Through the pty* is the real serial path into the decoding emulator on a pseudo-terminal,
which does not pace at 9600 baud: it is the software's own ceiling, far above the wire's.

| template | frame bytes | wire time per frame | wire frames/s | wire: 100 frames | paced frames/s | paced: 100 strips updated | paced: second wave done | `show()` p99 / max | through the pty: frames/s |
|---|---|---|---|---|---|---|---|---|---|
{rows}

Reading: a 9600-baud bus carries about {slow.wire_fps:.0f} ({slow.template}) to
{fast.wire_fps:.0f} ({fast.template}) call frames a second, so the last of {WINDOWS} strips shows
its first call {fast.wire_drain_s:.1f}–{slow.wire_drain_s:.1f} s after opening. The second
wave does not double that: a strip's waiting text is replaced by its newer one, so only the
strips already served get a second frame. Calling never waits for the bus (`show()` returns in
microseconds). A hall that wants every strip updated within a second at opening needs three
buses (≤ 35 windows each), or 38400 baud where its strips allow it.
"""


def run(quick: bool = False, write_docs: bool = False, command: str = "") -> list[Figures]:
    """The figures (about 10 s quick, 20 s in full); `hall bench` runs this by default."""
    rounds = 1 if quick else 3
    ctx = None
    if write_docs:
        from bench.report import RunContext

        ctx = RunContext(Path(tempfile.mkdtemp(prefix="led-bench-")))
    figs = []
    print(f"LED strip bus: {WINDOWS} windows calling at opening time, {BAUD} baud")
    for name in sorted(TEMPLATES):
        f = measure(name, rounds)
        figs.append(f)
        print(
            f"  {name:6} frame {f.frame_bytes_mean:.1f} B, wire {f.wire_ms:.1f} ms "
            f"({f.wire_fps:.1f} frames/s, 100 in {f.wire_drain_s:.2f} s); paced "
            f"{f.paced_fps:.1f} frames/s, 100 strips in {f.paced_drain_s:.2f} s, second wave "
            f"done {f.second_wave_drain_s:.2f} s ({f.replaced} replaced); show() p99 "
            f"{f.show_p99_us:.0f} µs, max {f.show_max_us:.0f} µs; pty {f.pty_fps:.0f} frames/s"
        )
    if write_docs and ctx is not None:
        from bench.report import write_section

        m = ctx.finish()
        command = command or "python -m bench.led_bench --write-docs" + (
            " --quick" if quick else ""
        )
        body = markdown(figs, m.line(), f"{m.started:%Y-%m-%d %H:%M}", m.commit, rounds, command)
        write_section("led", body)
        print("wrote docs/BENCHMARKS.md (LED strips)")
    return figs


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--write-docs", action="store_true", help="rewrite the LED section of docs")
    args = p.parse_args()
    run(args.quick, write_docs=args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
