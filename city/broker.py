"""Start a real Mosquitto for the tests, `hall demo --city` and the city bench.

A generated configuration on a free loopback port, a password file made with
`mosquitto_passwd` (one user per hall, one for the gateway) and an ACL file in which a hall
can write only its own topics and read only its own requests (docs/CITY.md, "ACLs").
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"


class BrokerError(RuntimeError):
    """Mosquitto is missing or did not start."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def hall_username(hall_id: str) -> str:
    return f"hall-{hall_id}"


def gateway_username(gw_id: str) -> str:
    return f"gw-{gw_id}"


def acl_text(halls: list[str], gateways: list[str]) -> str:
    """The ACL: each hall writes its status, heartbeat and tickets and the answers to its own
    requests; it reads only its requests. A gateway reads every hall's public topics, writes
    requests, and reads only the answers addressed to it."""
    lines: list[str] = []
    for hid in halls:
        lines += [
            f"user {hall_username(hid)}",
            f"topic write hall/v1/{hid}/status",
            f"topic write hall/v1/{hid}/online",
            f"topic write hall/v1/{hid}/queues/+",
            f"topic write hall/v1/{hid}/tickets/+",
            f"topic read hall/v1/{hid}/req/+",
            f"topic write gw/v1/+/resp/{hid}/+",
            "",
        ]
    for gw in gateways:
        lines += [
            f"user {gateway_username(gw)}",
            "topic read hall/v1/+/status",
            "topic read hall/v1/+/online",
            "topic read hall/v1/+/queues/+",
            "topic read hall/v1/+/tickets/+",
            "topic write hall/v1/+/req/+",
            f"topic read gw/v1/{gw}/resp/#",
            "",
        ]
    return "\n".join(lines)


@dataclass
class Broker:
    """One Mosquitto process in `workdir`; `passwords` maps each user to its password."""

    workdir: Path
    halls: list[str]
    gateways: list[str] = field(default_factory=lambda: ["gw1"])
    port: int = 0
    host: str = "127.0.0.1"
    passwords: dict[str, str] = field(default_factory=dict)
    max_connections: int = -1
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def hall_password(self, hall_id: str) -> str:
        return self.passwords[hall_username(hall_id)]

    def gateway_password(self, gw_id: str = "gw1") -> str:
        return self.passwords[gateway_username(gw_id)]

    def write_files(self) -> None:
        if not Path(MOSQUITTO).exists() or not Path(MOSQUITTO_PASSWD).exists():
            raise BrokerError("Mosquitto is not installed (Debian package `mosquitto`)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port(self.host)
        users = [hall_username(h) for h in self.halls] + [
            gateway_username(g) for g in self.gateways
        ]
        for user in users:
            self.passwords.setdefault(user, secrets.token_urlsafe(12))
        plain = self.workdir / "passwd"
        # mosquitto_passwd -U hashes a whole file of user:password lines in one run.
        plain.write_text("".join(f"{u}:{self.passwords[u]}\n" for u in users), encoding="utf-8")
        os.chmod(plain, 0o600)
        subprocess.run([MOSQUITTO_PASSWD, "-U", str(plain)], check=True, capture_output=True)
        (self.workdir / "acl").write_text(acl_text(self.halls, self.gateways), encoding="utf-8")
        os.chmod(self.workdir / "acl", 0o600)
        persist = self.workdir / "data"
        persist.mkdir(exist_ok=True)
        conf = [
            "per_listener_settings false",
            # Run as whoever starts it (as root it would drop to `mosquitto`, who cannot read
            # a private work directory).
            f"user {getpass.getuser()}",
            f"listener {self.port} {self.host}",
            "allow_anonymous false",
            f"password_file {plain}",
            f"acl_file {self.workdir / 'acl'}",
            "persistence true",
            f"persistence_location {persist}/",
            "autosave_interval 60",
            f"max_connections {self.max_connections}",
            "max_queued_messages 10000",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        (self.workdir / "mosquitto.conf").write_text("\n".join(conf) + "\n", encoding="utf-8")

    def start(self, timeout: float = 10.0) -> Broker:
        if self.proc is None or self.proc.poll() is not None:
            if not (self.workdir / "mosquitto.conf").exists():
                self.write_files()
            with open(self.workdir / "mosquitto.log", "ab") as log:
                self.proc = subprocess.Popen(
                    [MOSQUITTO, "-c", str(self.workdir / "mosquitto.conf")],
                    stdout=log,
                    stderr=log,
                    cwd=self.workdir,
                )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = (self.workdir / "mosquitto.log").read_text(errors="replace")[-800:]
                raise BrokerError(f"mosquitto exited with {self.proc.returncode}: {tail}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise BrokerError(f"mosquitto did not listen on {self.host}:{self.port}")

    def stop(self) -> None:
        """Stop the broker (SIGTERM: it saves its persistent sessions and retained messages)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
