"""The gateway's MQTT 5 client: what it follows, ticket look-ups by code, requests to halls.

The client runs in paho's network thread; what it learns goes into `CityState` there and is
handed to the asyncio loop (event streams, waiting look-ups and requests) with
`call_soon_threadsafe`. The gateway follows every hall's status and heartbeat, but a ticket's
topic only while a phone asks for it: it cannot list tickets, only look one up by its code.
While it follows a ticket it also follows that ticket's service queue (the place of each
waiting ticket by a digest of its code), which moves the ticket's place on its page.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from city.state import HALL_ID, TICKET_CODE, CityState

log = logging.getLogger("city.link")
SESSION_EXPIRY_S = 86400  # answers to this gateway wait this long for it at the broker
MAX_WATCHED = 50_000  # ticket topics followed at once
LINGER_S = 60.0  # keep following a ticket this long after its last page or stream closed
MAX_ANSWERS = 100_000


@dataclass(frozen=True)
class GatewaySettings:
    broker: str = "mqtt://127.0.0.1:1883"
    gw_id: str = "gw1"
    username: str = ""
    password: str = ""
    lookup_timeout_s: float = 1.5  # a code with no retained message by then is 404
    request_ttl_s: int = 600  # a phone action must reach the hall within this
    request_grace_s: int = 3600  # the broker keeps it this much longer, to be answered expired
    answer_wait_s: float = 4.0  # how long a POST waits for the hall's answer before 202
    near_ahead: int = 3  # "即将到号" when this few or fewer are ahead


class GatewayLink:
    def __init__(self, settings: GatewaySettings, state: CityState | None = None) -> None:
        self.settings = settings
        self.state = state or CityState()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.connected = False
        self._watch: dict[tuple[str, str], int] = {}
        self._linger: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._arrived: dict[tuple[str, str], asyncio.Event] = {}
        self._queue_of: dict[tuple[str, str], tuple[str, str]] = {}  # ticket -> its queue
        self._queue_tickets: dict[tuple[str, str], set[tuple[str, str]]] = {}
        self._queue_arrived: dict[tuple[str, str], asyncio.Event] = {}
        self._streams: dict[tuple[str, str], set[asyncio.Queue[dict[str, Any] | None]]] = {}
        self._status_waiters: set[asyncio.Queue[str]] = set()
        self.answers: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.pending: dict[str, tuple[str, float]] = {}  # request id -> (hall, deadline)
        self._answer_events: dict[str, asyncio.Event] = {}
        self.resp_base = f"gw/v1/{settings.gw_id}/resp"
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"gw-{settings.gw_id}", protocol=mqtt.MQTTv5
        )
        c.username_pw_set(settings.username or f"gw-{settings.gw_id}", settings.password)
        parts = urlsplit(settings.broker)
        if parts.scheme == "mqtts":
            c.tls_set()
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        c.reconnect_delay_set(1, 30)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self.client = c

    # -- life ------------------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self.client.connect_async(
            self._host, self._port, keepalive=30, clean_start=False, properties=props
        )
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("the broker refused the gateway: %s", reason)
            return
        subs = [("hall/v1/+/status", 1), ("hall/v1/+/online", 1), (f"{self.resp_base}/#", 1)]
        subs += [(f"hall/v1/{h}/tickets/{c}", 1) for h, c in list(self._watch)]
        subs += [(f"hall/v1/{h}/queues/{s}", 1) for h, s in list(self._queue_tickets)]
        client.subscribe(subs)
        self.connected = True
        log.info("gateway connected to %s", self.settings.broker)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected = False
        log.warning("gateway lost the broker (%s); showing the last picture", reason)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.startswith(self.resp_base + "/"):
            self._on_answer(msg)
            return
        if not msg.payload:
            payload = None
        else:
            try:
                payload = orjson.loads(msg.payload)
            except orjson.JSONDecodeError:
                self.state.junk += 1
                log.warning("ignored a message on %s: not JSON", msg.topic)
                return
        changed = self.state.apply(msg.topic, payload)
        if changed is None or self.loop is None:
            return
        if changed[0] == "ticket":
            self.loop.call_soon_threadsafe(self._ticket_changed, changed[1])
        elif changed[0] == "queue":
            self.loop.call_soon_threadsafe(self._queue_changed, changed[1])
        else:
            self.loop.call_soon_threadsafe(self._hall_changed, changed[1])

    def _on_answer(self, msg: mqtt.MQTTMessage) -> None:
        try:
            answer = orjson.loads(msg.payload)
            rid = answer["request_id"]
            if not isinstance(rid, str):
                raise ValueError
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("ignored an answer on %s: malformed", msg.topic)
            return
        hall_id = msg.topic.split("/")[4]
        answer = {**answer, "hall_id": hall_id}
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._answered, rid, answer)

    # -- on the asyncio loop -----------------------------------------------------------------
    def _ticket_changed(self, key: tuple[str, str]) -> None:
        payload = self.state.tickets.get(key)
        if key in self._watch and payload is not None:
            self._follow_queue(key, (key[0], str(payload.get("service"))))
        ev = self._arrived.get(key)
        if ev is not None:
            ev.set()
        view = self.state.view(key)
        for q in self._streams.get(key, ()):
            q.put_nowait(view)

    def _queue_changed(self, qkey: tuple[str, str]) -> None:
        ev = self._queue_arrived.get(qkey)
        if ev is not None:
            ev.set()
        for key in self._queue_tickets.get(qkey, ()):
            streams = self._streams.get(key)
            if streams:
                view = self.state.view(key)
                for q in streams:
                    q.put_nowait(view)

    def _follow_queue(self, key: tuple[str, str], qkey: tuple[str, str]) -> None:
        """Follow the queue of a followed ticket's service (a transfer changes it)."""
        old = self._queue_of.get(key)
        if old == qkey:
            return
        if old is not None:
            self._unfollow_queue(key, old)
        self._queue_of[key] = qkey
        tickets = self._queue_tickets.setdefault(qkey, set())
        tickets.add(key)
        if len(tickets) == 1:
            self.client.subscribe(f"hall/v1/{qkey[0]}/queues/{qkey[1]}", qos=1)

    def _unfollow_queue(self, key: tuple[str, str], qkey: tuple[str, str]) -> None:
        tickets = self._queue_tickets.get(qkey)
        if tickets is None:
            return
        tickets.discard(key)
        if not tickets:
            self._queue_tickets.pop(qkey, None)
            self.state.queues.pop(qkey, None)
            self.client.unsubscribe(f"hall/v1/{qkey[0]}/queues/{qkey[1]}")

    def _hall_changed(self, hall_id: str) -> None:
        for q in self._status_waiters:
            q.put_nowait(hall_id)

    def _answered(self, rid: str, answer: dict[str, Any]) -> None:
        self.answers[rid] = answer
        self.answers.move_to_end(rid)
        while len(self.answers) > MAX_ANSWERS:
            self.answers.popitem(last=False)
        self.pending.pop(rid, None)
        ev = self._answer_events.pop(rid, None)
        if ev is not None:
            ev.set()

    def watch(self, hall_id: str, code: str) -> None:
        key = (hall_id, code)
        timer = self._linger.pop(key, None)
        if timer is not None:
            timer.cancel()
        n = self._watch.get(key, 0)
        self._watch[key] = n + 1
        if n == 0 and key not in self.state.tickets:
            self.client.subscribe(f"hall/v1/{hall_id}/tickets/{code}", qos=1)

    def unwatch(self, hall_id: str, code: str) -> None:
        key = (hall_id, code)
        n = self._watch.get(key, 0) - 1
        if n > 0:
            self._watch[key] = n
            return
        self._watch[key] = 0
        assert self.loop is not None
        old = self._linger.pop(key, None)
        if old is not None:
            old.cancel()
        self._linger[key] = self.loop.call_later(LINGER_S, self._forget, key)

    def _forget(self, key: tuple[str, str]) -> None:
        self._linger.pop(key, None)
        if self._watch.get(key, 0) > 0:
            return
        self._watch.pop(key, None)
        self.state.tickets.pop(key, None)
        qkey = self._queue_of.pop(key, None)
        if qkey is not None:
            self._unfollow_queue(key, qkey)
        self.client.unsubscribe(f"hall/v1/{key[0]}/tickets/{key[1]}")

    async def lookup(self, hall_id: str, code: str) -> dict[str, Any] | None:
        """The ticket's progress from its retained message, its place from its queue's (see
        `CityState.view`); None when no ticket message comes in time (a wrong code, or a
        ticket whose day has ended). The topics stay followed for `LINGER_S` after, so the
        page's event stream that follows starts at once."""
        if not HALL_ID.match(hall_id) or not TICKET_CODE.match(code):
            return None
        key = (hall_id, code)
        if key not in self._watch and len(self._watch) >= MAX_WATCHED:
            return None
        self.watch(hall_id, code)
        try:
            if key not in self.state.tickets:
                ev = self._arrived.setdefault(key, asyncio.Event())
                try:
                    await asyncio.wait_for(ev.wait(), self.settings.lookup_timeout_s)
                except TimeoutError:
                    return None
                finally:
                    self._arrived.pop(key, None)
            ticket = self.state.tickets.get(key)
            qkey = self._queue_of.get(key)
            hall = self.state.halls.get(hall_id)
            sends_queues = hall is not None and hall.sends_queues
            if ticket and ticket.get("status") == "waiting" and qkey and sends_queues:
                await self._queue_ready(qkey)
            return self.state.view(key)
        finally:
            self.unwatch(hall_id, code)

    async def _queue_ready(self, qkey: tuple[str, str]) -> None:
        """Wait (at most `lookup_timeout_s`) for a newly followed queue's retained message;
        without one the page shows the ticket's own figures."""
        if qkey in self.state.queues:
            return
        ev = self._queue_arrived.setdefault(qkey, asyncio.Event())
        try:
            await asyncio.wait_for(ev.wait(), self.settings.lookup_timeout_s)
        except TimeoutError:
            log.info("no queue message for %s/%s; showing the ticket's own place", *qkey)
        finally:
            self._queue_arrived.pop(qkey, None)

    def stream(self, hall_id: str, code: str) -> asyncio.Queue[dict[str, Any] | None]:
        q: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._streams.setdefault((hall_id, code), set()).add(q)
        return q

    def close_stream(self, hall_id: str, code: str, q: asyncio.Queue[Any]) -> None:
        qs = self._streams.get((hall_id, code))
        if qs is not None:
            qs.discard(q)
            if not qs:
                self._streams.pop((hall_id, code), None)

    def open_streams(self) -> int:
        return sum(len(s) for s in self._streams.values())

    async def request(
        self, hall_id: str, kind: str, body: dict[str, Any], request_id: str
    ) -> dict[str, Any] | None:
        """Send a phone action to a hall (MQTT 5 request/response); its answer, or None if
        none came within `answer_wait_s` (it may still come: see `answer`)."""
        if request_id in self.answers:
            return self.answers[request_id]
        s = self.settings
        known = self.pending.get(request_id)
        deadline = known[1] if known else time.time() + s.request_ttl_s
        self.pending[request_id] = (hall_id, deadline)
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = f"{self.resp_base}/{hall_id}/{request_id}"
        props.CorrelationData = secrets.token_bytes(8)
        props.MessageExpiryInterval = int(deadline - time.time()) + s.request_grace_s
        ev = self._answer_events.setdefault(request_id, asyncio.Event())
        payload = {**body, "v": 1, "request_id": request_id, "expires_at": deadline}
        self.client.publish(
            f"hall/v1/{hall_id}/req/{kind}", orjson.dumps(payload), qos=1, properties=props
        )
        try:
            await asyncio.wait_for(ev.wait(), s.answer_wait_s)
        except TimeoutError:
            return None
        return self.answers.get(request_id)

    def answer(self, request_id: str) -> dict[str, Any] | None:
        """A request's answer; a request the broker has dropped unanswered is expired."""
        if request_id in self.answers:
            return self.answers[request_id]
        known = self.pending.get(request_id)
        if known and time.time() > known[1] + self.settings.request_grace_s:
            return {
                "v": 1,
                "request_id": request_id,
                "ok": False,
                "code": "expired",
                "message": "操作已过期，大厅未受理，请重新操作",
            }
        return None

    def status_feed(self) -> asyncio.Queue[str]:
        q: asyncio.Queue[str] = asyncio.Queue()
        self._status_waiters.add(q)
        return q

    def close_status_feed(self, q: asyncio.Queue[str]) -> None:
        self._status_waiters.discard(q)
