"""The city queue message's two rules that a hall and a gateway must apply alike.

A hall publishes each service's waiting order as digests of the ticket codes, and the wait
range at a few places (queue_server/runtime/city.py); the gateway finds a ticket's place from
the code its holder shows and reads the wait there (city/state.py). docs/CITY.md, "queues".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

DIGEST_BYTES = 8  # of SHA-256: 64 bits, while a code has 80


def code_digest(hall_id: str, day: str, code: str) -> str:
    """A ticket's name in its queue message: the first `DIGEST_BYTES` of SHA-256 over the hall,
    the business day and the code, in hex. Only who holds the code can find it; the code has
    80 random bits, so the digest cannot be turned back into one, and the day in it makes
    yesterday's digests useless."""
    raw = f"{hall_id}|{day}|{code}".encode()
    return hashlib.sha256(raw).digest()[:DIGEST_BYTES].hex()


def wait_at(waits: Sequence[Sequence[float]], place: int) -> tuple[int, int]:
    """The wait range (low, high minutes) at `place`, interpolated between the places of
    `waits` ([place, low, high], in order); before the first or past the last, theirs."""
    if not waits:
        return (0, 0)
    for (p0, lo0, hi0), (p1, lo1, hi1) in zip(waits, waits[1:], strict=False):
        if p0 <= place <= p1:
            f = (place - p0) / (p1 - p0) if p1 > p0 else 0.0
            return (round(lo0 + f * (lo1 - lo0)), round(hi0 + f * (hi1 - hi0)))
    _p, lo, hi = waits[0] if place < waits[0][0] else waits[-1]
    return (round(lo), round(hi))
