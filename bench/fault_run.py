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
5. the disk full: the server restarted on a small tmpfs the bench mounts (root only; without
   root, or when the mount fails, the phase is reported as skipped with the reason), the file
   system filled while the kiosks issue and their sync loop keeps trying (writes answer 503
   `storage_unavailable`, the kiosks print from their leases), then freed, and the kiosks sync;
6. online again, with new leases.

At the end (server stopped, database read directly) every printed ticket must be known to
the server under its printed number, no number may be held twice, nothing may be lost, the
database must pass `PRAGMA integrity_check` and its audit log `hall audit verify`. Exit
status 0 when all of that holds. Run with `python -m bench.fault_run` or
`./hall bench --faults`; `--write-docs` rewrites the `faults` section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
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
    phase: str = "online"
    # 5xx answers the kiosks got, by "phase:status code"
    server_errors: Counter[str] = field(default_factory=Counter)
    dbdir: Path | None = None  # where the database lives when not in workdir (the small fs)
    mounts: list[Path] = field(default_factory=list)

    @property
    def db(self) -> Path:
        return (self.dbdir or self.workdir) / "hall.db"

    def saw(self, r: Any, *args: Any, **kwargs: Any) -> None:
        """A `requests` response hook on every kiosk's session: counts the 5xx answers."""
        if r.status_code < 500:
            return
        try:
            code = str((r.json().get("error") or {}).get("code") or "")
        except (ValueError, AttributeError):
            code = ""
        self.server_errors[f"{self.phase}:{r.status_code} {code}".rstrip()] += 1

    def health(self) -> str:
        """`/health` as "STATUS writes" (e.g. "503 failing", "200 ok")."""
        import requests

        r = requests.get(self.url + "/api/v1/health", timeout=5)
        body = r.json()
        return f"{r.status_code} {body.get('writes') or body.get('status')}"

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
        if self.server is None or self.server.db != self.db:  # the database moved (small fs)
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

        run = self.run

        class CountingApi(HttpApi):
            """The kiosk's own HTTP client; the bench only counts the 5xx answers it gets."""

            def _session(self) -> Any:
                s = super()._session()
                if run.saw not in s.hooks["response"]:
                    s.hooks["response"].append(run.saw)
                return s

        settings = KioskSettings(
            server=self.run.url, token=self.token, kiosk_id=self.name, outbox_path=str(self.outbox)
        )
        return KioskCore(CountingApi(self.run.url, self.token, timeout=(1.0, 1.0)), settings)

    def restart(self) -> None:
        """The kiosk process dies and starts again: only its outbox file is left."""
        self.core = self._build()

    def sync(self) -> bool:
        return bool(self.core.syncer.step())

    def issue(self, code: str, card: Card | None, phase: str) -> None:
        from kiosk.core.issuer import IssueError

        self.taps += 1
        self.run.phase = phase
        key = f"{self.name}-{phase.replace(' ', '-')}-{self.taps}"
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


def prepare(workdir: Path, n_kiosks: int) -> tuple[Run, list[Kiosk]]:
    """A server on a fresh database in `workdir` and `n_kiosks` kiosks with tokens of their own."""
    run = Run(workdir, free_port())
    run.start()
    try:
        tokens = [
            run.hall(
                "token", "--db", str(run.db), "--role", "kiosk", "--name", f"fault-kiosk-{i}"
            ).splitlines()[-1]
            for i in range(n_kiosks)
        ]
    except BaseException:
        run.stop()
        raise
    return run, [Kiosk(run, f"k{i}", t) for i, t in enumerate(tokens)]


# -- the disk full ---------------------------------------------------------------------------


def mount_small_fs(where: Path, size_mib: int) -> tuple[Path | None, str]:
    """Mount a tmpfs of `size_mib` MiB on `where`: (the mount point, "") or (None, why not)."""
    if os.geteuid() != 0:
        return None, "not root: mounting a small file system needs root (CAP_SYS_ADMIN)"
    where.mkdir(parents=True, exist_ok=True)
    cmd = ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m", "hall-fault", str(where)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as err:
        return None, f"cannot mount a tmpfs: {err}"
    if done.returncode != 0:
        msg = " ".join(done.stderr.split()) or f"mount exited {done.returncode}"
        return None, f"cannot mount a tmpfs: {msg}"
    return where, ""


