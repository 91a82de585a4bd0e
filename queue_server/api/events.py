"""The live event stream (text/event-stream) with durable ids and Last-Event-ID replay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse

from queue_server.accounts import Principal
from queue_server.api.common import hall_of, principal
from queue_server.db import Event
from queue_server.hall import Hall

router = APIRouter()
KEEPALIVE_S = 15.0
REPLAY_PAGE = 500


def _replay(hall: Hall, after: int) -> list[Event]:
    rows = hall.db.rows(
        "SELECT id, type, data FROM events WHERE id > ? ORDER BY id LIMIT ?", (after, REPLAY_PAGE)
    )
    import orjson

    return [Event.make(r["id"], r["type"], orjson.loads(r["data"])) for r in rows]


async def _stream(hall: Hall, last_id: int | None) -> AsyncIterator[bytes]:
    sub = hall.broadcaster.subscribe()  # subscribe first, so nothing falls between replay and live
    try:
        yield b"retry: 2000\n: connected\n\n"
        last = last_id
        if last is not None:
            while True:
                page = _replay(hall, last)
                for ev in page:
                    yield ev.wire
                    last = ev.id
                if len(page) < REPLAY_PAGE:
                    break
        while True:
            try:
                ev_or_none = await asyncio.wait_for(sub.queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if ev_or_none is None:  # cut off for being too slow: the client reconnects and replays
                return
            if last is not None and ev_or_none.id <= last:
                continue
            yield ev_or_none.wire
            last = ev_or_none.id
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
