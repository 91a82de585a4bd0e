"""Helpers for the administration tests: a scripted hall day and the fake provincial platform."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from queue_server.admin.hall_config import apply, validate
from queue_server.core import tickets, windows
from queue_server.ratings import evaluations


def set_config(hall, **sections: dict[str, Any]) -> None:
    """Change sections of the live configuration (as the admin page would)."""
    data = hall.config.model_dump(mode="json")
    for name, values in sections.items():
        data[name] = data[name] | values
    new = validate(data)
    hall.run_sync(lambda tx: apply(hall.ctx, tx, new, "admin:test"))


def issue(hall, service: str = "SW") -> dict[str, Any]:
    req = tickets.IssueRequest(service=service)
    return hall.run_sync(lambda tx: tickets.issue(hall.ctx, tx, req))[0]


def call_next(hall, window: int, staff: str = "王芳") -> dict[str, Any] | None:
    """Call at `window` as the staff account named `staff` when there is one (as a logged-in
    session does: its account and 工号 are recorded with the call), else by name only."""
    account = hall.db.rows("SELECT id FROM accounts WHERE name = ?", [staff])
    account_id = account[0]["id"] if len(account) == 1 else None
    return hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, window, staff, account_id))


def finish(hall, ticket_id: int) -> dict[str, Any]:
    return hall.run_sync(lambda tx: tickets.finish(hall.ctx, tx, ticket_id, None))


def skip(hall, ticket_id: int) -> dict[str, Any]:
    return hall.run_sync(lambda tx: tickets.skip(hall.ctx, tx, ticket_id, None))


def transfer(hall, ticket_id: int, service: str) -> dict[str, Any]:
    return hall.run_sync(lambda tx: tickets.transfer(hall.ctx, tx, ticket_id, service, None, None))


def rate(hall, ticket_id: int, level: int, reasons: list[str] | None = None) -> dict[str, Any]:
    reasons = reasons or ([] if level > 2 else ["slow"])
    return hall.run_sync(
        lambda tx: evaluations.create(hall.ctx, tx, ticket_id, level, reasons, "", "window", None)
    )


def served_ticket(hall, window: int = 11, service: str = "SW") -> dict[str, Any]:
    t = issue(hall, service)
    called = call_next(hall, window)
    assert called is not None and called["id"] == t["id"]
    return finish(hall, t["id"])


class FakeProvince:
    """The provincial 好差评 platform in miniature: fails on demand, dedups by record id."""

    def __init__(self) -> None:
        self.failing = False
        self.fail_next = 0
        self.requests: list[dict[str, Any]] = []  # every POST, including failed and repeated
        self.records: dict[str, dict[str, Any]] = {}  # accepted, by record id
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key", "")
                fake.requests.append({"key": key, "body": body})
                if fake.failing or fake.fail_next > 0:
                    fake.fail_next = max(0, fake.fail_next - 1)
                    self.send_response(503)
                    self.end_headers()
                    self.wfile.write(b"busy")
                    return
                fake.records.setdefault(key, body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/evaluations"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
