"""What a window sees: its queue in calling order (the order successive call-nexts give), its
过号 list, where a ticket can be transferred, and which finishes ask for a rating."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.core import tickets, windows
from tests.support import clear_queue

CLASSES = ["ordinary", "ordinary", "ordinary", "elderly", "military", "appointment"]


_seq = iter(range(10**9))


def issue(hall, service: str, priority: str = "ordinary") -> dict:
    # real-name services: a distinct person each time (the keyed hash a card would give)
    req = tickets.IssueRequest(
        service=service, priority=priority, channel="counter", id_hash=f"person-{next(_seq)}"
    )
    return hall.run_sync(lambda tx: tickets.issue(hall.ctx, tx, req)[0])


def call_next(hall, no: int) -> Any:
    return hall.run_sync(lambda tx: windows.call_next(hall.ctx, tx, no, "s"))


def queue(hall, no: int) -> dict:
    return windows.queue(hall.ctx, hall.db.reader, no)


def test_an_elderly_ticket_is_listed_where_it_will_be_called(hall, clock):
    clear_queue(hall)
    first = issue(hall, "SW")
    clock.advance(60)
    second = issue(hall, "SW")
    clock.advance(60)
    elder = issue(hall, "SW", "elderly")
    listed = [t["id"] for t in queue(hall, 11)["waiting"]]
    # elderly: 15 + 0 beats the ordinary tickets' 2 and 1 minutes: called first, listed first
    assert listed == [elder["id"], first["id"], second["id"]]
    assert [t["position"] for t in queue(hall, 11)["waiting"]] == [1, 2, 3]
    assert call_next(hall, 11)["id"] == elder["id"]


# (minutes since the previous step, action, service, class)
steps = st.lists(
    st.tuples(
        st.integers(0, 9),
        st.sampled_from(["issue", "issue", "issue", "to_window_1", "to_window_2"]),
        st.sampled_from(["HJ", "SB", "YB", "GJJ", "CRJ", "SW"]),
        st.sampled_from(CLASSES),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps, st.sampled_from([1, 3, 7, 9]))
def test_the_listed_order_is_the_order_of_successive_call_nexts(hall, clock, script, no):
    """Tickets of several services (weights differ per window), classes, and tickets
    transferred to this window or to another one: the list is exactly what call-next gives."""
    clear_queue(hall)
    for minutes, action, service, cls in script:
        clock.advance(minutes * 60)
        t = issue(hall, service, cls)
        if action != "issue":
            target = 1 if action == "to_window_1" else 2
            hall.run_sync(
                lambda tx, t=t, target=target: tickets.transfer(
                    hall.ctx, tx, t["id"], None, target, None
                )
            )
    view = queue(hall, no)
    listed = [t["id"] for t in view["waiting"]]
    assert view["waiting_total"] == len(listed)
    called = []
    while (t := call_next(hall, no)) is not None:
        called.append(t["id"])
    assert listed == called


def test_interleave_policy_list_follows_the_window_counter(tmp_path, clock):
    from queue_server.base.config import load_config
    from queue_server.runtime.hall import Hall

    cfg = load_config(None)
    routing = cfg.routing.model_copy(update={"policy": "interleave", "interleave_n": 2})
    hall = Hall(
        tmp_path / "inter.db", clock=clock, config=cfg.model_copy(update={"routing": routing})
    )
    assert hall.ctx.config.routing.policy == "interleave"
    for cls in ["ordinary", "elderly", "ordinary", "elderly", "elderly", "ordinary", "elderly"]:
        issue(hall, "SW", cls)
        clock.advance(30)
    assert call_next(hall, 11) is not None  # the counter is now part of the window's state
    listed = [t["id"] for t in queue(hall, 11)["waiting"]]
    called = []
    while (t := call_next(hall, 11)) is not None:
        called.append(t["id"])
    hall.close()
    assert listed == called


def test_no_show_list_and_recall_from_it(hall, clock):
    clear_queue(hall)
    t = issue(hall, "SW")
    issue(hall, "SW")
    called = call_next(hall, 11)
    assert called["id"] == t["id"]
    hall.run_sync(lambda tx: tickets.skip(hall.ctx, tx, t["id"], None))
    view = queue(hall, 11)
    assert [x["number"] for x in view["no_show"]] == [t["number"]]
    assert view["no_show"][0]["reactivatable"] is True
    assert queue(hall, 12)["no_show"] == []  # skipped at 11, not 12
    again = hall.run_sync(
        lambda tx: windows.call_ticket(hall.ctx, tx, 11, None, t["id"], "s")
    )  # 特呼 from the list
    assert again["status"] == "called" and queue(hall, 11)["no_show"] == []
    hall.run_sync(lambda tx: tickets.skip(hall.ctx, tx, t["id"], None))
    clock.advance(31 * 60)
    assert queue(hall, 11)["no_show"][0]["reactivatable"] is False


def test_transfer_targets_only_where_someone_can_call_it(hall, clock):
    clear_queue(hall)
    t = issue(hall, "HJ")
    call_next(hall, 1)
    hall.run_sync(lambda tx: windows.set_status(hall.ctx, tx, 9, "paused"))
    hall.run_sync(lambda tx: windows.set_status(hall.ctx, tx, 21, "closed"))
    targets = windows.transfer_targets(hall.ctx, hall.db.reader, t["id"])
    codes = [s["code"] for s in targets["services"]]
    assert "HJ" not in codes  # its own service is not a transfer
    assert "SW" in codes and "CRJ" in codes
    crj = next(s for s in targets["services"] if s["code"] == "CRJ")
    assert 9 not in crj["windows"] and {7, 8, 10} <= set(crj["windows"])
    nos = [w["no"] for w in targets["windows"]]
    assert 1 not in nos  # it is at window 1 already
    assert 9 not in nos and 21 not in nos  # paused, closed
    assert 11 not in nos  # 税务专窗 does not serve HJ
    assert {2, 3, 10, 22} <= set(nos)
    # A service no open window serves is not offered.
    for no in (19, 24):
        hall.run_sync(lambda tx, no=no: windows.set_status(hall.ctx, tx, no, "closed"))
    targets = windows.transfer_targets(hall.ctx, hall.db.reader, t["id"])
    assert "GCJS" not in [s["code"] for s in targets["services"]]


def finished_events(hall) -> list[dict]:
    rows = hall.db.rows("SELECT data FROM events WHERE type = 'ticket.finished' ORDER BY id")
    return [json.loads(r["data"]) for r in rows]


def test_an_implicit_finish_says_so_in_its_event(hall, clock):
    clear_queue(hall)
    a, b, c = issue(hall, "SW"), issue(hall, "SW"), issue(hall, "SW")
    call_next(hall, 11)  # a
    call_next(hall, 11)  # finishes a implicitly, calls b
    hall.run_sync(lambda tx: tickets.finish(hall.ctx, tx, b["id"], None))  # 办结
    call_next(hall, 11)  # c
    d = issue(hall, "SW")
    hall.run_sync(lambda tx: windows.call_ticket(hall.ctx, tx, 11, d["number"], None, "s"))
    by_id = {e["id"]: e for e in finished_events(hall)}
    assert by_id[a["id"]]["implicit"] is True and by_id[a["id"]]["finished_by"] == "call_next"
    assert by_id[b["id"]]["implicit"] is False and by_id[b["id"]]["finished_by"] == "finish"
    assert by_id[c["id"]]["implicit"] is True and by_id[c["id"]]["finished_by"] == "call_ticket"
