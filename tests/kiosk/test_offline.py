"""Network cut and printer trouble in the core: keep issuing from leases, sync exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.core.api import Unreachable
from kiosk.core.outbox import Outbox

from .conftest import ELDER, YOUNG, Rig, make_rig


def issue(rig: Rig, code: str, card: Any = None) -> str:
    rig.flow.reset()
    rig.tap(f"service:{code}")
    if card is not None:
        rig.flow.card(card)
    assert rig.flow.screen.name == "ticket", rig.flow.screen
    return rig.flow.screen.big


def test_first_sync_leases_numbers_for_every_service(rig: Rig) -> None:
    leases = rig.core.outbox.leases()
    assert {lease.service for lease in leases} == {s.code for s in rig.core.state.snap.services}
    assert all(lease.remaining == 20 for lease in leases)


def test_network_cut_issue_restore_sync_exactly_once(rig: Rig) -> None:
    online = issue(rig, "SW")
    rig.server.online = False
    rig.core.syncer.step()
    assert not rig.core.state.snap.online
    issued = []
    for code, card in [("SW", None), ("HJ", YOUNG), ("HJ", ELDER), ("SW", None), ("QYKB", None)]:
        rig.clock.advance(60)
        issued.append((issue(rig, code, card), rig.clock.now()))
        screen = rig.flow.screen
        assert screen.title == "请取走您的号票" and screen.notice == ""  # nothing alarming
    assert [n for n, _ in issued] == ["D001", "A001", "A002", "D002", "F001"]
    assert rig.core.outbox.counts()["pending"] == 5
    rig.tap("rate")
    rig.tap("level:3")  # a rating of an offline ticket waits for its ticket
    rig.core.syncer.step()  # still offline: nothing moves
    assert rig.core.outbox.counts()["pending"] == 5
    rig.server.online = True
    rig.clock.advance(600)
    assert rig.core.syncer.step()
    rig.core.syncer.step()
    on_server = sorted(t["number"] for t in rig.server.tickets.values())
    assert on_server == sorted([online] + [n for n, _ in issued])
    assert rig.core.outbox.counts() == {
        "pending": 0,
        "synced": 5,
        "rejected": 0,
        "evaluations_pending": 0,
    }
    by_number = {t["number"]: t for t in rig.server.tickets.values()}
    for number, when in issued:
        # the original time of issue, in hall time, not the time of sync
        assert by_number[number]["issued_at"] == when.astimezone(
            rig.core.state.local_now().tzinfo
        ).isoformat(timespec="seconds")
    assert by_number["A002"]["priority"] == "elderly"
    assert by_number["A001"]["name_masked"] == "张*"  # the real-name card went along, from memory
    assert rig.core.issuer.pending_cards == {}
    assert len(rig.server.evaluations) == 1
    assert rig.server.evaluations[0]["ticket_id"] == by_number["F001"]["id"]


def test_a_lost_answer_is_retried_with_the_same_key(rig: Rig) -> None:
    rig.server.online = False
    rig.core.syncer.step()
    issue(rig, "SW")
    rig.server.online = True
    real_issue = rig.server.issue
    calls: list[int] = []

    def flaky(body: dict[str, Any]) -> dict[str, Any]:
        result = real_issue(body)
        calls.append(1)
        if len(calls) == 1:
            raise Unreachable("ReadTimeout")  # recorded on the server, answer lost
        return result

    rig.server.issue = flaky  # type: ignore[method-assign]
    rig.core.syncer.step()
    rig.core.syncer.step()
    assert len(calls) == 2
    assert [t["number"] for t in rig.server.tickets.values()] == ["D001"]
    assert rig.core.outbox.counts()["synced"] == 1


def test_offline_issuing_stops_after_the_configured_time(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, offline_issue_minutes=30)
    rig.server.online = False
    rig.core.syncer.step()
    issue(rig, "SW")
    rig.clock.advance(31 * 60)
    rig.flow.reset()
    rig.tap("service:SW")
    assert rig.flow.screen.name == "message"
    assert "服务台" in rig.flow.screen.lines[0]


def test_no_lease_left_is_a_clear_message(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, lease_size=2, lease_low_water=1)
    rig.server.online = False
    rig.core.syncer.step()
    issue(rig, "SW")
    issue(rig, "SW")
    rig.flow.reset()
    rig.tap("service:SW")
    assert rig.flow.screen.name == "message"


def test_an_interrupted_request_falls_back_to_a_lease(rig: Rig) -> None:
    rig.server.online = False  # the kiosk does not know yet: it tries, then uses a lease
    assert issue(rig, "SW") == "D001"
    assert not rig.core.state.snap.online


def test_printer_out_of_paper_shows_the_number_and_tells_the_server(rig: Rig) -> None:
    rig.printer.paper = "out"
    rig.tap("service:SW")
    screen = rig.flow.screen
    assert screen.name == "ticket" and screen.big == "D021"
    assert screen.qr == rig.server.tickets["t1"]["qr"]  # the server's link, code and all
    assert "打印机" in screen.notice and "号码" in screen.notice
    assert rig.printer.attempts == 1
    rig.core.syncer.step()
    beat = rig.server.heartbeats[-1]
    assert beat["health"]["printer"]["state"] == "error"
    assert beat["state"]["online"] is True and beat["state"]["screen"] == "ticket"
    # going home and back does not print that ticket again
    rig.printer.paper = "ok"
    rig.flow.card(YOUNG)
    assert rig.printer.attempts == 1


def test_a_crashing_printer_driver_still_shows_the_number(rig: Rig) -> None:
    def boom(ticket: Any) -> Any:
        raise OSError("port gone")

    rig.printer.print_ticket = boom  # type: ignore[method-assign]
    rig.tap("service:SW")
    assert rig.flow.screen.big == "D021" and rig.flow.screen.notice


def test_the_outbox_file_never_holds_a_full_id_number_or_name(rig: Rig, tmp_path: Path) -> None:
    rig.server.online = False
    rig.core.syncer.step()
    issue(rig, "HJ", ELDER)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("outbox.db*"))
    assert ELDER.id_number.encode() not in raw
    assert ELDER.name.encode() not in raw
    assert "欧阳**".encode() in raw


def test_outbox_survives_a_restart(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.server.online = False
    rig.core.syncer.step()
    number = issue(rig, "SW")
    again = Outbox(tmp_path / "outbox.db")
    assert [t.number for t in again.pending()] == [number]
    assert again.leases("SW")[0].next_seq == 2


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from(["SW", "QYKB", "ZCDX"])), min_size=1, max_size=18
    )
)
def test_any_mix_of_cuts_syncs_every_ticket_exactly_once(steps: list[tuple[bool, str]]) -> None:
    rig = make_rig()
    numbers = []
    for online, code in steps:
        if rig.server.online != online:
            rig.server.online = online
            rig.core.syncer.step()
        rig.clock.advance(30)
        numbers.append(issue(rig, code))
    rig.server.online = True
    rig.core.syncer.step()
    on_server = [t["number"] for t in rig.server.tickets.values()]
    assert sorted(on_server) == sorted(numbers)
    assert len(set(numbers)) == len(numbers)


def test_a_refused_token_does_not_break_the_sync_loop(rig: Rig) -> None:
    from kiosk.core.api import Refused

    def refuse() -> list[dict[str, Any]]:
        raise Refused(401, "unauthorized", "令牌无效")

    rig.server.services = refuse  # type: ignore[method-assign]
    assert rig.core.syncer.step() is False


def test_lease_expiry_compares_times_not_strings_in_mixed_offsets() -> None:
    box = Outbox()
    box.add_lease(
        {
            "lease_id": "L1",
            "service": "SW",
            "prefix": "D",
            "business_day": "2026-11-20",
            "first": 1,
            "last": 5,
            "width": 3,
            "expires_at": "2026-11-20T23:59:59+08:00",
        }
    )
    after = "2026-11-20T16:30:00+00:00"  # 00:30 the next day in Shanghai: the lease is over
    before = "2026-11-20T15:30:00+00:00"
    assert box.usable_leases("SW", "2026-11-20", after) == []
    assert box.take_number("k1", "SW", "2026-11-20", after, after) is None
    assert [x.lease_id for x in box.usable_leases("SW", "2026-11-20", before)] == ["L1"]
    taken = box.take_number("k2", "SW", "2026-11-20", before, before)
    assert taken is not None and taken.number == "D001"


def test_after_a_cut_stale_leases_are_retired_and_their_unused_numbers_given_back(
    rig: Rig,
) -> None:
    stale = [lease.lease_id for lease in rig.core.outbox.leases("SW")]
    calls: list[list[dict[str, Any]]] = []

    def check_leases(copies: Any, retired: Any = None) -> dict[str, Any]:
        calls.append(list(retired or []))
        return {"stale": stale if len(calls) == 1 else []}

    rig.server.check_leases = check_leases  # type: ignore[attr-defined]
    rig.server.online = False
    rig.core.syncer.step()
    rig.server.online = True
    assert rig.core.syncer.step()
    old = [x for x in rig.core.outbox.leases("SW") if x.lease_id in stale]
    assert old and all(x.remaining == 0 for x in old)
    assert calls[1] == [{"lease_id": x.lease_id, "used_to": x.first - 1} for x in old]
    # a fresh lease replaces them
    rig.server.online = False
    rig.core.syncer.step()
    number = issue(rig, "SW")
    assert rig.core.outbox.get(rig.core.outbox.pending()[0].key).lease_id not in stale
    assert number.startswith("D")


def test_leases_already_retired_are_not_retired_again_at_each_reconnect(
    rig: Rig, caplog: Any
) -> None:
    stale = [lease.lease_id for lease in rig.core.outbox.leases("SW")]
    calls: list[list[dict[str, Any]]] = []

    def check_leases(copies: Any, retired: Any = None) -> dict[str, Any]:
        calls.append(list(retired or []))
        return {"stale": stale}  # a restored server names the old epoch's leases every time

    rig.server.check_leases = check_leases  # type: ignore[attr-defined]
    for _ in range(3):  # three cuts and reconnects
        rig.server.online = False
        rig.core.syncer.step()
        rig.server.online = True
        rig.core.syncer.step()
    warned = [r for r in caplog.records if "stale" in r.getMessage()]
    assert len(warned) == 1, [r.getMessage() for r in warned]
    assert len(calls) == 4  # the check after each reconnect, once more to give numbers back
