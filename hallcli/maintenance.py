"""`hall backup`, `hall restore`, `hall audit verify`: keeping the database safe."""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="online backup of a live database")
    b.add_argument("--db", required=True)
    b.add_argument("out")
    b.set_defaults(func=backup)

    r = sub.add_parser("restore", help="restore a backup over a (stopped) server's database")
    r.add_argument("--db", required=True)
    r.add_argument("backup")
    r.add_argument(
        "--skip",
        type=int,
        default=None,
        help="numbers each service skips after the restore, past anything handed out after the"
        " backup (default 200: more than all leases a service can have out)",
    )
    r.set_defaults(func=restore)

    a = sub.add_parser("audit", help="audit log tools")
    asub = a.add_subparsers(dest="audit_command", metavar="ACTION")
    v = asub.add_parser("verify", help="check the audit log's hash chain")
    v.add_argument("--db", required=True)
    v.set_defaults(func=verify)


def backup(args: argparse.Namespace) -> int:
    from queue_server.base.db import connect

    if not Path(args.db).exists():
        print(f"hall backup: {args.db}: no such database", file=sys.stderr)
        return 2
    src = connect(args.db, readonly=True)
    Path(args.out).touch(mode=0o600)  # the copy holds the same personal data as the original
    dest = sqlite3.connect(args.out)
    try:
        with dest:
            # All pages in one step under one read transaction: a consistent snapshot even
            # while the server keeps writing (page-by-page steps would restart on each write).
            src.backup(dest, pages=-1)
        ok = dest.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        dest.close()
        src.close()
    if ok != "ok":
        print(f"hall backup: the copy failed its integrity check: {ok}", file=sys.stderr)
        return 1
    from queue_server.admin.maintenance import append_audit

    append_audit(args.db, "cli", "backup", str(args.out))
    print(f"backed up {args.db} to {args.out}")
    return 0


def restore(args: argparse.Namespace) -> int:
    conn = sqlite3.connect(args.backup)
    try:
        ok = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as err:
        ok = str(err)
    finally:
        conn.close()
    if ok != "ok":
        print(f"hall restore: {args.backup} is not a usable backup: {ok}", file=sys.stderr)
        return 1
    for suffix in ("-wal", "-shm"):
        Path(args.db + suffix).unlink(missing_ok=True)
    shutil.copyfile(args.backup, args.db)
    from queue_server.admin.maintenance import append_audit, start_after_restore

    skip = start_after_restore(args.db, args.skip)
    append_audit(args.db, "cli", "restore", str(args.backup), **skip)
    print(
        f"restored {args.backup} to {args.db}; numbering skips {skip['skip']} numbers"
        f" ({skip['from']} to {skip['to']}) and leases from before are stale"
        " (start the server again)"
    )
    return 0


def verify(args: argparse.Namespace) -> int:
    from queue_server.base.audit import verify as check

    if not Path(args.db).exists():
        print(f"hall audit verify: {args.db}: no such database", file=sys.stderr)
        return 1
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    try:
        intact, broken, n = check(conn)
        last = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    if intact:
        # Keep the last hash somewhere else (a notebook, a ticket): a later verify that
        # still contains it proves nobody rewrote the whole chain from before it.
        tail = f", last record {last[0]} hash {last[1]}" if last else ""
        print(f"audit log intact: {n} records{tail}")
        return 0
    print(f"audit log broken at record {broken} (records before it are intact)")
    return 1
