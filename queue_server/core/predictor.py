"""Waiting-time predictor per service: throughput, open windows, people ahead, time of day.

The Erlang model of queue_server.core.estimate assumes every open window serving a service gives it
a fixed share of its time (its weight share). In a hall with comprehensive windows that share
follows the queues: a window spends its time on whichever service has waited longest. So the
predictor measures what the service actually gets:

1. **Rate.** The capacity rate: the staffed open windows serving the service (open with a
   staff member on duty, HallContext.on_duty; a paused one counts as back from its short
   break, see 3), each by the share of its time the service gets, divided
   by the mean time a called ticket holds its window (today's last 60 done or skipped, shrunk
   towards the configured time): a no-show ahead costs the minute or two the window waits
   for them, not a whole service, and with about 7% no-shows counting them as services made
   every estimate a few percent long. A shared window's share follows the queues: weight ×
   how long each service's first ticket has waited (`DYNAMIC_SHARE`). The service's observed
   completion rate in the current session (done or skipped, the last `RATE_CALLS`) is blended
   in as history grows; the capacity rate is its floor, because an observed rate is held down
   whenever the queue ran empty.
   When a session opens, every free window calls at once: one service time of work goes then.
   **Pool** (`POOL_WEIGHT`): the same windows seen from the other side; if they clear their
   queues in issue order, the ticket is called when the work ahead of it in them is done:
   other services' waiting tickets by the share of their windows that are ours. The minutes of
   work are a weighted average of the two (3/4 pool).
   **Passing at shared windows** (`CROSS_OVERTAKE`, `cross_flux`): windows do not call in
   issue order but by weight × (class offset + minutes waited). Where a window weights
   another service twice ours, that service's tickets issued in the first half of our wait are
   called before us there; its priority classes pass us for their offset; and where a window
   weights us more (or we hold a priority class), some of its tickets waiting now are behind
   us, not ahead as the pool counts them. Those services' arrivals in the last hour, by class,
   give the work that passes. In a peak this is what made waits run long (the pool alone
   assumed issue order), and what shortens them once the peak is over.
   **Arrival trend** (`ARRIVAL_RECENT_MIN`, `trend`): the hour's per-class arrival rates are
   scaled by how the last 20 minutes ran against the hour (pooled over the services on the
   windows; the hall's arrivals rise and fall together), so the passing work follows the end
   of a peak, and the return after lunch, without waiting an hour.
2. **People ahead** in calling order (HallContext.ahead), plus one for the ticket itself, plus
   the higher classes expected to arrive and overtake during the wait (`overtakers`, scaled by
   the arrival trend).
3. **Time of day.** The service's opening hours are taken as the windows' working hours: a wait
   that runs past the end of a session (lunch, 12:00) continues when the next one starts, and a
   ticket issued during the lunch break waits for the afternoon.
   A window paused inside a session is on a short break and back `BREAK_RETURN_MIN` after it
   paused: the completions it misses until then are extra work.
4. **Range.** The wait is a sum of n+1 service completions, CV 1/√(n+1) (Whitt 1999), plus the
   uncertainty of the rate itself (`RATE_CV`); the shown range is the 10th–90th percentile of
   a log-normal with that spread, so about 80% of tickets are called inside it. The point is
   that log-normal's median (it minimises the absolute error).
"""

from __future__ import annotations

import functools
import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from time import monotonic
from typing import TYPE_CHECKING, Any, TypeVar

from queue_server.core.estimate import Z90, WaitRange

T = TypeVar("T")

if TYPE_CHECKING:
    from queue_server.core.context import HallContext

