"""Event-stream subscribers (hall displays) in a child process.

Thirty displays each reading every event is real work; run in the driver's process it would
compete with the driver for one interpreter and inflate the latencies it measures. The child
process has the machine's other core (as much as the server leaves). Arrival times use
`time.monotonic()` (CLOCK_MONOTONIC: the same clock in every process), so the driver can
subtract its own send times from them.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class ListenResult:
    """What each subscriber saw: event ids in arrival order and ticket.called arrival times."""

    ids: list[list[int]]
    called_at: list[dict[tuple[int, int], float]]
    reconnects: list[int]
    caught_up: bool


def main() -> None:
    """Child entry point: a JSON line of settings on stdin, then `finish LAST_ID TIMEOUT`."""
    settings = json.loads(sys.stdin.readline())
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is pinned
        runner = asyncio.run
    runner(_child_main(settings))


async def _child_main(settings: dict[str, Any]) -> None:
    from bench.httpclient import Subscriber

    host, port, replay_from = settings["host"], settings["port"], settings["replay_from"]
    subs = [
        Subscriber(host, port, t, name=f"display-{i}") for i, t in enumerate(settings["tokens"])
    ]
    tasks = [asyncio.create_task(s.run(replay_from=replay_from)) for s in subs]
    try:
        await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in subs)), 30)
        print("connected", flush=True)
    except TimeoutError:
        print("error subscribers did not connect within 30 s", flush=True)
        return
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    _, last, timeout = line.split()
    last_id, deadline = int(last), time.monotonic() + float(timeout)
    while time.monotonic() < deadline and any(s.last_id < last_id for s in subs):
        await asyncio.sleep(0.05)
    caught_up = all(s.last_id >= last_id for s in subs)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    result = {  # plain data: the parent rebuilds the ListenResult
        "ids": [s.ids.tolist() for s in subs],
        "called_at": [s.called_at for s in subs],
        "reconnects": [s.reconnects for s in subs],
        "caught_up": caught_up,
    }
    with open(settings["out"], "wb") as f:
        pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    print("done", flush=True)


class ListenerProcess:
    """`n` subscribers in a child process: start(), let the run happen, then finish(last_id)."""

    def __init__(
        self, host: str, port: int, tokens: list[str], replay_from: int | None = 0
    ) -> None:
        """`replay_from=0`: every event since the first (Last-Event-ID: 0); None: live only."""
        self._out = Path(tempfile.mkstemp(prefix="hall-displays-", suffix=".pickle")[1])
        self._settings = {
            "host": host,
            "port": port,
            "tokens": tokens,
            "replay_from": replay_from,
            "out": str(self._out),
        }
        self._proc: subprocess.Popen[str] | None = None
        self.n = len(tokens)

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.listeners"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(self._settings) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline().strip()
        if line != "connected":
            self.kill()
            raise RuntimeError(f"event-stream subscribers did not start: {line or 'no output'}")

    def cpu_seconds(self) -> float:
        """CPU used so far by the subscribers' process (0 once it has exited)."""
        import psutil

        try:
            t = psutil.Process(self._proc.pid).cpu_times() if self._proc else None
        except psutil.Error:
            return 0.0
        return float(t.user + t.system) if t else 0.0

    def finish(self, last_id: int, timeout: float = 30.0) -> ListenResult:
        """Wait until every subscriber has seen event `last_id` (or `timeout`), then stop."""
        assert self._proc is not None and self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(f"finish {last_id} {timeout}\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline().strip()
        self._proc.wait(30)
        if line != "done":
            raise RuntimeError("event-stream subscribers returned no result")
        try:
            with self._out.open("rb") as f:
                return ListenResult(**pickle.load(f))
        finally:
            self._out.unlink(missing_ok=True)

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(5)
        self._out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
