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
    decode(data, encoding)  # the test fails if either raises


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


CONTROLS = st.characters(max_codepoint=0x9F).filter(lambda ch: ord(ch) < 0x20 or ord(ch) >= 0x7F)


@FUZZ
@given(st.text(alphabet=st.one_of(CJK, CONTROLS), min_size=1, max_size=30))
def test_control_characters_in_text_never_become_printer_commands(name: str) -> None:
    """ESC @ (reset), GS V (cut) … in a hall or service name are text, not commands."""
    clean = [t.kind for t in tokenize(render_ticket(BASE, 80)) if t.kind != "text"]
    for field in ("hall", "service_name"):
        data = render_ticket(replace(BASE, **{field: name}), 80)
        kinds = [t.kind for t in tokenize(data) if t.kind not in ("text", "newline")]
        assert kinds == [k for k in clean if k != "newline"], name
        assert decode(data).cuts == 1


def test_escape_sequences_in_a_name_are_dropped() -> None:
    data = render_ticket(replace(BASE, service_name="户籍\x1b@\x1dVB\x03业务"), 80)
    assert b"\x1b@\x1d" not in data and "户籍@VB业务" in "".join(decode(data).text)
