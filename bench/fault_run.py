"""Fault run: kiosks keep issuing while the server is paused, killed, restarted and restored.

Three kiosk cores (the real `KioskCore` issuer, outbox and sync over HTTP, each with its own
token and outbox file) issue ordinary and real-name tickets against a real `hall server`
subprocess through five phases:

1. online;
2. the server paused (SIGSTOP): the first request times out after the server received it,
   every kiosk prints from its lease, the server wakes up (SIGCONT), commits the requests
   the kiosks gave up on under its own numbers, and the kiosks sync;
3. the server killed (SIGKILL): kiosks print from their leases, one kiosk is "killed" too (its
   core objects dropped and built again on the same outbox file, with real-name tickets
   still to sync), the server restarts on the same database, the kiosks sync;
4. a backup, then fresh leases for every kiosk, the server killed, kiosks print from those
   leases, the database restored from the backup (`hall restore`), the server started, the
   kiosks sync (their leases unknown to the restored database) and issue on;
5. online again, with new leases.

At the end (server stopped, database read directly) every printed ticket must be known to
the server under its printed number, no number may be held twice, and nothing may be lost.
Exit status 0 when all of that holds. Run with `python -m bench.fault_run` or
`./hall bench --faults`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.serverproc import HallServer

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Card:
    name: str
    id_number: str


def make_card(i: int) -> Card:
    from halldomain.idnumber import check_character

    first17 = f"44010219{80 + i % 15:02d}0{1 + i % 9}0{1 + i % 9}{100 + i:03d}"[:17]
    return Card(f"测试{'甲乙丙丁戊己庚辛'[i % 8]}", first17 + check_character(first17))


@dataclass
class Printed:
    kiosk: str
    key: str
    number: str
    service: str
    offline: bool
    phase: str


@dataclass
class Run:
    workdir: Path
    port: int
    server: HallServer | None = None
    proc: subprocess.Popen[str] | None = None
    printed: list[Printed] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)

    @property
    def db(self) -> Path:
        return self.workdir / "hall.db"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hall(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "hallcli.main", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    def start(self) -> None:
        """The server on this run's port: a restart comes back where the kiosks look for it."""
        if self.server is None:
            self.server = HallServer(self.db, host="127.0.0.1")
            self.server.port = self.port
        self.server.start()
        self.proc = self.server.proc

    def kill(self) -> None:
        assert self.server is not None
        self.server.kill9()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


class Kiosk:
    def __init__(self, run: Run, name: str, token: str) -> None:
        self.run = run
        self.name = name
        self.token = token
        self.outbox = run.workdir / f"{name}.outbox.db"
        self.core = self._build()
        self.taps = 0

    def _build(self) -> Any:
        from kiosk.core.api import HttpApi
        from kiosk.core.app import KioskCore
        from kiosk.core.settings import KioskSettings

        settings = KioskSettings(
            server=self.run.url, token=self.token, kiosk_id=self.name, outbox_path=str(self.outbox)
        )
        return KioskCore(HttpApi(self.run.url, self.token, timeout=(1.0, 1.0)), settings)

    def restart(self) -> None:
        """The kiosk process dies and starts again: only its outbox file is left."""
        self.core = self._build()

    def sync(self) -> bool:
        return bool(self.core.syncer.step())

    def issue(self, code: str, card: Card | None, phase: str) -> None:
        from kiosk.core.issuer import IssueError

        self.taps += 1
        key = f"{self.name}-{phase}-{self.taps}"
        services = {s.code: s for s in self.core.state.snap.services}
        try:
            t = self.core.issuer.issue(key, services[code], card)
        except IssueError as err:
            self.run.refusals[f"{phase}:{err.code}"] += 1
            return
        # the ticket goes to the printer only now: what is on the paper
        self.run.printed.append(Printed(self.name, key, t.number, code, t.offline, phase))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def issue_round(kiosks: list[Kiosk], phase: str, n: int, first_card: int) -> None:
    for i in range(n):
        for j, k in enumerate(kiosks):
            which = (i + j) % 3
            if which == 0:
                k.issue("HJ", make_card(first_card + i * len(kiosks) + j), phase)
            else:
                k.issue("SW" if which == 1 else "QYKB", None, phase)


def sync_all(kiosks: list[Kiosk], rounds: int = 3) -> None:
    for _ in range(rounds):
        for k in kiosks:
            k.sync()


