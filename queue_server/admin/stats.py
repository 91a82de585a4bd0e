"""效能监察 reports computed from the event history, so that they are auditable and repeatable.

Every ticket's story is in the durable `events` table (`ticket.issued`, `ticket.called`,
`ticket.finished`, `ticket.skipped`, `ticket.transferred`, `ticket.reactivated`; each event's
data is the ticket view) and every rating in `evaluation.created`. Replaying them gives the
same figures whenever they are computed; nothing here reads the mutable `tickets` table.

Definitions (docs/ADMIN.md):
- wait: first call minus issue time, in minutes; service time: finish minus the last call.
- median and 90th percentile: linear interpolation between closest ranks (the "inclusive"
  method; numpy's default), so a known day gives exact, checkable answers.
- no-show rate: tickets whose last call ended in 过号 (skip) / tickets called.
- ratings are the service ratings (channels window and qr); a kiosk rating rates the
  terminal and is not counted against a service, window or staff member.
- satisfaction (好评率): ratings of 3 (基本满意) or better / all ratings, leaving out ratings
  an upheld appeal (申诉复核) excluded: event `evaluation.excluded`, whenever it was written.
- the offline indicators of GB/T 39734-2020 (线下评价), computed by this project from the
  levels and reason codes (the standard names them; the formulas are ours):
  整体满意度 (overall) = mean of level × 20 % (5 非常满意 = 100 %, 1 非常不满意 = 20 %);
  服务效率 / 服务水平 / 服务态度 (efficiency / competence / attitude) = the share of ratings
  that cite no reason of that indicator (each reason of the hall's list names at most one,
  `[[ratings.reasons]] indicator`).
- rates are also given as the text the screen shows (`<rate>_pct`, one decimal, half up); the
  CSV carries that same text.
"""

from __future__ import annotations

import csv
import io
import math
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson

from halldomain import ratings as vocab

DIMENSIONS = ("day", "hour", "service", "window", "staff", "department")
SERVICE_CHANNELS = ("window", "qr")
RATES = ("no_show_rate", "satisfaction", "overall", "efficiency", "competence", "attitude")
NO_DATA = "—"
TICKET_EVENTS = (
    "ticket.issued", "ticket.called", "ticket.finished", "ticket.skipped",
    "ticket.transferred", "ticket.reactivated", "ticket.cancelled", "evaluation.created",
)  # fmt: skip


@dataclass
class TicketFacts:
    id: int
    number: str
    day: str
    service: str
    hour: str
    issued_ts: float
    first_called_ts: float | None = None
    last_called_ts: float | None = None
    finished_ts: float | None = None
    window: int | None = None
    staff: str | None = None
    transfers: int = 0
    no_show: bool = False

    @property
    def wait_min(self) -> float | None:
        if self.first_called_ts is None:
            return None
        return max(0.0, self.first_called_ts - self.issued_ts) / 60.0

    @property
    def service_min(self) -> float | None:
        if self.finished_ts is None or self.last_called_ts is None:
            return None
        return max(0.0, self.finished_ts - self.last_called_ts) / 60.0


@dataclass
class Rating:
    id: int
    day: str
    hour: str
    service: str
    window: int | None
    staff: str | None
    level: int
    channel: str = "window"
    reasons: tuple[str, ...] = ()


@dataclass
class History:
    tickets: dict[int, TicketFacts] = field(default_factory=dict)
    ratings: list[Rating] = field(default_factory=list)
    events: int = 0


def _ts(text: str | None) -> float | None:
    return datetime.fromisoformat(text).timestamp() if text else None


def _hour(text: str) -> str:
    return text[11:13]


def _excluded(conn: sqlite3.Connection, day_from: str, day_to: str) -> set[int]:
    """Ratings of these days excluded by an upheld appeal (the event may be days later)."""
    rows = conn.execute("SELECT data FROM events WHERE type = 'evaluation.excluded'")
    out = set()
    for (raw,) in rows:
        data = orjson.loads(raw)
        if day_from <= data.get("business_day", "") <= day_to:
            out.add(int(data["id"]))
    return out


