"""Phone actions through the broker (MQTT 5 request/response): a rating made while the hall's
link is down is delivered once when it returns, an expired one is answered as expired, a
duplicate is applied once, and the hall's rating rules still decide."""

from __future__ import annotations

import secrets
import time
from typing import Any

import orjson

from tests.city.conftest import finish, issue, wait_for


def qr_ratings(hall: Any, ticket_id: int) -> list[Any]:
    return hall.db.reader.execute(
        "SELECT level, channel FROM evaluations WHERE ticket_id = ?", (ticket_id,)
    ).fetchall()


def raw_request(w: Any, rid: str, body: dict[str, Any], expires_in: float = 600) -> None:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = f"gw/v1/gw1/resp/h1/{rid}"
    props.CorrelationData = b"corr-" + rid.encode()[:8]
    props.MessageExpiryInterval = 3600
    payload = {**body, "v": 1, "request_id": rid, "expires_at": time.time() + expires_in}
    w.client.publish("hall/v1/h1/req/rate", orjson.dumps(payload), qos=1, properties=props)


def test_a_duplicate_request_is_applied_once_and_answered_the_same(linked_hall, watcher_factory):
    hall, _link = linked_hall("h1")
    t = issue(hall)
    finish(hall, t["id"])
    w = watcher_factory("gw/v1/gw1/resp/#")
    rid = secrets.token_hex(8)
    body = {"code": t["code"], "level": 5, "reasons": [], "comment": "很好"}
    raw_request(w, rid, body)
    raw_request(w, rid, body)
    wait_for(lambda: len(w.on(f"gw/v1/gw1/resp/h1/{rid}")) == 2, what="two answers")
    first, second = w.on(f"gw/v1/gw1/resp/h1/{rid}")
    assert first["ok"] is True and first["level"] == 5 and first["ticket_number"] == t["number"]
    assert second == {**first, "replayed": True}
    assert [tuple(r) for r in qr_ratings(hall, t["id"])] == [(5, "qr")]
    props = [p for tp, _, p in w.messages if tp.endswith(rid)]
    assert props[0].CorrelationData == b"corr-" + rid.encode()[:8]


def test_the_halls_rating_rules_decide(linked_hall, watcher_factory):
    hall, _link = linked_hall("h1")
    waiting = issue(hall)
    done = issue(hall)
    finish(hall, done["id"])
    w = watcher_factory("gw/v1/gw1/resp/#")
    cases = {
        "a" * 16: {"code": waiting["code"], "level": 5},  # not done yet
        "b" * 16: {"code": done["code"], "level": 1, "reasons": []},  # 差评 needs a reason
        "c" * 16: {"code": "0" * 20, "level": 5},  # no such ticket
    }
    for rid, body in cases.items():
        raw_request(w, rid, body)
    wait_for(lambda: all(w.on(f"gw/v1/gw1/resp/h1/{r}") for r in cases), what="answers")
    codes = {r: w.on(f"gw/v1/gw1/resp/h1/{r}")[0]["code"] for r in cases}
    assert codes == {
        "a" * 16: "not_done",
        "b" * 16: "reason_required",
        "c" * 16: "ticket_not_found",
    }
    assert qr_ratings(hall, done["id"]) == []


def test_a_rating_made_while_the_hall_is_down_is_delivered_once_on_reconnect(linked_hall, gateway):
    hall, link = linked_hall("h1")
    t = issue(hall)
    finish(hall, t["id"])
    link.publish_once()
    gw = gateway(answer_wait_s=0.3)
    wait_for(lambda: gw.get(f"/api/v1/halls/h1/tickets/{t['code']}").status_code == 200)
    link.stop()  # the hall's link goes down (its session stays at the broker)
    rid = secrets.token_hex(8)
    body = {"request_id": rid, "level": 4, "reasons": [], "comment": ""}
    r = gw.post(f"/h/h1/t/{t['code']}/rate", json=body)
    assert r.status_code == 202 and r.json()["pending"] is True
    assert qr_ratings(hall, t["id"]) == []

    linked_hall("h1")  # the link is back: the broker delivers the request it kept
    answer = wait_for(lambda: gw.get(f"/api/v1/requests/{rid}").json().get("ok"), what="the answer")
    assert answer is True
    again = gw.post(f"/h/h1/t/{t['code']}/rate", json=body)  # the phone sends it again
    assert again.status_code == 200 and again.json()["ok"] is True
    assert [tuple(x) for x in qr_ratings(hall, t["id"])] == [(4, "qr")]


def test_a_rating_that_waited_past_its_deadline_is_answered_expired(linked_hall, gateway):
    hall, link = linked_hall("h1")
    t = issue(hall)
    finish(hall, t["id"])
    link.publish_once()
    gw = gateway(answer_wait_s=0.2, request_ttl_s=1)
    wait_for(lambda: gw.get(f"/api/v1/halls/h1/tickets/{t['code']}").status_code == 200)
    link.stop()
    rid = secrets.token_hex(8)
    r = gw.post(f"/h/h1/t/{t['code']}/rate", json={"request_id": rid, "level": 5})
    assert r.status_code == 202
    time.sleep(1.5)  # past the request's deadline, within the broker's grace
    linked_hall("h1")
    answer = wait_for(lambda: gw.get(f"/api/v1/requests/{rid}").json().get("code"))
    assert answer == "expired"
    assert qr_ratings(hall, t["id"]) == []


def test_the_gateway_checks_a_rating_before_it_travels(linked_hall, gateway):
    hall, link = linked_hall("h1")
    t = issue(hall)
    link.publish_once()
    gw = gateway()
    url = f"/h/h1/t/{t['code']}/rate"
    assert gw.post(url, json={"request_id": "short", "level": 5}).status_code == 422
    assert gw.post(url, json={"request_id": "x" * 16, "level": 9}).status_code == 422
    assert gw.post(url, content=b"not json").status_code == 422
    r = gw.post(f"/h/h1/t/{'0' * 20}/rate", json={"request_id": "y" * 16, "level": 5})
    assert r.status_code == 404