def check(run: Run, kiosks: list[Kiosk]) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{run.db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT idempotency_key, number, business_day, status FROM tickets"
            " WHERE idempotency_key IS NOT NULL"
        ).fetchall()
        days = conn.execute("SELECT COUNT(DISTINCT business_day) FROM tickets").fetchone()[0]
        renumbered = conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'ticket.renumbered'"
        ).fetchone()[0]
        recovered = conn.execute("SELECT COUNT(*) FROM leases WHERE recovered = 1").fetchone()[0]
    finally:
        conn.close()
    by_key = {r[0]: r[1] for r in rows}
    missing = [p for p in run.printed if p.key not in by_key]
    wrong = [p for p in run.printed if p.key in by_key and by_key[p.key] != p.number]
    held = Counter(p.number for p in run.printed)
    twice = sorted(n for n, c in held.items() if c > 1)
    printed_keys = {p.key for p in run.printed}
    unprinted = [k for k in by_key if k not in printed_keys]
    pending = sum(k.core.outbox.counts()["pending"] for k in kiosks)
    rejected = sum(k.core.outbox.counts()["rejected"] for k in kiosks)
    return {
        "printed": len(run.printed),
        "printed_offline": sum(p.offline for p in run.printed),
        "by_phase": dict(Counter(p.phase for p in run.printed)),
        "known_under_printed_number": len(run.printed) - len(missing) - len(wrong),
        "missing": [p.number for p in missing],
        "wrong_number": [(p.number, by_key[p.key]) for p in wrong],
        "held_twice": twice,
        "server_tickets_never_printed": len(unprinted),
        "outbox_pending": pending,
        "outbox_rejected": rejected,
        "renumbered": renumbered,
        "recovered_leases": recovered,
        "business_days": days,
        "refusals": dict(run.refusals),
        "events": run.events,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kiosks", type=int, default=3)
    p.add_argument("--per-phase", type=int, default=6, help="taps per kiosk per phase")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hall-fault-") as tmp:
        run = Run(Path(tmp), free_port())
        run.start()
        tokens = [
            run.hall(
                "token", "--db", str(run.db), "--role", "kiosk", "--name", f"fault-kiosk-{i}"
            ).splitlines()[-1]
            for i in range(args.kiosks)
        ]
        kiosks = [Kiosk(run, f"k{i}", t) for i, t in enumerate(tokens)]
        try:
            n = args.per_phase
            sync_all(kiosks, 1)
            issue_round(kiosks, "online", n, 0)
            run.events.append("online")

            assert run.proc is not None
            os.kill(run.proc.pid, signal.SIGSTOP)
            issue_round(kiosks, "paused", n, 100)
            os.kill(run.proc.pid, signal.SIGCONT)
            time.sleep(1.0)  # let it commit what the kiosks gave up on
            sync_all(kiosks)
            run.events.append("paused+resumed")

            run.kill()
            issue_round(kiosks, "killed", n, 200)
            kiosks[0].restart()  # with real-name tickets still to sync
            run.start()
            sync_all(kiosks)
            run.events.append("killed+restarted (one kiosk restarted too)")

            backup = run.workdir / "backup.db"
            run.hall("backup", "--db", str(run.db), str(backup))
            for k in kiosks:  # leases granted after the backup: the restore will lose them
                k.core.outbox.retire_leases([x.lease_id for x in k.core.outbox.leases()])
                for code in ("SW", "QYKB", "HJ"):
                    k.core.outbox.add_lease(k.core.api.lease(code, 10))
            run.kill()
            issue_round(kiosks, "restored", n, 300)
            run.hall("restore", "--db", str(run.db), str(backup))
            run.start()
            sync_all(kiosks)
            issue_round(kiosks, "restored", n, 400)
            run.events.append("backup, leases, killed, restored")

            sync_all(kiosks)
            issue_round(kiosks, "after", n, 500)
            sync_all(kiosks)
        finally:
            run.stop()
        figures = check(run, kiosks)
    figures["seconds"] = round(time.monotonic() - started, 1)
    ok = (
        not figures["missing"]
        and not figures["wrong_number"]
        and not figures["held_twice"]
        and figures["outbox_pending"] == 0
        and figures["outbox_rejected"] == 0
    )
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        for name, value in figures.items():
            print(f"{name}: {value}")
        print("fault run:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
