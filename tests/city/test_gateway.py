"""The gateway: its picture rebuilt from retained messages after a restart, look-ups by code
only, halls sorted by distance or waiting, and the ACL and junk from a rogue client."""

from __future__ import annotations

from typing import Any

import orjson

from tests.city.conftest import finish, issue, wait_for


def test_the_gateway_is_rebuilt_from_retained_messages_after_a_restart(linked_hall, gateway):
    hall, link = linked_hall("h1")
    issue(hall)
    link.publish_once()
    first = gateway()
    wait_for(lambda: first.get("/api/v1/halls/h1").status_code == 200, what="the hall")
    first.__exit__(None, None, None)  # the gateway stops; the hall goes offline meanwhile
    link.stop()

    second = gateway()
    got = wait_for(
        lambda: (r := second.get("/api/v1/halls/h1")).status_code == 200 and r.json(),
        what="the hall from retained messages",
    )
    sw = next(s for s in got["services"] if s["code"] == "SW")
    assert got["name"] == hall.config.hall.name and sw["waiting"] == 1
    assert got["online"] is False and got["last_seen"]  # shown offline, with when
    page = second.get("/")
    assert page.status_code == 200 and "暂时离线" in page.text and "最后在线" in page.text


def test_a_ticket_is_found_by_its_code_only(linked_hall, gateway):
    hall, link = linked_hall("h1")
    t = issue(hall)
    link.publish_once()
    gw = gateway(lookup_timeout_s=0.3)
    wait_for(lambda: gw.get(f"/api/v1/halls/h1/tickets/{t['code']}").status_code == 200)
    page = gw.get(f"/h/h1/t/{t['code']}")
    assert page.status_code == 200 and t["number"] in page.text
    wrong = gw.get(f"/h/h1/t/{'f' * 20}")
    assert wrong.status_code == 404 and "没有找到这张号票" in wrong.text
    for probe in ("%2B", "%23", "a" * 19, t["code"].upper()):  # wildcards cannot list tickets
        assert gw.get(f"/api/v1/halls/h1/tickets/{probe}").status_code == 404
    assert gw.get("/h/nohall").status_code == 404


def test_halls_sort_by_distance_or_by_waiting(linked_hall, gateway):
    near, near_link = linked_hall("h1", lat=24.80, lon=113.60, district="武江区")
    far, far_link = linked_hall("h2", lat=25.50, lon=114.50, district="浈江区")
    for _ in range(3):
        issue(near)
    near_link.publish_once()
    far_link.publish_once()
    gw = gateway()
    wait_for(lambda: len(gw.get("/api/v1/halls").json()) == 2, what="both halls")
    by_wait = [h["hall_id"] for h in gw.get("/api/v1/halls").json()]
    assert by_wait == ["h2", "h1"]  # fewer waiting first
    here = gw.get("/api/v1/halls?lat=24.81&lon=113.61").json()
    assert [h["hall_id"] for h in here] == ["h1", "h2"]
    assert here[0]["distance_km"] < 2 < here[1]["distance_km"]
    district = gw.get("/api/v1/halls?district=浈江区").json()
    assert district[0]["hall_id"] == "h2"
    html = gw.get("/?lat=24.81&lon=113.61").text
    assert html.index('data-hall="h1"') < html.index('data-hall="h2"')


def test_a_hall_cannot_publish_into_another_halls_topics(broker, watcher_factory):
    rogue = watcher_factory(user="hall-h1", pw=broker.hall_password("h1"))
    info = rogue.client.publish("hall/v1/h2/status", b'{"v":1}', qos=1, retain=True)
    wait_for(lambda: info.mid in rogue.acks, what="the broker's answer")
    assert rogue.acks[info.mid].is_failure  # PUBACK: not authorised
    own = rogue.client.publish("hall/v1/h1/status", b"junk", qos=1, retain=True)
    wait_for(lambda: own.mid in rogue.acks)
    assert not rogue.acks[own.mid].is_failure
    read = watcher_factory("hall/v1/h2/status", "hall/v1/h1/status")
    wait_for(lambda: read.messages, what="the retained junk")
    assert [t for t, _, _ in read.messages] == ["hall/v1/h1/status"]


def test_junk_in_a_halls_own_topics_is_ignored_with_a_log_line(
    linked_hall,
    gateway,
    broker,
    watcher_factory,
    caplog: Any,
):
    hall, link = linked_hall("h1")
    link.publish_once()
    gw = gateway()
    wait_for(lambda: gw.get("/api/v1/halls/h1").status_code == 200)
    rogue = watcher_factory(user="hall-h1", pw=broker.hall_password("h1"))
    junk = [
        b"not json",
        orjson.dumps({"v": 1, "hall_id": "h2", "name": "x"}),
        orjson.dumps({"v": 1, "hall_id": "h1", "name": "x", "services": [{"code": 1}]}),
    ]
    for body in junk:
        rogue.client.publish("hall/v1/h1/status", body, qos=1)
    link_state = gw.app.state.link.state
    wait_for(lambda: link_state.junk >= 3, what="the junk counted")
    assert gw.get("/api/v1/halls/h1").json()["name"] == hall.config.hall.name
    assert gw.get("/health").json()["status"] == "ok"
    assert "ignored a message on hall/v1/h1/status" in caplog.text


