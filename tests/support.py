"""Helpers for end-to-end tests: the `hall` command, tokens, the real server as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.serverproc import HallServer

ROOT = Path(__file__).resolve().parent.parent


def hall_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hallcli.main", *args]


def make_token(db: Path, role: str, window: int | None = None) -> str:
    args = ["token", "--db", str(db), "--role", role]
    if window is not None:
        args += ["--window", str(window)]
    out = subprocess.run(hall_cmd(*args), cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


class LiveServer(HallServer):
    """`hall server --db DB --port 0 EXTRA…`, started at once (bench/serverproc.py has it all)."""

    def __init__(self, db: Path, *extra: str) -> None:
        super().__init__(db, *extra)
        self.start()


def clear_queue(hall) -> None:  # type: ignore[no-untyped-def]
    """Cancel every waiting and called ticket: a fresh queue for each hypothesis example,
    which shares one hall (function-scoped fixture) with the examples before it."""
    hall.run_sync(
        lambda tx: tx.execute(
            "UPDATE tickets SET status = 'cancelled' WHERE status IN ('waiting', 'called')"
        )
    )