RATE_CALLS = 50  # recent completions used for the observed rate
RATE_MIN_CALLS = 4
RATE_FULL = 50  # completions at which the observed rate gets full weight
OBS_LOW, OBS_HIGH = 1.0, 3.0  # the observed rate, as multiples of the capacity rate
RATE_CV = 0.15  # relative uncertainty of the rate (checked on simulated days)
CACHE_S = 30.0  # recompute a service's rate at most this often (clock seconds)
# A shared window's time goes to the services that have waited longest (accumulating
# priority), not by fixed weight shares: split it by weight × (head-of-line wait + SHARE_A)
# for services with a queue, weight × SHARE_B for those without (minutes).
DYNAMIC_SHARE = True
SHARE_A, SHARE_B = 5.0, 1.0
PAUSED_WEIGHT = 0.8  # a paused window, when BREAK_RETURN_MIN is 0 (off)
MEDIAN_POINT = True  # the point is the wait's median (False: its mean)
OVERTAKE = True  # count higher-class tickets expected to arrive during the wait and pass
POOL_WEIGHT = 0.75  # weight of the pool estimate against the rate one (0: rate only)
BREAK_RETURN_MIN = 15.0  # a short break (a window paused in a session) lasts this long; 0: off
ARRIVAL_WINDOW_MIN = 60.0  # recent arrivals of each class, for their arrival rate
ARRIVAL_RECENT_MIN = 20.0  # the last part of it, for the trend of the hall's arrivals (0: off)
TREND_LOW, TREND_HIGH = 0.5, 3.0  # bounds of that trend
SERVICE_HISTORY = 60  # today's calls (done or no-show) averaged per ticket (0: the context's)
SERVICE_PRIOR = 5  # the configured time counts as this many services
CROSS_OVERTAKE = True  # other services' later arrivals that pass us at windows weighting them more
CROSS_BEHIND = True  # and other services' waiting tickets we pass at windows weighting us more


@dataclass(frozen=True)
class Prediction:
    point_min: float
    low_min: float
    high_min: float

    def range(self) -> WaitRange:
        low = int(math.floor(self.low_min))
        return WaitRange(low, max(low + 1, int(math.ceil(self.high_min))))


