"""The hall's link to the city broker over MQTT 5 (docs/CITY.md).

Started by `Hall.start_background` when the hall's configuration has a `[city]` section. A
commit listener only marks what changed (it runs on the writer thread and must not block);
one background thread builds and publishes, at most once per `status_interval_s`:

- `hall/v1/{hall_id}/status` (retained, QoS 1): the hall and its services, only on change;
- `hall/v1/{hall_id}/online` (retained, QoS 1): a heartbeat; the connection's will says
  `online: false` when the link dies;
- `hall/v1/{hall_id}/queues/{service}` (retained, QoS 0): the service's waiting order as
  short keyed digests of the ticket codes and the wait range by place, only on change; the
  gateway, which learns a code only from the phone holding it, finds the ticket's place;
- `hall/v1/{hall_id}/tickets/{code}` (retained, QoS 0): a ticket's own state when it changes
  (issued, called, finished, ...; not when its place moves), never an ID number or a name;
  emptied when the ticket's business day ends.

Queue and ticket messages go at QoS 0: the many small messages of a busy hall then cost no
acknowledgement each. What a broken connection may lose is published again on the next
connection (every queue and every ticket of the day), so the retained picture on the broker
still ends right; the status, the heartbeat, requests and answers keep QoS 1.

Phone actions arrive on `hall/v1/{hall_id}/req/{kind}` (QoS 1, a persistent session, so the
broker keeps them while the link is down) and are answered on the MQTT 5 response topic with
the correlation data. Each request id is applied once: its answer is kept in `city_requests`
and given again for a duplicate. A request past its deadline is answered `expired`, never
applied. With the broker down the hall works exactly as before; only the city view is stale.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from halldomain.queues import code_digest, wait_at
from queue_server.base import db as dbmod
from queue_server.base.config import CitySection
from queue_server.base.errors import HallError, Invalid
from queue_server.core.tickets import get_row_by_code
from queue_server.ratings import evaluations

if TYPE_CHECKING:
    from queue_server.base.db import Event, Tx
    from queue_server.runtime.hall import Hall

log = logging.getLogger("hall.city")
SCHEMA = 1
SESSION_EXPIRY_S = 7 * 86400  # the broker keeps this hall's requests this long while it is away
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TICKET_CODE = re.compile(r"^[0-9a-f]{20}$")
KINDS = ("rate",)
MAX_REQUEST_BYTES = 4096
QUEUE_REFRESH_S = 60.0  # every queue is rebuilt this often (priorities age, estimates drift)
ESTIMATE_REUSE_S = 10.0  # a queue's wait at a place is estimated again after this (or staffing)
DAY_KEY = "city_published_day"  # meta: the business day whose tickets are on the broker
PUBLIC_STATUSES = ("waiting", "called", "no_show", "done", "cancelled", "expired")


def response_topic_pattern(hall_id: str) -> re.Pattern[str]:
    """Where this hall may answer: a gateway's response branch for this hall (see the ACL)."""
    return re.compile(
        rf"^gw/v1/[A-Za-z0-9_-]{{1,40}}/resp/{re.escape(hall_id)}/[A-Za-z0-9_-]{{8,64}}$"
    )


WAIT_POINTS = (0, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def wait_points(n: int) -> list[int]:
    """The places whose wait range a queue message carries (the gateway interpolates between
    them): a few steps that widen down the queue, and `n`, the place of a ticket issued now
    (the status's figure). Each is one estimate, the costly part of a queue message."""
    return [p for p in WAIT_POINTS if p < n] + [n]


def broker_address(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url)
    tls = parts.scheme == "mqtts"
    return parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883), tls


