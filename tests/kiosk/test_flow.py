"""Kiosk flows without Qt: taps, cards and QR codes in, screens out."""

# The first sync leases numbers 1-20 of every service for offline use, so online tickets start at 21.

from __future__ import annotations

from typing import Any

from kiosk.core.screens import Screen

from .conftest import ELDER, YOUNG, Rig, make_rig


def test_home_shows_every_service_with_waiting_and_range(rig: Rig) -> None:
    home = rig.flow.screen
    assert home.name == "home"
    assert [t.title for t in home.tiles][:3] == ["户籍业务", "社保业务", "医保业务"]
    assert all(any("等候" in line for line in tile.lines) for tile in home.tiles)
    # nobody waiting: "无需等候", the display's wording, never "约 0–3 分钟"
    assert all(tile.lines == ("等候 0 人", "无需等候") for tile in home.tiles), home.tiles
    rig.server.waiting_bias = {"HJ": 4}
    rig.core.syncer.step()
    rig.flow.refresh()
    hj = rig.flow.screen.tiles[0]
    assert hj.lines[0] == "等候 4 人" and hj.lines[1].startswith("约 ") and "分钟" in hj.lines[1]


def test_no_wait_is_said_the_same_way_on_the_ticket_and_the_lookup(rig: Rig) -> None:
    rig.tap("service:HJ")
    rig.flow.card(YOUNG)
    assert "无需等候" in rig.flow.screen.lines
    assert not any("预计等候" in line for line in rig.flow.screen.lines)
    rig.tap("home")
    rig.server.waiting_bias = {"SB": 3}
    rig.tap("service:SB")
    rig.flow.card(YOUNG)  # three ahead: a range
    rig.tap("home")
    rig.tap("lookup")
    rig.flow.card(YOUNG)
    lines = [tile.lines for tile in rig.flow.screen.tiles]
    assert "无需等候" in lines[0], lines
    assert any(line.startswith("预计等候") for line in lines[1]), lines


def test_the_lookup_names_services_in_english(rig: Rig) -> None:
    rig.tap("service:HJ")
    rig.flow.card(YOUNG)
    rig.tap("home")
    rig.tap("lang")
    rig.tap("lookup")
    rig.flow.card(YOUNG)
    assert rig.flow.screen.tiles[0].lines[0] == "Household registration"


def test_warns_when_the_wait_runs_past_closing(rig: Rig) -> None:
    rig.clock.advance(7 * 3600 + 15 * 60)  # 17:15 in Shanghai, closing at 17:30
    rig.server.waiting_bias = {"SW": 30}
    rig.core.syncer.step()
    rig.flow.refresh()
    rig.tap("service:SW")
    assert any("截止时间 17:30" in line for line in rig.flow.screen.lines), rig.flow.screen.lines
    rig.tap("home")
    rig.clock.advance(-6 * 3600)  # 11:15, hours to spare before 12:00? 30 ahead: still past
    rig.server.waiting_bias = {"SW": 0}
    rig.core.syncer.step()
    rig.flow.refresh()
    rig.tap("service:SW")
    assert not any("截止" in line for line in rig.flow.screen.lines)


def test_a_missed_appointment_has_a_way_home(rig: Rig) -> None:
    from datetime import timedelta

    qr = rig.server.book("SW", rig.clock.now() - timedelta(minutes=90), YOUNG.id_number)
    rig.tap("checkin")
    rig.flow.qr(qr)
    screen = rig.flow.screen
    assert screen.title == "预约时段已过"
    assert "back" in screen.actions()
    assert [b.label for b in screen.buttons if b.action == "back"] == ["返回首页"]
    rig.tap("back")
    assert rig.flow.screen.name == "home"


def test_ordinary_ticket_is_one_tap_and_prints_once(rig: Rig) -> None:
    assert rig.tap("service:SW")
    screen = rig.flow.screen
    assert screen.name == "ticket"
    assert screen.big == "D021"
    assert screen.title == "请取走您的号票"
    assert screen.notice == "" and screen.qr == ""
    assert [p.number for p in rig.printer.printed] == ["D021"]
    assert rig.printer.printed[0].hall == "武江区政务服务中心"