class Predictor:
    """Pluggable into HallContext.estimate; keeps a small per-service cache of rates."""

    def __init__(self) -> None:
        self._rates: dict[str, tuple[float, float]] = {}  # service -> (computed at, rate)
        self._service: dict[str, tuple[float, float]] = {}  # service -> (computed at, minutes)
        # Hall-wide query results (window states, queue lengths, recent arrivals) may be
        # reused for `ttl` seconds of wall time: a busy hall views hundreds of tickets a second
        # and these change far more slowly than that. The hall sets it; 0 (tests on a fixed
        # clock, the in-process accuracy study) recomputes every time.
        self.ttl = 0.0
        self._rows_cache: dict[tuple[object, ...], tuple[float, list[Any]]] = {}
        self._shares_of: object = None
        self._memo_cache: dict[tuple[object, ...], tuple[float, Any]] = {}
        self._shares_cache: dict[str, tuple[dict[str, float], dict[str, float]]] = {}

    def _rows(
        self, conn: sqlite3.Connection, key: tuple[object, ...], sql: str, params: Any = ()
    ) -> list[Any]:
        if self.ttl <= 0:
            return conn.execute(sql, params).fetchall()
        now = monotonic()
        hit = self._rows_cache.get((id(conn), *key))
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        rows = conn.execute(sql, params).fetchall()
        self._rows_cache[(id(conn), *key)] = (now, rows)
        return rows

    def _memo(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """A per-service piece of the estimate (loops over windows × services × classes),
        reused for `ttl` seconds like the query results it is made of."""
        if self.ttl <= 0:
            return compute()
        now = monotonic()
        hit = self._memo_cache.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]  # type: ignore[no-any-return]
        value = compute()
        self._memo_cache[key] = (now, value)
        return value

    # -- the pieces ------------------------------------------------------------------------
    def window_states(self, ctx: HallContext, conn: sqlite3.Connection) -> dict[int, str]:
        """Each window's state; an open or paused one with nobody on duty is `unstaffed`
        (HallContext.window_states) and gives the service nothing."""
        return self._memo(("windows", id(conn)), lambda: ctx.window_states(conn))

    def capacity_rate(self, ctx: HallContext, conn: sqlite3.Connection, service: str) -> float:
        """Completions per minute the staffed windows give the service by weight share."""
        status = self.window_states(ctx, conn)
        pressure = self.pressure(ctx, conn) if DYNAMIC_SHARE else None
        servers = 0.0
        for w in ctx.config.windows:
            if service not in w.services:
                continue
            st = status.get(w.no)
            paused = PAUSED_WEIGHT if not BREAK_RETURN_MIN else 1.0  # back from break soon
            factor = 1.0 if st == "open" else paused if st == "paused" else 0.0
            if pressure is None:
                share = w.services[service] / sum(w.services.values())
            else:
                # The service asking has at least the ticket being estimated waiting.
                mine = w.services[service] * pressure.get(service, SHARE_A)
                others = sum(
                    wt * pressure.get(code, SHARE_B)
                    for code, wt in w.services.items()
                    if code != service
                )
                share = mine / (mine + others)
            servers += factor * share
        return servers / self.service_min(ctx, conn, service)

    def service_min(self, ctx: HallContext, conn: sqlite3.Connection, service: str) -> float:
        """Minutes a called ticket holds its window: today's last `SERVICE_HISTORY` done or
        skipped as no-shows, shrunk to the configured service time."""
        if SERVICE_HISTORY <= 0:
            return ctx.mean_service_min(service)
        now = ctx.clock.timestamp()
        cached = self._service.get(service)
        if cached is not None and 0 <= now - cached[0] < CACHE_S:
            return cached[1]
        # A called ticket holds its window until done, or until skipped as a no-show: the time
        # per ticket ahead is the average over both (no-shows take a minute or two, not a
        # whole service).
        # Today's completions only (index tickets_completed from midnight on), not a sort of
        # every completion the service ever had.
        day = ctx.clock.business_day()
        midnight = datetime.combine(date.fromisoformat(day), time(0, 0), ctx.clock.zone)
        row = conn.execute(
            "SELECT COUNT(*), AVG(m) FROM (SELECT (t - called_ts) / 60.0 AS m FROM"
            " (SELECT COALESCE(finished_ts, skipped_ts) AS t, called_ts FROM tickets"
            " WHERE business_day = ? AND service = ? AND status IN ('done', 'no_show')"
            " AND COALESCE(finished_ts, skipped_ts) >= ? AND called_ts IS NOT NULL)"
            " WHERE t IS NOT NULL ORDER BY t DESC LIMIT ?)",
            (day, service, midnight.timestamp(), SERVICE_HISTORY),
        ).fetchone()
        n, avg = int(row[0]), row[1]
        configured = ctx.service(service).avg_service_min
        value = (n * avg + SERVICE_PRIOR * configured) / (n + SERVICE_PRIOR) if n else configured
        self._service[service] = (now, value)
        return float(value)

    def on_break(
        self, ctx: HallContext, conn: sqlite3.Connection, service: str
    ) -> list[tuple[float, float]]:
        return self._memo(("break", id(conn), service), lambda: self._on_break(ctx, conn, service))

    def _on_break(
        self, ctx: HallContext, conn: sqlite3.Connection, service: str
    ) -> list[tuple[float, float]]:
        """Windows serving the service that are paused now: (servers, minutes until back).

        A pause inside a session is a short break; it is expected to last `BREAK_RETURN_MIN`
        (one already longer is expected back within a minute). Pauses between sessions (lunch)
        are the sessions' business, not this.
        """
        now = ctx.clock.timestamp()
        out: list[tuple[float, float]] = []
        for no, since in self._rows(
            conn, ("paused",), "SELECT no, status_since FROM windows WHERE status = 'paused'"
        ):
            w = next((x for x in ctx.config.windows if x.no == no), None)
            if w is None or service not in w.services:
                continue
            if self.window_states(ctx, conn).get(no) != "paused":
                continue  # paused and nobody on duty: not coming back from a short break
            paused_min = (now - datetime.fromisoformat(since).timestamp()) / 60.0
            share = w.services[service] / sum(w.services.values())
            out.append((share, max(1.0, BREAK_RETURN_MIN - paused_min)))
        return out

    def pool_work(
        self, ctx: HallContext, conn: sqlite3.Connection, service: str, ahead: int
    ) -> float:
        """Open minutes until called if the windows serving the service clear their queues in
        issue order: the minutes of work waiting ahead in those windows ÷ how many are staffed.

        Another service's waiting tickets count by the share of that service's windows (by
        weight) that are also ours; ours count by `ahead`.
        """
        staffed, others = self._memo(
            ("pool", id(conn), service), lambda: self._pool_others(ctx, conn, service)
        )
        if staffed == 0:
            return math.inf
        return ((ahead + 1) * self.service_min(ctx, conn, service) + others) / staffed

    def _pool_others(
        self, ctx: HallContext, conn: sqlite3.Connection, service: str
    ) -> tuple[int, float]:
        """(staffed windows serving the service, minutes of other services' work at them)."""
        status = self.window_states(ctx, conn)
        mine = [w for w in ctx.config.windows if service in w.services]
        staffed = sum(1 for w in mine if status.get(w.no) in ("open", "paused"))
        share, total = self._shares(ctx, service)
        minutes = 0.0
        for code, n in self._rows(
            conn,
            ("waiting",),
            "SELECT service, COUNT(*) FROM tickets WHERE status = 'waiting' GROUP BY service",
        ):
            if code != service and code in share:
                minutes += n * share[code] / total[code] * self.service_min(ctx, conn, code)
        return staffed, minutes

    def cross_flux(
        self, ctx: HallContext, conn: sqlite3.Connection, service: str, priority: str | None
    ) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float, float]]]:
        return self._memo(
            ("flux", id(conn), service, priority),
            lambda: self._cross_flux(ctx, conn, service, priority),
        )

    def _cross_flux(
        self, ctx: HallContext, conn: sqlite3.Connection, service: str, priority: str | None
    ) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float, float]]]:
        """Other services' tickets that pass ours at the windows we share, and those ours passes.

        A window scores weight × (class offset + minutes waited). At a window weighting service
        j w_j and ours w_i, with r = w_i / w_j and our class offset o, a ticket of j in class c
        issued d minutes after ours is called first iff d < offset_c - r·o + (1 - r) × our wait.
        So j's arrivals in that class pass us over that part of the wait: `passing` holds (their
        minutes of work per minute at this window, offset_c - r·o, 1 - r). The pool counts every
        ticket of j waiting now as ahead of us; where r·o + (r - 1) × our wait > 0 the ordinary
        ones issued within that many minutes are behind us instead: `behind` holds (minutes of
        work per minute issued, r·o, r - 1, j's head-of-line wait, which bounds them). Both are
        per staffed window of ours, like the pool; arrival rates are the last
        `ARRIVAL_WINDOW_MIN` minutes' (one cached query per service).
        """
        status = self.window_states(ctx, conn)
        classes = ctx.config.routing.classes
        ordinary = classes["ordinary"]
        own = classes.get(priority or "ordinary", ordinary).offset
        _share, total = self._shares(ctx, service)
        hol = self.pressure(ctx, conn)
        arrivals: dict[str, list[tuple[str, int, int]]] = {}
        staffed = 0
        passing: list[tuple[float, float, float]] = []
        behind: list[tuple[float, float, float, float]] = []
        for w in ctx.config.windows:
            if service not in w.services or status.get(w.no) not in ("open", "paused"):
                continue
            staffed += 1
            mine = w.services[service]
            weights = sum(w.services.values())
            for code, wt in w.services.items():
                if code == service:
                    continue
                counts = arrivals.get(code)
                if counts is None:
                    counts = arrivals[code] = self.arrivals(ctx, conn, code)
                # minutes of work this window does per ticket of that service issued
                part = (wt / weights) / total[code] * self.service_min(ctx, conn, code)
                r = mine / wt
                for cls_code, n, _m in counts:
                    offset = classes.get(cls_code, ordinary).offset
                    flow = n / ARRIVAL_WINDOW_MIN * part
                    if r < 1 or offset > r * own:
                        passing.append((flow, offset - r * own, 1 - r))
                    if CROSS_BEHIND and offset == 0 and code in hol and (own > 0 or r > 1):
                        behind.append((flow, r * own, r - 1, hol[code] - SHARE_A))
        if staffed == 0:
            return [], []
        # Summed over terms with the same (cut-off, slope): exact (each term is its flow times
        # the same function of the wait), and a city hall's windows × services × classes
        # collapse to a few dozen terms, which `predict` sums three times per estimate.
        flows: dict[tuple[float, float], float] = {}
        for f, c, g in passing:
            flows[(c, g)] = flows.get((c, g), 0.0) + f
        backs: dict[tuple[float, float, float], float] = {}
        for f, c, g, h in behind:
            backs[(c, g, h)] = backs.get((c, g, h), 0.0) + f
        return (
            [(f / staffed, c, g) for (c, g), f in flows.items()],
            [(f / staffed, c, g, h) for (c, g, h), f in backs.items()],
        )

    def _shares(self, ctx: HallContext, service: str) -> tuple[dict[str, float], dict[str, float]]:
        """By service code: the weight shares of the windows serving `service`, and of all
        windows. Depends on the configuration only, so it is kept until that changes."""
        config = ctx.config
        if self._shares_of is not config:
            self._shares_of = config
            self._shares_cache = {}
        hit = self._shares_cache.get(service)
        if hit is None:
            share: dict[str, float] = {}
            total: dict[str, float] = {}
            for w in config.windows:
                weights = sum(w.services.values())
                ours = service in w.services
                for code, wt in w.services.items():
                    total[code] = total.get(code, 0.0) + wt / weights
                    if ours:
                        share[code] = share.get(code, 0.0) + wt / weights
            hit = self._shares_cache[service] = (share, total)
        return hit

    def pressure(self, ctx: HallContext, conn: sqlite3.Connection) -> dict[str, float]:
        """How hard each service pulls on a shared window: its head-of-line wait (minutes)."""
        now = ctx.clock.timestamp()
        out: dict[str, float] = {}
        for code, first in self._rows(
            conn,
            ("head",),
            "SELECT service, MIN(issued_ts) FROM tickets WHERE status = 'waiting' GROUP BY service",
        ):
            out[code] = max(0.0, (now - first) / 60.0) + SHARE_A
        return out

    def observed_rate(
        self, ctx: HallContext, conn: sqlite3.Connection, service: str, since: float
    ) -> tuple[float, int]:
        """Completions per minute of the service over its recent ones in this session."""
        # Completions (finished or skipped), not calls: every window calls at once when a
        # session opens, which says nothing about how fast the queue moves.
        rows = conn.execute(
            "SELECT COALESCE(finished_ts, skipped_ts) AS t FROM tickets WHERE business_day = ?"
            " AND service = ? AND status IN ('done', 'no_show') AND t >= ?"
            " ORDER BY t DESC LIMIT ?",
            (ctx.clock.business_day(), service, since, RATE_CALLS),
        ).fetchall()
        if len(rows) < RATE_MIN_CALLS:
            return 0.0, len(rows)
        now = ctx.clock.timestamp()
        span_min = (now - rows[-1][0]) / 60.0
        if span_min <= 0:
            return 0.0, len(rows)
        return len(rows) / span_min, len(rows)

    def rate(self, ctx: HallContext, conn: sqlite3.Connection, service: str) -> float:
        now = ctx.clock.timestamp()
        cached = self._rates.get(service)
        if cached is not None and 0 <= now - cached[0] < CACHE_S:
            return cached[1]
        cap = self.capacity_rate(ctx, conn, service)
        session = _session_start(ctx, service, now)
        obs, n = self.observed_rate(ctx, conn, service, session)
        if obs > 0:
            w = min(1.0, n / RATE_FULL)
            # The observed rate may be held down by an empty queue; never trust it below half
            # the capacity rate, and never above twice it.
            obs = min(max(obs, OBS_LOW * cap), OBS_HIGH * cap) if cap > 0 else obs
            rate = w * obs + (1 - w) * cap
        else:
            rate = cap
        if rate <= 0:
            rate = 1.0 / ctx.mean_service_min(service)  # nobody serves it now: assume one window
        self._rates[service] = (now, rate)
        return rate

    # -- the estimate ----------------------------------------------------------------------
    def arrivals(
        self, ctx: HallContext, conn: sqlite3.Connection, service: str
    ) -> list[tuple[str, int, int]]:
        """The service's tickets by class: issued in the last `ARRIVAL_WINDOW_MIN` minutes, and
        in the last `ARRIVAL_RECENT_MIN` of them. One index range (service, issued_ts), cached."""
        now = ctx.clock.timestamp()
        rows = self._rows(
            conn,
            ("arrivals", service),
            "SELECT priority, COUNT(*), SUM(issued_ts >= ?) FROM tickets WHERE service = ?"
            " AND issued_ts >= ? GROUP BY priority",
            (now - ARRIVAL_RECENT_MIN * 60.0, service, now - ARRIVAL_WINDOW_MIN * 60.0),
        )
        return [(p, int(n), int(m or 0)) for p, n, m in rows]

    def trend(self, ctx: HallContext, conn: sqlite3.Connection, services: list[str]) -> float:
        return self._memo(("trend", id(conn), *services), lambda: self._trend(ctx, conn, services))

    def _trend(self, ctx: HallContext, conn: sqlite3.Connection, services: list[str]) -> float:
        """How today's arrivals run now against the hour behind: the last `ARRIVAL_RECENT_MIN`
        minutes' rate over the `ARRIVAL_WINDOW_MIN` minutes' one, pooled over the services
        (a hall's arrivals rise and fall together: the morning peak ends for everyone). The
        per-class rates come from the whole window (few tickets each); their level follows
        this. It also lifts a window that reaches back into a quiet time (before opening, the
        lunch break)."""
        if ARRIVAL_RECENT_MIN <= 0:
            return 1.0
        whole = recent = 0
        for code in services:
            for _p, n, m in self.arrivals(ctx, conn, code):
                whole += n
                recent += m
        if whole == 0:
            return 1.0
        ratio = (recent / ARRIVAL_RECENT_MIN) / (whole / ARRIVAL_WINDOW_MIN)
        return min(TREND_HIGH, max(TREND_LOW, ratio))

    def overtakers(
        self, ctx: HallContext, conn: sqlite3.Connection, service: str, priority: str | None
    ) -> list[tuple[float, float]]:
        """Higher classes that will arrive and overtake: (arrivals per minute, for how long).

        Under accumulating priority a ticket of class c issued s minutes after ours passes it
        iff offset_c - s > own offset, so it overtakes for (offset_c - own offset) minutes after
        issue; under strict priority for the whole wait (math.inf). The arrival rate is the
        class's tickets for the service in the last `ARRIVAL_WINDOW_MIN` minutes.
        """
        routing = ctx.config.routing
        own = routing.classes.get(priority or "ordinary", routing.classes["ordinary"])
        counts = {code: n for code, n, _m in self.arrivals(ctx, conn, service)}
        out: list[tuple[float, float]] = []
        for code, cls in routing.classes.items():
            if cls.offset <= own.offset or not counts.get(code):
                continue
            span = math.inf if routing.policy == "strict" else (cls.offset - own.offset) / own.rate
            out.append((counts[code] / ARRIVAL_WINDOW_MIN, span))
        return out

    def predict(
        self,
        ctx: HallContext,
        conn: sqlite3.Connection,
        service: str,
        ahead: int,
        priority: str | None = None,
    ) -> Prediction:
        rate = self.rate(ctx, conn, service)
        now = ctx.clock.timestamp()
        spans = _sessions(ctx, service, now)
        cap = ctx.capacity(conn)
        if (
            not ctx.config.hall.enforce_hours
            and not _in_session(spans, now)
            and (cap.servers.get(service, 0.0) > 0 or not cap.staffed.get(service))
        ):
            # A hall that runs at any hour (the demo) with windows open, or with nobody on
            # duty for the service (the nominal one-window range): no gaps.
            spans = []
        if (not spans or _in_session(spans, now)) and ahead < cap.free.get(service, 0.0):
            return Prediction(0.0, 0.0, min(5.0, ctx.mean_service_min(service) / 4))
        k = ahead + 1
        work = k / rate  # minutes of open time until called
        passing: list[tuple[float, float, float]] = []
        behind: list[tuple[float, float, float, float]] = []
        if POOL_WEIGHT:
            pool = self.pool_work(ctx, conn, service, ahead)
            if math.isfinite(pool):
                work = (1 - POOL_WEIGHT) * work + POOL_WEIGHT * pool
                rate = k / work
                if CROSS_OVERTAKE:
                    passing, behind = self.cross_flux(ctx, conn, service, priority)
        base = work
        # When a session opens (morning, after lunch) every window calls at once: the first
        # windows' worth of tickets goes without waiting for a completion.
        restart = self.service_min(ctx, conn, service)
        over = self.overtakers(ctx, conn, service, priority) if OVERTAKE else []
        breaks = (
            self.on_break(ctx, conn, service)
            if BREAK_RETURN_MIN and (not spans or _in_session(spans, now))
            else []
        )
        svc_min = self.service_min(ctx, conn, service)
        if over or passing or behind:
            trend = self.trend(ctx, conn, list(self._shares(ctx, service)[0]) or [service])
            over = [(lam * trend, span) for lam, span in over]
            passing = [(f * trend, c, g) for f, c, g in passing]
            behind = [(f * trend, c, g, h) for f, c, g, h in behind]
        for _ in range(3 if over or breaks or passing or behind else 0):
            # Those who arrive while we wait and pass us, and the completions that windows on
            # a break will not make before they are back: more work before our call.
            wait = _elapsed(spans, now, work, restart) / 60.0
            extra = sum(lam * min(span, wait) for lam, span in over)
            extra += sum(share * min(left, wait) / svc_min for share, left in breaks)
            span = min(wait, work)  # arrivals come in open hours
            cross = sum(f * min(max(0.0, c + g * wait), span) for f, c, g in passing)
            cross -= sum(f * min(max(0.0, c + g * wait), h) for f, c, g, h in behind)
            work = max(0.5 * base, base + extra / rate + POOL_WEIGHT * cross)
        cv = math.sqrt(1.0 / k + RATE_CV**2)
        sigma = math.sqrt(math.log(1 + cv * cv))
        mu = math.log(work) - sigma * sigma / 2
        low_work = math.exp(mu - Z90 * sigma)
        high_work = math.exp(mu + Z90 * sigma)

        def clock_min(w: float) -> float:
            return _elapsed(spans, now, w, restart) / 60.0

        # The point is the median, not the mean: it minimises the absolute error, and near a
        # session's end (lunch) it does not put half the tickets on the wrong side of the gap.
        point = math.exp(mu) if MEDIAN_POINT else work
        return Prediction(clock_min(point), clock_min(low_work), clock_min(high_work))

    def estimate(
        self,
        ctx: HallContext,
        conn: sqlite3.Connection,
        service: str,
        ahead: int,
        priority: str | None = None,
    ) -> WaitRange:
        return self.predict(ctx, conn, service, ahead, priority).range()


