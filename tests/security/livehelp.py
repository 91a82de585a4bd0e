"""Helpers for the live (subprocess) security tests: SSE reading, load threads, HTTPS server."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path

import httpx


def sse_ids(
    url: str,
    token: str,
    last_id: int | None = None,
    until: int | None = None,
    timeout: float = 20.0,
    into: list[int] | None = None,
) -> list[int]:
    """Event ids from the stream, until id `until` arrives, the timeout passes or it breaks."""
    ids: list[int] = [] if into is None else into
    headers = {"Authorization": f"Bearer {token}"}
    if last_id is not None:
        headers["Last-Event-ID"] = str(last_id)
    deadline = time.monotonic() + timeout
    try:
        with httpx.stream(
            "GET", f"{url}/api/v1/events", headers=headers, timeout=httpx.Timeout(5, read=timeout)
        ) as r:
            assert r.status_code == 200, r.status_code
            for line in r.iter_lines():
                if line.startswith("id: "):
                    ids.append(int(line[4:]))
                    if until is not None and ids[-1] >= until:
                        break
                if time.monotonic() > deadline:
                    break
    except httpx.HTTPError:
        pass  # the server went away: what arrived so far is the answer
    return ids


def event_ids(db: Path, after: int = 0) -> list[int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [
            r[0] for r in conn.execute("SELECT id FROM events WHERE id > ? ORDER BY id", (after,))
        ]
    finally:
        conn.close()


class Load:
    """Issuing threads and calling threads against a live server, recording what was acked."""

    def __init__(self, url: str, kiosk: str, staff: dict[int, str], issuers: int = 4) -> None:
        self.url = url
        self.kiosk = kiosk
        self.staff = staff
        self.issuers = issuers
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.issued: list[tuple[int, str, float]] = []  # (id, number, acked at)
        self.called: list[tuple[int, int]] = []  # (ticket id, window)
        self.errors: list[str] = []
        self.limited = 0  # issues refused by the per-device rate limit
        self.threads: list[threading.Thread] = []

    def start(self) -> Load:
        for _ in range(self.issuers):
            self.threads.append(threading.Thread(target=self._issue, daemon=True))
        for no, token in self.staff.items():
            self.threads.append(threading.Thread(target=self._call, args=(no, token), daemon=True))
        for t in self.threads:
            t.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(15)

    def _issue(self) -> None:
        h = {"Authorization": f"Bearer {self.kiosk}"}
        with httpx.Client(base_url=self.url, headers=h, timeout=10) as c:
            while not self.stop.is_set():
                try:
                    r = c.post(
                        "/api/v1/tickets",
                        json={"service": "SW", "idempotency_key": uuid.uuid4().hex},
                    )
                except httpx.HTTPError:
                    return  # the server died mid-request: never acknowledged
                if r.status_code == 201:
                    with self.lock:
                        self.issued.append((r.json()["id"], r.json()["number"], time.monotonic()))
                elif r.status_code == 429 and r.json()["error"]["code"] == "issue_rate_limited":
                    self.limited += 1  # one kiosk token tapping flat out meets its per-minute cap
                else:  # any other refusal is as wrong as a 5xx
                    self.errors.append(f"issue {r.status_code} {r.text[:120]}")

    def _call(self, no: int, token: str) -> None:
        h = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=self.url, headers=h, timeout=10) as c:
            while not self.stop.is_set():
                try:
                    r = c.post(f"/api/v1/windows/{no}/call-next")
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    with self.lock:
                        self.called.append((r.json()["id"], no))
                elif r.status_code == 204:
                    time.sleep(0.05)
                else:  # the windows stay open: nothing but a ticket or "none waiting"
                    self.errors.append(f"call {r.status_code} {r.text[:120]}")
