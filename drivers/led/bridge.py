"""The LED bridge: the server's event stream in, one text per window's strip out.

`LedTexts` is the pure part (which address shows what after an event or a snapshot);
`LedBridge` reads /api/v1/events over HTTP, resyncs from /api/v1/windows on every
(re)connect, and reports the bus's health in the device heartbeat like the kiosk does.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from drivers.serverlink import health_part, sse_events, stream_lines

from .bus import LedBus

log = logging.getLogger(__name__)
HEARTBEAT_S = 15.0


@dataclass
class LedTexts:
    """What each strip says: "{number} 请到{window}号窗口" on a call, the paused text when paused."""

    text: str = "{number} 请到{window}号窗口"
    paused_text: str = "暂停服务"
    idle_text: str = ""
    addresses: dict[int, int] = field(default_factory=dict)  # window -> bus address
    current: dict[int, int] = field(default_factory=dict)  # window -> ticket id shown

    def address(self, window: int) -> int:
        return self.addresses.get(window, window)

    def call(self, window: int, ticket_id: int, number: str) -> tuple[int, str]:
        self.current[window] = ticket_id
        return self.address(window), self.text.format(number=number, window=window)

    def for_event(self, kind: str, data: dict[str, Any]) -> list[tuple[int, str]]:
        if kind in ("ticket.called", "ticket.recalled") and data.get("window"):
            return [self.call(int(data["window"]), int(data["id"]), str(data["number"]))]
        if kind in ("ticket.finished", "ticket.skipped", "ticket.transferred", "ticket.cancelled"):
            out = []
            for window, ticket_id in list(self.current.items()):
                if ticket_id == data.get("id"):
                    del self.current[window]
                    if self.idle_text:
                        out.append((self.address(window), self.idle_text))
            return out
        if kind in ("window.paused", "window.closed") and data.get("no"):
            return [(self.address(int(data["no"])), self.paused_text)]
        if kind in ("window.resumed", "window.opened") and data.get("no"):
            return self.for_window(data)
        return []

    def for_window(self, w: dict[str, Any]) -> list[tuple[int, str]]:
        """What a window's strip should show now, from its /windows view."""
        no = int(w["no"])
        if w.get("status") != "open":
            return [(self.address(no), self.paused_text)]
        cur = w.get("current")
        if cur:
            return [self.call(no, int(cur["id"]), str(cur["number"]))]
        self.current.pop(no, None)
        return [(self.address(no), self.idle_text)] if self.idle_text else []

    def for_snapshot(self, windows: Iterable[dict[str, Any]]) -> list[tuple[int, str]]:
        return [item for w in windows for item in self.for_window(w)]


class LedBridge:
    def __init__(self, server: str, token: str, bus: LedBus, texts: LedTexts) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.bus = bus
        self.texts = texts
        self.online = False
        self.events = 0
        self._stop = threading.Event()
        self.refused = False

    def stop(self) -> None:
        """Stop following (run() returns at once; a read waiting for the next event is left
        to its daemon thread, which ends with the next event or keep-alive)."""
        self._stop.set()

    def _client(self) -> Any:
        """A requests session with the token (requests is what the kiosk syncs with too)."""
        import requests

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        return session

    def _url(self, path: str) -> str:
        return f"{self.server}/api/v1{path}"

    def resync(self, client: Any) -> None:
        r = client.get(self._url("/windows"), timeout=10)
        r.raise_for_status()
        for address, text in self.texts.for_snapshot(r.json()):
            self.bus.show(address, text)

    def apply(self, kind: str, data: dict[str, Any]) -> None:
        self.events += 1
        for address, text in self.texts.for_event(kind, data):
            self.bus.show(address, text)

    def heartbeat(self, client: Any) -> None:
        body = {
            "health": {"led": health_part(self.bus.health())},
            "state": {
                "page": "led-bridge",
                "online": self.online,
                "led_sent": self.bus.sent,
                "led_waiting": self.bus.waiting,
                "led_dropped": self.bus.dropped,
            },
        }
        try:
            client.post(self._url("/devices/heartbeat"), json=body, timeout=10)
        except Exception as e:
            log.info("heartbeat failed: %s", e)

    def run(self) -> None:
        """Until stop(): follow the stream, reconnecting after 2 s when it breaks; raises
        PermissionError when the server refuses the token."""
        for target, name in ((self._beat, "led-heartbeat"), (self._follow, "led-events")):
            threading.Thread(target=target, name=name, daemon=True).start()
        self._stop.wait()
        if self.refused:
            raise PermissionError("the server refused the token")

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                with (
                    self._client() as client,
                    client.get(self._url("/events"), stream=True, timeout=(10, 40)) as resp,
                ):
                    if resp.status_code == 401:
                        log.error("the server refused the token (401)")
                        self.refused = True
                        self._stop.set()
                        return
                    resp.raise_for_status()
                    self.online = True
                    self.resync(client)
                    for _id, kind, data in sse_events(stream_lines(resp)):
                        if self._stop.is_set():
                            return
                        try:
                            self.apply(kind, json.loads(data))
                        except (ValueError, KeyError, TypeError) as e:
                            log.warning("event %s not applied: %s", kind, e)
            except Exception as e:
                if not self._stop.is_set():
                    log.warning("event stream lost: %s", e)
            self.online = False
            self._stop.wait(2.0)

    def _beat(self) -> None:
        """A heartbeat every HEARTBEAT_S, and at once when the bus's health changes."""
        sent: tuple[str, str] | None = None
        due = 0.0
        with self._client() as client:
            while not self._stop.is_set():
                h = self.bus.health()
                now = time.monotonic()
                if (h.state, h.reason) != sent or now >= due:
                    self.heartbeat(client)
                    sent, due = (h.state, h.reason), now + HEARTBEAT_S
                self._stop.wait(0.5)
