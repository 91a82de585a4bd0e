"""A minimal HTTP/1.1 keep-alive client and event-stream reader on asyncio streams.

The load generator shares this 2-core machine with the server under test, so it must be
cheap: httpx spends several times the CPU per request that the server does, and the figures
would then measure the client. This speaks just enough HTTP/1.1 for the hall's JSON API
(Content-Length bodies) and its event stream (chunked `text/event-stream`).
"""

from __future__ import annotations

import asyncio
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

# uvicorn closes a keep-alive connection after 5 s idle; reconnect before that, never after
# sending (a POST is not safe to resend).
IDLE_RECONNECT_S = 3.5


class HttpError(RuntimeError):
    pass


@dataclass
class Reply:
    status: int
    body: bytes
    sent_at: float = 0.0  # time.monotonic() when the request was written (after any queueing)
    elapsed: float = 0.0  # seconds from writing the request to reading the whole reply

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


class Connection:
    """One keep-alive connection with one bearer token; requests are sent one at a time."""

    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        self.host, self.port, self.token = host, port, token
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._last_used = 0.0
        self._lock = asyncio.Lock()
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self._head = f"Host: {host}:{port}\r\n{auth}".encode()

    async def _connect(self) -> None:
        await self.close()
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self._reader = self._writer = None

    async def request(self, method: str, path: str, body: Any = None) -> Reply:
        async with self._lock:
            now = time.monotonic()
            if (
                self._writer is None
                or self._reader is None
                or self._reader.at_eof()
                or now - self._last_used > IDLE_RECONNECT_S
            ):
                await self._connect()
            assert self._reader is not None and self._writer is not None
            payload = b"" if body is None else orjson.dumps(body)
            sent_at = time.monotonic()
            self._writer.write(
                b"%s %s HTTP/1.1\r\n%sContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s"
                % (method.encode(), path.encode(), self._head, len(payload), payload)
            )
            try:
                reply = await _read_reply(self._reader)
            except (asyncio.IncompleteReadError, ConnectionError) as err:
                await self.close()
                raise HttpError(f"{method} {path}: connection lost ({err!r})") from None
            self._last_used = time.monotonic()
            reply.sent_at, reply.elapsed = sent_at, self._last_used - sent_at
            return reply


async def _read_reply(reader: asyncio.StreamReader) -> Reply:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("closed by server")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return Reply(status, body)


# -- event stream ----------------------------------------------------------------------------


@dataclass
class Subscriber:
    """Reads the hall's event stream, recording every event id and when each arrived.

    `on_event(sub, id, type, data_bytes, t)` is called for every event; by default only ids
    and the arrival times of `ticket.called` are kept (parsing every body would make the
    reader, not the server, the bottleneck).
    """

    host: str
    port: int
    token: str
    name: str = "display"
    ids: array[int] = field(default_factory=lambda: array("q"))
    called_at: dict[tuple[int, int], float] = field(default_factory=dict)
    reconnects: int = 0
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    on_event: Callable[[Subscriber, int, str, bytes, float], None] | None = None

    @property
    def last_id(self) -> int:
        return self.ids[-1] if self.ids else 0

    async def run(self, replay_from: int | None = 0) -> None:
        """Follow the stream until cancelled; reconnect with Last-Event-ID if cut off."""
        last: int | None = replay_from
        while True:
            try:
                await self._follow(last)
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                pass
            self.reconnects += 1
            last = self.last_id if self.ids else replay_from
            await asyncio.sleep(0.05)

    async def _follow(self, last: int | None) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            resume = b"Last-Event-ID: %d\r\n" % last if last is not None else b""
            writer.write(
                b"GET /api/v1/events HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                b"Accept: text/event-stream\r\n%s\r\n"
                % (self.host.encode(), self.port, self.token.encode(), resume)
            )
            status_line = await reader.readline()
            if b" 200 " not in status_line:
                raise HttpError(f"event stream refused: {status_line!r}")
            chunked = False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                if line.lower().startswith(b"transfer-encoding:") and b"chunked" in line.lower():
                    chunked = True
            buf = b""
            while True:
                if chunked:
                    size_line = await reader.readline()
                    if not size_line:
                        return
                    size = int(size_line.strip() or b"0", 16)
                    if size == 0:
                        return
                    data = await reader.readexactly(size + 2)
                    buf += data[:-2]
                else:
                    data = await reader.read(65536)
                    if not data:
                        return
                    buf += data
                if b"\n\n" not in buf:
                    continue
                now = time.monotonic()
                *frames, buf = buf.split(b"\n\n")
                for frame in frames:
                    self._frame(frame, now)
        finally:
            writer.close()

    def _frame(self, frame: bytes, now: float) -> None:
        ev_id = None
        ev_type = ""
        body = b""
        for line in frame.split(b"\n"):
            if line.startswith(b"id: "):
                ev_id = int(line[4:])
            elif line.startswith(b"event: "):
                ev_type = line[7:].decode()
            elif line.startswith(b"data: "):
                body = line[6:]
            elif line == b": connected":
                self.connected.set()
        if ev_id is None:
            return
        self.ids.append(ev_id)
        if ev_type == "ticket.called":
            data = orjson.loads(body)
            self.called_at[(data["id"], data["call_count"])] = now
        if self.on_event is not None:
            self.on_event(self, ev_id, ev_type, body, now)


class Pool:
    """Up to `size` keep-alive connections with one token, for a device that may have
    several requests in flight (a kiosk whose citizens overlap in compressed time)."""

    def __init__(self, host: str, port: int, token: str, size: int = 8) -> None:
        self.token = token
        self._all = [Connection(host, port, token) for _ in range(size)]
        self._free: asyncio.Queue[Connection] = asyncio.Queue()
        for conn in self._all:
            self._free.put_nowait(conn)

    async def request(self, method: str, path: str, body: Any = None) -> Reply:
        conn = await self._free.get()
        try:
            return await conn.request(method, path, body)
        finally:
            self._free.put_nowait(conn)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()
