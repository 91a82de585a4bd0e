"""`hall server`: run the queue server in the foreground until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from datetime import datetime
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("server", help="run the queue server in the foreground")
    p.add_argument("--db", required=True, help="SQLite database file (created if missing)")
    p.add_argument(
        "--config", help="hall TOML used to initialise an empty database (default: demo hall)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    p.add_argument("--log-level", default="warning")
    p.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="simulation only: run the hall clock this many times faster than real time",
    )
    p.add_argument("--start-time", help="simulation only: hall clock start, ISO 8601")
    p.add_argument("--certfile", help="TLS certificate (PEM): serve HTTPS instead of HTTP")
    p.add_argument("--keyfile", help="TLS private key (PEM) for --certfile")
    p.add_argument(
        "--max-connections",
        type=int,
        default=4000,
        help="concurrent connections before new ones get 503 (event streams count too)",
    )
    p.set_defaults(func=run)


def make_clock(args: argparse.Namespace, timezone: str = "Asia/Shanghai") -> Any:
    if not args.time_scale:
        return None
    from queue_server.base.clock import ScaledClock

    start = (
        datetime.fromisoformat(args.start_time) if args.start_time else datetime.now().astimezone()
    )
    return ScaledClock(start, args.time_scale, timezone)


def _raise_fd_limit(wanted: int) -> int:
    """Raise the open-files limit for `wanted` connections; returns what fits under it."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted + 256 if hard == resource.RLIM_INFINITY else min(hard, wanted + 256)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    except (ImportError, ValueError, OSError):
        return wanted
    return wanted if soft == resource.RLIM_INFINITY else max(64, min(wanted, soft - 256))


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from queue_server.api import create_app
    from queue_server.base.config import HallConfigError
    from queue_server.base.db import DatabaseDamaged
    from queue_server.runtime.hall import Hall

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    if bool(args.certfile) != bool(args.keyfile):
        print("hall server: --certfile and --keyfile go together", file=sys.stderr)
        return 2
    scheme = "https" if args.certfile else "http"
    max_connections = _raise_fd_limit(args.max_connections)
    try:
        hall = Hall(args.db, args.config, clock=make_clock(args))
    except (HallConfigError, DatabaseDamaged) as err:
        print(f"hall server: {err}", file=sys.stderr)
        return 2
    if hall.config_ignored:
        print(
            f"note: {args.db} is already initialised; --config is ignored "
            "(change the live configuration from /admin or import a TOML there)",
            file=sys.stderr,
        )

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            port = args.port
            for srv in self.servers:
                for sock in srv.sockets:
                    port = sock.getsockname()[1]
            # Everything alive now (modules, the app, its routes, the hall's configuration)
            # lives as long as the server: move it out of the collector's sight. Otherwise
            # each full collection walks it all and stalls every request in flight for
            # ~40 ms about once a second under load (measured).
            gc.collect()
            gc.freeze()
            print(f"hall server: listening on {scheme}://{args.host}:{port}", flush=True)

        def handle_exit(self, sig: int, frame: Any) -> None:
            # uvicorn re-raises the signal after shutdown (exit status -15); a graceful
            # shutdown on SIGTERM/SIGINT is a clean exit here, status 0.
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    config = uvicorn.Config(
        create_app(hall),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,  # no per-request logs: URLs could carry personal data
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=3,
        limit_concurrency=max_connections,
        # Longer than clients keep idle connections (browsers, httpx: 5 s), so the server
        # never closes one just as a client sends on it (a POST lost to that race).
        timeout_keep_alive=20,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
    )
    try:
        Server(config).run()
    finally:
        hall.close()
    return 0
