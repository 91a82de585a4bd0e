"""Hypothesis: the ESC/POS reader never raises, and any ticket text survives the round trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.printer import TicketPrint, decode, render_ticket, tokenize
from drivers.printer.status import decode_status

FUZZ = settings(max_examples=100, deadline=None)
BASE = TicketPrint("大厅", "事项", "A001", 1, 1, 2, datetime(2026, 1, 1, 8, 0), "x")
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)  # GBK ends at U+9FA5
TEXT = st.text(
    alphabet=st.one_of(CJK, st.sampled_from("：（）！，。、A1 ")), min_size=1, max_size=40
)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["gb18030", "gbk"]))
def test_reader_never_raises_on_random_bytes(data: bytes, encoding: str) -> None:
    tokenize(b"\x1c\x26" + data, encoding)
    decoded = decode(data, encoding)
    assert decoded.cuts >= 0


@FUZZ
@given(TEXT, st.sampled_from([58, 80]), st.sampled_from(["gb18030", "gbk"]))
def test_any_service_name_round_trips(name: str, paper_mm: int, encoding: str) -> None:
    data = render_ticket(replace(BASE, service_name=name), paper_mm, encoding)
    decoded = decode(data, encoding)
    lines = decoded.text
    assert "".join(lines[1 : lines.index("A001")]) == name  # wrapped, nothing lost or replaced
    assert "\ufffd" not in "".join(decoded.text) and decoded.cuts == 1


@FUZZ
@given(
    st.none() | st.integers(0, 255),
    st.none() | st.integers(0, 255),
    st.none() | st.integers(0, 255),
)
def test_any_status_bytes_give_a_health(a: int | None, b: int | None, c: int | None) -> None:
    assert decode_status(a, b, c).state in ("ok", "warning", "error", "unknown")
