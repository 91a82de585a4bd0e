"""Fixtures for the city link and gateway: a real Mosquitto per test, halls linked to it, a
gateway app, and a plain MQTT client to watch the topics."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

HALLS = ["h1", "h2"]
SW_WINDOW = 11  # the demo hall's 税务专窗 serves SW, a service without real-name tickets


def wait_for(pred: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll until `pred()` is truthy (a deadline for something to happen, not a timing test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Any]:
    from city.broker import Broker

    b = Broker(tmp_path / "broker", halls=HALLS).start()
    try:
        yield b
    finally:
        b.remove()


def city_config(broker: Any, hall_id: str, **city: Any) -> Any:
    from queue_server.base.config import CitySection, load_config

    fields: dict[str, Any] = {
        "broker": broker.url,
        "hall_id": hall_id,
        "password": broker.hall_password(hall_id),
        "district": "武江区",
        "address": "沿江路 16 号",
        "lat": 24.79,
        "lon": 113.57,
    }
    section = CitySection(**(fields | city))
    base = load_config()
    url = f"https://city.example/h/{hall_id}"
    hall = base.hall.model_copy(update={"public_base_url": url, "staffing": "open"})
    return base.model_copy(update={"city": section, "hall": hall})


@pytest.fixture
def gateway(broker) -> Iterator[Any]:
    """make(**settings) -> a TestClient of the gateway app (closed at the end)."""
    from fastapi.testclient import TestClient

    from city.app import create_app
    from city.link import GatewaySettings

    made: list[Any] = []

    def make(**kw: Any) -> Any:
        kw.setdefault("answer_wait_s", 5.0)
        s = GatewaySettings(broker=broker.url, password=broker.gateway_password(), **kw)
        client = TestClient(create_app(s)).__enter__()
        made.append(client)
        wait_for(
            lambda: client.app.state.link.connected,  # type: ignore[attr-defined]
            what="the gateway's link",
        )
        return client

    yield make
    for c in made:
        c.__exit__(None, None, None)


class Watcher:
    """A gateway-user MQTT client that records every message it sees, by topic."""

    def __init__(self, broker: Any, *topics: str, user: str = "gw-gw1", pw: str = "") -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: list[tuple[str, bytes, Any]] = []
        self.lock = threading.Lock()
        self.acks: dict[int, Any] = {}
        self.ready = threading.Event()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        c.username_pw_set(user, pw or broker.gateway_password())
        c.on_message = self._on_message
        c.on_publish = lambda _c, _u, mid, rc, _p: self.acks.__setitem__(mid, rc)
        c.on_subscribe = lambda *_a: self.ready.set()
        c.connect(broker.host, broker.port)
        c.loop_start()
        if topics:
            c.subscribe([(t, 1) for t in topics])
            assert self.ready.wait(10)
        self.client = c

    def _on_message(self, _c: Any, _u: Any, msg: Any) -> None:
        with self.lock:
            self.messages.append((msg.topic, msg.payload, msg.properties))

    def on(self, topic: str) -> list[Any]:
        with self.lock:
            return [orjson.loads(p) if p else None for t, p, _ in self.messages if t == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def watcher_factory(broker: Any) -> Iterator[Callable[..., Watcher]]:
    made: list[Watcher] = []

    def make(*topics: str, **kw: Any) -> Watcher:
        w = Watcher(broker, *topics, **kw)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


@pytest.fixture
def linked_hall(tmp_path: Path, broker: Any, clock: Any) -> Iterator[Callable[..., Any]]:
    """make(hall_id, start=True, **city) -> (hall, link); links are stopped at the end."""
    from queue_server.runtime.city import CityLink
    from queue_server.runtime.hall import Hall

    made: list[tuple[Any, Any]] = []
    halls: dict[str, Any] = {}

    def make(hall_id: str = "h1", start: bool = True, publisher: bool = True, **city: Any) -> Any:
        cfg = city_config(broker, hall_id, **city)
        hall = halls.get(hall_id)
        if hall is None:
            hall = halls[hall_id] = Hall(tmp_path / f"{hall_id}.db", clock=clock, config=cfg)
        link = CityLink(hall, cfg.city)
        hall.add_commit_listener(link.on_commit)
        made.append((hall, link))
        if start:
            link.start(publisher=publisher)
            wait_for(link.connected.is_set, what="the hall's link")
        return hall, link

    yield make
    for _hall, link in made:
        link.stop()
    for hall in halls.values():
        hall.close()


def issue(hall: Any, service: str = "SW", id_number: str | None = None) -> dict[str, Any]:
    from queue_server.core import tickets

    req = tickets.IssueRequest(service=service, id_number=id_number)
    view, _ = hall.run_sync(lambda tx: tickets.issue(hall.ctx, tx, req))
    row = hall.db.reader.execute("SELECT code FROM tickets WHERE id = ?", (view["id"],)).fetchone()
    return {**view, "code": row[0]}


def finish(hall: Any, ticket_id: int, window: int = SW_WINDOW) -> None:
    from queue_server.core import tickets, windows

    hall.run_sync(lambda tx: windows.call_ticket(hall.ctx, tx, window, None, ticket_id, "staff"))
    hall.run_sync(lambda tx: tickets.finish(hall.ctx, tx, ticket_id, window))
