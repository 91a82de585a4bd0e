"""`hall tokens list|revoke`: see and withdraw device tokens and login sessions."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("tokens", help="list or revoke device tokens and login sessions")
    tsub = t.add_subparsers(dest="tokens_command", metavar="ACTION")
    ls = tsub.add_parser("list", help="list active tokens (never the tokens themselves)")
    ls.add_argument("--db", required=True)
    ls.add_argument("--all", action="store_true", help="include revoked ones")
    ls.set_defaults(func=list_tokens)
    rv = tsub.add_parser(
        "revoke", help="revoke tokens; a running server refuses them within 30 s (the API: at once)"
    )
    rv.add_argument("--db", required=True)
    which = rv.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, help="token id (from `hall tokens list`)")
    which.add_argument("--name", help="every active token of this device or person")
    which.add_argument("--token", help="the bearer token itself")
    rv.set_defaults(func=revoke)


def list_tokens(args: argparse.Namespace) -> int:
    if not Path(args.db).exists():
        print(f"hall tokens: {args.db}: no such database", file=sys.stderr)
        return 2
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    try:
        sql = "SELECT id, kind, role, window, name, created_at, revoked_at FROM tokens"
        if not args.all:
            sql += " WHERE revoked_at IS NULL"
        for r in conn.execute(sql + " ORDER BY id"):
            window = f" window {r[3]}" if r[3] is not None else ""
            revoked = f" revoked {r[6]}" if r[6] else ""
            print(f"{r[0]:>5}  {r[1]:<7} {r[2]:<9} {r[4]}{window}  created {r[5]}{revoked}")
    finally:
        conn.close()
    return 0


def revoke(args: argparse.Namespace) -> int:
    from queue_server.admin.maintenance import revoke_tokens

    if not Path(args.db).exists():
        print(f"hall tokens revoke: {args.db}: no such database", file=sys.stderr)
        return 2
    done = revoke_tokens(args.db, token_id=args.id, name=args.name, token=args.token)
    if not done:
        print("hall tokens revoke: no matching active token", file=sys.stderr)
        return 1
    for t in done:
        print(f"revoked token {t['id']} ({t['role']} {t['name']})")
    return 0