# -- time of day ---------------------------------------------------------------------------------


def _sessions(ctx: HallContext, service: str, now: float) -> list[tuple[float, float]]:
    """Today's working sessions of the service (timestamps), in order."""
    zone = ctx.clock.zone
    day = datetime.fromtimestamp(now, zone).date()
    return _day_sessions(tuple(ctx.service(service).hours), day, zone)


@functools.lru_cache(maxsize=256)
def _day_sessions(hours: tuple[str, ...], day: date, zone: tzinfo) -> list[tuple[float, float]]:
    # Asked on every ticket view; the same few (hours, day) pairs all day long.
    out: list[tuple[float, float]] = []
    for span in hours:
        start = datetime.combine(day, time.fromisoformat(span[:5]), zone)
        end = (
            datetime.combine(day + timedelta(days=1), time(0, 0), zone)
            if span[6:] == "24:00"
            else datetime.combine(day, time.fromisoformat(span[6:]), zone)
        )
        out.append((start.timestamp(), end.timestamp()))
    return sorted(out)


def _in_session(spans: list[tuple[float, float]], now: float) -> bool:
    return any(s <= now < e for s, e in spans)


def _session_start(ctx: HallContext, service: str, now: float) -> float:
    """Start of the current session (or of the last one, between sessions)."""
    best = now - 4 * 3600.0
    for s, _e in _sessions(ctx, service, now):
        if s <= now:
            best = s
    return best


def _elapsed(
    spans: list[tuple[float, float]], now: float, work_min: float, restart_min: float = 0.0
) -> float:
    """Clock seconds from now until `work_min` minutes of session time have passed.

    Waits skip the gaps between sessions (lunch), and a session that opens takes
    `restart_min` of work off at once (every window calls together); past the day's last
    session the windows serve the queue out, so the time simply runs on.
    """
    need = work_min * 60.0
    t = now
    for s, e in spans:
        if e <= t:
            continue
        if t < s:
            t = s
            need = max(0.0, need - restart_min * 60.0)
        if t + need <= e:
            return t + need - now
        need -= e - t
        t = e
    return t + need - now
