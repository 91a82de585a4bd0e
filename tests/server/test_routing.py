"""Calling order: properties of accumulating priority, on the pure chooser and the real store."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.base.config import PriorityClass
from queue_server.core import tickets, windows
from queue_server.core.routing import Candidate, choose
from tests.support import clear_queue

CLASSES = {
    "ordinary": PriorityClass(label="普通", offset=0, rate=1),
    "elderly": PriorityClass(label="老年人", offset=15, rate=1),
    "military": PriorityClass(label="军人", offset=20, rate=1),
}
MAX_OFFSET = max(c.offset for c in CLASSES.values())

arrivals = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=6, allow_nan=False),  # minutes since the previous one
        st.sampled_from(["ordinary", "ordinary", "ordinary", "elderly", "military"]),
    ),
    min_size=1,
    max_size=60,
)


def simulate(arr, service_min: float, policy: str = "accumulating"):
    """One window, one service: returns [(ticket, issued_min, class, called_min)] in call order."""
    issued, t = [], 0.0
    for i, (gap, cls) in enumerate(arr):
        t += gap
        issued.append((i, t, cls))
    waiting: list[tuple[int, float, str]] = []
    order = []
    now, nxt = 0.0, 0
    while nxt < len(issued) or waiting:
        while nxt < len(issued) and issued[nxt][1] <= now:
            waiting.append(issued[nxt])
            nxt += 1
        if not waiting:
            now = issued[nxt][1]
            continue
        heads: dict[str, tuple[int, float, str]] = {}
        for w in waiting:
            if w[2] not in heads or w[1] < heads[w[2]][1]:
                heads[w[2]] = w
        cands = [Candidate(i, f"A{i:03d}", "S", cls, ts * 60, 1.0) for i, ts, cls in heads.values()]
        choice = choose(cands, CLASSES, now * 60, policy)
        assert choice is not None
        picked = next(w for w in waiting if w[0] == choice.candidate.ticket_id)
        waiting.remove(picked)
        order.append((*picked, now))
        now += service_min
    return order


@given(arrivals, st.floats(min_value=0.5, max_value=8))
def test_only_priority_tickets_issued_within_their_offset_overtake_an_ordinary_one(
    arr, service_min
):
    order = simulate(arr, service_min)
    pos = {ticket: k for k, (ticket, *_rest) in enumerate(order)}
    for ticket, issued, cls, _called in order:
        if cls != "ordinary":
            continue
        for other, o_issued, o_cls, _ in order:
            overtook = o_issued > issued and pos[other] < pos[ticket]
            if overtook:
                assert o_cls != "ordinary", "an ordinary ticket overtook an earlier ordinary one"
                # equal rates: P overtakes O only if it came less than offset(P) minutes later
                assert o_issued - issued <= CLASSES[o_cls].offset + 1e-9


@given(arrivals, st.floats(min_value=0.5, max_value=8))
def test_ordinary_wait_is_bounded_under_a_stream_of_priority_tickets(arr, service_min):
    """Bound: an ordinary ticket is served after at most (tickets ahead at issue) + (priority
    tickets issued in the next MAX_OFFSET minutes) + 1 services."""
    order = simulate(arr, service_min)
    for k, (ticket, issued, cls, _called) in enumerate(order):
        if cls != "ordinary":
            continue
        ahead_at_issue = sum(
            1 for (_t, i2, _c, c2) in order if i2 <= issued and c2 >= issued and _t != ticket
        )
        late_priority = sum(
            1 for (_t, i2, c, _) in order if c != "ordinary" and issued < i2 <= issued + MAX_OFFSET
        )
        assert (
            k - sum(1 for (_t, _i, _c, c2) in order if c2 < issued)
            <= ahead_at_issue + late_priority + 1
        )


def test_strict_priority_starves_where_accumulating_does_not():
    # an ordinary ticket first, then a priority ticket every 4 minutes with 5-minute services
    # (ticket 0 keeps the window busy when ticket 1, the ordinary one we follow, arrives)
    arr = [(0.0, "ordinary"), (0.05, "ordinary")] + [
        (4.0 if i else 0.1, "elderly") for i in range(40)
    ]
    strict = simulate(arr, 5.0, "strict")
    acc = simulate(arr, 5.0, "accumulating")
    pos_strict = next(k for k, o in enumerate(strict) if o[0] == 1)
    pos_acc = next(k for k, o in enumerate(acc) if o[0] == 1)
    assert pos_strict >= 30  # starved until the priority stream ran dry
    assert pos_acc <= 5


WINDOW_SERVICES = {1: ["SW"], 11: ["SW"], 24: ["SW", "QYKB", "ZCDX"], 17: ["QYKB"]}
actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("issue"),
            st.sampled_from(["SW", "QYKB", "ZCDX"]),
            st.sampled_from(["ordinary", "elderly", "military"]),
        ),
        st.tuples(st.just("call"), st.sampled_from([11, 12, 13, 17, 18, 24]), st.just("")),
        st.tuples(st.just("wait"), st.integers(1, 600).map(str), st.just("")),
    ),
    max_size=80,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions)
def test_real_store_calls_each_ticket_at_most_once_and_never_repeats_a_number(hall, clock, script):
    clear_queue(hall)
    called: list[int] = []
    for kind, a, b in script:
        if kind == "issue":
            req = tickets.IssueRequest(service=a, priority=b, channel="counter")
            hall.run_sync(lambda tx, req=req: tickets.issue(hall.ctx, tx, req))
        elif kind == "call":
            t = hall.run_sync(lambda tx, a=a: windows.call_next(hall.ctx, tx, a, "s"))
            if t is not None:
                served = {
                    11: ["SW"],
                    12: ["SW"],
                    13: ["SW"],
                    17: ["QYKB"],
                    18: ["QYKB"],
                    24: ["SW", "QYKB", "ZCDX"],
                }[a]
                assert t["service"] in served
                called.append(t["id"])
        else:
            clock.advance(int(a))
    assert len(called) == len(set(called))
    numbers = hall.db.rows(
        "SELECT business_day, number, COUNT(*) c FROM tickets GROUP BY 1, 2 HAVING c > 1"
    )
    assert numbers == []


def test_transfer_keeps_the_original_place_in_time(hall, clock):
    def issue(service):
        req = tickets.IssueRequest(service=service, channel="counter")
        return hall.run_sync(lambda tx: tickets.issue(hall.ctx, tx, req)[0])

    y1 = issue("QYKB")
    clock.advance(60)
    x = issue("SW")
    clock.advance(60)
    y2 = issue("QYKB")
    got = hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, 11, "s"))
    assert got["id"] == x["id"]
    hall.run_sync(lambda tx: tickets.transfer(hall.ctx, tx, x["id"], "QYKB", None, None))
    order = [
        hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, 17, "s"))["id"] for _ in range(3)
    ]
    assert order == [y1["id"], x["id"], y2["id"]]


def test_the_reason_says_why(hall, clock):
    clock.set(datetime.fromisoformat("2026-11-17T10:00:00+08:00"))
    first = hall.run_sync(
        lambda tx: tickets.issue(hall.ctx, tx, tickets.IssueRequest("SW", channel="counter"))[0]
    )
    clock.advance(20 * 60)
    hall.run_sync(
        lambda tx: tickets.issue(
            hall.ctx, tx, tickets.IssueRequest("SW", channel="counter", priority="elderly")
        )
    )
    clock.advance(60)
    got = hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, 11, "s"))
    # ordinary: 21 min waited beats elderly: 15 + 1 min
    assert got["id"] == first["id"]
    reason = got["call_reason"]
    assert reason["score"] == 21.0 and reason["runner_up"]["score"] == 16.0
    assert "21.0" in reason["text"] and "16.0" in reason["text"]
