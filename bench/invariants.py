"""What must hold after any hall day, whatever the load: the checker the simulation runs.

- no number twice: a printed number is unique per hall, service and business day;
- no ticket called twice: a ticket is called only from `waiting` (replaying the server's own
  event log as a state machine), and no two call-next replies hand out the same call;
- no acknowledged ticket missing: every ticket a client got a 201 for exists at the end,
  with the number it was told;
- every event reaches every subscriber, in order: each display's ids strictly increase and
  equal the server's event log, none missing, none extra.

Pure functions over plain data, so a test can plant a violation and see it caught.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_PER_KIND = 10  # report the first few of each kind, then a count

# Where a ticket event may come from (status before) and what it leads to.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "ticket.issued": ((), "waiting"),
    "ticket.called": (("waiting", "no_show"), "called"),
    "ticket.recalled": (("called",), None),
    "ticket.skipped": (("called",), "no_show"),
    "ticket.reactivated": (("no_show",), "waiting"),
    "ticket.finished": (("called",), "done"),
    "ticket.transferred": (("waiting", "called", "no_show"), "waiting"),
    "ticket.cancelled": (("waiting",), "cancelled"),
}


@dataclass(frozen=True)
class IssuedTicket:
    """A ticket a client was told exists (a 201 reply)."""

    id: int
    number: str
    business_day: str


@dataclass
class Observations:
    issued: list[IssuedTicket] = field(default_factory=list)
    # (ticket id, call_count) of every 200 reply to call-next
    calls: list[tuple[int, int]] = field(default_factory=list)
    # event ids each subscriber received, in arrival order
    subscribers: dict[str, Sequence[int]] = field(default_factory=dict)
    # the server's event log at the end: (id, type, data)
    server_events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    # the server's tickets at the end: id -> (business_day, number)
    final_tickets: dict[int, tuple[str, str]] = field(default_factory=dict)
    # ids of tickets that were called out of order on purpose (特呼 of a skipped ticket)
    specific_calls: set[int] = field(default_factory=set)


class Violations:
    def __init__(self) -> None:
        self.by_kind: dict[str, list[str]] = {}
        self.counts: Counter[str] = Counter()

    def add(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        if self.counts[kind] <= MAX_PER_KIND:
            self.by_kind.setdefault(kind, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        out = []
        for kind, msgs in self.by_kind.items():
            out += [f"{kind}: {m}" for m in msgs]
            if self.counts[kind] > len(msgs):
                out.append(f"{kind}: … {self.counts[kind] - len(msgs)} more")
        return out


def check(obs: Observations) -> Violations:
    v = Violations()
    check_numbers(obs.issued, obs.final_tickets, v)
    check_acknowledged(obs.issued, obs.final_tickets, v)
    check_calls(obs.calls, obs.server_events, obs.specific_calls, v)
    server_ids = [e[0] for e in obs.server_events]
    for name, ids in obs.subscribers.items():
        check_delivery(name, ids, server_ids, v)
    return v


def check_numbers(
    issued: Iterable[IssuedTicket], final: dict[int, tuple[str, str]], v: Violations
) -> None:
    seen: dict[tuple[str, str], int] = {}
    for t in issued:
        key = (t.business_day, t.number)
        if key in seen and seen[key] != t.id:
            v.add("number twice", f"{t.number} on {t.business_day}: tickets {seen[key]} and {t.id}")
        seen.setdefault(key, t.id)
    dup = Counter(final.values())
    for (day, number), n in dup.items():
        if n > 1:
            v.add("number twice", f"{number} on {day}: {n} tickets in the database")


def check_acknowledged(
    issued: Iterable[IssuedTicket], final: dict[int, tuple[str, str]], v: Violations
) -> None:
    for t in issued:
        got = final.get(t.id)
        if got is None:
            v.add(
                "acknowledged ticket missing", f"ticket {t.id} ({t.number}) is not in the database"
            )
        elif got != (t.business_day, t.number):
            v.add(
                "acknowledged ticket changed",
                f"ticket {t.id} was issued as {t.number}, the database says {got[1]}",
            )


def check_calls(
    calls: Iterable[tuple[int, int]],
    events: Iterable[tuple[int, str, dict[str, Any]]],
    specific: set[int],
    v: Violations,
) -> None:
    for (ticket, count), n in Counter(calls).items():
        if n > 1:
            v.add("ticket called twice", f"ticket {ticket} (call {count}) handed to {n} call-next")
    status: dict[int, str] = {}
    for ev_id, kind, data in events:
        rule = TRANSITIONS.get(kind)
        if rule is None or "id" not in data:
            continue
        allowed, after = rule
        tid = int(data["id"])
        before = status.get(tid)
        if kind == "ticket.issued":
            if before is not None:
                v.add("ticket issued twice", f"event {ev_id}: ticket {tid} issued again")
        elif before not in allowed or (
            kind == "ticket.called" and before == "no_show" and tid not in specific
        ):
            label = "ticket called twice" if kind == "ticket.called" else "impossible transition"
            v.add(label, f"event {ev_id}: {kind} for ticket {tid} while {before or 'unknown'}")
        if after is not None:
            status[tid] = after


def check_delivery(name: str, ids: Sequence[int], server_ids: Sequence[int], v: Violations) -> None:
    prev = None
    for i in ids:
        if prev is not None and i <= prev:
            v.add("event out of order", f"{name}: event {i} after {prev}")
        prev = i
    if list(ids) == list(server_ids):
        return
    got, want = set(ids), set(server_ids)
    missing = sorted(want - got)
    extra = sorted(got - want)
    if missing:
        v.add(
            "event missing",
            f"{name}: {len(missing)} of {len(want)} events never arrived (first {missing[:5]})",
        )
    if extra:
        v.add("event unknown", f"{name}: {len(extra)} events the server never logged ({extra[:5]})")
    if not missing and not extra and len(ids) != len(set(ids)):
        v.add("event duplicated", f"{name}: {len(ids) - len(set(ids))} events arrived twice")
