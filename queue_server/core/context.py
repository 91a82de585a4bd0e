"""What every operation needs to know about the hall: configuration, clock, keys, caches."""

from __future__ import annotations

import hmac
import sqlite3
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from queue_server.base.clock import Clock
from queue_server.base.config import HallConfig, Service
from queue_server.base.db import Tx
from queue_server.base.errors import Invalid
from queue_server.core.estimate import WaitRange, wait_range

ACTIVE = ("waiting", "called")
MIN_SERVICE_MIN = 0.1  # minutes: the shortest mean service time believed
RECENT_SERVICE_TIMES = 20
CALLED_GRACE_S = 12 * 3600.0  # a ticket called this long before a new day is not being served


@dataclass
class Capacity:
    """Staffed open windows serving each service (by weight share) and how many are free."""

    servers: dict[str, float]
    free: dict[str, float]
    at: float
    staffed: dict[str, int] = field(default_factory=dict)  # staffed windows (open or paused)


class WaitPredictor(Protocol):
    """What estimates a waiting ticket's range (queue_server.core.predictor.Predictor does)."""

    def estimate(
        self,
        ctx: HallContext,
        conn: sqlite3.Connection,
        service: str,
        ahead: int,
        priority: str | None = None,
    ) -> WaitRange: ...


@dataclass
class HallContext:
    config: HallConfig
    clock: Clock
    id_key: bytes
    current_day: str = ""
    service_times: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _shares: tuple[HallConfig, list[tuple[int, list[tuple[str, float]]]]] | None = None
    _capacity: Capacity | None = None
    # The wait estimate (queue_server.core.predictor.Predictor); None: the Erlang range.
    predictor: WaitPredictor | None = None
    # Who is on duty where: window no -> wall-clock time a staff credential bound to it was last
    # used (queue_server.runtime.hall.Hall.window_presence). None: nobody is known to be on duty.
    presence: Callable[[sqlite3.Connection], dict[int, float]] | None = None
    presence_ttl: float = 0.0  # seconds a presence answer may be reused (0: always ask)
    _presence_cache: tuple[float, frozenset[int]] | None = None

    # -- configuration -----------------------------------------------------------------
    def service(self, code: str) -> Service:
        svc = self.config.service(code)
        if svc is None:
            raise Invalid(f"未知的事项编码：{code}", "unknown_service")
        return svc

    def class_label(self, code: str) -> str:
        cls = self.config.routing.classes.get(code)
        return cls.label if cls else code

    def id_hash(self, id_number: str) -> str:
        """Keyed hash of an ID number (HMAC-SM3, HMAC-SHA256 where SM3 is unavailable)."""
        try:
            return hmac.new(self.id_key, id_number.encode(), "sm3").hexdigest()
        except ValueError:
            return hmac.new(self.id_key, id_number.encode(), "sha256").hexdigest()

    # -- business day ------------------------------------------------------------------
    def roll_day(self, tx: Tx) -> None:
        """Start a new business day if local midnight has passed: expire yesterday's waiting
        tickets. A ticket being served (called) across midnight stays so, to be finished;
        one called more than `CALLED_GRACE_S` ago is expired with the waiting ones."""
        today = self.clock.business_day()
        if today == self.current_day:
            return
        stale_called = self.clock.timestamp() - CALLED_GRACE_S
        where = (
            "business_day < ? AND (status = 'waiting'"
            " OR (status = 'called' AND COALESCE(called_ts, 0) < ?))"
        )
        stale = tx.execute(
            f"SELECT id FROM tickets WHERE {where}", (today, stale_called)
        ).fetchall()
        if stale:
            tx.execute(
                f"UPDATE tickets SET status = 'expired' WHERE {where}", (today, stale_called)
            )
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('business_day', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (today,),
        )
        if self.current_day:
            tx.emit("day.rolled", {"business_day": today, "expired": len(stale)})
        self.current_day = today
        self._capacity = None

    # -- service times and capacity ----------------------------------------------------
    def record_service_time(self, service: str, minutes: float) -> None:
        times = self.service_times[service]
        times.append(minutes)
        while len(times) > RECENT_SERVICE_TIMES:
            times.popleft()

    def mean_service_min(self, service: str) -> float:
        times = list(self.service_times.get(service, ()))
        configured = self.service(service).avg_service_min
        if len(times) < 3:
            return configured
        # Blend with the configured value while history is thin.
        n = len(times)
        w = min(1.0, n / RECENT_SERVICE_TIMES)
        # Finishes seconds after the call (a mistaken call closed at once) must not make a
        # service look instant: rates divide by this.
        return max(MIN_SERVICE_MIN, w * (sum(times) / n) + (1 - w) * configured)

    def _window_shares(self) -> list[tuple[int, list[tuple[str, float]]]]:
        """Each window's services with their share of its weight, computed once per config.

        Capacity is recomputed after every call and finish; with 300 windows, summing the
        weights again each time was most of the cost of issuing a ticket in a city hall.
        """
        cached = self._shares
        if cached is not None and cached[0] is self.config:
            return cached[1]
        shares = []
        for w in self.config.windows:
            total = sum(w.services.values())
            shares.append((w.no, [(code, weight / total) for code, weight in w.services.items()]))
        self._shares = (self.config, shares)
        return shares

    def invalidate_capacity(self) -> None:
        self._capacity = None
        self._presence_cache = None

    # -- who serves --------------------------------------------------------------------
    def on_duty(self, conn: sqlite3.Connection) -> frozenset[int] | None:
        """Windows with a staff member on duty: a staff credential bound to the window (a login
        session or a window token) used within `security.session_idle_minutes` of wall time.
        None under `hall.staffing = "open"`: every open window counts as served."""
        if self.config.hall.staffing == "open":
            return None
        cached = self._presence_cache
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.presence_ttl:
            return cached[1]
        idle = self.config.security.session_idle_minutes * 60.0
        wall = time.time()
        seen = self.presence(conn) if self.presence is not None else {}
        duty = frozenset(no for no, used in seen.items() if wall - used <= idle)
        self._presence_cache = (now, duty)
        return duty

    def window_states(self, conn: sqlite3.Connection) -> dict[int, str]:
        """Each window's state for estimates and the floor: `open` or `paused` only while
        staffed; an open or paused window with nobody on duty is `unstaffed` (not serving)."""
        cur = conn.cursor()
        cur.row_factory = None
        raw: dict[int, str] = dict(cur.execute("SELECT no, status FROM windows"))
        duty = self.on_duty(conn)
        if duty is None:
            return raw
        return {
            no: ("unstaffed" if st in ("open", "paused") and no not in duty else st)
            for no, st in raw.items()
        }

    def capacity(self, conn: sqlite3.Connection) -> Capacity:
        cap = self._capacity
        now = time.monotonic()
        if cap is not None and now - cap.at < 1.0:
            return cap
        # One pass, plain tuples: each window's state and whether it has a called ticket
        # (tickets_window index). It runs in the writer after every call and finish.
        cur = conn.cursor()
        cur.row_factory = None
        state = {
            no: (status, busy)
            for no, status, busy in cur.execute(
                "SELECT w.no, w.status, EXISTS (SELECT 1 FROM tickets t"
                " WHERE t.window = w.no AND t.status = 'called') FROM windows w"
            )
        }
        duty = self.on_duty(conn)
        servers: dict[str, float] = defaultdict(float)
        free: dict[str, float] = defaultdict(float)
        staffed: dict[str, int] = defaultdict(int)
        for no, shares in self._window_shares():
            status, busy = state.get(no, ("closed", False))
            if status == "closed" or (duty is not None and no not in duty):
                continue  # closed, or open with nobody on duty: serves nobody
            for code, _share in shares:
                staffed[code] += 1
            if status != "open":
                continue
            idle = not busy
            for code, share in shares:
                servers[code] += share
                if idle:
                    free[code] += 1
        cap = Capacity(dict(servers), dict(free), now, dict(staffed))
        self._capacity = cap
        return cap

    # -- derived ticket fields ---------------------------------------------------------
    def ahead(self, conn: sqlite3.Connection, row: sqlite3.Row | dict[str, Any]) -> int:
        """People ahead of a waiting ticket in its service, in calling order right now.

        Each class contributes the tickets of it that are called before this one: those issued
        before a cut-off time (for its own class: before it). One statement sums them all, so
        the writer makes one SQLite call. A cut-off in the last `RECENT_S` (a ticket being
        issued, the higher classes) is counted from the other end: the class's waiting total
        (table queue_counts) minus the few issued after it; an older cut-off is counted
        directly (few were issued before it and still wait). Both are index ranges.
        """
        if row["status"] != "waiting":
            return 0
        classes = self.config.routing.classes
        now = self.clock.timestamp()
        own_cls = classes.get(row["priority"], classes["ordinary"])
        service, ts = row["service"], row["issued_ts"]
        strict = self.config.routing.policy == "strict"
        own = own_cls.offset + own_cls.rate * max(0.0, now - ts) / 60.0
        recent = now - RECENT_S
        whole: list[str] = []  # classes counted as their total ...
        parts: list[str] = []  # ... plus (or minus) these range counts
        params: list[Any] = []
        for code, cls in classes.items():
            if code == row["priority"]:
                if ts >= recent:  # total minus itself and those issued after it
                    whole.append(code)
                    parts.append(f"- {_QUEUE} AND issued_ts > ?)")
                    parts.append(f"- {_QUEUE} AND issued_ts = ? AND id >= ?)")
                else:  # issued before it, or at the same instant with a lower id
                    parts.append(f"+ {_QUEUE} AND issued_ts < ?)")
                    parts.append(f"+ {_QUEUE} AND issued_ts = ? AND id < ?)")
                params += [service, code, ts, service, code, ts, row["id"]]
            elif strict:
                if cls.offset > own_cls.offset:
                    whole.append(code)
            else:
                cut = now - 60.0 * (own - cls.offset) / cls.rate
                if cut >= recent:
                    whole.append(code)
                    parts.append(f"- {_QUEUE} AND issued_ts >= ?)")
                else:
                    parts.append(f"+ {_QUEUE} AND issued_ts < ?)")
                params += [service, code, cut]
        marks = ",".join("?" * len(whole))
        total = (
            "(SELECT COALESCE(SUM(waiting), 0) FROM queue_counts"
            f" WHERE service = ? AND priority IN ({marks}))"
        )
        sql = f"SELECT {total} {' '.join(parts)}"
        return int(conn.execute(sql, [service, *whole, *params]).fetchone()[0])

    def estimate(
        self, conn: sqlite3.Connection, service: str, ahead: int, priority: str | None = None
    ) -> WaitRange:
        """Range shown for a ticket of `service` (class `priority`) with `ahead` before it.

        With no staffed window serving the service, the range is the nominal one (as if one
        window served it) marked `unstaffed`, so kiosks and the display still show a figure
        and can say why it is uncertain."""
        if self.predictor is not None:
            est: WaitRange = self.predictor.estimate(self, conn, service, ahead, priority)
        else:
            cap = self.capacity(conn)
            est = wait_range(
                ahead,
                cap.servers.get(service, 0.0),
                self.mean_service_min(service),
                cap.free.get(service, 0.0),
            )
        if self.on_duty(conn) is not None and not self.capacity(conn).staffed.get(service):
            return WaitRange(est.low_min, est.high_min, unstaffed=True)
        return est

    def ticket_view(self, conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
        ahead = self.ahead(conn, row)
        est = (
            self.estimate(conn, row["service"], ahead, row["priority"])
            if row["status"] == "waiting"
            else None
        )
        svc = self.config.service(row["service"])
        return {
            "id": row["id"],
            "number": row["number"],
            "service": row["service"],
            "service_name": svc.name if svc else row["service"],
            "status": row["status"],
            "priority": row["priority"],
            "priority_label": self.class_label(row["priority"]),
            "channel": row["channel"],
            "business_day": row["business_day"],
            "issued_at": row["issued_at"],
            "window": row["window"],
            "target_window": row["target_window"],
            "called_at": row["called_at"],
            "finished_at": row["finished_at"],
            "call_count": row["call_count"],
            "transfers": row["transfers"],
            "ahead": ahead,
            "wait_estimate": est.as_dict() if est else {"low_min": 0, "high_min": 0},
            "call_reason": orjson.loads(row["call_reason"]) if row["call_reason"] else None,
            "id_masked": row["id_masked"],
            "name_masked": row["name_masked"],
            "window_guide": self._window_guide(row["window"]),
        }

    def _window_guide(self, no: int | None) -> str | None:
        """The way to the ticket's window (智能引导, "3楼B区12号窗口"); None before a call."""
        if no is None:
            return None
        win = self.config.window(no)
        return win.guide if win else f"{no}号窗口"


RECENT_S = 600.0  # see HallContext.ahead
_QUEUE = "(SELECT COUNT(*) FROM tickets WHERE status = 'waiting' AND service = ? AND priority = ?"
