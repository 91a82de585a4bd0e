"""Live fan-out of committed events to event-stream subscribers.

Each subscriber has a bounded queue. Publishing never waits: a subscriber whose queue is full
is cut off (it reconnects with Last-Event-ID and replays from the database), so a slow or dead
display never slows down issuing or calling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from queue_server.base.db import Event

SUBSCRIBER_QUEUE = 2000


class Subscriber:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self.cut_off = False


class Broadcaster:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.subscribers: set[Subscriber] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def subscribe(self) -> Subscriber:
        sub = Subscriber()
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def publish_threadsafe(self, events: list[Event]) -> None:
        """Called by the writer thread after a commit."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._fan_out, events)

    def _fan_out(self, events: Iterable[Event]) -> None:
        for sub in list(self.subscribers):
            if sub.cut_off:
                continue
            for ev in events:
                try:
                    sub.queue.put_nowait(ev)
                except asyncio.QueueFull:
                    sub.cut_off = True
                    self._wake_cut_off(sub)
                    break

    @staticmethod
    def _wake_cut_off(sub: Subscriber) -> None:
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(None)
