"""People ahead: the count shown on every ticket, against a brute-force count of the queue.

`HallContext.ahead` counts from the class totals kept by triggers (table queue_counts) for
recent cut-offs and directly for old ones; both must agree with counting the waiting tickets
one by one, after any sequence of issuing, calling, skipping, transferring, cancelling,
re-activating and failed operations, over both short and long waits.
"""

from __future__ import annotations

import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.base.errors import HallError
from queue_server.core import tickets, windows
from tests.conftest import ID_YOUNG
from tests.support import clear_queue

SERVICES = ["SW", "QYKB", "ZCDX"]
actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("issue"),
            st.sampled_from(SERVICES),
            st.sampled_from(["ordinary", "ordinary", "elderly", "military"]),
        ),
        st.tuples(st.just("call"), st.sampled_from([11, 17, 24]), st.just(0)),
        st.tuples(st.just("skip"), st.integers(0, 30), st.just(0)),
        st.tuples(st.just("reactivate"), st.integers(0, 30), st.just(0)),
        st.tuples(st.just("transfer"), st.integers(0, 30), st.sampled_from(SERVICES)),
        st.tuples(st.just("cancel"), st.integers(0, 30), st.just(0)),
        st.tuples(st.just("real_name"), st.sampled_from(SERVICES), st.just(0)),
        st.tuples(st.just("wait"), st.sampled_from([1, 30, 240, 599, 600, 601, 1500]), st.just(0)),
    ),
    max_size=60,
)


def brute_force_ahead(hall, conn: sqlite3.Connection, row: sqlite3.Row) -> int:
    classes = hall.config.routing.classes
    now = hall.clock.timestamp()
    own_cls = classes[row["priority"]]
    own = own_cls.offset + own_cls.rate * max(0.0, now - row["issued_ts"]) / 60.0
    n = 0
    for t in conn.execute(
        "SELECT * FROM tickets WHERE status = 'waiting' AND service = ?", (row["service"],)
    ):
        if t["id"] == row["id"] or t["priority"] not in classes:
            continue
        cls = classes[t["priority"]]
        if t["priority"] == row["priority"]:
            n += t["issued_ts"] < row["issued_ts"] or (
                t["issued_ts"] == row["issued_ts"] and t["id"] < row["id"]
            )
        else:
            n += t["issued_ts"] < now - 60.0 * (own - cls.offset) / cls.rate
    return n


def check(hall) -> None:
    conn = hall.db.reader
    kept = {
        (s, p): n for s, p, n in conn.execute("SELECT service, priority, waiting FROM queue_counts")
    }
    counted = {
        (s, p): n
        for s, p, n in conn.execute(
            "SELECT service, priority, COUNT(*) FROM tickets WHERE status = 'waiting'"
            " GROUP BY service, priority"
        )
    }
    assert {k: v for k, v in kept.items() if v} == counted
    for row in conn.execute("SELECT * FROM tickets WHERE status = 'waiting'").fetchall():
        assert hall.ctx.ahead(conn, row) == brute_force_ahead(hall, conn, row), dict(row)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions)
def test_people_ahead_matches_counting_the_queue(hall, clock, script):
    clear_queue(hall)
    check(hall)
    ids: list[int] = []

    def pick(k: int) -> int | None:
        return ids[k % len(ids)] if ids else None

    for kind, a, b in script:
        try:
            if kind == "issue":
                req = tickets.IssueRequest(service=a, priority=b, channel="counter")
                t, _ = hall.run_sync(lambda tx, req=req: tickets.issue(hall.ctx, tx, req))
                ids.append(t["id"])
            elif kind == "real_name":  # the second one for the same ID fails (409), rolled back
                req = tickets.IssueRequest(service=a, channel="counter", id_number=ID_YOUNG)
                t, _ = hall.run_sync(lambda tx, req=req: tickets.issue(hall.ctx, tx, req))
                ids.append(t["id"])
            elif kind == "call":
                hall.run_sync(lambda tx, a=a: windows.call_next(hall.ctx, tx, a, "s"))
            elif kind == "wait":
                clock.advance(a)
            elif (tid := pick(a)) is not None:
                if kind == "skip":
                    hall.run_sync(lambda tx, i=tid: tickets.skip(hall.ctx, tx, i, None))
                elif kind == "reactivate":
                    hall.run_sync(lambda tx, i=tid: tickets.reactivate(hall.ctx, tx, i))
                elif kind == "transfer":
                    hall.run_sync(
                        lambda tx, i=tid, s=b: tickets.transfer(hall.ctx, tx, i, s, None, None)
                    )
                else:
                    hall.run_sync(lambda tx, i=tid: tickets.cancel(hall.ctx, tx, i))
        except HallError:
            pass  # not allowed in this state: nothing may have changed
        check(hall)
