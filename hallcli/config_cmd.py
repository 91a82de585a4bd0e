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


def run_check(args: argparse.Namespace) -> int:
    from queue_server.config import HallConfigError, load_config

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
    from queue_server.config_docs import render

    Path(args.out).write_text(render(), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0
