"""A tiny hall day against the real server: the invariant checker passes, and catches plants."""

from __future__ import annotations

import copy

import pytest

from bench.halls import load_demo
from bench.invariants import IssuedTicket, Observations, check
from bench.simulation import Preset, run_day

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def day():  # type: ignore[no-untyped-def]
    cfg = load_demo()
    cfg["windows"] = [
        {"no": no, "name": "综合窗口", "services": {s["code"]: 1 for s in cfg["services"]}}
        for no in (1, 2, 3)
    ]
    return run_day(Preset("tiny", cfg, tickets=50, kiosks=2, displays=2, time_scale=6000))


def test_tiny_day_keeps_every_invariant(day) -> None:  # type: ignore[no-untyped-def]
    assert day.violations.lines() == []
    assert not day.errors
    assert day.issued + sum(day.refused.values()) == 50
    assert day.displays_complete
    obs = day.observations
    assert len(obs.subscribers) == 2
    assert all(list(ids) == [e[0] for e in obs.server_events] for ids in obs.subscribers.values())
    assert {t.id for t in obs.issued} <= set(obs.final_tickets)
    assert obs.calls, "windows called nobody"


def _planted(day) -> Observations:  # type: ignore[no-untyped-def]
    return copy.deepcopy(day.observations)


def test_checker_catches_a_number_issued_twice(day) -> None:  # type: ignore[no-untyped-def]
    obs = _planted(day)
    first = obs.issued[0]
    obs.issued.append(IssuedTicket(first.id + 100000, first.number, first.business_day))
    assert "number twice" in check(obs).counts


def test_checker_catches_a_missing_acknowledged_ticket(day) -> None:  # type: ignore[no-untyped-def]
    obs = _planted(day)
    del obs.final_tickets[obs.issued[-1].id]
    assert "acknowledged ticket missing" in check(obs).counts


def test_checker_catches_out_of_order_and_missing_events(day) -> None:  # type: ignore[no-untyped-def]
    obs = _planted(day)
    ids = list(obs.subscribers["display-1"])
    ids[3], ids[4] = ids[4], ids[3]
    obs.subscribers["display-1"] = ids
    obs.subscribers["display-2"] = list(obs.subscribers["display-2"])[:-1]
    counts = check(obs).counts
    assert "event out of order" in counts
    assert "event missing" in counts


def test_checker_catches_a_ticket_called_twice(day) -> None:  # type: ignore[no-untyped-def]
    obs = _planted(day)
    obs.calls.append(obs.calls[0])
    called = next(e for e in obs.server_events if e[1] == "ticket.called")
    obs.server_events.append((obs.server_events[-1][0] + 1, "ticket.called", dict(called[2])))
    v = check(obs)
    assert v.counts["ticket called twice"] == 2
