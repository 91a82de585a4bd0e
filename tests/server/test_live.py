"""End to end: the real server process, its event stream, and a kill -9 in the middle of a burst."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest

from tests.support import ROOT, LiveServer, make_token

BUSY = str(ROOT / "tests" / "data" / "busy.toml")

pytestmark = pytest.mark.e2e


def read_events(url: str, token: str, n: int, last_id: int | None = None, timeout: float = 10.0):
    headers = {"Authorization": f"Bearer {token}"}
    if last_id is not None:
        headers["Last-Event-ID"] = str(last_id)
    events: list[dict] = []
    with httpx.stream("GET", f"{url}/api/v1/events", headers=headers, timeout=timeout) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        current: dict = {}
        for line in r.iter_lines():
            if line.startswith("id: "):
                current["id"] = int(line[4:])
            elif line.startswith("event: "):
                current["event"] = line[7:]
            elif line.startswith("data: "):
                current["data"] = line[6:]
            elif line == "" and "id" in current:
                events.append(current)
                current = {}
                if len(events) >= n:
                    break
    return events


def test_event_stream_live_and_resumed_with_last_event_id(tmp_path):
    db = tmp_path / "hall.db"
    kiosk, staff, display = (
        make_token(db, "kiosk"),
        make_token(db, "staff", 11),
        make_token(db, "display"),
    )
    server = LiveServer(db)
    try:
        h = {"Authorization": f"Bearer {kiosk}"}
        got: list = []
        reader = threading.Thread(target=lambda: got.extend(read_events(server.url, display, 3)))
        reader.start()
        time.sleep(0.5)  # the stream starts live: subscribe before the events happen
        for _ in range(2):
            assert (
                httpx.post(
                    f"{server.url}/api/v1/tickets", json={"service": "SW"}, headers=h
                ).status_code
                == 201
            )
        called = httpx.post(
            f"{server.url}/api/v1/windows/11/call-next",
            headers={"Authorization": f"Bearer {staff}"},
        )
        assert called.status_code == 200
        reader.join(10)
        assert not reader.is_alive(), got  # all three arrived (no timing asserted: noisy machine)
        assert [e["event"] for e in got] == ["ticket.issued", "ticket.issued", "ticket.called"]
        ids = [e["id"] for e in got]
        assert ids == sorted(ids) and len(set(ids)) == 3
        # resume after the first event: the two later ones are replayed, in order
        replay = read_events(server.url, display, 2, last_id=ids[0])
        assert [e["id"] for e in replay] == ids[1:]
        # the access_token query parameter works for EventSource
        with httpx.stream(
            "GET", f"{server.url}/api/v1/events?access_token={display}", timeout=5
        ) as r:
            assert r.status_code == 200
        assert httpx.get(f"{server.url}/api/v1/events", timeout=5).status_code == 401
    finally:
        assert server.stop() == 0  # SIGTERM: a clean exit


def test_kill_9_during_a_burst_loses_no_acknowledged_ticket(tmp_path):
    db = tmp_path / "hall.db"
    server = LiveServer(db, "--config", BUSY)
    kiosk = make_token(db, "kiosk")
    h = {"Authorization": f"Bearer {kiosk}"}
    acked: list[tuple[int, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def burst() -> None:
        with httpx.Client(base_url=server.url, headers=h, timeout=5) as c:
            while not stop.is_set():
                try:
                    r = c.post(
                        "/api/v1/tickets",
                        json={"service": "SW", "idempotency_key": uuid.uuid4().hex},
                    )
                except httpx.HTTPError:
                    return  # the server died mid-request: that ticket was never acknowledged
                if r.status_code == 201:
                    with lock:
                        acked.append((r.json()["id"], r.json()["number"]))

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    server.kill9()
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acked) > 50
    server = LiveServer(db)
    try:
        with httpx.Client(base_url=server.url, headers=h, timeout=5) as c:
            for tid, number in acked:
                r = c.get(f"/api/v1/tickets/{tid}")
                assert r.status_code == 200 and r.json()["number"] == number
            after = [
                c.post("/api/v1/tickets", json={"service": "SW"}).json()["number"]
                for _ in range(20)
            ]
        before = {n for _, n in acked}
        assert not before & set(after), "a number was given twice across the crash"
        assert len(set(after)) == 20
    finally:
        server.stop()