def unmount(run: Run) -> None:
    while run.mounts:
        subprocess.run(["umount", "-l", str(run.mounts.pop())], capture_output=True, check=False)


def fill(path: Path) -> int:
    """Write to `path` until its file system is full; returns the bytes written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    chunk = b"\0" * 65536
    written = 0
    try:
        while True:
            try:
                written += os.write(fd, chunk)
            except OSError as err:
                if err.errno != errno.ENOSPC:
                    raise
                if len(chunk) == 1:
                    return written
                chunk = chunk[: len(chunk) // 2]
    finally:
        os.close(fd)


def disk_full(run: Run, kiosks: list[Kiosk], n: int, first_card: int) -> dict[str, Any]:
    """Move the database to a small tmpfs, fill it while the kiosks issue `n` rounds (more, up
    to 50, until a write is refused), free it and let the kiosks sync. Returns the phase's
    figures, or {"skipped": why} when no tmpfs could be mounted."""
    from kiosk.core.outbox import SYNCED

    phase = "disk full"
    run.phase = phase
    size = sum(f.stat().st_size for f in run.db.parent.glob("hall.db*"))
    size_mib = max(8, 2 * size // 2**20 + 4)  # room for the database, its WAL and the rest
    mnt, why = mount_small_fs(run.workdir / "small-fs", size_mib)
    if mnt is None:
        run.events.append(f"disk full: skipped ({why})")
        return {"skipped": why}
    run.mounts.append(mnt)
    # A clean stop leaves the whole database in hall.db: on the tmpfs the WAL starts empty, so
    # once the file system is full the next write that needs a page finds no room.
    run.stop()
    old = run.db
    for suffix in ("", "-wal"):
        src = Path(f"{old}{suffix}")
        if src.exists():
            shutil.copyfile(src, mnt / src.name)
    run.dbdir = mnt
    for suffix in ("", "-wal", "-shm"):
        Path(f"{old}{suffix}").unlink(missing_ok=True)
    run.start()
    sync_all(kiosks, 1)
    before = len(run.printed)
    errors_before = run.server_errors[f"{phase}:503 storage_unavailable"]
    filler = mnt / "filler"
    filled = fill(filler)
    rounds = 0
    while rounds < n or (
        run.server_errors[f"{phase}:503 storage_unavailable"] == errors_before and rounds < n + 50
    ):
        issue_round(kiosks, phase, 1, first_card + rounds * len(kiosks))
        for k in kiosks:  # the kiosk's sync loop keeps trying while the disk is full
            k.sync()
        rounds += 1
    health_full = run.health()
    printed = run.printed[before:]
    filler.unlink()
    sync_all(kiosks)
    offline = [p for p in printed if p.offline]
    synced = 0
    for p in offline:
        k = next(k for k in kiosks if k.name == p.kiosk)
        row = k.core.outbox.get(p.key)
        synced += row is not None and row.status == SYNCED and row.server_number == p.number
    run.events.append("disk filled and freed")
    return {
        "fs_mib": size_mib,
        "filler_mib": round(filled / 2**20, 1),
        "rounds": rounds,
        "printed": len(printed),
        "printed_online": len(printed) - len(offline),
        "printed_offline": len(offline),
        "storage_503": run.server_errors[f"{phase}:503 storage_unavailable"] - errors_before,
        "other_5xx": sum(
            c
            for key, c in run.server_errors.items()
            if key.startswith(f"{phase}:") and key != f"{phase}:503 storage_unavailable"
        ),
        "health_while_full": health_full,
        "synced_after": synced,
        "health_after": run.health(),
    }


def check(run: Run, kiosks: list[Kiosk]) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{run.db}?mode=ro", uri=True)
    try:
        integrity = "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
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
    audit = subprocess.run(
        [sys.executable, "-m", "hallcli.main", "audit", "verify", "--db", str(run.db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
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
        "server_5xx": dict(run.server_errors),
        "integrity_check": integrity,
        "audit_verify": (audit.stdout.strip() or audit.stderr.strip()).split(", last record")[0],
        "events": run.events,
    }


def failures(figures: dict[str, Any]) -> list[str]:
    """What broke a promise; empty when the run holds. A skipped disk phase is no failure
    (it says why in the figures), a disk that never filled is."""
    out = []
    for name in ("missing", "wrong_number", "held_twice"):
        if figures[name]:
            out.append(f"{name}: {figures[name]}")
    for name in ("outbox_pending", "outbox_rejected"):
        if figures[name]:
            out.append(f"{name}: {figures[name]}")
    if figures["integrity_check"] != "ok":
        out.append(f"integrity_check: {figures['integrity_check']}")
    if not figures["audit_verify"].startswith("audit log intact"):
        out.append(f"audit verify: {figures['audit_verify']}")
    disk = figures.get("disk_full") or {}
    if disk and "skipped" not in disk:
        if not disk["storage_503"]:
            out.append("the disk never filled (no 503 storage_unavailable)")
        elif disk["synced_after"] != disk["printed_offline"]:
            out.append(f"disk full: {disk['synced_after']} of {disk['printed_offline']} synced")
    return out


PHASES = ("online", "paused", "killed", "restored", "disk full", "after")


def markdown(figures: dict[str, Any], machine: str, per_phase: int, commit: str) -> str:
    """The `faults` section of docs/BENCHMARKS.md for one run."""
    by = figures["by_phase"]
    phases = ", ".join(f"{p} {by[p]}" for p in PHASES if p in by)
    disk = figures.get("disk_full") or {}
    fail = failures(figures)
    rows = [
        (
            "tickets printed",
            f"{figures['printed']} ({figures['printed_offline']} from leases) — {phases}",
        ),
        (
            "known to the server under the printed number",
            f"**{figures['known_under_printed_number']} of {figures['printed']}**",
        ),
        ("numbers held twice", f"**{len(figures['held_twice'])}**"),
        (
            "outbox rows pending / rejected at the end",
            f"{figures['outbox_pending']} / {figures['outbox_rejected']}",
        ),
        ("server tickets never printed", str(figures["server_tickets_never_printed"])),
        (
            "requests committed late and renumbered to the printed number",
            f"{figures['renumbered']} (the paused phase's requests the kiosks gave up on)",
        ),
        (
            "leases lost by the restore, re-entered from their proofs",
            str(figures["recovered_leases"]),
        ),
        ("refusals (no number, quota)", str(sum(figures["refusals"].values()))),
    ]
    if "skipped" in disk:
        rows.append(("disk full", f"**skipped**: {disk['skipped']}"))
    elif disk:
        rows += [
            (
                f"disk full: tickets printed while full ({disk['rounds']} rounds)",
                f"{disk['printed']} — {disk['printed_offline']} from leases,"
                f" {disk['printed_online']} online before the first refused write",
            ),
            (
                "disk full: 503 `storage_unavailable` answers the kiosks got",
                f"{disk['storage_503']} (other 5xx: {disk['other_5xx']})",
            ),
            (
                "disk full: `/health` while full / after",
                f"{disk['health_while_full']} / {disk['health_after']}",
            ),
            (
                "disk full: lease tickets synced after freeing, under the printed number",
                f"**{disk['synced_after']} of {disk['printed_offline']}**",
            ),
        ]
    rows += [
        ("`PRAGMA integrity_check` at the end", f"**{figures['integrity_check']}**"),
        ("`hall audit verify` at the end", figures["audit_verify"]),
    ]
    table = "\n".join(["| | |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])
    verdict = "all held" if not fail else "**FAILED**: " + "; ".join(fail)
    return f"""## Fault run

