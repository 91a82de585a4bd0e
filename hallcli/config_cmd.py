"""`hall config check FILE` and `hall config docs`: validate a hall TOML, document every key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="check a hall TOML file or regenerate docs/CONFIG.md")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION")
    check = csub.add_parser("check", help="validate a hall TOML file")
    check.add_argument("file")
    check.set_defaults(func=run_check)
    docs = csub.add_parser("docs", help="write docs/CONFIG.md from the configuration models")
    docs.add_argument("--out", default=str(ROOT / "docs" / "CONFIG.md"))
    docs.set_defaults(func=run_docs)
    export = csub.add_parser(
        "export", help="write a database's live configuration as a hall TOML file"
    )
    export.add_argument("--db", required=True)
    export.add_argument("--out", help="file to write (default: stdout)")
    export.set_defaults(func=run_export)


def run_check(args: argparse.Namespace) -> int:
    from queue_server.base.config import HallConfigError, load_config

    try:
        cfg = load_config(args.file)
    except HallConfigError as err:
        print(err, file=sys.stderr)
        return 1
    print(
        f"{args.file}: ok — {cfg.hall.name}, {len(cfg.services)} services, {len(cfg.windows)} windows"
    )
    return 0


def run_docs(args: argparse.Namespace) -> int:
    from queue_server.base.config_docs import render

    Path(args.out).write_text(render(), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Read-only: safe while the server runs (import goes through /admin, which validates)."""
    import sqlite3

    import orjson

    from queue_server.admin.hall_config import to_toml
    from queue_server.base.config import parse_config

    if not Path(args.db).exists():
        print(f"{args.db}: no such database", file=sys.stderr)
        return 1
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
    except sqlite3.DatabaseError as err:
        print(f"{args.db}: {err}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    if row is None:
        print(f"{args.db}: not initialised", file=sys.stderr)
        return 1
    text = to_toml(parse_config(orjson.loads(row[0]), "stored configuration"))
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0
