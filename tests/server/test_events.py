"""The event fan-out: durable ids, and a subscriber that stops reading never slows publishing."""

from __future__ import annotations

import asyncio

from queue_server.base.db import Event
from queue_server.runtime.events import SUBSCRIBER_QUEUE, Broadcaster


def test_a_stalled_subscriber_is_cut_off_and_others_get_everything():
    async def scenario() -> tuple[list[tuple[int, bool, int]], Event | None, list[int]]:
        b = Broadcaster()
        b.bind(asyncio.get_running_loop())
        stalled, live = b.subscribe(), b.subscribe()
        received: list[int] = []
        seen: list[tuple[int, bool, int]] = []  # (events published, cut off?, events held)

        async def reader() -> None:
            while len(received) < SUBSCRIBER_QUEUE * 2:
                ev = await live.queue.get()
                assert ev is not None
                received.append(ev.id)

        task = asyncio.create_task(reader())
        for i in range(1, SUBSCRIBER_QUEUE * 2 + 1):
            # publishing is a plain call: it cannot wait for a subscriber
            assert b._fan_out([Event.make(i, "ticket.issued", {"n": i})]) is None
            if i in (SUBSCRIBER_QUEUE, SUBSCRIBER_QUEUE + 1, SUBSCRIBER_QUEUE * 2):
                seen.append((i, stalled.cut_off, stalled.queue.qsize()))
            if i % 100 == 0:
                await asyncio.sleep(0)  # let the live reader run, as the event loop would
        await asyncio.wait_for(task, 5)
        return seen, stalled.queue.get_nowait(), received

    seen, marker, received = asyncio.run(scenario())
    # full queue: still subscribed; one event more: cut off at once, holding only the
    # "reconnect" marker instead of thousands of events, and nothing more after that
    assert seen == [
        (SUBSCRIBER_QUEUE, False, SUBSCRIBER_QUEUE),
        (SUBSCRIBER_QUEUE + 1, True, 1),
        (SUBSCRIBER_QUEUE * 2, True, 1),
    ]
    assert marker is None
    assert received == list(range(1, SUBSCRIBER_QUEUE * 2 + 1))


def test_event_ids_only_grow_and_are_durable(hall):
    from queue_server.core import tickets

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