def load_history(conn: sqlite3.Connection, day_from: str, day_to: str) -> History:
    """Replay the events of business days `day_from`..`day_to` (inclusive, YYYY-MM-DD)."""
    # Event ts is local ISO time, so a string range on it brackets the days; one day of slack
    # on either side catches events of a business day written just across midnight.
    lo = (date.fromisoformat(day_from) - timedelta(days=1)).isoformat()
    hi = (date.fromisoformat(day_to) + timedelta(days=2)).isoformat()
    marks = ",".join("?" * len(TICKET_EVENTS))
    rows = conn.execute(
        f"SELECT type, data FROM events WHERE ts >= ? AND ts < ? AND type IN ({marks}) ORDER BY id",
        (lo, hi, *TICKET_EVENTS),
    )
    hist = History()
    excluded = _excluded(conn, day_from, day_to)
    for kind, raw in rows:
        data = orjson.loads(raw)
        day = data.get("business_day", "")
        if not day_from <= day <= day_to:
            continue
        hist.events += 1
        if kind == "evaluation.created":
            if data.get("channel", "window") not in SERVICE_CHANNELS:
                continue  # the kiosk's rating of itself
            if data.get("id") in excluded:
                continue
            hist.ratings.append(
                Rating(
                    int(data.get("id") or 0),
                    day,
                    _hour(data["created_at"]),
                    data["service"],
                    data.get("window"),
                    data.get("staff"),
                    int(data["level"]),
                    data.get("channel", "window"),
                    tuple(str(c) for c in data.get("reasons") or ()),
                )  # fmt: skip
            )
            continue
        tid = int(data["id"])
        facts = hist.tickets.get(tid)
        if kind == "ticket.issued" or facts is None:
            issued_at = data["issued_at"]
            facts = TicketFacts(
                tid, data["number"], day, data["service"], _hour(issued_at), _ts(issued_at) or 0.0
            )
            hist.tickets[tid] = facts
            if kind == "ticket.issued":
                continue
        if kind == "ticket.called":
            called = _ts(data.get("called_at"))
            if facts.first_called_ts is None:
                facts.first_called_ts = called
            facts.last_called_ts = called
            facts.window = data.get("window")
            facts.no_show = False
        elif kind == "ticket.finished":
            facts.finished_ts = _ts(data.get("finished_at"))
            facts.window = data.get("window", facts.window)
            facts.staff = data.get("staff") or facts.staff
            facts.no_show = False
        elif kind == "ticket.skipped":
            facts.no_show = True
        elif kind == "ticket.reactivated":
            facts.no_show = False
        elif kind == "ticket.transferred":
            facts.transfers += 1
    return hist


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy 'linear', statistics 'inclusive')."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


