"""The 12345 hand-off: stored and forwarded through a failing webhook (a local HTTP server),
signed both ways, masked unless configured, and the signed outcome received once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from queue_server.ratings import evaluations, followup, hotline
from tests.admin.helpers import rate, served_ticket, set_config

SECRET = "s3cret-shared-with-12345"
PHONE = "13912345678"


class FakeHotline:
    """12345's intake in miniature: checks the signature, fails on demand, keeps what came."""

    def __init__(self) -> None:
        self.fail_next = 0
        self.posts: list[dict[str, Any]] = []  # every POST, failed ones too
        self.accepted: dict[str, dict[str, Any]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                ts, nonce = self.headers["X-Hall-Timestamp"], self.headers["X-Hall-Nonce"]
                want = hmac.new(
                    SECRET.encode(), f"{ts}.{nonce}.".encode() + raw, hashlib.sha256
                ).hexdigest()
                signed = hmac.compare_digest(want, self.headers["X-Hall-Signature"])
                body = orjson.loads(raw)
                fake.posts.append({"body": body, "signed": signed})
                if not signed or fake.fail_next > 0:
                    fake.fail_next = max(0, fake.fail_next - 1)
                    self.send_response(503 if signed else 401)
                    self.end_headers()
                    return
                fake.accepted.setdefault(body["record_id"], body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/intake"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    f = FakeHotline()
    yield f
    f.close()


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("HALL_HOTLINE_SECRET", SECRET)


@pytest.fixture
def with_phone(monkeypatch):
    real = followup.open_case
    monkeypatch.setattr(
        evaluations.followup,
        "open_case",
        lambda ctx, tx, view, phone=None: real(ctx, tx, view, PHONE),
    )


def _handed_off(hall) -> int:
    rate(hall, served_ticket(hall)["id"], 1, ["attitude"])
    cid = int(hall.db.row("SELECT MAX(id) FROM followup_cases")[0])
    hall.run_sync(lambda tx: hotline.hand_off(hall.ctx, tx, cid, "请回访", "admin:test"))
    return cid


def _pass(hall, now: float) -> tuple[int, int]:
    return asyncio.run(hotline.process_once(hall, now))


def test_hand_off_survives_a_webhook_down_and_a_restart(
    tmp_path, clock, fake, secret_env, with_phone
):
    from queue_server.runtime.hall import Hall

    hall = Hall(tmp_path / "h.db", clock=clock)
    set_config(hall, followup={"hotline_url": fake.url, "hotline_backoff_base_s": 10})
    cid = _handed_off(hall)
    assert hall.db.row("SELECT status FROM followup_cases")["status"] == "handed_off"
    fake.fail_next = 2
    t = time.time()
    assert _pass(hall, t) == (0, 1)
    assert _pass(hall, t + 1) == (0, 0)  # backing off: not due yet
    assert _pass(hall, t + 11) == (0, 1)  # second failure: the pause doubles
    row = hall.db.row("SELECT attempts, next_attempt_ts, last_error FROM hotline_outbox")
    assert row["attempts"] == 2 and row["next_attempt_ts"] == t + 11 + 20
    assert "503" in row["last_error"]
    hall.close()
    hall = Hall(tmp_path / "h.db", clock=clock)  # a restart keeps the queue
    try:
        assert _pass(hall, t + 40) == (1, 0)
        assert _pass(hall, t + 10_000) == (0, 0)  # sent once, never again
        assert len(fake.accepted) == 1 and all(p["signed"] for p in fake.posts)
        body = next(iter(fake.accepted.values()))
        assert body["case_id"] == cid and body["phone_masked"] == "139****5678"
        assert "phone" not in body and PHONE not in orjson.dumps(fake.posts).decode()
        assert body["reasons"] == ["attitude"] and body["reply_to"] == "/api/v1/hotline/outcome"
        view = followup.get(hall.ctx, hall.db.reader, cid)
        assert view["hotline"]["status"] == "sent" and view["hotline"]["attempts"] == 3
    finally:
        hall.close()


def test_full_phone_only_when_configured(hall, fake, secret_env, with_phone):
    set_config(hall, followup={"hotline_url": fake.url, "hotline_send_phone": True})
    _handed_off(hall)
    assert _pass(hall, time.time()) == (1, 0)
    assert next(iter(fake.accepted.values()))["phone"] == PHONE
    stored = hall.db.row("SELECT payload FROM hotline_outbox")["payload"]
    assert PHONE not in stored  # the queue keeps the masked form; the number comes from the case


def test_without_a_secret_hand_offs_wait(hall, fake, monkeypatch):
    monkeypatch.delenv("HALL_HOTLINE_SECRET", raising=False)
    set_config(hall, followup={"hotline_url": fake.url})
    _handed_off(hall)
    assert _pass(hall, time.time()) == (0, 1) and fake.posts == []
    assert "HALL_HOTLINE_SECRET" in hall.db.row("SELECT last_error FROM hotline_outbox")[0]


# -- the outcome 12345 sends back ------------------------------------------------------------


def _signed(
    body: dict[str, Any], ts: float | None = None, nonce: str = "n-0001-abcdef", key=SECRET
):
    raw = orjson.dumps(body)
    stamp = str(int(time.time() if ts is None else ts))
    sig = hmac.new(key.encode(), f"{stamp}.{nonce}.".encode() + raw, hashlib.sha256).hexdigest()
    headers = {"X-Hall-Timestamp": stamp, "X-Hall-Nonce": nonce, "X-Hall-Signature": sig,
               "Content-Type": "application/json"}  # fmt: skip
    return raw, headers


def test_signed_outcome_is_taken_once(api, hall, secret_env):
    cid = _handed_off(hall)
    record_id = hall.db.row("SELECT record_id FROM hotline_outbox")[0]
    outcome = {
        "record_id": record_id,
        "result": "satisfied",
        "note": "已致电，群众满意",
        "ref": "GD-1",
    }
    url = "/api/v1/hotline/outcome"
    raw, headers = _signed(outcome, key="wrong")
    r = api.post(url, content=raw, headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_signature"
    raw, headers = _signed(outcome, ts=time.time() - 3600)
    assert api.post(url, content=raw, headers=headers).json()["error"]["code"] == "stale_signature"
    assert api.post(url, content=raw).status_code == 401  # unsigned
    raw, headers = _signed(outcome)
    r = api.post(url, content=raw, headers=headers)
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["status"] == "followed_up" and case["followup_by"] == "hotline:12345"
    assert case["followup_note"] == "12345（GD-1）：已致电，群众满意"
    r = api.post(url, content=raw, headers=headers)  # the same request again: a replay
    assert r.status_code == 409 and r.json()["error"]["code"] == "replayed"
    raw, headers = _signed(outcome, nonce="n-0002-abcdef")  # redelivered with a fresh nonce
    assert api.post(url, content=raw, headers=headers).json()["duplicate"] is True
    raw, headers = _signed(outcome | {"ref": "GD-2"}, nonce="n-0003-abcdef")
    assert api.post(url, content=raw, headers=headers).status_code == 409  # not handed off now
    actions = [r["action"] for r in hall.db.rows("SELECT action FROM audit_log WHERE target = ?",
                                                 (f"case {cid}",))]  # fmt: skip
    assert actions == ["hotline.hand_off", "hotline.outcome"]


def test_outcome_refused_when_no_secret_is_set(api, hall, monkeypatch):
    monkeypatch.delenv("HALL_HOTLINE_SECRET", raising=False)
    raw, headers = _signed({"record_id": "x", "result": "satisfied", "note": "x"})
    assert api.post("/api/v1/hotline/outcome", content=raw, headers=headers).status_code == 503
