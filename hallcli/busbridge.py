"""`hall device bus run`: every caller and evaluator keypad on one shared RS-485 bus, bridged
by one process (drivers/keypadbus.py: one reader, one writer, frames routed by address).

Each keypad keeps its own window credential, its own bridge thread and its own heartbeat (it
is one device on the admin's list); they share the port. A keypad is given as
`ADDR=TOKEN` (the token's window) or `ADDR=TOKEN@WINDOW`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Literal

from drivers.keypadbus import KeypadBus, open_bus
from hallcli.bridges import (
    OTHER_REASON,
    CallerBridge,
    EvaluatorBridge,
    Offline,
    resolve_window,
    run_until,
)

Kind = Literal["caller", "evaluator"]


@dataclass(frozen=True)
class KeypadSpec:
    kind: Kind
    addr: int
    token: str
    window: int | None = None


def parse_spec(kind: Kind, text: str) -> KeypadSpec:
    """`ADDR=TOKEN` or `ADDR=TOKEN@WINDOW` (ValueError with the reason)."""
    addr, sep, rest = text.partition("=")
    token, _, window = rest.partition("@")
    if not sep or not addr.strip().isdigit() or not token:
        raise ValueError(f"--{kind} {text[:20]!r}: expected ADDR=TOKEN or ADDR=TOKEN@WINDOW")
    if window and not window.isdigit():
        raise ValueError(f"--{kind}: window must be a number, not {window!r}")
    return KeypadSpec(kind, int(addr), token, int(window) if window else None)


class BusBridge:
    """One bus, many keypads: starts the bus, then a bridge per keypad attached to it."""

    def __init__(
        self,
        bus: KeypadBus,
        server_url: str,
        keypads: list[KeypadSpec],
        reason_keys: bool = False,
        other_reason: str = OTHER_REASON,
        heartbeat_every: float = 30.0,
    ) -> None:
        self.bus = bus
        self.bridges: list[CallerBridge | EvaluatorBridge] = []
        for k in keypads:
            window = resolve_window(server_url, k.token, k.window)
            if k.kind == "caller":
                self.bridges.append(
                    CallerBridge("", server_url, k.token, window, k.addr, heartbeat_every, bus=bus)
                )
            else:
                self.bridges.append(
                    EvaluatorBridge(
                        "",
                        server_url,
                        k.token,
                        window,
                        k.addr,
                        reason_keys=reason_keys,
                        other_reason=other_reason,
                        heartbeat_every=heartbeat_every,
                        bus=bus,
                    )  # fmt: skip
                )

    def start(self) -> BusBridge:
        self.bus.start()
        for b in self.bridges:
            b.start()
        return self

    def stop(self) -> None:
        for b in self.bridges:
            b.stop()
        self.bus.stop()


def register_bus(kinds: Any) -> None:
    """`hall device bus run` under `hall device`."""
    bus = kinds.add_parser("bus", help="several keypads on one RS-485 bus").add_subparsers(
        metavar="ACTION"
    )
    run = bus.add_parser("run", help="bridge every keypad on one bus port to its window")
    run.add_argument(
        "--url", required=True, help="serial:///dev/ttyUSB0?baud=9600 or tcp://HOST:PORT"
    )
    run.add_argument("--server", required=True, help="queue server URL, e.g. http://10.0.0.2:8000")
    run.add_argument(
        "--caller", action="append", default=[], metavar="ADDR=TOKEN[@WINDOW]",
        help="a caller keypad at bus address ADDR with its window's staff token (repeat)",
    )  # fmt: skip
    run.add_argument(
        "--evaluator", action="append", default=[], metavar="ADDR=TOKEN[@WINDOW]",
        help="an evaluator keypad at ADDR with its window's evaluator token (repeat)",
    )  # fmt: skip
    run.add_argument("--reason-keys", action="store_true", help="evaluators have reason keys 1..9")
    run.add_argument("--other-reason", default=OTHER_REASON, help="reason filed without keys")
    run.add_argument("--heartbeat", type=float, default=30.0, help="seconds between heartbeats")
    run.add_argument("--duration", type=float, default=0, help="stop after this many seconds")
    run.set_defaults(func=cmd_bus_run)
    emu = bus.add_parser(
        "emulate",
        help="several keypads on one pty: type 'ADDR KEY' (e.g. '3 call', '3 重呼'), 'ADDR score N'"
        " or 'ADDR reason N'; every LED is printed",
    )
    emu.set_defaults(func=cmd_bus_emulate)


def cmd_bus_run(args: Any) -> int:
    from drivers.urls import DeviceUrlError

    try:
        specs = [parse_spec("caller", t) for t in args.caller]
        specs += [parse_spec("evaluator", t) for t in args.evaluator]
        if not specs:
            raise ValueError("give at least one --caller or --evaluator")
        addrs = [s.addr for s in specs]
        if len(set(addrs)) != len(addrs):
            raise ValueError("two keypads share a bus address")
        bridge = BusBridge(
            open_bus(args.url), args.server, specs, args.reason_keys, args.other_reason,
            args.heartbeat,
        )  # fmt: skip
    except Offline as e:
        print(f"server not reachable: {e}", file=sys.stderr)
        return 1
    except (DeviceUrlError, ValueError) as e:
        print(str(e).replace("\n", " "), file=sys.stderr)
        return 1
    bridge.start()
    print(
        f"bridging {len(specs)} keypads at {args.url} "
        f"(addresses {', '.join(str(s.addr) for s in specs)}) to {args.server}",
        flush=True,
    )
    try:
        run_until(bridge.bus, args.duration)
    finally:
        bridge.stop()
    return 0


def emulate_line(emulator: Any, line: str) -> str | None:
    """Act on one typed line ("3 call", "3 呼叫", "21 score 5", "21 reason 2"); the reason it
    cannot, else None."""
    from drivers.caller import KEY_LABELS, KEYS

    names = {**{k: k for k in KEYS}, **{v: k for k, v in KEY_LABELS.items()}}
    parts = line.split()
    if len(parts) < 2 or not parts[0].isdigit():
        return "type: ADDR KEY | ADDR score 1-5 | ADDR reason 1-9"
    addr = int(parts[0])
    if parts[1] in ("score", "reason") and len(parts) == 3 and parts[2].isdigit():
        value = int(parts[2])
        if parts[1] == "score" and 1 <= value <= 5:
            emulator.score(value, addr)
            return None
        if parts[1] == "reason" and 1 <= value <= 9:
            emulator.reason(value, addr)
            return None
        return f"{parts[1]} out of range: {value}"
    key = names.get(parts[1])
    if key is None:
        return f"unknown key {parts[1]!r}"
    emulator.press(key, addr)
    return None


def cmd_bus_emulate(args: Any) -> int:
    from drivers.keypadbus import BusEmulator

    emulator = BusEmulator(
        on_display=lambda d: print(f"LED[{d.addr}]: {d.text}", flush=True)
    ).start()
    print(emulator.url, flush=True)
    try:
        for line in sys.stdin:
            if line.strip():
                problem = emulate_line(emulator, line)
                if problem:
                    print(problem, file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0
