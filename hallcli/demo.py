"""`hall demo`: a whole demo hall on this machine, with accounts and the URLs to open."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / ".hall-demo"
DEMO_PASSWORD_ADMIN = "Admin1234"
DEMO_PASSWORD_STAFF = "Staff1234"
DEMO_STAFF = [
    ("staff01", "王芳", 1, "GZ0101"),
    ("staff02", "李强", 2, "GZ0102"),
    ("staff03", "陈静", 3, "GZ0103"),
    ("staff11", "刘洋", 11, "GZ0111"),
    ("staff14", "赵敏", 14, "GZ0114"),
]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run a whole demo hall on this machine")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--fresh", action="store_true", help="start from an empty demo database")
    p.add_argument("--dir", default=str(DEMO_DIR), help="where the demo database lives")
    p.add_argument("--no-kiosk", action="store_true", help="do not open the kiosk window")
    p.add_argument(
        "--city",
        action="store_true",
        help="a demo city instead: Mosquitto, three linked halls and the city gateway",
    )
    p.set_defaults(func=run)


def free_port(host: str, preferred: int) -> int:
    """`preferred` if it is free, else any free port (0 asks for any)."""
    with socket.socket() as s:
        try:
            s.bind((host, preferred))
        except OSError:
            s.bind((host, 0))
        return int(s.getsockname()[1])


def seed(db: Path) -> dict[str, str]:
    """Create the demo accounts and device tokens in a new demo database."""
    from queue_server.admin.accounts import create_account, create_token
    from queue_server.runtime.hall import Hall

    hall = Hall(db)
    tokens: dict[str, str] = {}
    try:

        def op(tx):  # type: ignore[no-untyped-def]
            create_account(tx, "admin", DEMO_PASSWORD_ADMIN, "admin", "大厅管理员", None, "GZ0001")
            for username, name, window, staff_no in DEMO_STAFF:
                create_account(tx, username, DEMO_PASSWORD_STAFF, "staff", name, window, staff_no)
            tokens["kiosk"] = create_token(tx, "kiosk", "kiosk-1")
            tokens["display"] = create_token(tx, "display", "display-1")
            tokens["evaluator"] = create_token(tx, "evaluator", "evaluator-1", 1)
            hall.audit(tx, "demo", "demo.seed")

        hall.run_sync(op)
    finally:
        hall.close()
    (db.parent / "tokens.txt").write_text(
        "".join(f"{k}={v}\n" for k, v in tokens.items()), encoding="utf-8"
    )
    return tokens


def read_tokens(db: Path) -> dict[str, str]:
    path = db.parent / "tokens.txt"
    if not path.exists():
        return {}
    pairs = (
        line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line
    )
    return {k: v for k, v in pairs}


def run(args: argparse.Namespace) -> int:
    from hallcli import server

    if args.city:
        from hallcli import city

        return city.run_demo(args)
    demo_dir = Path(args.dir)
    demo_dir.mkdir(parents=True, exist_ok=True)
    db = demo_dir / "demo.db"
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    tokens = seed(db) if not db.exists() else read_tokens(db)
    port = free_port(args.host, args.port)
    base = f"http://{args.host}:{port}"
    print(
        f"""
武江区政务服务中心 — demo hall
  database     {db}
  staff        {base}/staff       accounts: {", ".join(f"{u} (window {w})" for u, _, w, _ in DEMO_STAFF)}
                                  password: {DEMO_PASSWORD_STAFF}
  display      {base}/display?access_token={tokens.get("display", "")}
  evaluator    {base}/evaluator?window=1&access_token={tokens.get("evaluator", "")}
  window screen {base}/window-screen?window=1&access_token={tokens.get("display", "")}
  admin        {base}/admin       account: admin  password: {DEMO_PASSWORD_ADMIN}
  API docs     {base}/docs
  kiosk token  {tokens.get("kiosk", "")}
Press Ctrl+C to stop.
""",
        flush=True,
    )
    kiosk = None if args.no_kiosk else start_kiosk(base, tokens.get("kiosk", ""))
    from hallcli.main import build_parser

    ns = build_parser().parse_args(
        ["server", "--db", str(db), "--host", args.host, "--port", str(port)]
    )
    try:
        return server.run(ns)
    finally:
        if kiosk is not None and kiosk.poll() is None:
            kiosk.terminate()
            kiosk.wait(10)


def start_kiosk(base: str, token: str) -> subprocess.Popen[bytes] | None:
    """Open the kiosk (fake ID reader and printer) beside the server when there is a screen."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print(
            "  kiosk        not opened: this machine has no display. On a desktop it opens by itself;\n"
            "               here, see every kiosk screen as PNG files with\n"
            "               ./hall kiosk --screenshots /tmp/kiosk-screens\n",
            flush=True,
        )
        return None
    cmd = [sys.executable, "-m", "hallcli.main", "kiosk", "--simulate", "--server", base]
    cmd += ["--token", token, "--size", "810x1440"]
    print(
        "  kiosk        opening in a window (F1/F2 place a sample ID card, F3 paper out)\n",
        flush=True,
    )
    return subprocess.Popen(cmd, cwd=ROOT)
