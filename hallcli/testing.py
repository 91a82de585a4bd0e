"""`hall test`: lint, type-check and run the whole test suite (unit, integration, browser, Qt)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "test",
        help="run ruff, mypy, import-linter and the full pytest suite; exit 0 only if all pass",
    )
    p.add_argument("--fast", action="store_true", help="skip ruff, mypy and import-linter")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra arguments for pytest")
    p.set_defaults(func=run)


def _step(title: str, cmd: list[str], env: dict[str, str]) -> int:
    print(f"== {title}: {' '.join(cmd)}", flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    py = sys.executable
    failed: list[str] = []
    if not args.fast:
        if _step("ruff check", [py, "-m", "ruff", "check", "."], env):
            failed.append("ruff check")
        if _step("ruff format", [py, "-m", "ruff", "format", "--check", "."], env):
            failed.append("ruff format")
        if _step("mypy", [py, "-m", "mypy"], env):
            failed.append("mypy")
        # The architecture: one-way layers in queue_server/ (pyproject.toml, [tool.importlinter]).
        if _step("import-linter", [str(Path(py).parent / "lint-imports")], env):
            failed.append("import-linter")
    extra = [a for a in args.pytest_args if a != "--"]
    if _step("pytest", [py, "-m", "pytest", *extra], env):
        failed.append("pytest")
    if failed:
        print(f"hall test: FAILED ({', '.join(failed)})", flush=True)
        return 1
    print("hall test: all checks passed", flush=True)
    return 0
