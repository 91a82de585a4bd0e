"""Ticket bytes decoded by the ESC/POS reader: what the citizen's ticket really says."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from drivers.printer import TicketPrint, decode, render_ticket, sample_ticket, tokenize
from drivers.printer import commands as c
from drivers.printer.layout import COLUMNS, display_width, wrap

TICKET = TicketPrint(
    hall="武江区政务服务中心",
    service_name="社保医保（综合窗口）",
    number="B107",
    ahead=3,
    wait_low_min=5,
    wait_high_min=15,
    issued_at=datetime(2026, 5, 4, 9, 30),
    qr="https://hall.example/t/B107?d=2026-05-04",
    notice="请留意叫号，过号请到窗口咨询。",
    masked_name="欧阳**",
)


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_ticket_decodes_to_chinese_text_a_big_number_a_qr_and_a_cut(paper_mm: int) -> None:
    data = render_ticket(TICKET, paper_mm=paper_mm)
    decoded = decode(data)
    text = "\n".join(decoded.text)
    assert "?" not in text and "\ufffd" not in text
    for expected in (
        "武江区政务服务中心",
        "社保医保（综合窗口）",
        "您前面还有 3 人等候",
        "预计等候 5～15 分钟",
        "姓名：欧阳**",
        "取号时间：2026-05-04 09:30",
    ):
        assert expected in text
    number = next(line for line in decoded.lines if line.text == "B107")
    assert number.width >= 3 and number.height >= 3 and number.align == "center"
    assert decoded.qr == [TICKET.qr]
    assert decoded.cuts == 1 and decoded.unknown == 0
    for line in decoded.lines:
        assert display_width(line.text) * line.width <= COLUMNS[paper_mm]


def test_chinese_mode_is_entered_before_any_chinese_byte() -> None:
    data = render_ticket(TICKET)
    kinds = [t.kind for t in tokenize(data)]
    assert kinds.index("chinese") < kinds.index("text")
    assert data.index(c.CHINESE_ON) < data.index("武江".encode("gb18030"))
    assert data.endswith(c.FEED_AND_CUT)


def test_number_uses_gs_exclamation_not_esc_exclamation() -> None:
    data = render_ticket(TICKET, paper_mm=80)
    assert bytes([0x1D, 0x21, 0x33]) in data  # GS ! 4×4
    assert bytes([0x1B, 0x21]) not in data


def test_full_width_punctuation_only_line_is_not_question_marks() -> None:
    ticket = replace(TICKET, notice="：（）！，。")
    decoded = decode(render_ticket(ticket))
    assert "：（）！，。" in decoded.text
    assert b"???" not in render_ticket(ticket)


def test_gbk_option_encodes_gbk_and_replaces_what_gbk_lacks_with_a_box() -> None:
    ticket = replace(TICKET, notice="生僻字𠀀测试")
    data = render_ticket(ticket, encoding="gbk")
    assert "生僻字".encode("gbk") in data
    assert "生僻字□测试" in decode(data, encoding="gbk").text
    assert "生僻字𠀀测试" in decode(render_ticket(ticket), encoding="gb18030").text


def test_raster_fallback_prints_an_image_instead_of_gs_k() -> None:
    data = render_ticket(TICKET, native_qr=False)
    decoded = decode(data)
    assert decoded.qr == [] and len(decoded.rasters) == 1
    width, height = decoded.rasters[0]
    assert 100 < width <= 384 and height > 100
    assert bytes([0x1D, 0x28, 0x6B]) not in data


def test_native_qr_bytes_follow_the_function_layout() -> None:
    data = c.qr_native("AB", module_size=6)
    assert data.startswith(bytes.fromhex("1D286B0400 31413200".replace(" ", "")))
    assert bytes.fromhex("1D286B0500315030") + b"AB" in data
    assert data.endswith(bytes.fromhex("1D286B0300315130"))


def test_sample_ticket_has_every_element() -> None:
    decoded = decode(render_ticket(sample_ticket()))
    assert decoded.qr and decoded.cuts == 1
    assert any("老年人优先" in t for t in decoded.text)


def test_wrap_counts_chinese_as_two_columns() -> None:
    assert wrap("一二三四五", 4) == ["一二", "三四", "五"]
    assert wrap("ab一", 3) == ["ab", "一"]
    assert wrap("", 10) == [""]


def test_no_one_ahead_and_single_wait_figure() -> None:
    decoded = decode(render_ticket(replace(TICKET, ahead=0, wait_low_min=0, wait_high_min=0)))
    assert "您前面没有人等候" in decoded.text
