"""The gateway's live picture of the city, in memory, rebuilt from retained messages.

Every message is checked before it is believed: a hall publishing junk into its own topics
(the ACL keeps it out of the others') is logged and ignored, never a crash.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from halldomain.queues import code_digest, wait_at

log = logging.getLogger("city.state")
SCHEMA = 1
HALL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
TICKET_CODE = re.compile(r"^[0-9a-f]{20}$")
TICKET_STATUSES = ("waiting", "called", "no_show", "done", "cancelled", "expired")
SERVICE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
DIGEST = re.compile(r"^[0-9a-f]{16}$")
MAX_QUEUE = 20_000


class Junk(ValueError):
    """A message that does not follow the schema (docs/CITY.md)."""


@dataclass
class HallState:
    hall_id: str
    status: dict[str, Any] | None = None
    online: bool = False
    online_at: str | None = None  # the hall's own time of its last heartbeat or goodbye
    seen_at: float = 0.0  # this gateway's wall time of the last message from the hall
    status_at: float = 0.0  # wall time the current status arrived (for staleness)
    waiting: int = 0  # people waiting over all services, summed once per status
    place: tuple[float, float] | None = None  # (lat, lon) in radians, for sorting by distance

    @property
    def last_seen(self) -> str | None:
        """The hall's latest own timestamp we know (heartbeat or status)."""
        times = [t for t in (self.online_at, (self.status or {}).get("updated_at")) if t]
        return max(times) if times else None

    def waiting_total(self) -> int:
        return self.waiting

    @property
    def sends_queues(self) -> bool:
        """Whether the hall publishes queue messages (its status says `"queues": true`); a
        hall that does not keeps each ticket's place in the ticket's own message."""
        return bool((self.status or {}).get("queues"))


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise Junk(what)


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def check_status(hall_id: str, p: Any) -> dict[str, Any]:
    _need(isinstance(p, dict) and p.get("v") == SCHEMA, "not a v1 object")
    _need(p.get("hall_id") == hall_id, "hall_id differs from the topic")
    _need(isinstance(p.get("name"), str) and 0 < len(p["name"]) <= 80, "name")
    for key in ("address", "district"):
        _need(isinstance(p.get(key, ""), str) and len(p.get(key, "")) <= 120, key)
    for key, lim in (("lat", 90), ("lon", 180)):
        v = p.get(key)
        _need(v is None or (_num(v) and abs(v) <= lim), key)
    _need(isinstance(p.get("services"), list) and len(p["services"]) <= 200, "services")
    for s in p["services"]:
        _need(isinstance(s, dict), "service")
        _need(isinstance(s.get("code"), str) and isinstance(s.get("name"), str), "service code")
        for key in ("waiting", "wait_low_min", "wait_high_min", "staffed_windows"):
            _need(_num(s.get(key)) and s[key] >= 0, f"service {key}")
        _need(isinstance(s.get("open"), bool), "service open")
    _need(isinstance(p.get("open_now"), bool), "open_now")
    _need(isinstance(p.get("updated_at"), str), "updated_at")
    return p


def check_online(hall_id: str, p: Any) -> dict[str, Any]:
    _need(isinstance(p, dict) and p.get("v") == SCHEMA, "not a v1 object")
    _need(p.get("hall_id") == hall_id and isinstance(p.get("online"), bool), "online")
    return p


def check_ticket(hall_id: str, p: Any) -> dict[str, Any]:
    _need(isinstance(p, dict) and p.get("v") == SCHEMA, "not a v1 object")
    _need(p.get("hall_id") == hall_id, "hall_id differs from the topic")
    _need(isinstance(p.get("number"), str) and len(p["number"]) <= 12, "number")
    _need(p.get("status") in TICKET_STATUSES, "status")
    _need(_num(p.get("ahead")) and p["ahead"] >= 0, "ahead")
    for key in ("wait_low_min", "wait_high_min"):
        _need(_num(p.get(key)), key)
    # Only what the ticket's holder may see: nothing that could name a person.
    _need(not ({"id_masked", "name_masked", "id_number", "name", "id"} & p.keys()), "personal")
    return p


def check_queue(hall_id: str, service: str, p: Any) -> dict[str, Any]:
    _need(isinstance(p, dict) and p.get("v") == SCHEMA, "not a v1 object")
    _need(p.get("hall_id") == hall_id and p.get("service") == service, "differs from the topic")
    _need(isinstance(p.get("business_day"), str), "business_day")
    order = p.get("order")
    _need(isinstance(order, list) and len(order) <= MAX_QUEUE, "order")
    _need(all(d is None or (isinstance(d, str) and DIGEST.match(d)) for d in order), "digest")
    waits = p.get("waits")
    _need(isinstance(waits, list) and len(waits) <= 200, "waits")
    for w in waits:
        _need(isinstance(w, list) and len(w) == 3 and all(_num(x) for x in w), "wait")
    return p


