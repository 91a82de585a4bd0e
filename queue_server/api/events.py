"""The live event stream (text/event-stream) with durable ids and Last-Event-ID replay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse

from queue_server.admin.accounts import Principal
from queue_server.api.common import hall_of, principal
from queue_server.runtime.hall import Hall

router = APIRouter()
KEEPALIVE_S = 15.0
REPLAY_PAGE = 500
SEND_BATCH = 200  # most events sent in one chunk


def _replay(hall: Hall, after: int) -> tuple[bytes, int, int]:
    """One page of stored events after `after`: (frames, last id, count).

    The frames are built from the stored JSON text as is (the same bytes `Event.make` sends
    live), so replaying a long backlog to a reconnecting display costs no parse and re-dump.
    """
    rows = hall.db.rows(
        "SELECT id, type, data FROM events WHERE id > ? ORDER BY id LIMIT ?", (after, REPLAY_PAGE)
    )
    frames = b"".join(
        b"id: %d\nevent: %s\ndata: %s\n\n" % (r["id"], r["type"].encode(), r["data"].encode())
        for r in rows
    )
    return frames, (rows[-1]["id"] if rows else after), len(rows)


async def _stream(hall: Hall, last_id: int | None) -> AsyncIterator[bytes]:
    sub = hall.broadcaster.subscribe()  # subscribe first, so nothing falls between replay and live
    try:
        yield b"retry: 2000\n: connected\n\n"
        last = last_id
        if last is not None:
            while True:
                frames, last, count = _replay(hall, last)
                if frames:
                    yield frames
                if count < REPLAY_PAGE:
                    break
        while True:
            # Under load several events are queued by the time this task runs: send them as
            # one chunk (one pass through the ASGI stack, one socket write) instead of one
            # each. Nothing waits for company: a lone event goes out at once.
            try:
                batch = [sub.queue.get_nowait()]
            except asyncio.QueueEmpty:
                try:
                    # asyncio.timeout, not wait_for: no extra task per wake-up (30 displays
                    # wake on every commit in a busy hall)
                    async with asyncio.timeout(KEEPALIVE_S):
                        batch = [await sub.queue.get()]
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
            while len(batch) < SEND_BATCH and not sub.queue.empty():
                batch.append(sub.queue.get_nowait())
            chunks: list[bytes] = []
            for ev in batch:
                if ev is None:  # cut off for being too slow: the client reconnects and replays
                    if chunks:
                        yield b"".join(chunks)
                    return
                if last is not None and ev.id <= last:
                    continue
                chunks.append(ev.wire)
                last = ev.id
            if chunks:
                yield b"".join(chunks)
    finally:
        hall.broadcaster.unsubscribe(sub)


@router.get("/events", response_class=StreamingResponse)
async def events(
    request: Request,
    who: Annotated[Principal, Depends(principal)],
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Live events. With `Last-Event-ID: N`, every event after N is replayed first.

    `?last_event_id=N` does the same for a page that opens a new EventSource after the old one
    gave up (a new EventSource cannot set the header); the header wins when both are sent."""
    hall = hall_of(request)
    last: int | None = None
    last_event_id = last_event_id or request.query_params.get("last_event_id")
    if last_event_id and last_event_id.strip().isdigit():
        last = int(last_event_id.strip())
    return StreamingResponse(
        _stream(hall, last),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