def percent(value: float | None) -> str:
    """A rate as the screen and the CSV show it: one decimal, half up, "60.0%"; no data "—"."""
    if value is None:
        return NO_DATA
    shown = (Decimal(str(value)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{shown}%"


DepartmentOf = Callable[[str, int | None], str]


def _no_department(service: str, window: int | None) -> str:
    return ""


def department_lookup(services: Iterable[Any], windows: Iterable[Any]) -> DepartmentOf:
    """`department_of` from the configuration: the service's `department`, else the
    window's, else "" (read defensively: a configuration may not have the field)."""

    def named(item: Any) -> str:
        value = getattr(item, "department", "") if item is not None else ""
        return value if isinstance(value, str) else ""

    by_code = {s.code: s for s in services}
    by_no = {w.no: w for w in windows}

    def of(service: str, window: int | None) -> str:
        return named(by_code.get(service)) or named(by_no.get(window))

    return of


def _key(obj: TicketFacts | Rating, dim: str, department_of: DepartmentOf) -> Any:
    if dim == "day":
        return obj.day
    if dim == "hour":
        return obj.hour
    if dim == "service":
        return obj.service
    if dim == "window":
        return obj.window
    if dim == "department":
        return department_of(obj.service, obj.window)
    return obj.staff


def report(
    hist: History,
    dim: str,
    indicators: Iterable[vocab.Reason] = vocab.DEFAULT_REASONS,
    department_of: DepartmentOf = _no_department,
) -> list[dict[str, Any]]:
    """One row per value of `dim` (day, hour, service, window, staff or department), plus a
    total row. `indicators` is the hall's reason list (which reason counts against which
    offline indicator); `department_of(service, window)` names the department ("" none)."""
    if dim not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dim!r}")
    indicator_of = {r.code: r.indicator for r in indicators if r.indicator}
    groups: dict[Any, tuple[list[TicketFacts], list[Rating]]] = {}
    for t in hist.tickets.values():
        groups.setdefault(_key(t, dim, department_of), ([], []))[0].append(t)
    for r in hist.ratings:
        groups.setdefault(_key(r, dim, department_of), ([], []))[1].append(r)
    keys = sorted((k for k in groups if k is not None), key=lambda k: (str(type(k)), k))
    rows = [_row(k, *groups[k], indicator_of) for k in keys]
    rows.append(_row("合计", list(hist.tickets.values()), hist.ratings, indicator_of))
    return rows


def _row(
    key: Any, tickets: list[TicketFacts], ratings: list[Rating], indicator_of: dict[str, str]
) -> dict[str, Any]:
    waits = [w for t in tickets if (w := t.wait_min) is not None]
    services = [s for t in tickets if (s := t.service_min) is not None]
    called = len(waits)
    no_show = sum(1 for t in tickets if t.no_show)
    good = sum(1 for r in ratings if r.level >= 3)
    n = len(ratings)
    row = {
        "key": key,
        "tickets": len(tickets),
        "called": called,
        "done": len(services),
        "no_show": no_show,
        "no_show_rate": _r(no_show / called, 4) if called else None,
        "transfers": sum(t.transfers for t in tickets),
        "wait_mean": _r(sum(waits) / len(waits)) if waits else None,
        "wait_median": _r(percentile(waits, 0.5)),
        "wait_p90": _r(percentile(waits, 0.9)),
        "service_mean": _r(sum(services) / len(services)) if services else None,
        "service_median": _r(percentile(services, 0.5)),
        "service_p90": _r(percentile(services, 0.9)),
        "ratings": n,
        "bad_ratings": sum(1 for r in ratings if vocab.needs_reason(r.level)),
        "satisfaction": _r(good / n, 4) if n else None,
        "mean_level": _r(sum(r.level for r in ratings) / n) if n else None,
        "overall": _r(sum(r.level for r in ratings) / (5 * n), 4) if n else None,
    }
    for name in vocab.INDICATORS:
        cited = sum(1 for r in ratings if any(indicator_of.get(c) == name for c in r.reasons))
        row[name] = _r(1 - cited / n, 4) if n else None
    for rate in RATES:
        row[f"{rate}_pct"] = percent(row[rate])
    return row


CSV_HEADERS = {
    "key": "分组",
    "tickets": "取号数",
    "called": "叫号数",
    "done": "办结数",
    "no_show": "过号数",
    "no_show_rate": "过号率",
    "transfers": "转移次数",
    "wait_mean": "平均等候(分)",
    "wait_median": "等候中位数(分)",
    "wait_p90": "等候90分位(分)",
    "service_mean": "平均办理(分)",
    "service_median": "办理中位数(分)",
    "service_p90": "办理90分位(分)",
    "ratings": "评价数",
    "bad_ratings": "差评数",
    "satisfaction": "好评率",
    "mean_level": "平均评分",
    "overall": "整体满意度",
    "efficiency": "服务效率",
    "competence": "服务水平",
    "attitude": "服务态度",
}


def to_csv(rows: list[dict[str, Any]], dim_label: str) -> str:
    """CSV with Chinese headers and a BOM, so that Excel opens it as UTF-8."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([dim_label if k == "key" else v for k, v in CSV_HEADERS.items()])
    for row in rows:
        w.writerow([_cell(row[f"{k}_pct"] if k in RATES else row[k]) for k in CSV_HEADERS])
    return "\ufeff" + buf.getvalue()


def _cell(value: Any) -> Any:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