def test_a_tickets_place_moves_on_the_gateway_through_its_queue(linked_hall, gateway):
    hall, link = linked_hall("h1", publisher=False)
    queue = [issue(hall) for _ in range(5)]
    mine = queue[-1]
    link.publish_once()
    gw = gateway()
    url = f"/api/v1/halls/h1/tickets/{mine['code']}"
    got = wait_for(lambda: (r := gw.get(url)).status_code == 200 and r.json(), what="the ticket")
    assert got["ahead"] == 4 and got["status"] == "waiting"
    sent = len(link._published)

    for t in queue[:3]:
        finish(hall, t["id"])
    link.publish_once()
    got = wait_for(
        lambda: (j := gw.get(url).json())["ahead"] == 1 and j, what="the new place on the gateway"
    )
    assert got["wait_high_min"] >= got["wait_low_min"] >= 0
    page = gw.get(f"/h/h1/t/{mine['code']}")
    assert page.status_code == 200 and '"ahead":1,' in page.text  # the page starts from it
    # the three finished tickets were sent; the waiting one's own message was not
    assert len(link._published) == sent and link._published[mine["code"]]
    assert orjson.loads(link._published[mine["code"]])["ahead"] == 4


def test_a_hall_that_sends_no_queue_messages_shows_its_tickets_at_once(
    broker, gateway, watcher_factory
):
    """A hall whose status does not say `"queues": true` (older software) keeps a ticket's
    place in the ticket's own message: the gateway shows it without waiting for a queue
    message that never comes (a wait of `lookup_timeout_s` on every waiting ticket)."""
    import threading

    code = "0123456789abcdef0123"
    old_hall = watcher_factory(user="hall-h1", pw=broker.hall_password("h1"))
    status = {
        "v": 1, "hall_id": "h1", "name": "旧版大厅", "services": [], "open_now": True,
        "updated_at": "2026-11-30T10:00:00+08:00", "seq": 1,
    }  # fmt: skip
    ticket = {
        "v": 1, "hall_id": "h1", "number": "A007", "service": "SW", "service_name": "税务业务",
        "status": "waiting", "ahead": 6, "wait_low_min": 5, "wait_high_min": 15,
        "business_day": "2026-11-30",
    }  # fmt: skip
    for topic, body in (("status", status), (f"tickets/{code}", ticket)):
        info = old_hall.client.publish(f"hall/v1/h1/{topic}", orjson.dumps(body), 1, True)
        info.wait_for_publish(5)
    gw = gateway(lookup_timeout_s=60.0)
    wait_for(lambda: gw.get("/api/v1/halls/h1").status_code == 200, what="the hall's status")
    box: dict[str, Any] = {}
    asking = threading.Thread(
        target=lambda: box.update(r=gw.get(f"/api/v1/halls/h1/tickets/{code}")), daemon=True
    )
    asking.start()
    asking.join(20)  # far below the 60 s it would wait for a queue message
    assert "r" in box, "the gateway waited for a queue message the hall never sends"
    got = box["r"].json()
    assert got["ahead"] == 6 and got["number"] == "A007"


def test_the_gateway_and_the_hall_digest_a_code_alike():
    from city.state import code_digest as gateway_digest
    from queue_server.runtime.city import code_digest as hall_digest

    code = "f96c8550c23a120a87b4"
    d = hall_digest("h1", "2026-11-30", code)
    assert d == gateway_digest("h1", "2026-11-30", code) and len(d) == 16
    assert d != hall_digest("h2", "2026-11-30", code) != hall_digest("h1", "2026-12-01", code)
    assert code not in d


def test_a_hall_cannot_read_another_halls_queue(broker, linked_hall, watcher_factory):
    hall, link = linked_hall("h1", publisher=False)
    issue(hall)
    link.publish_once()
    gw = watcher_factory("hall/v1/h1/queues/SW")
    wait_for(lambda: gw.on("hall/v1/h1/queues/SW"), what="the gateway reads it")
    rogue = watcher_factory(
        "hall/v1/h1/queues/SW", "hall/v1/h2/req/+", user="hall-h2", pw=broker.hall_password("h2")
    )
    issue(hall)
    link.publish_once()
    wait_for(lambda: len(gw.on("hall/v1/h1/queues/SW")) == 2, what="the next queue message")
    # a marker the rogue may read, sent after: once it arrives, the queue would have too
    gw.client.publish("hall/v1/h2/req/rate", b"{}", qos=1)
    wait_for(lambda: rogue.on("hall/v1/h2/req/rate"), what="the marker")
    assert rogue.on("hall/v1/h1/queues/SW") == []  # neither the retained one nor the new one
