"""Periodic security upkeep run by the server: the daily retention purge, and dropping tokens
revoked from another process (`hall tokens revoke`) from the in-memory credential cache."""

from __future__ import annotations

import logging

from queue_server import retention
from queue_server.hall import Hall

log = logging.getLogger("hall.upkeep")


async def on_start(hall: Hall) -> None:
    n = await hall.run(lambda tx: retention.purge_if_due(hall.ctx, tx))
    if n:
        log.warning("retention: purged personal data from %d tickets", n)


async def periodic(hall: Hall) -> None:
    await on_start(hall)
    forget_revoked(hall)


def forget_revoked(hall: Hall) -> int:
    """Drop cached credentials that were revoked in the database since they were cached."""
    ids = sorted(hall.cached_token_ids())
    if not ids:
        return 0
    gone: list[int] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        gone += [
            r[0]
            for r in hall.db.rows(
                f"SELECT id FROM tokens WHERE id IN ({marks}) AND revoked_at IS NOT NULL", chunk
            )
        ]
    hall.forget_token_ids(gone)
    return len(gone)
