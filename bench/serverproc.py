"""The real queue server as a subprocess on a fresh database, watched with psutil."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench.halls import write_toml

LISTENING = re.compile(r"listening on http://([^:/\s]+):(\d+)")


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
        self.proc: subprocess.Popen[str] | None = None
        self.ps: psutil.Process | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self._lines: list[str] = []
        self._ready = threading.Event()
        self._peak_rss = 0
        self._sampling = False

    def create_tokens(self, specs: list[TokenSpec]) -> list[str]:
        from queue_server.accounts import create_token
        from queue_server.hall import Hall

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
        cmd = [sys.executable, "-m", "hallcli.main", "server", "--db", str(self.db_path)]
        cmd += ["--host", self.host, "--port", "0", "--config", str(self.config_path)]
        if self.time_scale:
            cmd += ["--time-scale", str(self.time_scale)]
            if self.start_time:
                cmd += ["--start-time", self.start_time]
        log = (self.workdir / "server.log").open("w")
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=log, text=True, cwd=Path(__file__).parent.parent
        )
        threading.Thread(target=self._read_stdout, daemon=True).start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError(f"server did not start: {self.log_tail()}")
        self.ps = psutil.Process(self.proc.pid)
        self._sampling = True
        threading.Thread(target=self._sample, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.append(line)
            m = LISTENING.search(line)
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                self._ready.set()

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
        return "\n".join((("".join(self._lines)) + text).splitlines()[-n:])

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
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

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
