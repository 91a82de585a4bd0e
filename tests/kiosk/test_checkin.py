"""Appointment check-in (预约签到) at the kiosk, against the canned server: no Qt, no network."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.core.api import Refused
from tests.kiosk.conftest import ELDER, YOUNG, Rig

SHANGHAI = ZoneInfo("Asia/Shanghai")


def slot(hour: int, minute: int = 0) -> datetime:
    """A slot start on the rig's day (2026-11-20; the rig's clock says 10:00 in Shanghai)."""
    return datetime(2026, 11, 20, hour, minute, tzinfo=SHANGHAI)


def text_of(rig: Rig) -> str:
    s = rig.flow.screen
    return " ".join([s.title, s.notice, s.speech, *s.lines, *(b.label for b in s.buttons)])


def test_home_offers_check_in_and_the_prompt_is_spoken(rig: Rig) -> None:
    labels = {b.action: b.label for b in rig.flow.screen.buttons}
    assert labels["checkin"] == "预约签到"
    assert rig.tap("checkin")
    screen = rig.flow.screen
    assert screen.name == "checkin"
    assert screen.animation == "scan"
    assert "预约二维码" in screen.lines[0]
    assert rig.spoken[-1] == (screen.speech, "zh")  # spoken even in standard mode
    assert rig.tap("home")
    assert rig.flow.screen.name == "home"


def test_check_in_by_card_prints_a_priority_ticket(rig: Rig) -> None:
    rig.server.book("SW", slot(10), YOUNG.id_number, YOUNG.name)
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    screen = rig.flow.screen
    assert screen.name == "ticket", screen
    assert screen.title == "请取走您的号票"
    assert screen.lines[0] == "预约签到成功"
    assert "预约优先" in screen.lines
    assert len(rig.printer.printed) == 1
    assert rig.printer.printed[0].number == screen.big
    assert rig.printer.printed[0].priority_label == "预约优先"
    # rating works as after any ticket
    assert "rate" in screen.actions()


def test_double_scans_and_repeats_give_one_paper_ticket(rig: Rig) -> None:
    qr = rig.server.book("SW", slot(10), YOUNG.id_number, YOUNG.name)
    rig.tap("checkin")
    key = rig.flow.ctx["key"]
    rig.flow.qr(qr)
    rig.flow.qr(qr)  # the camera sees the code again: it lands on the ticket screen
    number = rig.flow.screen.big
    assert rig.flow.screen.name == "ticket"
    # the same key (a tap delivered twice) never reaches the server again
    assert rig.core.checkins.check_in(key, None, qr).ticket.number == number
    assert rig.server.checkin_calls == 1
    assert len(rig.printer.printed) == 1
    # the citizen comes back and scans again: the same number on screen, not printed again
    rig.tap("home")
    rig.tap("checkin")
    rig.flow.qr(qr)
    screen = rig.flow.screen
    assert screen.name == "ticket"
    assert screen.big == number
    assert screen.title == "您的号码"
    assert "不再重复打印" in screen.notice
    assert screen.qr
    assert len(rig.printer.printed) == 1
    assert rig.printer.attempts == 1


def test_too_early_says_when_to_come_back(rig: Rig) -> None:
    rig.server.book("SW", slot(11), YOUNG.id_number)
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    screen = rig.flow.screen
    assert screen.name == "checkin_message"
    assert screen.title == "还未到签到时间"
    assert screen.lines[0] == "您预约的时段是 11:00–12:00，请于 10:30 后再来签到"
    assert screen.notice.startswith("请于 10:30 后再来")
    assert "10:30" in screen.speech
    assert not rig.printer.printed
    # and in English the time is kept
    rig.tap("home")
    rig.tap("lang")
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    assert rig.flow.screen.title == "Too early to check in"
    assert "has not opened yet" in rig.flow.screen.lines[0]
    assert rig.flow.screen.notice.startswith("Come back after 10:30")


def test_late_arrival_queues_as_a_walk_in(rig: Rig) -> None:
    rig.server.book("SW", slot(9, 30), YOUNG.id_number)
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    screen = rig.flow.screen
    assert screen.name == "ticket"
    assert screen.lines[0] == "已超过预约时段，按普通号排队"
    assert not any("预约优先" in line for line in screen.lines)
    assert len(rig.printer.printed) == 1


def test_missed_appointment_offers_an_ordinary_ticket(rig: Rig) -> None:
    rig.server.book("SW", slot(8), YOUNG.id_number)
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    screen = rig.flow.screen
    assert screen.name == "checkin_message"
    assert screen.title == "预约时段已过"
    assert "取普通号" in text_of(rig)
    assert rig.tap("home")
    assert rig.flow.screen.name == "home"


def test_not_found_and_not_a_booking_qr(rig: Rig) -> None:
    rig.tap("checkin")
    rig.flow.card(ELDER)
    assert rig.flow.screen.title == "没有找到可签到的预约"
    assert "您今天没有预约" in rig.flow.screen.lines[0]
    assert rig.tap("checkin")  # 重新签到
    rig.flow.qr("http://hall.local/t/t1")  # a ticket's QR code, not a booking's
    assert rig.flow.screen.name == "checkin_message"
    assert "这不是预约二维码" in rig.flow.screen.lines[0]
    assert rig.server.checkin_calls == 1
    rig.tap("checkin")
    rig.flow.qr("HALLAPPT:1:99:wrongcode")
    assert "没有找到该预约" in rig.flow.screen.lines[0]


def test_other_refusals_show_the_servers_sentence(rig: Rig, monkeypatch: Any) -> None:
    def refuse(body: dict[str, Any]) -> dict[str, Any]:
        raise Refused(409, "booking_blocked", "因多次爽约，预约功能已暂停至 2026-12-20")

    monkeypatch.setattr(rig.server, "check_in", refuse)
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    screen = rig.flow.screen
    assert screen.title == "暂时无法签到"
    assert screen.lines[0] == "因多次爽约，预约功能已暂停至 2026-12-20"
    assert "服务台" in screen.notice
    rig.tap("home")
    rig.tap("lang")
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    assert rig.flow.screen.lines[0] == "Booking is blocked after missed appointments."


def test_network_down_never_issues_from_a_lease(rig: Rig) -> None:
    rig.server.book("SW", slot(10), YOUNG.id_number)
    leased = rig.core.outbox.counts()
    rig.server.online = False
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    screen = rig.flow.screen
    assert screen.name == "checkin_message"
    assert screen.title == "暂时无法核验预约"
    assert "取普通号" in screen.notice and "工作人员" in screen.notice
    assert {b.action for b in screen.buttons} == {"home", "checkin"}
    assert not rig.printer.printed
    assert rig.core.outbox.pending() == []
    assert rig.core.outbox.counts() == leased
    # back online, 重新签到 works
    rig.server.online = True
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    assert rig.flow.screen.name == "ticket"


def test_printer_trouble_on_check_in_shows_the_number(rig: Rig) -> None:
    rig.server.book("SW", slot(10), YOUNG.id_number)
    rig.printer.paper = "out"
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    screen = rig.flow.screen
    assert screen.name == "ticket"
    assert screen.title == "您的号码"
    assert screen.qr and "打印机" in screen.notice


def test_elder_mode_reads_every_check_in_screen(rig: Rig) -> None:
    rig.server.book("SW", slot(10), ELDER.id_number, ELDER.name)
    rig.tap("elder")
    rig.tap("checkin")
    rig.flow.card(ELDER)
    names = [s.name for s in rig.screens[-3:]]
    assert names == ["checkin", "issuing", "ticket"]
    spoken = [text for text, _ in rig.spoken[-3:]]
    assert "预约二维码" in spoken[0]
    assert "核验预约" in spoken[1]
    assert "预约签到成功" in spoken[2]


def test_check_in_screens_never_show_a_full_id_number(rig: Rig) -> None:
    rig.server.book("SW", slot(10), ELDER.id_number, ELDER.name)
    rig.tap("checkin")
    rig.flow.card(ELDER)
    rig.tap("home")
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    for screen in rig.screens:
        blob = repr(screen)
        assert ELDER.id_number not in blob and YOUNG.id_number not in blob
        assert ELDER.name not in blob


def test_a_hall_without_appointments_hides_the_entry(rig: Rig) -> None:
    from dataclasses import replace

    rig.core.state.set_hall(replace(rig.core.state.snap.hall, appointments=False))
    rig.flow.reset()
    assert "checkin" not in rig.flow.screen.actions()


def test_english_ticket_names_the_priority_in_english(rig: Rig) -> None:
    rig.server.book("SW", slot(10), YOUNG.id_number)
    rig.tap("lang")
    rig.tap("checkin")
    rig.flow.card(YOUNG)
    assert "Priority: appointment" in rig.flow.screen.lines
