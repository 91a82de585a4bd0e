"""Starting the real server as a subprocess for end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def hall_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hallcli.main", *args]


def make_token(db: Path, role: str, window: int | None = None) -> str:
    args = ["token", "--db", str(db), "--role", role]
    if window is not None:
        args += ["--window", str(window)]
    out = subprocess.run(hall_cmd(*args), cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the test process dies, however it dies (a
    timeout's os._exit, a kill), so no server outlives its test run (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class LiveServer:
    def __init__(self, db: Path, *extra: str) -> None:
        self.db = db
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            hall_cmd("server", "--db", str(db), "--port", "0", *extra),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            preexec_fn=_die_with_parent,
        )
        self.url = self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        lines = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(r"listening on (https?://\S+)", line)
            if m:
                return m.group(1)
        self.proc.kill()
        raise RuntimeError("server did not start:\n" + "".join(lines))

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait(5)


def clear_queue(hall) -> None:  # type: ignore[no-untyped-def]
    """Cancel every waiting and called ticket: a fresh queue for each hypothesis example,
    which shares one hall (function-scoped fixture) with the examples before it."""
    hall.run_sync(
        lambda tx: tx.execute(
            "UPDATE tickets SET status = 'cancelled' WHERE status IN ('waiting', 'called')"
        )
    )