`./hall bench --faults` (`bench/fault_run.py`): three kiosk cores (the real issuer, outbox and
sync over HTTP, one token and outbox file each) issue ordinary (SW, QYKB) and real-name (HJ,
with an ID card) tickets against a real `hall server` through six phases: online; the server
**paused** (SIGSTOP: the first request of each kiosk reaches the server, times out after 1 s,
and the kiosk prints from its lease; then SIGCONT, the server commits those requests under its
own numbers, the kiosks sync); the server **killed** (SIGKILL) while kiosks print from leases,
one kiosk **restarted** too (new objects on its outbox file, real-name tickets still to sync),
the server restarted on the same database; a **backup**, fresh leases for every kiosk, the
server killed, kiosks printing from the leases the backup does not know, **`hall restore`**,
the server started, kiosks syncing and issuing on; the **disk full** (the server restarted on
its database moved to a small tmpfs the bench mounts, the file system filled while the kiosks
issue and their sync round keeps trying: writes answer 503 `storage_unavailable`, the kiosks
print from their leases; then the filler removed and the kiosks sync, with no server restart);
and online again. While the disk is full a kiosk asks the server once, takes the 503 for
"server away" and prints from its lease; each later sync round reads the hall (reads still
work), tries to push its oldest lease ticket, and is refused again. At the end (server
stopped, database read directly) every printed ticket must be on the server under its printed
number, no number held twice, no outbox row pending or rejected, `PRAGMA integrity_check` ok
and `hall audit verify` intact. Mounting the tmpfs needs root; without it (or when the mount
fails) the run says "disk full: skipped" with the reason and still checks the rest.

