"""`hall kiosk`: the self-service ticket kiosk (自助取号机), real or simulated."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "kiosk",
        help="run the touch kiosk; --simulate with fake devices, --screenshots DIR to render every screen",
    )
    p.add_argument("--server", help="queue server base URL, e.g. http://10.0.0.2:8080")
    p.add_argument("--token", help="bearer token with the kiosk role (hall token --role kiosk)")
    p.add_argument("--idcard", help="ID card reader URL, e.g. serial:///dev/ttyUSB0?baud=115200")
    p.add_argument(
        "--printer", help="ticket printer URL, e.g. usb://0x0416:0x5011 or file:///tmp/t.bin"
    )
    p.add_argument("--camera", help="camera URL for QR lookup, e.g. camera://0")
    p.add_argument(
        "--simulate", action="store_true", help="fake devices, and a demo server unless --server"
    )
    p.add_argument(
        "--screenshots", metavar="DIR", help="render every screen to PNG files in DIR and exit"
    )
    p.add_argument("--kiosk-id", default="kiosk-1", help="name of this kiosk in keys and logs")
    p.add_argument(
        "--outbox", help="SQLite file for leases and offline tickets (default: in the temp dir)"
    )
    p.add_argument(
        "--offline-minutes", type=int, default=120, help="how long to issue without the server"
    )
    p.add_argument(
        "--size", metavar="WxH", help="a window of this size instead of full screen, e.g. 1080x1920"
    )
    p.add_argument("--mute", action="store_true", help="no speech")
    p.add_argument("--exit-after", type=float, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    if args.screenshots:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from kiosk.ui.app import run as run_kiosk

    return run_kiosk(args)
