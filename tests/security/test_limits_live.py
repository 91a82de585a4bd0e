"""Live: a thousand idle event streams, the stream cap, slow and oversized requests, HTTPS."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time

import httpx
import pytest

from tests.support import ROOT, LiveServer, hall_cmd, make_token

pytestmark = pytest.mark.e2e
BUSY = (ROOT / "tests" / "data" / "busy.toml").read_text(encoding="utf-8")
CAP = 900
IDLE = 1000


def hall_toml(tmp_path, security: str) -> str:
    path = tmp_path / "hall.toml"
    path.write_text(BUSY + "\n[security]\n" + security + "\n", encoding="utf-8")
    return str(path)


def open_stream(host: str, port: int, token: str) -> socket.socket:
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(
        f"GET /api/v1/events?access_token={token} HTTP/1.1\r\nHost: {host}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    return s


def status_of(s: socket.socket) -> int:
    s.settimeout(10)
    head = b""
    while b"\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1") else 0


@pytest.mark.timeout(240)
def test_a_thousand_idle_streams_are_capped_and_the_server_still_answers(tmp_path):
    db = tmp_path / "hall.db"
    cfg = hall_toml(tmp_path, f"max_event_streams = {CAP}")
    server = LiveServer(db, "--config", cfg, "--max-connections", "3000")
    display, kiosk = make_token(db, "display"), make_token(db, "kiosk")
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    socks: list[socket.socket] = []
    try:
        # a slow client: promises 100 bytes of body, sends 10, then nothing
        slow = socket.create_connection((host, int(port)), timeout=30)
        slow.sendall(
            f"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {kiosk}\r\n"
            'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"service"'.encode()
        )
        # a slowloris client: half a request line, then nothing
        loris = socket.create_connection((host, int(port)), timeout=30)
        loris.sendall(b"GET /api/v1/health HT")

        socks = [open_stream(host, int(port), display) for _ in range(IDLE)]
        statuses = [status_of(s) for s in socks]
        assert statuses.count(200) == CAP, statuses.count(200)
        assert statuses.count(503) == IDLE - CAP

        # still answering, quickly, and events still reach the idle streams
        with httpx.Client(base_url=server.url, timeout=10) as c:  # answers within 10 s
            assert c.get("/api/v1/health").status_code == 200
            r = c.post(
                "/api/v1/tickets",
                json={"service": "SW"},
                headers={"Authorization": f"Bearer {kiosk}"},
            )
            assert r.status_code == 201
            over = c.get("/api/v1/events", headers={"Authorization": f"Bearer {display}"})
            assert over.status_code == 503
            assert over.json()["error"]["code"] == "too_many_streams"
            assert over.headers["retry-after"]
        listening = next(s for s, code in zip(socks, statuses, strict=True) if code == 200)
        got = b""
        deadline = time.monotonic() + 10
        while b"ticket.issued" not in got and time.monotonic() < deadline:
            got += listening.recv(65536)
        assert b"ticket.issued" in got

        # the slow body is cut off with 408 within the body timeout
        slow.settimeout(20)
        assert b" 408 " in slow.recv(4096).split(b"\r\n", 1)[0] + b" "
    finally:
        for s in socks:
            s.close()
    try:
        # closed streams free their places
        deadline = time.monotonic() + 15
        code = 0
        while time.monotonic() < deadline:
            s = open_stream(host, int(port), display)
            code = status_of(s)
            s.close()
            if code == 200:
                break
            time.sleep(0.5)
        assert code == 200
    finally:
        assert server.stop() == 0


def test_an_oversized_body_is_refused_before_it_is_sent(tmp_path):
    db = tmp_path / "hall.db"
    server = LiveServer(db)
    kiosk = make_token(db, "kiosk")
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(
            f"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {kiosk}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {50 * 2**20}\r\n\r\n".encode()
        )
        answer = b""
        while chunk := s.recv(4096):  # the server closes the connection after the answer
            answer += chunk
        s.close()
        assert answer.startswith(b"HTTP/1.1 413")
        assert b'"too_large"' in answer
    finally:
        assert server.stop() == 0


def test_https_with_a_self_signed_certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    db = tmp_path / "hall.db"
    server = LiveServer(db, "--certfile", str(cert), "--keyfile", str(key))
    try:
        assert server.url.startswith("https://")
        trust = ssl.create_default_context(cafile=str(cert))
        r = httpx.get(f"{server.url}/api/v1/health", verify=trust, timeout=10)
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        assert r.headers["strict-transport-security"].startswith("max-age=")
        with pytest.raises(httpx.HTTPError):
            httpx.get(server.url.replace("https://", "http://") + "/api/v1/health", timeout=5)
    finally:
        assert server.stop() == 0
    half = subprocess.run(
        hall_cmd("server", "--db", str(db), "--certfile", str(cert)),
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert half.returncode == 2 and "--keyfile" in half.stderr
