"""Dispatch `hall SUBCOMMAND …` to the module that owns it; each imports its heavy parts lazily."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module exposes register(subparsers); the order is the order `hall --help` lists them.
COMMAND_MODULES = [
    "hallcli.demo",
    "hallcli.testing",
    "hallcli.server",
    "hallcli.accounts",
    "hallcli.device",
    "hallcli.kiosk",
    "hallcli.bench",
    "hallcli.maintenance",
    "hallcli.config_cmd",
    "hallcli.security",
    "hallcli.city",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hall", description="Government service hall queue system (政务服务大厅排队叫号)."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