@dataclass
class QueueState:
    """One service's queue: each digest's place, and the wait range at some places."""

    day: str
    places: dict[str, int]
    waits: list[tuple[float, float, float]]
    length: int

    def wait_at(self, place: int) -> tuple[int, int]:
        """The range at `place`, interpolated between the places the hall sent."""
        return wait_at(self.waits, place)


class CityState:
    """Halls by id and the tickets phones follow, by (hall id, code)."""

    def __init__(self) -> None:
        self.halls: dict[str, HallState] = {}
        self.tickets: dict[tuple[str, str], dict[str, Any] | None] = {}
        self.queues: dict[tuple[str, str], QueueState | None] = {}  # (hall id, service)
        self.junk = 0

    def view(self, key: tuple[str, str]) -> dict[str, Any] | None:
        """A ticket as its page shows it: its own message, with its place and wait taken from
        its service's queue message while it waits there (the queue is newer: the hall
        sends it when places move, the ticket only when the ticket itself changes)."""
        t = self.tickets.get(key)
        if t is None or t.get("status") != "waiting":
            return t
        q = self.queues.get((key[0], str(t.get("service"))))
        if q is None or q.day != t.get("business_day"):
            return t
        place = q.places.get(code_digest(key[0], q.day, key[1]))
        if place is None:
            return t  # left the queue: its own message (called, ...) is on its way
        low, high = q.wait_at(place)
        return {**t, "ahead": place, "wait_low_min": low, "wait_high_min": high}

    def hall(self, hall_id: str) -> HallState:
        h = self.halls.get(hall_id)
        if h is None:
            h = self.halls[hall_id] = HallState(hall_id)
        return h

    def apply(self, topic: str, payload: Any) -> tuple[str, Any] | None:
        """Take one message (payload already parsed from JSON, or None for an empty one).
        Returns what changed: ("status", hall_id), ("online", hall_id), ("ticket", key),
        ("queue", (hall_id, service))."""
        parts = topic.split("/")
        try:
            _need(len(parts) >= 4 and parts[:2] == ["hall", "v1"], "topic")
            hall_id = parts[2]
            _need(bool(HALL_ID.match(hall_id)), "hall id")
            kind = parts[3]
            if kind == "status" and len(parts) == 4:
                if payload is None:
                    self.halls.pop(hall_id, None)  # the hall was removed from the city
                    return ("status", hall_id)
                h = self.hall(hall_id)
                h.status = check_status(hall_id, payload)
                h.waiting = int(sum(s["waiting"] for s in h.status["services"]))
                lat, lon = payload.get("lat"), payload.get("lon")
                h.place = (
                    None if lat is None or lon is None else (math.radians(lat), math.radians(lon))
                )
                h.seen_at = h.status_at = time.time()
                return ("status", hall_id)
            if kind == "online" and len(parts) == 4:
                if payload is None:
                    return None
                p = check_online(hall_id, payload)
                h = self.hall(hall_id)
                h.online = p["online"]
                if isinstance(p.get("at"), str):
                    h.online_at = p["at"]
                h.seen_at = time.time()
                return ("online", hall_id)
            if kind == "tickets" and len(parts) == 5:
                code = parts[4]
                _need(bool(TICKET_CODE.match(code)), "ticket code")
                key = (hall_id, code)
                self.tickets[key] = None if payload is None else check_ticket(hall_id, payload)
                return ("ticket", key)
            if kind == "queues" and len(parts) == 5:
                service = parts[4]
                _need(bool(SERVICE_CODE.match(service)), "service code")
                qkey = (hall_id, service)
                if payload is None:
                    self.queues[qkey] = None
                    return ("queue", qkey)
                p = check_queue(hall_id, service, payload)
                places = {d: i for i, d in enumerate(p["order"]) if d is not None}
                waits = sorted((float(a), float(b), float(c)) for a, b, c in p["waits"])
                self.queues[qkey] = QueueState(p["business_day"], places, waits, len(p["order"]))
                return ("queue", qkey)
            raise Junk("unknown topic")
        except Junk as err:
            self.junk += 1
            log.warning("ignored a message on %s: %s", topic, err)
            return None

    def listing(self) -> list[HallState]:
        return [h for h in self.halls.values() if h.status is not None]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))
