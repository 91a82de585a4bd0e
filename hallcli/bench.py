"""`hall bench`: server benchmarks and the hall-day simulation; figures to stdout and docs."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmarks and the hall-day simulation (tickets/s, latencies, raw SQLite ratio)",
        description="Start the real server on a fresh database and measure it: issue rate and "
        "latency with 16 clients, call->event latency with 20 subscribers, a raw SQLite "
        "baseline, whole simulated hall days (demo hall, 300-window city hall) with "
        "invariant checks, the LED strip bus and the caller keypad bridge. Full run: a few minutes; --quick: under a minute.",
    )
    p.add_argument("--quick", action="store_true", help="small runs of each (under 60 s)")
    p.add_argument(
        "--preset",
        choices=["demo", "city", "all", "none"],
        help="hall day(s) to simulate (default: all; with --quick: demo)",
    )
    p.add_argument("--no-server", action="store_true", help="skip the server benchmarks")
    p.add_argument(
        "--write-docs", action="store_true", help="write the figures into docs/BENCHMARKS.md"
    )
    p.add_argument("--dir", help="directory for the temporary databases (default: system temp)")
    p.add_argument(
        "--kiosk",
        action="store_true",
        help="also run the kiosk benchmarks (bench/kiosk_bench.py) where that module exists",
    )
    p.add_argument(
        "--rehearsal",
        action="store_true",
        help="also the rehearsal rig: kiosk on Xvfb cold start, tap, RSS; call -> display",
    )
    p.add_argument(
        "--no-announce",
        action="store_true",
        help="skip the announcement benchmark (24 windows calling at opening time)",
    )
    p.add_argument(
        "--no-devices",
        action="store_true",
        help="skip the device benchmarks (run by default): LED strips on a 9600-baud bus with 100"
        " windows calling (≈ 20 s) and caller keypad press → LED and display (≈ 15 s)",
    )
    p.add_argument(
        "--devices",
        action="store_true",
        help="with --quick: run the device benchmarks too (≈ 20 s more; --quick alone skips them"
        " to stay within a minute)",
    )
    p.add_argument(
        "--studies",
        action="store_true",
        help="also the fairness study and the wait-estimate accuracy study (simulated days)",
    )
    p.add_argument(
        "--soak",
        type=float,
        metavar="SECONDS",
        help="instead of the rest: the soak (50 tickets/s, 300 windows, 30 streams), e.g. 600",
    )
    p.add_argument(
        "--faults",
        action="store_true",
        help="instead of the rest: the fault run (kiosks issuing while the server is paused,"
        " killed, restarted, restored and its disk filled and freed; every printed ticket"
        " known under its number)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.faults:
        from bench.fault_run import main as fault_run

        return fault_run(["--write-docs"] if args.write_docs else [])
    if args.soak:
        from bench.soak import main as soak

        return soak(["--duration", str(args.soak)])
    status = run_benchmarks(args)
    if args.studies:
        from bench import estimate_accuracy, fairness

        docs = ["--write-docs"] if args.write_docs else []
        status |= fairness.main(["--days", "1" if args.quick else "2", *docs])
        status |= estimate_accuracy.main([*(["--quick"] if args.quick else []), *docs])
    return status


def run_benchmarks(args: argparse.Namespace) -> int:
    from bench.report import RunContext, day_markdown, server_markdown, write_section
    from bench.server_bench import run_server_bench
    from bench.simulation import preset, run_day

    def say(msg: str) -> None:
        print(f"[bench] {msg}", file=sys.stderr, flush=True)

    workdir = Path(args.dir) if args.dir else Path(tempfile.gettempdir())
    chosen = args.preset or ("demo" if args.quick else "all")
    names = {"all": ["demo", "city"], "none": []}.get(chosen, [chosen])
    ctx = RunContext(workdir)
    server = None
    if not args.no_server:
        server = run_server_bench(quick=args.quick, log=say, workdir=workdir)
    days = [run_day(preset(n, args.quick), log=say, workdir=workdir) for n in names]
    machine = ctx.finish()
    failed = False
    if server is not None:
        text = server_markdown(server, machine, args.quick)
        print(text)
        if args.write_docs:
            write_section("server", text)
    if days:
        text = day_markdown(days, machine, args.quick, server)
        print(text)
        if args.write_docs:
            write_section("hallday", text)
        for d in days:
            if d.violations:
                failed = True
                print(f"INVARIANT VIOLATIONS ({d.preset}):", file=sys.stderr)
                for line in d.violations.lines():
                    print(f"  {line}", file=sys.stderr)
            if d.errors:
                print(f"request errors ({d.preset}): {dict(d.errors)}", file=sys.stderr)
    if args.kiosk:
        import importlib
        import importlib.util

        if importlib.util.find_spec("bench.kiosk_bench") is None:
            say("no kiosk benchmarks in this tree (bench/kiosk_bench.py)")
        else:
            importlib.import_module("bench.kiosk_bench").run(args.quick, args.write_docs)
    if args.rehearsal:
        from bench import rehearsal_bench

        rehearsal_bench.run(args.quick, args.write_docs)
    if not args.no_announce:
        from bench import announce_bench

        announce_bench.run(write_docs=args.write_docs)
    if not args.no_devices and (args.devices or not args.quick):
        # Each under 30 s: the device figures come from every default run, together.
        from bench import keypad_bench, led_bench

        command = " ".join(["./hall", *sys.argv[1:]]) if sys.argv[1:2] == ["bench"] else ""
        led_bench.run(args.quick, args.write_docs, command)
        keypad_bench.run(args.quick, args.write_docs, command)
    if args.write_docs:
        say("wrote docs/BENCHMARKS.md")
    return 1 if failed else 0