def test_real_name_service_asks_for_the_card_and_speaks(rig: Rig) -> None:
    rig.tap("service:HJ")
    assert rig.flow.screen.name == "swipe"
    assert rig.flow.screen.animation == "card"
    assert rig.spoken[-1][0].startswith("请刷身份证")
    rig.flow.card(YOUNG)
    assert rig.flow.screen.name == "ticket"
    assert rig.flow.screen.big == "A021"
    assert rig.printer.printed[0].masked_name == "张*"


def test_elderly_priority_is_shown_from_the_card(rig: Rig) -> None:
    rig.tap("service:HJ")
    rig.flow.card(ELDER)
    screen = rig.flow.screen
    assert any("老年人优先" in line for line in screen.lines)
    assert rig.printer.printed[0].priority_label == "老年人优先"


def test_cancel_on_the_swipe_screen_goes_home_and_a_late_card_is_ignored(rig: Rig) -> None:
    rig.tap("service:HJ")
    rig.tap("home")
    rig.flow.card(YOUNG)
    assert rig.flow.screen.name == "home"
    assert rig.server.issue_calls == 0


def test_double_tap_never_issues_two_tickets(rig: Rig) -> None:
    gen = rig.flow.screen.gen
    assert rig.flow.tap("service:SW", gen)
    assert not rig.flow.tap("service:SW", gen)  # the second tap aims at a screen that is gone
    assert rig.server.issue_calls == 1
    assert len(rig.printer.printed) == 1


def test_the_same_key_returns_the_same_ticket(rig: Rig) -> None:
    service = rig.core.state.service("SW")
    assert service is not None
    a = rig.core.issuer.issue("k1", service)
    b = rig.core.issuer.issue("k1", service)
    assert a == b
    # and the server itself answers the same key with the same ticket
    assert (
        rig.server.issue({"service": "SW", "channel": "kiosk", "idempotency_key": "k1"})["number"]
        == a.number
    )


def taps_to_ticket(rig: Rig, code: str) -> int:
    taps = 0
    while rig.flow.screen.name == "home":
        actions = rig.flow.screen.actions()
        taps += 1
        rig.tap(f"service:{code}" if f"service:{code}" in actions else "page:next")
        assert taps < 10
    if rig.flow.screen.name == "swipe":
        rig.flow.card(YOUNG)  # a swipe, not a tap
    assert rig.flow.screen.name == "ticket"
    return taps


def test_every_service_takes_at_most_three_taps_in_both_modes(tmp_path) -> None:  # noqa: ANN001
    for elder in (False, True):
        rig = make_rig(tmp_path / str(elder))
        for code in [s.code for s in rig.core.state.snap.services]:
            rig.flow.reset()
            taps = 0
            if elder:
                rig.tap("elder")
                taps = 1
            taps += taps_to_ticket(rig, code)
            assert taps <= 3, (code, elder, taps)


def test_elder_mode_has_fewer_items_and_reads_every_screen(rig: Rig) -> None:
    normal = len(rig.flow.screen.tiles)
    rig.tap("elder")
    assert rig.flow.screen.elder
    assert len(rig.flow.screen.tiles) <= 6 < normal
    before = len(rig.spoken)
    rig.tap("guides")
    rig.tap("guide:SW")
    rig.tap("take:SW")
    names = [s.name for s in rig.screens[-3:]]
    assert names == ["guide", "issuing", "ticket"]
    assert len(rig.spoken) - before == 4  # guide list, guide, issuing, ticket
    assert "D 零 二 一" in rig.spoken[-1][0]


def test_every_screen_has_speech_text(rig: Rig) -> None:
    rig.tap("elder")
    rig.tap("guides")
    rig.tap("guide:HJ")
    rig.tap("take:HJ")
    rig.flow.card(ELDER)
    rig.tap("rate")
    rig.tap("level:1")
    rig.tap("reason:kiosk_slow")
    rig.tap("submit")
    rig.tap("home")
    rig.tap("lookup")
    rig.flow.card(ELDER)
    seen: dict[str, Screen] = {s.name: s for s in rig.screens}
    assert set(seen) >= {
        "home",
        "guide_list",
        "guide",
        "swipe",
        "issuing",
        "ticket",
        "rate",
        "rate_reasons",
        "thanks",
        "lookup",
        "lookup_result",
    }
    for screen in seen.values():
        assert screen.speech.strip(), screen.name
    assert "需携带" in seen["guide"].speech