{figures["date"]}, commit {commit}, `python -m bench.fault_run --per-phase {per_phase}`,
{figures["seconds"]:.0f} s, one run. The machine is shared and noisy (the counts below do not
depend on its speed; the seconds do): {machine}

{table}

Verdict: {verdict}.
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kiosks", type=int, default=3)
    p.add_argument("--per-phase", type=int, default=6, help="taps per kiosk per phase")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument(
        "--write-docs", action="store_true", help="rewrite the faults section of BENCHMARKS.md"
    )
    args = p.parse_args(argv)
    from bench.report import RunContext, write_section

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hall-fault-") as tmp:
        ctx = RunContext(Path(tmp))
        run, kiosks = prepare(Path(tmp), args.kiosks)
        try:
            n = args.per_phase
            sync_all(kiosks, 1)
            issue_round(kiosks, "online", n, 0)
            run.events.append("online")

            assert run.proc is not None
            run.phase = "paused"
            os.kill(run.proc.pid, signal.SIGSTOP)
            issue_round(kiosks, "paused", n, 100)
            os.kill(run.proc.pid, signal.SIGCONT)
            time.sleep(1.0)  # let it commit what the kiosks gave up on
            sync_all(kiosks)
            run.events.append("paused+resumed")

            run.phase = "killed"
            run.kill()
            issue_round(kiosks, "killed", n, 200)
            kiosks[0].restart()  # with real-name tickets still to sync
            run.start()
            sync_all(kiosks)
            run.events.append("killed+restarted (one kiosk restarted too)")

            run.phase = "restored"
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

            disk = disk_full(run, kiosks, n, 600)

            sync_all(kiosks)
            issue_round(kiosks, "after", n, 500)
            sync_all(kiosks)
        finally:
            try:
                run.stop()
                figures = check(run, kiosks)
            finally:
                unmount(run)
    figures["disk_full"] = disk
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["date"] = time.strftime("%d %B %Y", time.gmtime()).lstrip("0")
    machine = ctx.finish()
    figures["machine"] = machine.line()
    fail = failures(figures)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        for name, value in figures.items():
            print(f"{name}: {value}")
        for line in fail:
            print("broken:", line)
        skipped = f" (disk-full phase SKIPPED: {disk['skipped']})" if "skipped" in disk else ""
        print("fault run:", ("OK" if not fail else "FAILED") + skipped)
    if args.write_docs:
        write_section("faults", markdown(figures, machine.line(), args.per_phase, machine.commit))
    return 0 if not fail else 1


if __name__ == "__main__":
    sys.exit(main())
