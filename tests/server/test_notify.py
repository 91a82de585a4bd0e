"""'Your turn is near': a fake SMS gateway webhook, retries, phone erasure, never blocking."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from queue_server.base.config import NotifySection, load_config
from queue_server.core import tickets, windows
from queue_server.runtime.hall import Hall


class FakeGateway:
    """An HTTP server that records JSON posts and fails the first `fail_first` of them."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict] = []
        self.attempts = 0
        self.fail_first = fail_first
        self.got = threading.Event()
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.attempts += 1
                if gateway.attempts <= gateway.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                gateway.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                gateway.got.set()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def hall_with(tmp_path: Path, clock, url: str, sender=None, start: bool = True) -> Hall:
    """A hall whose notifier is started, as the server's start_background does."""
    cfg = load_config()
    notify = NotifySection(webhook_url=url, retry_seconds=0.0, retries=3, timeout_seconds=5)
    hall = Hall(
        tmp_path / "n.db",
        clock=clock,
        config=cfg.model_copy(update={"notify": notify}),
        notify_sender=sender,
    )
    if start:
        hall.notifier.start()
    return hall


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    g = FakeGateway(fail_first=1)
    yield g
    g.close()


def wait_for(pred, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def issue(hall: Hall, service: str = "SW") -> dict:
    req = tickets.IssueRequest(service=service)
    return hall.run_sync(lambda tx: tickets.issue(hall.ctx, tx, req))[0]


def test_message_when_three_ahead_with_retry_and_erasure(tmp_path, clock, gateway):
    from queue_server.runtime.notify import register_contact

    hall = hall_with(tmp_path, clock, gateway.url)
    try:
        views = [issue(hall) for _ in range(8)]
        mine = views[-1]
        out = hall.run_sync(lambda tx: register_contact(hall.ctx, tx, mine["id"], "13812345678"))
        assert out["phone_masked"] == "138****5678"
        for _ in range(3):  # window 11 calls: 7 → 4 ahead, no message yet
            hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, 11, None))
        assert not gateway.received
        hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, 11, None))  # 3 ahead
        assert gateway.got.wait(20)
        msg = gateway.received[0]
        assert msg["phone"] == "13812345678" and msg["ticket"] == mine["number"]
        assert msg["ahead"] == 3 and mine["number"] in msg["text"]
        assert wait_for(lambda: hall.db.row("SELECT state FROM ticket_contacts")["state"] == "sent")
        row = hall.db.row("SELECT * FROM ticket_contacts")
        assert row["phone"] is None and row["attempts"] == 2  # one 503, then delivered
        hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, 11, None))
        assert wait_for(lambda: hall.db.row("SELECT 1 FROM events WHERE type = 'notify.sent'"))
        assert len(gateway.received) == 1  # once only
    finally:
        hall.close()


def test_called_before_threshold_erases_the_number(tmp_path, clock, gateway):
    from queue_server.runtime.notify import register_contact

    hall = hall_with(tmp_path, clock, gateway.url)
    try:
        v = issue(hall)
        hall.run_sync(lambda tx: register_contact(hall.ctx, tx, v["id"], "13900001111"))
        # ahead 0 ≤ 3: a message goes out at once; then calling it changes nothing.
        assert gateway.got.wait(20)
        hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, 11, None))
        assert wait_for(lambda: hall.db.row("SELECT phone FROM ticket_contacts")["phone"] is None)
    finally:
        hall.close()


def test_a_hanging_gateway_never_blocks_calls(tmp_path, clock):
    from queue_server.runtime import notify

    release = threading.Event()
    started = threading.Event()

    def stuck_sender(url: str, payload: dict, timeout: float) -> None:
        started.set()
        release.wait(30)

    hall = hall_with(tmp_path, clock, "http://127.0.0.1:9/never", sender=stuck_sender)
    try:
        views = [issue(hall) for _ in range(3)]
        hall.run_sync(
            lambda tx: notify.register_contact(hall.ctx, tx, views[0]["id"], "13800000000")
        )
        assert started.wait(20)  # the sender is now stuck
        for _ in range(3):  # calls still go through while the gateway hangs
            assert hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, 11, None))
        assert issue(hall)["number"]
    finally:
        release.set()
        hall.close()


def test_a_number_pending_from_before_a_restart_is_sent_at_start(tmp_path, clock, gateway):
    from queue_server.runtime.notify import register_contact

    hall = hall_with(tmp_path, clock, gateway.url, start=False)
    try:
        v = issue(hall)
        hall.run_sync(lambda tx: register_contact(hall.ctx, tx, v["id"], "13900001111"))
    finally:
        hall.close()  # not started: nothing was sent
    assert gateway.attempts == 0
    hall = hall_with(tmp_path, clock, gateway.url)
    try:
        assert gateway.got.wait(20)
        assert gateway.received[0]["ticket"] == v["number"]
    finally:
        hall.close()


def test_notify_endpoint_and_check_in_phone(api):
    r = api.post(
        "/api/v1/tickets/1/notify", json={"phone": "13812345678"}, headers=api.who("kiosk")
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "notify_disabled"