def test_guide_then_take_a_number(rig: Rig) -> None:
    rig.tap("guides")
    assert rig.flow.screen.name == "guide_list"
    rig.tap("guide:QYKB")
    assert any("营业执照" in line or "公司章程" in line for line in rig.flow.screen.lines)
    rig.tap("take:QYKB")
    assert rig.flow.screen.big == "F021"


def test_english_mode(rig: Rig) -> None:
    rig.tap("lang")
    assert rig.flow.screen.title == "Choose a service"
    assert rig.flow.screen.tiles[0].title == "Household registration"
    rig.tap("service:SW")
    assert rig.flow.screen.title == "Please take your ticket"


def test_rating_has_five_levels_none_preselected(rig: Rig) -> None:
    rig.tap("service:SW")
    rig.tap("rate")
    screen = rig.flow.screen
    assert [t.title for t in screen.tiles] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]
    assert not any(t.selected for t in screen.tiles)
    rig.tap("level:5")
    assert rig.flow.screen.name == "thanks"
    rig.core.syncer.step()
    assert rig.server.evaluations[0]["level"] == 5
    assert rig.server.evaluations[0]["channel"] == "kiosk"
    rig.tap("home")
    rig.tap("service:SW")
    assert "rate" in rig.flow.screen.actions()


def test_a_bad_rating_needs_a_reason(rig: Rig) -> None:
    rig.tap("service:SW")
    rig.tap("rate")
    rig.tap("level:2")
    assert rig.flow.screen.name == "rate_reasons"
    assert not any(t.selected for t in rig.flow.screen.tiles)
    assert not rig.tap("submit")  # disabled until a reason is chosen
    assert [t.title for t in rig.flow.screen.tiles][:2] == ["操作复杂，不会用", "反应慢、等待久"]
    rig.tap("reason:kiosk_print_failed")
    assert rig.flow.screen.tiles[2].selected
    rig.tap("reason:kiosk_print_failed")
    assert not rig.flow.screen.tiles[2].selected
    rig.tap("reason:kiosk_slow")
    assert rig.tap("submit")
    rig.core.syncer.step()
    assert rig.server.evaluations[0]["reasons"] == ["kiosk_slow"]  # the code, not the label


def test_rating_is_once_per_ticket(rig: Rig) -> None:
    rig.tap("service:SW")
    rig.tap("rate")
    rig.tap("level:4")
    rig.tap("home")
    assert "rate" not in rig.flow.screen.actions()


def test_lookup_by_card_and_by_qr(rig: Rig) -> None:
    rig.tap("service:HJ")
    rig.flow.card(YOUNG)
    rig.tap("home")
    rig.tap("lookup")
    assert rig.flow.screen.animation == "scan"
    rig.flow.card(YOUNG)
    screen = rig.flow.screen
    assert screen.name == "lookup_result"
    assert [t.title for t in screen.tiles] == ["A021"]
    rig.tap("home")
    rig.tap("lookup")
    rig.flow.qr("http://hall.local/t/t1")
    assert [t.title for t in rig.flow.screen.tiles] == ["A021"]
    rig.tap("home")
    rig.tap("lookup")
    rig.flow.qr("not a ticket")
    assert rig.flow.screen.name == "message"


def test_lookup_with_nothing_found(rig: Rig) -> None:
    rig.tap("lookup")
    rig.flow.card(ELDER)
    assert rig.flow.screen.title == "今天没有查到您的排队号"


def test_a_second_ticket_for_the_same_service_is_explained(rig: Rig) -> None:
    rig.tap("service:HJ")
    rig.flow.card(YOUNG)
    rig.tap("home")
    rig.tap("service:HJ")
    rig.flow.card(YOUNG)
    assert rig.flow.screen.name == "message"
    assert "A021" in rig.flow.screen.lines[0]
    assert len(rig.printer.printed) == 1


