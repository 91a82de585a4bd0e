"""The event fan-out: durable ids, and a subscriber that stops reading never slows publishing."""

from __future__ import annotations

import asyncio
import time

from queue_server.db import Event
from queue_server.events import SUBSCRIBER_QUEUE, Broadcaster


def test_a_stalled_subscriber_is_cut_off_and_others_get_everything():
    async def scenario() -> tuple[float, bool, int, list[int]]:
        b = Broadcaster()
        b.bind(asyncio.get_running_loop())
        stalled, live = b.subscribe(), b.subscribe()
        received: list[int] = []

        async def reader() -> None:
            while len(received) < SUBSCRIBER_QUEUE * 2:
                ev = await live.queue.get()
                assert ev is not None
                received.append(ev.id)

        task = asyncio.create_task(reader())
        t0 = time.perf_counter()
        for i in range(1, SUBSCRIBER_QUEUE * 2 + 1):
            b._fan_out([Event.make(i, "ticket.issued", {"n": i})])
            if i % 100 == 0:
                await asyncio.sleep(0)  # let the live reader run, as the event loop would
        elapsed = time.perf_counter() - t0
        await asyncio.wait_for(task, 5)
        # the stalled one holds only the "reconnect" marker, not thousands of events
        return elapsed, stalled.cut_off, stalled.queue.qsize(), received

    _elapsed, cut_off, left, received = asyncio.run(scenario())
    assert cut_off and left == 1
    assert received == list(range(1, SUBSCRIBER_QUEUE * 2 + 1))


def test_event_ids_only_grow_and_are_durable(hall):
    from queue_server import tickets

    for _ in range(3):
        hall.run_sync(
            lambda tx: tickets.issue(hall.ctx, tx, tickets.IssueRequest("SW", channel="counter"))
        )
    ids = [r["id"] for r in hall.db.rows("SELECT id FROM events ORDER BY id")]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) >= 3
    types = [r["type"] for r in hall.db.rows("SELECT type FROM events")]
    assert types.count("ticket.issued") == 3


def test_openapi_schema_is_served(api):
    spec = api.get("/openapi.json").json()
    for path in (
        "/api/v1/tickets",
        "/api/v1/windows/{no}/call-next",
        "/api/v1/events",
        "/api/v1/evaluations",
    ):
        assert path in spec["paths"]
    assert api.get("/docs").status_code == 200
