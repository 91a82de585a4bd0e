"""Outbound deliveries: one retry policy (doubling, capped) and one JSON POST helper."""

from __future__ import annotations

import pytest

from queue_server.base import outbound
from queue_server.base.outbound import DeliveryFailed, RetryPolicy


def test_the_policy_doubles_from_its_base_and_is_capped():
    policy = RetryPolicy(5, 60)
    assert [policy.delay(n) for n in range(1, 8)] == [5, 10, 20, 40, 60, 60, 60]
    assert RetryPolicy(0.0).delay(3) == 0.0
    assert RetryPolicy(2).delay(10) == 1024  # no cap unless given


def test_run_retries_up_to_the_tries_then_raises_the_last_failure():
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OSError(f"down {len(calls)}")
        return "ok"

    assert RetryPolicy(0.0).run(flaky, 5) == "ok" and len(calls) == 3
    calls.clear()
    with pytest.raises(OSError, match="down 2"):
        RetryPolicy(0.0).run(flaky, 2)
    assert len(calls) == 2


def test_run_stops_retrying_once_told_to_give_up():
    calls: list[int] = []

    def down() -> None:
        calls.append(1)
        raise OSError("down")

    with pytest.raises(OSError):
        RetryPolicy(0.0).run(down, 10, give_up=lambda: len(calls) >= 2)
    assert len(calls) == 2


def test_post_json_reports_what_went_wrong(monkeypatch):
    class Answer:
        def __init__(self, status: int, text: str = "") -> None:
            self.status_code, self.text = status, text

    sent: list[dict] = []

    def fake_post(url, data, headers, timeout):
        sent.append({"url": url, "data": data, "headers": headers, "timeout": timeout})
        return answers.pop(0)

    answers = [Answer(204), Answer(409), Answer(409), Answer(503, "busy")]
    monkeypatch.setattr(outbound.requests, "post", fake_post)
    outbound.post_json("http://x/a", {"text": "您好"}, 3.0)
    outbound.post_json("http://x/a", {}, 3.0, idempotency_key="r-1", also_ok=(409,))
    with pytest.raises(DeliveryFailed, match="HTTP 409"):
        outbound.post_json("http://x/a", {}, 3.0)
    with pytest.raises(DeliveryFailed, match="HTTP 503: busy"):
        outbound.post_json("http://x/a", {}, 3.0)
    assert sent[0]["data"] == '{"text":"您好"}'.encode()
    assert sent[0]["headers"] == {"Content-Type": "application/json"}
    assert sent[1]["headers"]["Idempotency-Key"] == "r-1" and sent[1]["timeout"] == 3.0


def test_post_json_turns_connection_errors_into_a_short_reason():
    with pytest.raises(DeliveryFailed, match="ConnectionError"):
        outbound.post_json("http://127.0.0.1:9/never", {}, 2.0)
