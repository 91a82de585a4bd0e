"""The real queue server as a subprocess: the one launcher of the benchmarks and the tests.

`HallServer` starts `hall server` and knows when it is ready; the test suites (tests/support.py,
tests/web/conftest.py) and the benchmarks (`ServerProcess`, watched with psutil) build on it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from bench.halls import write_toml

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"listening on (https?://\S+)")


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the parent dies, however it dies (a test
    timeout's os._exit, a kill), so no server outlives its run (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class HallServer:
    """`hall server --db DB` as a child process that dies with this one.

    The first start asks for port 0 (a free port); a restart reuses the port it got, so pages
    and clients reconnect to the same address. Ready when it prints `listening on URL`. Its
    output (stdout, and stderr unless `log` names a file for it) is read all the time, so a
    chatty server never blocks on a full pipe; `output()` returns it.
    """

    def __init__(
        self, db: Path, *extra: str, host: str | None = None, log: Path | None = None
    ) -> None:
        self.db = db
        self.extra = list(extra)
        self.host = host or "127.0.0.1"
        self._host_arg = host
        self.port = 0
        self.url = ""
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._ready = threading.Event()
        self._pump: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> str:
        """Start it and wait until it listens; its URL. RuntimeError with its output if not."""
        cmd = [sys.executable, "-m", "hallcli.main", "server", "--db", str(self.db)]
        if self._host_arg:
            cmd += ["--host", self._host_arg]
        cmd += ["--port", str(self.port), *self.extra]
        err: Any = self.log.open("a") if self.log else subprocess.STDOUT
        self._ready.clear()
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            preexec_fn=_die_with_parent,
        )
        if self.log:
            err.close()  # the child holds its own copy
        self._pump = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._pump.start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop(kill=True)
                raise RuntimeError("hall server did not start:\n" + self.output())
        return self.url

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._lines.append(line)
            m = LISTENING.search(line)
            if m and not self._ready.is_set():
                self.url = m.group(1)
                parts = urlsplit(self.url)
                self.host, self.port = parts.hostname or self.host, parts.port or self.port
                self._ready.set()

    def output(self) -> str:
        """Everything it printed so far (all of it once stopped)."""
        return "".join(self._lines)

    def stop(self, kill: bool = False, timeout: float = 20.0) -> int | None:
        """SIGTERM (SIGKILL with `kill`) and wait for it to exit; its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # a SIGSTOPped server must run to exit
                os.kill(self.proc.pid, signal.SIGCONT)
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._pump is not None:
            self._pump.join(5)  # every line it wrote is in output()
        return self.proc.returncode

    def kill9(self) -> None:
        """SIGKILL, as a power cut or a crash would stop it."""
        self.stop(kill=True)


@dataclass(frozen=True)
class TokenSpec:
    role: str
    window: int | None = None
    name: str | None = None


@dataclass
class Usage:
    """Server CPU (seconds, and cores used on average) and memory over one measured span."""

    cpu_s: float
    wall_s: float
    peak_rss_mb: float

    @property
    def cores(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s else 0.0


class ServerProcess:
    """`hall server` on 127.0.0.1 with a fresh SQLite file in `workdir`.

    Credentials are created in-process before the server starts (hundreds of `hall token`
    processes would take minutes); the server then opens the same file as it would in a hall.
    """

    def __init__(
        self,
        workdir: Path,
        config: dict[str, Any],
        *,
        time_scale: float | None = None,
        start_time: str | None = None,
    ) -> None:
        self.workdir = workdir
        self.db_path = workdir / "hall.db"
        self.config_path = write_toml(config, workdir / "hall.toml")
        self.time_scale = time_scale
        self.start_time = start_time
        self.server = HallServer(self.db_path, host="127.0.0.1", log=workdir / "server.log")
        self.ps: psutil.Process | None = None
        self._peak_rss = 0
        self._sampling = False

    @property
    def proc(self) -> subprocess.Popen[str] | None:
        return self.server.proc

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def create_tokens(self, specs: list[TokenSpec]) -> list[str]:
        from queue_server.admin.accounts import create_token
        from queue_server.runtime.hall import Hall

        hall = Hall(self.db_path, self.config_path)
        try:
            return hall.run_sync(
                lambda tx: [
                    create_token(tx, s.role, s.name or f"{s.role}-{s.window or i}", s.window)
                    for i, s in enumerate(specs)
                ]
            )
        finally:
            hall.close()

    def start(self, timeout: float = 60.0) -> None:
        extra = ["--config", str(self.config_path)]
        if self.time_scale:
            extra += ["--time-scale", str(self.time_scale)]
            if self.start_time:
                extra += ["--start-time", self.start_time]
        self.server.extra = extra
        try:
            self.server.start(timeout)
        except RuntimeError:
            raise RuntimeError(f"server did not start: {self.log_tail()}") from None
        assert self.proc is not None
        self.ps = psutil.Process(self.proc.pid)
        self._sampling = True
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while self._sampling and self.ps is not None:
            try:
                self._peak_rss = max(self._peak_rss, self.ps.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.2)

    def log_tail(self, n: int = 20) -> str:
        try:
            text = (self.workdir / "server.log").read_text()
        except OSError:
            text = ""
        return "\n".join((self.server.output() + text).splitlines()[-n:])

    # -- measurement -------------------------------------------------------------------------
    def cpu_seconds(self) -> float:
        assert self.ps is not None
        t = self.ps.cpu_times()
        return float(t.user + t.system)

    def peak_rss_mb(self) -> float:
        """Peak resident memory while serving (sampled every 0.2 s from the moment it listens).

        Not the kernel's VmHWM: that is set at start-up, when the API module hashes a dummy
        password with Argon2id (64 MiB) to equalise login timings, and says nothing about load.
        """
        try:
            if self.ps is not None:
                self._peak_rss = max(self._peak_rss, self.ps.memory_info().rss)
        except psutil.Error:
            pass
        return self._peak_rss / 2**20

    def span(self) -> _Span:
        return _Span(self)

    def stop(self) -> int | None:
        self._sampling = False
        return self.server.stop()

    def db_bytes(self) -> int:
        """Size of the database once stopped: checkpoint the WAL into the file, then measure."""
        import sqlite3

        conn = sqlite3.connect(self.db_path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        total = 0
        for suffix in ("", "-wal"):
            p = Path(str(self.db_path) + suffix)
            if p.exists():
                total += p.stat().st_size
        return total


class _Span:
    """CPU and wall time of the server between `begin()` and `end()`."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.cpu0 = server.cpu_seconds()
        self.t0 = time.monotonic()

    def end(self) -> Usage:
        return Usage(
            cpu_s=self.server.cpu_seconds() - self.cpu0,
            wall_s=time.monotonic() - self.t0,
            peak_rss_mb=self.server.peak_rss_mb(),
        )
