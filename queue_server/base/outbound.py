"""Deliveries to outside systems: the provincial 好差评 platform (queue_server.ratings.upload), the
SMS gateway's webhook (queue_server.runtime.notify) and the 12345 hotline (queue_server.ratings.hotline). One HTTP client (requests) and one retry policy
(doubling pauses from a base, capped; tenacity computes and, in process, waits them).

A delivery is a JSON POST: any 2xx answer is success (and statuses the caller names, such as
409 "already received" for an idempotent record); anything else raises `DeliveryFailed` with a
short reason fit for a log or the admin page.

A stored delivery (store and forward: `upload_queue`, `hotline_outbox`) is a row with
`attempts`, `next_attempt_ts` and `last_error`; `schedule_retry` records a failed try on it and
`keep_sending` is the background loop that sends what is due.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import requests
import tenacity

from queue_server.base.db import Tx

T = TypeVar("T")
REASON_CHARS = 300


class DeliveryFailed(Exception):
    """A delivery that did not get through; `str()` is a short reason."""


def post_json(
    url: str,
    body: dict[str, Any],
    timeout: float,
    *,
    idempotency_key: str | None = None,
    also_ok: Collection[int] = (),
    sign: Callable[[bytes], dict[str, str]] | None = None,
) -> None:
    """POST `body` as JSON (UTF-8); raise DeliveryFailed unless the answer is 2xx or in `also_ok`.
    `sign` gets the exact bytes sent and returns headers to add (a signature)."""
    headers = {"Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    data = orjson.dumps(body)
    if sign is not None:
        headers |= sign(data)
    try:
        r = requests.post(url, data=data, headers=headers, timeout=timeout)
    except requests.RequestException as err:
        raise DeliveryFailed(f"{type(err).__name__}: {err}"[:REASON_CHARS]) from err
    if not (200 <= r.status_code < 300 or r.status_code in also_ok):
        raise DeliveryFailed(f"HTTP {r.status_code}: {r.text[:200]}"[:REASON_CHARS])


def post_raw(url: str, data: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST `data` as it is (a signature covers these exact bytes); the answer's status and
    text, whatever the status. DeliveryFailed only when no answer came (refused, timed out)."""
    try:
        r = requests.post(url, data=data, headers=headers, timeout=timeout)
    except requests.RequestException as err:
        raise DeliveryFailed(f"{type(err).__name__}: {err}"[:REASON_CHARS]) from err
    return r.status_code, r.text


@dataclass(frozen=True)
class RetryPolicy:
    """Pause `base_s` after the first failure, doubling after each next one, at most `max_s`."""

    base_s: float
    max_s: float = math.inf

    def _wait(self) -> tenacity.wait_exponential:
        return tenacity.wait_exponential(multiplier=self.base_s, max=self.max_s)

    def delay(self, failures: int) -> float:
        """The pause after `failures` failed tries (a persistent queue schedules its next try)."""
        state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
        state.attempt_number = max(1, failures)
        return float(self._wait()(state))

    def run(
        self, attempt: Callable[[], T], tries: int, give_up: Callable[[], bool] = lambda: False
    ) -> T:
        """Call `attempt` until it returns, at most `tries` times (no more once `give_up()`),
        pausing by this policy in between; the last failure is raised."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, tries)) | _When(give_up),
            wait=self._wait(),
            reraise=True,
        )
        return retrying(attempt)


class _When(tenacity.stop.stop_base):
    """Stop retrying as soon as `condition()` holds (a notifier being stopped)."""

    def __init__(self, condition: Callable[[], bool]) -> None:
        self.condition = condition

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.condition()


# -- stored deliveries (store and forward) -------------------------------------------------


def schedule_retry(
    tx: Tx, table: str, key_column: str, key: object, error: str, now: float, policy: RetryPolicy
) -> None:
    """A stored delivery failed: count the try, keep the reason, set the next try by `policy`.
    `table` and `key_column` are the caller's own constants, never input."""
    row = tx.one(f"SELECT attempts FROM {table} WHERE {key_column} = ?", (key,))
    attempts = (row["attempts"] if row else 0) + 1
    tx.execute(
        f"UPDATE {table} SET attempts = ?, next_attempt_ts = ?, last_error = ?"
        f" WHERE {key_column} = ?",
        (attempts, now + policy.delay(attempts), error[:REASON_CHARS], key),
    )


async def keep_sending(
    send_due: Callable[[], Awaitable[object]], poll_s: float, log: logging.Logger, what: str
) -> None:
    """A background sender (started by Hall.start_background): send what is due every
    `poll_s` seconds; a pass that fails is logged and the loop goes on, it never stops."""
    while True:
        try:
            await send_due()
        except Exception:  # noqa: BLE001 - the sender must never stop
            log.exception("%s pass failed", what)
        await asyncio.sleep(poll_s)
