"""`hall city`: the city gateway (政务服务地图); and the city demo behind `hall demo --city`."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Three halls of the demo city: id, name, district, address, latitude, longitude.
DEMO_HALLS = [
    ("wujiang", "武江区政务服务中心", "武江区", "沿江路 16 号", 24.7933, 113.5705),
    ("xihe", "西河镇便民服务中心", "武江区", "西河大道 8 号", 24.8163, 113.5382),
    ("zhenjiang", "浈江区政务服务中心", "浈江区", "南枝路 1 号", 24.8043, 113.6107),
]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("city", help="run the city gateway (public pages for citizens' phones)")
    p.add_argument("--broker", required=True, help="the city broker, mqtt://host:port")
    p.add_argument("--gw-id", default="gw1", help="this gateway's id (its topics gw/v1/ID/…)")
    p.add_argument("--username", default="", help="broker user (default gw-ID)")
    p.add_argument(
        "--password-file", help="file holding the broker password (or env HALL_CITY_PASSWORD)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    p.add_argument("--log-level", default="warning")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from city.link import GatewaySettings

    password = os.environ.get("HALL_CITY_PASSWORD", "")
    if args.password_file:
        password = Path(args.password_file).read_text(encoding="utf-8").strip()
    settings = GatewaySettings(
        broker=args.broker, gw_id=args.gw_id, username=args.username, password=password
    )
    return serve(settings, args.host, args.port, args.log_level)


def serve(settings: Any, host: str, port: int, log_level: str = "warning") -> int:
    import uvicorn

    from city.app import create_app

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            bound = port
            for srv in self.servers:
                for sock in srv.sockets:
                    bound = sock.getsockname()[1]
            print(f"city gateway: listening on http://{host}:{bound}", flush=True)

        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # a ticket page's URL is its holder's key
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=3,
        limit_concurrency=10000,
        timeout_keep_alive=20,
    )
    Server(config).run()
    return 0


def hall_config(hall_id: str, broker: str, password: str, gateway: str) -> dict[str, Any]:
    """The demo hall's TOML with this hall's name and a `[city]` section."""
    _, name, district, address, lat, lon = next(h for h in DEMO_HALLS if h[0] == hall_id)
    data = tomllib.loads((ROOT / "assets" / "halls" / "demo.toml").read_text(encoding="utf-8"))
    data["hall"]["name"] = name
    data["hall"]["public_base_url"] = f"{gateway}/h/{hall_id}"
    data["hall"]["staffing"] = "open"
    data["city"] = {
        "broker": broker,
        "hall_id": hall_id,
        "password": password,
        "district": district,
        "address": address,
        "lat": lat,
        "lon": lon,
    }
    return data


def seed_tickets(db: Path, count: int) -> list[str]:
    """Issue a few tickets in a new demo hall; their public codes."""
    from queue_server.core import tickets
    from queue_server.runtime.hall import Hall

    hall = Hall(db)
    codes: list[str] = []
    try:
        plain = [s.code for s in hall.config.services if not s.real_name]
        for i in range(count):
            req = tickets.IssueRequest(service=plain[i % len(plain)], enforce_hours=False)
            view, _ = hall.run_sync(lambda tx, r=req: tickets.issue(hall.ctx, tx, r))  # type: ignore[misc]
            row = hall.db.reader.execute(
                "SELECT code FROM tickets WHERE id = ?", (view["id"],)
            ).fetchone()
            codes.append(row[0])
    finally:
        hall.close()
    return codes


def run_demo(args: argparse.Namespace) -> int:
    """A Mosquitto, three demo halls linked to it, and the gateway in the foreground."""
    import tomli_w

    from city.broker import Broker, free_port
    from city.link import GatewaySettings

    work = Path(args.dir) / "city"
    ids = [h[0] for h in DEMO_HALLS]
    broker = Broker(work / "broker", halls=ids)
    if args.fresh or not (work / "broker" / "mosquitto.conf").exists():
        import shutil

        shutil.rmtree(work, ignore_errors=True)
        broker.write_files()
        (work / "passwords.toml").write_text(tomli_w.dumps(broker.passwords), encoding="utf-8")
    else:
        broker.passwords = tomllib.loads((work / "passwords.toml").read_text(encoding="utf-8"))
        conf = (work / "broker" / "mosquitto.conf").read_text(encoding="utf-8")
        broker.port = int(conf.split("listener ", 1)[1].split()[0])
    broker.start()
    gw_port = free_port(args.host)
    gateway = f"http://{args.host}:{gw_port}"
    halls: list[subprocess.Popen[bytes]] = []
    lines = []
    try:
        for i, hid in enumerate(ids):
            db = work / f"{hid}.db"
            codes: list[str] = []
            if not db.exists():
                cfg = work / f"{hid}.toml"
                data = hall_config(hid, broker.url, broker.hall_password(hid), gateway)
                cfg.write_text(tomli_w.dumps(data), encoding="utf-8")
                from queue_server.runtime.hall import Hall

                Hall(db, cfg).close()
                codes = seed_tickets(db, 4 + 6 * i)
            port = free_port(args.host)
            cmd = [sys.executable, "-m", "hallcli.main", "server", "--db", str(db)]
            cmd += ["--host", args.host, "--port", str(port)]
            halls.append(subprocess.Popen(cmd, cwd=ROOT))
            line = f"  {hid:<10} http://{args.host}:{port}/staff"
            if codes:
                line += f"   a ticket: {gateway}/h/{hid}/t/{codes[-1]}"
            lines.append(line)
        print(
            f"\n政务服务地图 — demo city\n  broker     {broker.url} (Mosquitto, ACL per hall)\n"
            f"  gateway    {gateway}/\n" + "\n".join(lines) + "\nPress Ctrl+C to stop.\n",
            flush=True,
        )
        time.sleep(0.5)
        settings = GatewaySettings(
            broker=broker.url, gw_id="gw1", password=broker.gateway_password("gw1")
        )
        return serve(settings, args.host, gw_port)
    finally:
        for p in halls:
            p.terminate()
        for p in halls:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        broker.stop()