class CityLink:
    """Publishes one hall's public state and answers phone actions (see the module doc)."""

    def __init__(self, hall: Hall, cfg: CitySection) -> None:
        self.hall = hall
        self.cfg = cfg
        self.base = f"hall/v1/{cfg.hall_id}"
        self._resp_ok = response_topic_pattern(cfg.hall_id)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._status_dirty = True
        self._tickets_dirty: set[int] = set()
        self._services_dirty: set[str] = set()
        self._all_queues = True  # every service's queue to be rebuilt
        self._queues_at = 0.0  # monotonic time all queues were last rebuilt
        self._full_sweep = True
        self._last_status: bytes | None = None
        self._published: dict[str, bytes] = {}  # ticket code -> last payload sent
        self._queues: dict[str, bytes] = {}  # service -> last queue payload (without seq)
        self._seq = 0
        self._queue_seq = 0
        self._session = 0  # counts connections: a publication that spans a new one is redone
        self._waits: dict[str, list[Any]] = {}  # service -> [n waiting, low, high] for a new one
        self._estimates: dict[tuple[str, int], tuple[float, int, int]] = {}  # (svc, place) ->
        self._digests: dict[str, str] = {}  # ticket code -> its digest today
        self._reasons_of: Any = None
        self._reasons_list: list[dict[str, str]] = []
        self._day = ""
        self._conn: Any = None
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()
        self.published_count = 0
        self.cycles = 0  # publications made by the publishing thread
        self.cycle_cpu_s = 0.0  # and the CPU they took (that thread's own time)
        self.client = self._make_client()

    # -- wiring ------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"hall-{self.cfg.hall_id}",
            protocol=mqtt.MQTTv5,
        )
        c.username_pw_set(self.cfg.username or f"hall-{self.cfg.hall_id}", self.cfg.password)
        host, port, tls = broker_address(self.cfg.broker)
        if tls:
            c.tls_set()
        c.will_set(
            f"{self.base}/online",
            orjson.dumps({"v": SCHEMA, "hall_id": self.cfg.hall_id, "online": False}),
            qos=1,
            retain=True,
        )
        c.reconnect_delay_set(1, 30)
        c.max_queued_messages_set(1000)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.message_callback_add(f"{self.base}/req/+", self._on_request)
        self._host, self._port = host, port
        return c

    def start(self, publisher: bool = True) -> None:
        """Connect in the background (a broker that is down only delays the city view).
        `publisher=False`: no publishing thread; the caller calls `publish_once` (tests)."""
        self._conn = dbmod.connect(self.hall.db.path, readonly=True)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self.client.connect_async(
            self._host, self._port, keepalive=30, clean_start=False, properties=props
        )
        self.client.loop_start()
        if publisher:
            self._thread = threading.Thread(target=self._run, name="hall-city", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Say offline (a clean stop sends no will), then disconnect."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        if self.connected.is_set():
            info = self.client.publish(
                f"{self.base}/online", self._online_payload(False), qos=1, retain=True
            )
            try:
                info.wait_for_publish(2)
            except (RuntimeError, ValueError):
                pass
            self.client.disconnect()
        self.client.loop_stop()
        if self._conn is not None:
            self._conn.close()

    def on_commit(self, events: list[Event]) -> None:
        """Commit listener (writer thread): note what changed; the publisher does the rest."""
        for ev in events:
            t = ev.type
            if t.startswith("ticket."):
                tid = ev.data.get("id")
                if tid is not None:
                    self._tickets_dirty.add(tid)
                for key in ("service", "from_service"):
                    svc = ev.data.get(key)
                    if isinstance(svc, str):
                        self._services_dirty.add(svc)
            elif t == "evaluation.created":
                tid = ev.data.get("ticket_id")
                if tid is not None:
                    self._tickets_dirty.add(tid)
            elif t.startswith("window.") or t.startswith("staff."):
                self._all_queues = True  # staffing moves every wait estimate
        self._status_dirty = True
        self._wake.set()

    # -- MQTT callbacks (the client's network thread) ----------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("city broker refused the connection: %s", reason)
            return
        client.subscribe(f"{self.base}/req/+", qos=1)
        client.publish(f"{self.base}/online", self._online_payload(True), qos=1, retain=True)
        self._session += 1
        self._forget_published()
        self.connected.set()
        self._wake.set()
        log.info("city link up: %s as %s", self.cfg.broker, self.cfg.hall_id)

    def _forget_published(self) -> None:
        """Publish everything again: after a new connection, the QoS 0 messages sent around the
        old one's end may be lost (and a broker without persistence has lost them all)."""
        self._last_status = None
        self._published.clear()
        self._queues.clear()
        self._all_queues = True
        self._full_sweep = True

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if self.connected.is_set():
            log.warning("city link down (%s); the hall goes on, the city view waits", reason)
        self.connected.clear()

    def _on_request(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        kind = msg.topic.rsplit("/", 1)[-1]
        props = msg.properties
        resp_topic = getattr(props, "ResponseTopic", None)
        corr = getattr(props, "CorrelationData", None)
        try:
            if len(msg.payload) > MAX_REQUEST_BYTES:
                raise Invalid("请求过大", "too_large")
            body = orjson.loads(msg.payload)
            if not isinstance(body, dict):
                raise Invalid("请求格式不正确", "bad_request")
        except (orjson.JSONDecodeError, Invalid):
            log.warning("ignored a malformed request on %s (%d bytes)", msg.topic, len(msg.payload))
            return
        try:
            answer = self.handle_request(kind, body)
        except Exception:  # a bad request must never stop the link
            log.exception("city request on %s failed", msg.topic)
            return
        if not resp_topic or not self._resp_ok.match(resp_topic):
            log.warning("request on %s has no usable response topic", msg.topic)
            return
        out = Properties(PacketTypes.PUBLISH)
        if corr:
            out.CorrelationData = corr
        out.MessageExpiryInterval = 86400
        client.publish(resp_topic, orjson.dumps(answer), qos=1, properties=out)

    # -- requests ------------------------------------------------------------------------------
    def handle_request(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Apply one phone action once; the same request id again gets the same answer."""
        rid = body.get("request_id")
        if not isinstance(rid, str) or not REQUEST_ID.match(rid):
            return _refusal("", "bad_request", "请求编号不正确")
        stored = self._conn.execute(
            "SELECT answer FROM city_requests WHERE request_id = ?", (rid,)
        ).fetchone()
        if stored is not None:
            return dict(orjson.loads(stored[0]), replayed=True)
        deadline = body.get("expires_at")
        if kind not in KINDS:
            answer = _refusal(rid, "unknown_kind", "大厅不受理这类操作")
        elif not isinstance(deadline, int | float) or deadline < time.time():
            answer = _refusal(rid, "expired", "操作已过期，大厅未受理，请重新操作")
        elif not self.cfg.accepts_remote:
            answer = _refusal(rid, "not_accepted", "本大厅暂不受理手机端操作")
        else:
            try:
                return self.hall.run_sync(lambda tx: self._apply_rating(tx, rid, body))
            except HallError as err:
                answer = _refusal(rid, err.code, err.message)
        return self.hall.run_sync(lambda tx: _remember(tx, rid, kind, answer))

    def _apply_rating(self, tx: Tx, rid: str, body: dict[str, Any]) -> dict[str, Any]:
        again = tx.one("SELECT answer FROM city_requests WHERE request_id = ?", (rid,))
        if again is not None:
            return dict(orjson.loads(again[0]), replayed=True)
        code = body.get("code")
        level = body.get("level")
        reasons = body.get("reasons") or []
        comment = body.get("comment") or ""
        if not isinstance(code, str) or not TICKET_CODE.match(code):
            raise Invalid("号票二维码不正确", "bad_code")
        if not isinstance(level, int) or isinstance(level, bool):
            raise Invalid("评价等级应为 1 到 5", "invalid_level")
        if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
            raise Invalid("评价原因格式不正确", "invalid_reasons")
        if not isinstance(comment, str):
            raise Invalid("留言格式不正确", "invalid_comment")
        ticket = get_row_by_code(tx.conn, code)
        view = evaluations.create(
            self.hall.ctx, tx, ticket["id"], level, reasons, comment, "qr", None
        )
        answer = {
            "v": SCHEMA,
            "request_id": rid,
            "ok": True,
            "kind": "rate",
            "ticket_number": view["ticket_number"],
            "level": view["level"],
            "level_label": view["level_label"],
            "reason_labels": view["reason_labels"],
            "created_at": view["created_at"],
        }
        return _remember(tx, rid, "rate", answer)

    # -- publishing ----------------------------------------------------------------------------
    def _run(self) -> None:
        last_beat = time.monotonic()  # on_connect says online first
        last_pub = 0.0
        while not self._stop.is_set():
            beat_due = last_beat + self.cfg.heartbeat_s
            self._wake.wait(max(0.05, min(beat_due - time.monotonic(), 30.0)))
            if self._stop.is_set():
                break
            # Coalesce: a burst of commits becomes one publication per interval.
            gap = last_pub + self.cfg.status_interval_s - time.monotonic()
            if gap > 0 and self._stop.wait(gap):
                break
            self._wake.clear()
            if not self.connected.is_set():
                continue  # everything is published again on reconnect
            cpu = time.thread_time()
            try:
                self.publish_once()
            except Exception:  # the city view must never take the hall down
                log.exception("city publication failed")
            self.cycles += 1
            self.cycle_cpu_s += time.thread_time() - cpu
            last_pub = time.monotonic()
            if time.monotonic() >= beat_due:
                self.client.publish(
                    f"{self.base}/online", self._online_payload(True), qos=1, retain=True
                )
                last_beat = time.monotonic()

    def publish_once(self) -> None:
        session = self._session
        self._publish_changes()
        if self._session != session:  # reconnected meanwhile: what went out may be lost
            self._forget_published()

    def _publish_changes(self) -> None:
        conn = self._conn
        today = self.hall.clock.business_day()
        if today != self._day:
            self._roll(today)
        tickets, self._tickets_dirty = self._tickets_dirty, set()
        services, self._services_dirty = self._services_dirty, set()
        full, self._full_sweep = self._full_sweep, False
        now = time.monotonic()
        if full or self._all_queues or now - self._queues_at >= QUEUE_REFRESH_S:
            if self._all_queues:
                self._estimates.clear()  # staffing changed: every wait moves
            self._all_queues = False
            self._queues_at = now
            services = {s.code for s in self.hall.config.services}
        self._status_dirty = False
        # The queues first (the status and the tickets' places come from them), published
        # last: a called ticket says so before it leaves its queue (the gateway keeps the
        # ticket's own figures while it is in no queue).
        queues = {}
        for svc in sorted(services):
            if self.hall.config.service(svc) is not None:
                queues[svc] = self.queue_payload(conn, svc, today)
                self._waits[svc] = queues[svc]["waits"][-1]
        self._publish_status(conn)
        if full:
            rows = conn.execute(
                "SELECT * FROM tickets WHERE business_day = ? AND code IS NOT NULL", (today,)
            ).fetchall()
        else:
            rows = []
            for part, marks in dbmod.in_chunks(sorted(tickets)):
                rows += conn.execute(
                    f"SELECT * FROM tickets WHERE id IN ({marks})", part
                ).fetchall()
        places: dict[str, dict[str, int]] = {}
        rated: dict[int, int] = {}
        for part, marks in dbmod.in_chunks([r["id"] for r in rows if r["status"] == "done"]):
            rated.update(
                conn.execute(
                    "SELECT ticket_id, level FROM evaluations WHERE channel IN ('window', 'qr')"
                    f" AND ticket_id IN ({marks})",
                    part,
                ).fetchall()
            )
        for r in rows:
            q = queues.get(r["service"])
            if r["status"] == "waiting" and q is None:  # not refreshed: rebuild it now
                q = queues[r["service"]] = self.queue_payload(conn, r["service"], today)
            if q is not None and r["service"] not in places:
                places[r["service"]] = {d: i for i, d in enumerate(q["order"]) if d}
            self._publish_ticket(r, today, q, places.get(r["service"], {}), rated.get(r["id"]))
        for svc, body in queues.items():
            self._publish_queue(svc, body)

    def queue_order(self, conn: Any, service: str) -> list[Any]:
        """The service's waiting tickets in calling order right now, as `HallContext.ahead`
        counts them (score = class offset + rate × minutes waited, ties by arrival; strict:
        the class's offset, then arrival): the codes (None for a ticket without one)."""
        classes = self.hall.config.routing.classes
        strict = self.hall.config.routing.policy == "strict"
        now = self.hall.clock.timestamp()
        queue: list[tuple[float, float, int, Any]] = []
        for tid, code, priority, ts in conn.execute(
            "SELECT id, code, priority, issued_ts FROM tickets"
            " WHERE status = 'waiting' AND service = ?",
            (service,),
        ):
            cls = classes.get(priority) or classes["ordinary"]
            score = cls.offset if strict else cls.offset + cls.rate * max(0.0, now - ts) / 60.0
            queue.append((-score, ts, tid, code))
        queue.sort()
        return [q[3] for q in queue]

    def queue_payload(self, conn: Any, service: str, today: str) -> dict[str, Any]:
        """A service's queue: each waiting ticket by the digest of its code (null without a
        code), in calling order, and the wait range at some places (`wait_points`)."""
        hid = self.cfg.hall_id
        codes = self.queue_order(conn, service)
        digests = self._digests
        order = []
        for c in codes:
            if c and c not in digests:
                digests[c] = code_digest(hid, today, c)
            order.append(digests[c] if c else None)
        waits = []
        now = time.monotonic()
        for place in wait_points(len(order)):
            known = self._estimates.get((service, place))
            if known is None or now - known[0] > ESTIMATE_REUSE_S:
                est = self.hall.ctx.estimate(conn, service, place)
                known = self._estimates[(service, place)] = (now, est.low_min, est.high_min)
            waits.append([place, known[1], known[2]])
        return {
            "v": SCHEMA,
            "hall_id": hid,
            "service": service,
            "business_day": today,
            "order": order,
            "waits": waits,
        }

    def _publish_queue(self, service: str, body: dict[str, Any]) -> None:
        key = orjson.dumps(body)
        if self._queues.get(service) == key:
            return  # unchanged: no message
        self._queue_seq += 1
        out = dict(body, updated_at=self.hall.clock.iso(self.hall.clock.timestamp()))
        out["seq"] = self._queue_seq
        self.client.publish(f"{self.base}/queues/{service}", orjson.dumps(out), qos=0, retain=True)
        self._queues[service] = key
        self.published_count += 1

    def _publish_status(self, conn: Any) -> None:
        body = self.status(conn)
        key = orjson.dumps(body)
        if key == self._last_status:
            return
        self._seq += 1
        body["updated_at"] = self.hall.clock.iso(self.hall.clock.timestamp())
        body["seq"] = self._seq
        self.client.publish(f"{self.base}/status", orjson.dumps(body), qos=1, retain=True)
        self._last_status = key
        self.published_count += 1

    def status(self, conn: Any) -> dict[str, Any]:
        """The hall's public status (without `updated_at` and `seq`)."""
        hall, cfg = self.hall, self.hall.config
        waiting = dict(
            conn.execute(
                "SELECT service, COUNT(*) FROM tickets WHERE status = 'waiting' GROUP BY service"
            ).fetchall()
        )
        cap = hall.ctx.capacity(conn)
        services = []
        hours: list[str] = []
        open_now: dict[tuple[str, ...], bool] = {}  # most services share their hours
        for svc in cfg.services:
            n = int(waiting.get(svc.code, 0))
            known = self._waits.get(svc.code)  # the queue's figure for a ticket issued now
            if known is not None and known[0] == n:
                low, high = known[1], known[2]
            else:
                est = hall.ctx.estimate(conn, svc.code, n)
                low, high = est.low_min, est.high_min
            key = tuple(svc.hours)
            is_open = open_now.get(key)
            if is_open is None:
                is_open = open_now[key] = hall.clock.within(svc.hours)
            services.append(
                {
                    "code": svc.code,
                    "name": svc.name,
                    "name_en": svc.name_en,
                    "waiting": n,
                    "wait_low_min": low,
                    "wait_high_min": high,
                    "staffed_windows": int(cap.staffed.get(svc.code, 0)),
                    "open": is_open,
                }
            )
            hours += [h for h in svc.hours if h not in hours]
        return {
            "v": SCHEMA,
            "hall_id": self.cfg.hall_id,
            "name": cfg.hall.name,
            "address": self.cfg.address,
            "district": self.cfg.district,
            "lat": self.cfg.lat,
            "lon": self.cfg.lon,
            "hours": sorted(hours),
            "open_now": any(s["open"] for s in services),
            "accepts_remote": self.cfg.accepts_remote,
            "queues": True,  # places move in queues/{service} (a hall without it: in tickets)
            "rating_reasons": self._reasons(cfg),
            "services": services,
        }

    def _reasons(self, cfg: Any) -> list[dict[str, str]]:
        """The 差评 reason list of the status, built once per configuration."""
        if self._reasons_of is not cfg:
            self._reasons_list = [{"code": r.code, "label": r.label} for r in cfg.ratings.domain()]
            self._reasons_of = cfg
        return self._reasons_list

    def ticket_payload(
        self,
        row: Any,
        queue: dict[str, Any] | None,
        places: dict[str, int],
        rated_level: int | None = None,
    ) -> dict[str, Any]:
        """A ticket's public progress: what its holder sees, and nothing that names them.
        A waiting ticket's place and wait come from its service's queue of this cycle;
        `rated_level`, the level of its window or QR rating if it has one."""
        ahead, low, high = 0, 0, 0
        if row["status"] == "waiting" and queue is not None:
            digest = self._digests.get(row["code"]) or code_digest(
                self.cfg.hall_id, queue["business_day"], row["code"]
            )
            ahead = places.get(digest, len(queue["order"]))
            low, high = wait_at(queue["waits"], ahead)
        done = row["status"] == "done"  # only a finished ticket is rated
        svc = self.hall.config.service(row["service"])
        return {
            "v": SCHEMA,
            "hall_id": self.cfg.hall_id,
            "number": row["number"],
            "service": row["service"],
            "service_name": svc.name if svc else row["service"],
            "status": row["status"],
            "ahead": ahead,
            "wait_low_min": low,
            "wait_high_min": high,
            "window": row["window"],
            "issued_at": row["issued_at"],
            "called_at": row["called_at"],
            "finished_at": row["finished_at"],
            "business_day": row["business_day"],
            "rateable": done and rated_level is None and self.cfg.accepts_remote,
            "rated_level": rated_level if done else None,
        }

    def _publish_ticket(
        self,
        row: Any,
        today: str,
        queue: dict[str, Any] | None,
        places: dict[str, int],
        rated_level: int | None,
    ) -> None:
        code = row["code"]
        if not code or row["business_day"] != today or row["status"] not in PUBLIC_STATUSES:
            return
        payload = orjson.dumps(self.ticket_payload(row, queue, places, rated_level))
        if self._published.get(code) == payload:
            return
        self.client.publish(f"{self.base}/tickets/{code}", payload, qos=0, retain=True)
        self._published[code] = payload
        self.published_count += 1

    def _roll(self, today: str) -> None:
        """A new business day (or a start): empty the tickets of the day last published."""
        stored = self._conn.execute("SELECT value FROM meta WHERE key = ?", (DAY_KEY,)).fetchone()
        ended = self._day or (stored[0] if stored else "")
        if ended and ended != today:
            self._clear_day(ended)
        if stored is None or stored[0] != today:
            self.hall.db.submit(
                lambda tx: tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (DAY_KEY, today),
                )
            )
        self._day = today
        self._digests.clear()  # a digest names the day
        self._full_sweep = True

    def _clear_day(self, day: str) -> None:
        """Empty the retained ticket messages of a business day that has ended."""
        for (code,) in self._conn.execute(
            "SELECT code FROM tickets WHERE business_day = ? AND code IS NOT NULL", (day,)
        ):
            self.client.publish(f"{self.base}/tickets/{code}", b"", qos=1, retain=True)
            self._published.pop(code, None)

    def clear_ticket(self, code: str) -> None:
        """Empty one ticket's retained message (a ticket that was purged)."""
        self.client.publish(f"{self.base}/tickets/{code}", b"", qos=1, retain=True)
        self._published.pop(code, None)

    def _online_payload(self, online: bool) -> bytes:
        now = self.hall.clock.timestamp()
        return orjson.dumps(
            {
                "v": SCHEMA,
                "hall_id": self.cfg.hall_id,
                "online": online,
                "at": self.hall.clock.iso(now),
            }
        )


def _refusal(rid: str, code: str, message: str) -> dict[str, Any]:
    return {"v": SCHEMA, "request_id": rid, "ok": False, "code": code, "message": message}


def _remember(tx: Tx, rid: str, kind: str, answer: dict[str, Any]) -> dict[str, Any]:
    """Keep a request's answer (the first one wins), and return the kept one."""
    tx.execute(
        "INSERT OR IGNORE INTO city_requests (request_id, kind, answer, received_at)"
        " VALUES (?, ?, ?, ?)",
        (rid, kind, orjson.dumps(answer).decode(), tx.now_iso),
    )
    row = tx.one("SELECT answer FROM city_requests WHERE request_id = ?", (rid,))
    return dict(orjson.loads(row[0])) if row else answer
