"""The hall's side of the city link, against a real Mosquitto: status on change only and
coalesced, ticket progress without personal data, the day's tickets cleared, the will on a
killed server, and a hall that works as before with the broker down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import tomli_w

from tests.city.conftest import SW_WINDOW, city_config, finish, issue, wait_for
from tests.conftest import ID_YOUNG
from tests.support import LiveServer


def marker(link: Any) -> str:
    """A heartbeat after what was published, with a nonce (a reader ignores fields it does not
    know): once the watcher has it, everything the link sent before it has arrived too."""
    import secrets

    nonce = secrets.token_hex(4)
    body = dict(orjson.loads(link._online_payload(True)), nonce=nonce)
    link.client.publish(f"{link.base}/online", orjson.dumps(body), qos=1, retain=True)
    return nonce


def settle(watcher: Any, link: Any) -> None:
    """Wait for this marker itself: counting heartbeats would also count the retained one the
    broker hands a new subscriber, which may arrive just after the count."""
    nonce = marker(link)
    wait_for(
        lambda: any((m or {}).get("nonce") == nonce for m in watcher.on(f"{link.base}/online")),
        what="the marker",
    )


def sw(status: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in status["services"] if s["code"] == "SW")


def test_status_is_published_only_on_change_and_a_burst_becomes_one(linked_hall, watcher_factory):
    hall, link = linked_hall("h1", publisher=False)
    w = watcher_factory("hall/v1/h1/status", "hall/v1/h1/online")
    link.publish_once()
    settle(w, link)
    first = w.on("hall/v1/h1/status")
    assert len(first) == 1 and sw(first[0])["waiting"] == 0
    assert first[0]["district"] == "武江区" and first[0]["lat"] == 24.79
    assert first[0]["accepts_remote"] is True and first[0]["seq"] == 1

    link.publish_once()  # nothing changed
    settle(w, link)
    assert len(w.on("hall/v1/h1/status")) == 1

    for _ in range(5):  # five commits, one publication
        issue(hall)
    link.publish_once()
    settle(w, link)
    statuses = w.on("hall/v1/h1/status")
    assert len(statuses) == 2
    assert sw(statuses[1])["waiting"] == 5 and statuses[1]["seq"] == 2
    assert sw(statuses[1])["wait_high_min"] > 0


def test_publisher_thread_publishes_a_change_by_itself(linked_hall, watcher_factory):
    hall, _link = linked_hall("h1", status_interval_s=0.2)
    w = watcher_factory("hall/v1/h1/status")
    issue(hall)
    wait_for(
        lambda: any(sw(s)["waiting"] == 1 for s in w.on("hall/v1/h1/status")),
        what="a status with the new ticket",
    )


def test_ticket_progress_is_published_without_personal_data(linked_hall, watcher_factory):
    hall, link = linked_hall("h1", publisher=False)
    named = issue(hall, "SB", id_number=ID_YOUNG)
    t = issue(hall)
    topic = f"hall/v1/h1/tickets/{t['code']}"
    w = watcher_factory("hall/v1/h1/tickets/+", "hall/v1/h1/online")
    link.publish_once()
    settle(w, link)
    got = w.on(topic)[-1]
    assert got["number"] == t["number"] and got["status"] == "waiting"
    assert got["ahead"] == 0 and got["rateable"] is False
    raw = [p for tp, p, _ in w.messages if tp == f"hall/v1/h1/tickets/{named['code']}"][-1]
    for secret in (ID_YOUNG[:6], ID_YOUNG[-4:], b"id_masked", b"name_masked", b'"id"'):
        assert (secret.encode() if isinstance(secret, str) else secret) not in raw

    finish(hall, t["id"])
    link.publish_once()
    settle(w, link)
    done = w.on(topic)[-1]
    assert done["status"] == "done" and done["window"] == SW_WINDOW and done["rateable"] is True


def test_places_move_in_the_queue_message_not_in_each_tickets(linked_hall, watcher_factory):
    from queue_server.runtime.city import code_digest

    hall, link = linked_hall("h1", publisher=False)
    queue = [issue(hall) for _ in range(4)]
    w = watcher_factory("hall/v1/h1/tickets/+", "hall/v1/h1/queues/+", "hall/v1/h1/online")
    link.publish_once()
    settle(w, link)
    day = hall.clock.business_day()
    digests = [code_digest("h1", day, t["code"]) for t in queue]
    q = w.on("hall/v1/h1/queues/SW")[-1]
    assert q["order"] == digests and q["business_day"] == day
    assert [p for p, _lo, _hi in q["waits"]] == [0, 2, 4]  # 4: a ticket issued now
    last = f"hall/v1/h1/tickets/{queue[-1]['code']}"
    assert [m["ahead"] for m in w.on(last)] == [3]

    finish(hall, queue[0]["id"])  # one called and done: everyone moves up one place
    link.publish_once()
    settle(w, link)
    assert w.on("hall/v1/h1/queues/SW")[-1]["order"] == digests[1:]
    assert [m["ahead"] for m in w.on(last)] == [3]  # its own message did not change
    done = w.on(f"hall/v1/h1/tickets/{queue[0]['code']}")[-1]
    assert done["status"] == "done"  # the ticket that changed itself is sent


def test_a_queue_message_holds_no_code_nor_number(linked_hall, watcher_factory):
    hall, link = linked_hall("h1", publisher=False)
    named = issue(hall, "SB", id_number=ID_YOUNG)
    tickets = [issue(hall) for _ in range(3)]
    w = watcher_factory("hall/v1/h1/queues/+", "hall/v1/h1/online")
    link.publish_once()
    settle(w, link)
    raw = b"".join(p for t, p, _ in w.messages if t.startswith("hall/v1/h1/queues/"))
    assert b'"order"' in raw
    for t in [named, *tickets]:
        assert t["code"].encode() not in raw and t["code"][:10].encode() not in raw
        assert t["number"].encode() not in raw
    for secret in (ID_YOUNG[:6], ID_YOUNG[-4:], "id_masked", "name_masked"):
        assert secret.encode() not in raw


def test_an_unchanged_queue_sends_nothing(linked_hall, watcher_factory):
    hall, link = linked_hall("h1", publisher=False)
    issue(hall)
    issue(hall, "QYKB")
    w = watcher_factory("hall/v1/h1/queues/+", "hall/v1/h1/online")
    link.publish_once()
    settle(w, link)
    assert len(w.on("hall/v1/h1/queues/SW")) == 1 and len(w.on("hall/v1/h1/queues/QYKB")) == 1
    link.publish_once()  # nothing changed
    settle(w, link)
    assert len(w.on("hall/v1/h1/queues/SW")) == 1
    issue(hall)  # only SW changes
    link._all_queues = True  # even when every queue is rebuilt, only a changed one is sent
    link.publish_once()
    settle(w, link)
    assert len(w.on("hall/v1/h1/queues/SW")) == 2 and len(w.on("hall/v1/h1/queues/QYKB")) == 1


def test_tickets_are_cleared_when_their_day_ends(linked_hall, watcher_factory, clock):
    hall, link = linked_hall("h1", publisher=False)
    t = issue(hall)
    link.publish_once()
    clock.advance(86400)
    link.publish_once()
    w = watcher_factory("hall/v1/h1/online")
    settle(w, link)
    late = watcher_factory(f"hall/v1/h1/tickets/{t['code']}", "hall/v1/h1/online")
    settle(late, link)
    assert late.on(f"hall/v1/h1/tickets/{t['code']}") == []  # no retained message left


def test_the_hall_works_as_before_with_the_broker_down(tmp_path, broker, clock):
    from city.broker import free_port
    from queue_server.base.config import CitySection
    from queue_server.runtime.city import CityLink
    from queue_server.runtime.hall import Hall

    cfg = city_config(broker, "h1")
    cfg = cfg.model_copy(
        update={"city": CitySection(broker=f"mqtt://127.0.0.1:{free_port()}", hall_id="h1")}
    )
    hall = Hall(tmp_path / "down.db", clock=clock, config=cfg)
    link = CityLink(hall, cfg.city)
    hall.add_commit_listener(link.on_commit)
    link.start()
    try:
        tickets = [issue(hall) for _ in range(3)]
        finish(hall, tickets[0]["id"])
        assert not link.connected.is_set()
        row = hall.db.reader.execute(
            "SELECT status FROM tickets WHERE id = ?", (tickets[0]["id"],)
        ).fetchone()
        assert row[0] == "done"
    finally:
        link.stop()
        hall.close()


def test_a_killed_server_is_marked_offline_by_its_will(tmp_path: Path, broker, watcher_factory):
    cfg = city_config(broker, "h2")
    toml = tmp_path / "h2.toml"
    toml.write_text(tomli_w.dumps(cfg.model_dump(mode="json", exclude_none=True)), "utf-8")
    w = watcher_factory("hall/v1/h2/online", "hall/v1/h2/status")
    server = LiveServer(tmp_path / "h2.db", "--config", str(toml))
    try:
        wait_for(lambda: any(m["online"] for m in w.on("hall/v1/h2/online")), what="online")
        wait_for(lambda: w.on("hall/v1/h2/status"), what="the status")
        assert server.proc is not None
        server.proc.kill()
        wait_for(lambda: w.on("hall/v1/h2/online")[-1]["online"] is False, what="the will")
    finally:
        server.stop()


def test_after_a_broker_restart_the_hall_links_again_and_publishes(
    linked_hall, broker, watcher_factory
):
    hall, link = linked_hall("h1", status_interval_s=0.2)
    issue(hall)
    wait_for(lambda: link.published_count > 0, what="a first publication")
    broker.stop()
    wait_for(lambda: not link.connected.is_set(), what="the link noticing")
    issue(hall)  # the hall goes on while the broker is away
    broker.start()
    wait_for(link.connected.is_set, what="the link again")
    w = watcher_factory("hall/v1/h1/status")
    wait_for(
        lambda: any(sw(s)["waiting"] == 2 for s in w.on("hall/v1/h1/status")),
        what="the status with both tickets",
    )


def test_a_new_connection_publishes_every_ticket_and_queue_again(
    linked_hall, broker, watcher_factory
):
    """Queue and ticket messages go at QoS 0: what a broken connection lost, or a broker that
    lost its retained messages (here: its persistence wiped), is sent again on reconnect, even
    though nothing in the hall changed meanwhile."""
    import shutil

    hall, link = linked_hall("h1", publisher=False)
    tickets = [issue(hall) for _ in range(2)]
    w = watcher_factory("hall/v1/h1/tickets/+", "hall/v1/h1/queues/+", "hall/v1/h1/online")
    link.publish_once()
    settle(w, link)
    assert all(w.on(f"hall/v1/h1/tickets/{t['code']}") for t in tickets)
    broker.stop()
    shutil.rmtree(broker.workdir / "data")
    (broker.workdir / "data").mkdir()
    wait_for(lambda: not link.connected.is_set(), what="the link noticing")
    broker.start()
    wait_for(link.connected.is_set, what="the link again")
    link.publish_once()
    fresh = watcher_factory("hall/v1/h1/tickets/+", "hall/v1/h1/queues/+", "hall/v1/h1/online")
    settle(fresh, link)
    for t in tickets:
        assert fresh.on(f"hall/v1/h1/tickets/{t['code']}"), f"ticket {t['number']} not retained"
    assert len(fresh.on("hall/v1/h1/queues/SW")[-1]["order"]) == 2


def test_a_server_stopped_cleanly_says_it_is_offline(tmp_path: Path, broker, watcher_factory):
    cfg = city_config(broker, "h2")
    toml = tmp_path / "h2.toml"
    toml.write_text(tomli_w.dumps(cfg.model_dump(mode="json", exclude_none=True)), "utf-8")
    w = watcher_factory("hall/v1/h2/online")
    server = LiveServer(tmp_path / "h2.db", "--config", str(toml))
    wait_for(lambda: any(m["online"] for m in w.on("hall/v1/h2/online")), what="online")
    assert server.stop() == 0
    wait_for(lambda: w.on("hall/v1/h2/online")[-1]["online"] is False, what="the goodbye")
    assert w.on("hall/v1/h2/online")[-1]["at"]  # its own goodbye (with the time), not the will