def test_idle_warning_then_reset_and_a_tap_extends(rig: Rig) -> None:
    rig.tap("elder")
    rig.tap("guides")
    timeout = rig.core.settings.idle_timeout_elder_s
    rig.clock.advance(timeout - 30)
    rig.flow.tick()
    assert rig.flow.screen.idle_left is None
    rig.clock.advance(6)
    rig.flow.tick()
    assert rig.flow.screen.idle_left is not None and rig.flow.screen.idle_left >= 20
    rig.flow.touch()
    assert rig.flow.screen.idle_left is None
    rig.clock.advance(timeout - 1)
    rig.flow.tick()
    assert rig.flow.screen.name == "guide_list"
    rig.clock.advance(2)
    rig.flow.tick()
    assert rig.flow.screen.name == "home"
    assert not rig.flow.screen.elder and rig.flow.screen.lang == "zh"


def test_home_never_idles(rig: Rig) -> None:
    rig.clock.advance(10_000)
    rig.flow.tick()
    assert rig.flow.screen.idle_left is None


def test_screens_never_show_a_full_id_number(rig: Rig) -> None:
    rig.tap("service:HJ")
    rig.flow.card(ELDER)
    rig.tap("home")
    rig.tap("lookup")
    rig.flow.card(ELDER)
    for screen in rig.screens:
        text = repr(screen)
        assert ELDER.id_number not in text and ELDER.name not in text


def test_a_tap_repeated_on_the_same_screen_reuses_its_key(rig: Rig) -> None:
    home_key = rig.flow.screen_key
    rig.flow._choose("SW")
    first = rig.flow.ctx["ticket"]
    rig.flow.ctx = {}
    rig.flow.screen_key = home_key  # the same drawn screen, tapped again before it changed
    rig.flow._choose("SW")
    assert rig.flow.ctx["ticket"] == first
    assert rig.server.issue_calls == 1 and len(rig.printer.printed) == 1


def test_a_live_configuration_change_reaches_the_home_screen(rig: Rig) -> None:
    """config.changed on the server: the next sync round brings the new services and notices."""
    before = [tile.action for tile in rig.flow.screen.tiles]
    assert "service:SW" in before
    rig.server.service_cfg = [s for s in rig.server.service_cfg if s["code"] != "SW"] + [
        {"code": "JZZ", "name": "居住证办理", "prefix": "J", "avg_service_min": 6}
    ]
    rig.server.hall_cfg = dict(
        rig.server.hall_cfg, name="新区政务服务中心", notices=["今日延时服务"]
    )
    rig.server.next_seq["JZZ"] = 1
    assert rig.core.syncer.step()
    rig.flow.refresh()  # the Qt app calls this every few seconds
    screen = rig.flow.screen
    actions = [tile.action for tile in screen.tiles]
    assert "service:SW" not in actions
    assert "居住证办理" in [tile.title for tile in screen.tiles]
    assert screen.hall == "新区政务服务中心"
    assert screen.ticker == ("今日延时服务",)
    rig.tap("service:JZZ")
    assert rig.flow.screen.big.startswith("J")


def test_an_english_guide_is_used_when_the_config_has_one(rig: Rig) -> None:
    from dataclasses import replace

    services = list(rig.core.state.snap.services)
    services[0] = replace(services[0], guide_en="Bring your ID card and household register.")
    rig.core.state.set_services(services)
    rig.tap("lang")
    rig.tap("guides")
    rig.tap("guide:HJ")
    assert rig.flow.screen.lines == ("Bring your ID card and household register.",)
    rig.tap("back")
    rig.tap("guide:SB")
    assert "Chinese only" in rig.flow.screen.lines[0]


def test_the_paper_says_no_wait_like_the_screen(rig: Rig, tmp_path: Any) -> None:
    from drivers.printer import decode, open_printer

    out = tmp_path / "tickets.bin"
    rig.core.printing.printer = open_printer(f"file://{out}")
    rig.tap("service:SW")
    text = "".join(decode(out.read_bytes()).text)
    assert "无需等候" in text and "分钟" not in text, text
