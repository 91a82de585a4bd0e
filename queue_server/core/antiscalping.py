"""Limits on issuing against ticket scalping (黄牛): per device and per ID number.

Per device (a token or login session): a token bucket in memory, `issue_per_device_per_minute`
tickets a minute in bursts of the same size, so a script behind one kiosk credential cannot
empty a day's quota. Per ID number: `issue_per_id_per_day` tickets per business day over all
services, counted inside the issuing transaction (so two kiosks at once cannot both slip past),
by the keyed hash only, whichever way the ticket is issued (kiosk, counter, offline sync,
appointment check-in). Both answer 429 with a Chinese message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from queue_server.base.db import Tx
from queue_server.base.errors import TooMany
from queue_server.core.context import HallContext

MAX_BUCKETS = 10_000


class TokenBucket:
    """`per_minute` events a minute per key, bursts up to `per_minute`; 0 = unlimited."""

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.now = now
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if self.per_minute <= 0:
            return True
        rate = self.per_minute / 60.0
        with self._lock:
            t = self.now()
            tokens, at = self._buckets.get(key, (float(self.per_minute), t))
            tokens = min(float(self.per_minute), tokens + max(0.0, t - at) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, t)
                return False
            self._buckets[key] = (tokens - 1.0, t)
            if len(self._buckets) > MAX_BUCKETS:
                self._prune(t, rate)
            return True

    def _prune(self, t: float, rate: float) -> None:
        full = [
            k for k, (tok, at) in self._buckets.items() if tok + (t - at) * rate >= self.per_minute
        ]
        for k in full:
            del self._buckets[k]


def check_device(bucket: TokenBucket, device_key: str) -> None:
    if not bucket.allow(device_key):
        raise TooMany(
            f"取号过于频繁（每台设备每分钟最多 {bucket.per_minute} 张），请稍后再试",
            "issue_rate_limited",
        )


def check_id_daily_limit(ctx: HallContext, tx: Tx, id_hash: str) -> None:
    """Refuse a new ticket for an ID number (by its keyed hash) that has had its share today.

    Called by every path that issues a ticket (queue_server.core.tickets.issue), inside its
    transaction, so a walk-in, an offline sync and an appointment check-in count alike."""
    limit = ctx.config.security.issue_per_id_per_day
    if not limit or not id_hash:
        return
    row = tx.one(
        "SELECT COUNT(*) FROM tickets WHERE id_hash = ? AND business_day = ?",
        (id_hash, ctx.clock.business_day()),
    )
    if row is not None and row[0] >= limit:
        raise TooMany(
            f"该证件今日取号已达 {limit} 次上限，如有需要请到咨询台办理", "id_daily_limit"
        )
