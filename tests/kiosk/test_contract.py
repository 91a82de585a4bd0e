"""The stand-in server (`CannedServer`) against the real one: the same kiosk tests run on both.

The real server runs in-process (its FastAPI app over Starlette's TestClient, on a fresh hall
with the demo config); the kiosk talks to it through `HttpApi`, as on a hall's network. Any
field, label or error code that differs between the two fails here, so the kiosk's own tests,
which use the stand-in, cannot pass against a server that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.api import HttpApi, Refused, ServerApi
from kiosk.core.app import KioskCore
from kiosk.core.canned import CannedServer
from kiosk.core.settings import KioskSettings
from tests.conftest import DAY_START, ID_ELDERLY, ID_YOUNG

from .conftest import FakePrinter

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class _Session:
    """What `HttpApi` needs of a requests.Session, over the in-process TestClient."""

    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        self.auth = {"Authorization": f"Bearer {token}"}

    def request(self, method: str, url: str, json: Any = None, timeout: Any = None) -> Any:
        return self.client.request(method, url, json=json, headers=self.auth)


class InProcessApi(HttpApi):
    def __init__(self, client: Any, token: str) -> None:
        super().__init__("http://testserver", token)
        self.session = _Session(client, token)

    def _session(self) -> Any:
        return self.session


@pytest.fixture(params=["canned", "real"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerApi]:
    if request.param == "canned":
        yield CannedServer(base_url="http://testserver", clock=lambda: DAY_START.astimezone(UTC))
        return
    from fastapi.testclient import TestClient

    from queue_server.admin.accounts import create_token
    from queue_server.api import create_app
    from queue_server.base.clock import FixedClock
    from queue_server.runtime.hall import Hall

    hall = Hall(tmp_path / "hall.db", clock=FixedClock(DAY_START))
    try:
        token = hall.run_sync(lambda tx: create_token(tx, "kiosk", "kiosk-contract", None))
        with TestClient(create_app(hall), raise_server_exceptions=False) as client:
            yield InProcessApi(client, token)
    finally:
        hall.close()


def refused(call: Any) -> tuple[int, str]:
    with pytest.raises(Refused) as err:
        call()
    assert err.value.message, "every refusal carries a message for the citizen"
    return err.value.status, err.value.code


TICKET_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": (str, int),
    "number": str,
    "service": str,
    "status": str,
    "issued_at": str,
    "ahead": int,
    "wait_estimate": dict,
    "priority": str,
    "priority_label": str,
    "qr": str,
}


def check_ticket(t: dict[str, Any]) -> None:
    for key, kind in TICKET_FIELDS.items():
        assert isinstance(t.get(key), kind), (key, t.get(key))
    assert set(t["wait_estimate"]) >= {"low_min", "high_min"}
    assert t["qr"].startswith("http://testserver/t/"), t["qr"]
    code = t["qr"].rsplit("/t/", 1)[1]
    assert code != str(t["id"]) and len(code) >= 16, t["qr"]  # an unguessable code, not the id
    assert "window" in t and "id_masked" in t and "name_masked" in t


# The API as the kiosk uses it


def test_hall(server: ServerApi) -> None:
    hall = server.hall()
    assert hall["business_day"] == "2026-11-17"
    assert hall["timezone"] == "Asia/Shanghai"
    assert hall["elderly_age"] == 60
    assert hall["classes"]["ordinary"] == "普通"  # the real server labels the ordinary class
    assert hall["classes"]["elderly"] == "老年人"
    assert isinstance(hall["notices"], list) and isinstance(hall["appointments"], bool)
    ratings = hall["ratings"]  # the rating vocabulary, the same on both
    assert ratings["reason_threshold"] == 2
    assert [lv["level"] for lv in ratings["levels"]] == [5, 4, 3, 2, 1]
    kiosk = [r["code"] for r in ratings["reasons"] if "kiosk" in r["channels"]]
    assert "kiosk_print_failed" in kiosk and "other" in kiosk


def test_services(server: ServerApi) -> None:
    services = server.services()
    assert [s["code"] for s in services][:4] == ["HJ", "SB", "YB", "SW"]
    for s in services:
        assert set(s) >= {"code", "name", "name_en", "prefix", "waiting", "wait_estimate"}
        assert set(s) >= {"real_name", "open", "guide", "hours"}
        assert s["waiting"] == 0 and s["open"] is True
        assert isinstance(s["hours"], list) and all(
            re.fullmatch(r"\d\d:\d\d-\d\d:\d\d", h) for h in s["hours"]
        )


def test_ordinary_ticket(server: ServerApi) -> None:
    t = server.issue({"service": "SW", "channel": "kiosk", "idempotency_key": "k-1"})
    check_ticket(t)
    assert t["number"] == "D001" and t["status"] == "waiting" and t["ahead"] == 0
    assert t["priority"] == "ordinary" and t["priority_label"] == "普通"
    again = server.issue({"service": "SW", "channel": "kiosk", "idempotency_key": "k-1"})
    assert again["id"] == t["id"] and again["number"] == t["number"]
    assert server.services()[3]["waiting"] == 1
    assert server.ticket(str(t["id"]))["number"] == "D001"
    # a phone's QR link (and the kiosk's scan of it) finds the ticket by its code
    assert server.ticket(t["qr"].rsplit("/t/", 1)[1])["id"] == t["id"]


def test_real_name_ticket_and_lookup(server: ServerApi) -> None:
    card = {"id_number": ID_ELDERLY, "name": "欧阳娜娜"}
    t = server.issue(
        {"service": "HJ", "channel": "kiosk", "idempotency_key": "k-2", "id_card": card}
    )
    check_ticket(t)
    assert t["priority"] == "elderly" and t["priority_label"] == "老年人"
    assert t["name_masked"] == "欧阳**" and ID_ELDERLY not in str(t)
    found = server.lookup(ID_ELDERLY)
    assert [f["number"] for f in found] == [t["number"]]
    check_ticket(found[0])
    assert server.lookup(ID_YOUNG) == []


def test_refusals_have_the_same_codes(server: ServerApi) -> None:
    card = {"id_number": ID_YOUNG, "name": "张三"}
    assert refused(lambda: server.issue({"service": "NOPE", "channel": "kiosk"})) == (
        422,
        "unknown_service",
    )
    assert refused(lambda: server.issue({"service": "HJ", "channel": "kiosk"})) == (
        422,
        "id_card_required",
    )
    server.issue({"service": "HJ", "channel": "kiosk", "idempotency_key": "a", "id_card": card})
    dup = {"service": "HJ", "channel": "kiosk", "idempotency_key": "b", "id_card": card}
    assert refused(lambda: server.issue(dup)) == (409, "duplicate_active_ticket")
    assert refused(lambda: server.ticket("999999")) == (404, "ticket_not_found")


def test_kiosk_rating(server: ServerApi) -> None:
    t = server.issue({"service": "SW", "channel": "kiosk", "idempotency_key": "r"})
    bad = {"ticket_id": t["id"], "level": 1, "channel": "kiosk", "reasons": []}
    assert refused(lambda: server.evaluate(bad)) == (422, "reason_required")
    label = dict(bad, reasons=["号票打印不出来"])  # a label, not a code
    assert refused(lambda: server.evaluate(label)) == (422, "unknown_reason")
    good = {"ticket_id": t["id"], "level": 1, "channel": "kiosk", "reasons": ["kiosk_print_failed"]}
    server.evaluate(good)
    assert refused(lambda: server.evaluate(good)) == (409, "already_rated")


def test_lease(server: ServerApi) -> None:
    lease = server.lease("SW", 5)
    assert set(lease) >= {"lease_id", "service", "prefix", "business_day", "first", "last"}
    assert lease["last"] - lease["first"] == 4 and lease["prefix"] == "D"
    server.heartbeat({"kiosk_id": "kiosk-1", "health": {}, "outbox": {}})


# The kiosk's screens and paper on either server


def kiosk(server: ServerApi, tmp_path: Path) -> tuple[KioskCore, FakePrinter]:
    printer = FakePrinter()
    core = KioskCore(
        server,
        KioskSettings(server="http://testserver", outbox_path=str(tmp_path / "outbox.db")),
        printer=printer,
        clock=lambda: DAY_START.astimezone(UTC),
    )
    assert core.syncer.step()
    core.flow.refresh()
    return core, printer


class Card:
    def __init__(self, name: str, id_number: str) -> None:
        self.name, self.id_number = name, id_number


def test_an_ordinary_ticket_is_not_priority(server: ServerApi, tmp_path: Path) -> None:
    core, printer = kiosk(server, tmp_path)
    core.flow.tap("service:SW")
    screen = core.flow.screen
    assert screen.name == "ticket", screen
    assert not any("优先" in line for line in screen.lines), screen.lines
    assert printer.printed[0].priority_label == ""
    core.flow.reset()
    core.flow.tap("lang")
    core.flow.tap("service:SW")
    assert not any("riority" in line for line in core.flow.screen.lines)


def test_an_elderly_ticket_says_so(server: ServerApi, tmp_path: Path) -> None:
    core, printer = kiosk(server, tmp_path)
    core.flow.tap("service:HJ")
    core.flow.card(Card("欧阳娜娜", ID_ELDERLY))
    assert "老年人优先" in core.flow.screen.lines
    assert printer.printed[0].priority_label == "老年人优先"


def test_a_second_number_is_refused_with_its_reason(server: ServerApi, tmp_path: Path) -> None:
    core, _ = kiosk(server, tmp_path)
    for lang in ("zh", "en"):
        core.flow.reset()
        if lang == "en":
            core.flow.tap("lang")
        core.flow.tap("service:HJ")
        core.flow.card(Card("张三", ID_YOUNG))
    screen = core.flow.screen
    assert screen.name == "message"
    assert screen.title == "You already have a number", screen
    assert not CJK.search(" ".join(screen.lines)), screen.lines
    core.flow.reset()
    core.flow.tap("service:HJ")
    core.flow.card(Card("张三", ID_YOUNG))
    assert core.flow.screen.title == "您已有排队号"


def test_check_in_refusals(server: ServerApi) -> None:
    def check_in(body: dict[str, Any]) -> Any:
        return lambda: server.check_in({"idempotency_key": "c", **body})

    assert refused(check_in({"qr": "HALLAPPT:1:999:k0000999"}))[1] == "appointment_not_found"
    assert refused(check_in({"id_number": ID_YOUNG}))[1] == "no_appointment_today"
