"""Housekeeping run by the server (Hall.start_background): the daily retention purge, rolling
the business day at midnight even when the hall is quiet, sending scheduled voice broadcasts
(语音广播), saving login sessions' last use, and dropping tokens revoked from another process
(`hall tokens revoke`) from the credential cache.

Each job runs on its own: one that fails is logged with what it was doing, and the others and
the next round still run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from queue_server.admin import broadcasts, retention
from queue_server.base.db import in_chunks

if TYPE_CHECKING:
    from queue_server.runtime.hall import Hall

log = logging.getLogger("hall.upkeep")
EVERY_S = 30.0  # seconds between housekeeping rounds


async def on_start(hall: Hall) -> None:
    """The retention purge, when a day's is due (at start, then from each round)."""
    n = await hall.run(lambda tx: retention.purge_if_due(hall.ctx, tx))
    if n:
        log.warning("retention: purged personal data from %d tickets", n)


async def _roll_day(hall: Hall) -> None:
    await hall.run(lambda tx: None)  # an operation rolls the business day if midnight passed


async def _broadcasts(hall: Hall) -> None:
    await hall.run(lambda tx: broadcasts.send_due(hall.ctx, tx))


async def _save_sessions(hall: Hall) -> None:
    hall.persist_session_activity()


async def _forget_revoked(hall: Hall) -> None:
    forget_revoked(hall)


JOBS: tuple[tuple[str, Callable[[Hall], Awaitable[None]]], ...] = (
    ("rolling the business day", _roll_day),
    ("sending scheduled broadcasts", _broadcasts),
    ("saving login sessions' last use", _save_sessions),
    ("the retention purge", on_start),
    ("dropping credentials revoked elsewhere", _forget_revoked),
)


async def run_once(hall: Hall) -> int:
    """One round of housekeeping; returns how many jobs failed (each one is logged)."""
    failed = 0
    for what, job in JOBS:
        try:
            await job(hall)
        except Exception:  # noqa: BLE001 - housekeeping must never stop
            log.exception("housekeeping: %s failed; the next round tries again", what)
            failed += 1
    return failed


async def run_forever(
    hall: Hall,
    every_s: float = EVERY_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Housekeeping rounds every `every_s` seconds until cancelled."""
    while True:
        await sleep(every_s)
        await run_once(hall)


def forget_revoked(hall: Hall) -> int:
    """Drop cached credentials that were revoked in the database since they were cached."""
    ids = sorted(hall.cached_token_ids())
    if not ids:
        return 0
    gone: list[int] = []
    for chunk, marks in in_chunks(ids):
        gone += [
            r[0]
            for r in hall.db.rows(
                f"SELECT id FROM tokens WHERE id IN ({marks}) AND revoked_at IS NOT NULL", chunk
            )
        ]
    hall.forget_token_ids(gone)
    return len(gone)
