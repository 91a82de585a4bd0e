"""Hypothesis: random bytes give clean results or clean errors, never an escaping exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.idcard import SAMPLES, CardDataError, CardError, encode_text, parse_text
from drivers.idcard import protocol as p
from drivers.idcard.reader import decode_read_response

FUZZ = settings(max_examples=150, deadline=None)


@FUZZ
@given(st.lists(st.binary(max_size=64), max_size=12))
def test_parser_never_raises_and_never_hoards(chunks: list[bytes]) -> None:
    parser = p.FrameParser()
    for chunk in chunks:
        for item in parser.feed(chunk):
            assert isinstance(item, p.Frame | p.BadFrame)
    assert parser.pending <= max(4, 7 + p.MAX_LEN)


@FUZZ
@given(st.binary(max_size=40), st.binary(max_size=40), st.binary(max_size=300))
def test_a_good_frame_survives_noise_around_it(before: bytes, after: bytes, data: bytes) -> None:
    before = before.replace(b"\xaa", b"\x00")  # noise without a preamble start
    frame = p.build_response(0x90, data)
    items = p.FrameParser().feed(before + frame + after)
    frames = [i for i in items if isinstance(i, p.Frame)]
    assert frames and frames[0].data == data


@FUZZ
@given(st.binary(min_size=256, max_size=256))
def test_random_text_blocks_parse_or_fail_cleanly(block: bytes) -> None:
    try:
        parse_text(block)
    except CardDataError as e:
        assert e.code and e.message


@FUZZ
@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_damaged_text_fields_fail_cleanly(pos: int, value: int, flag: int) -> None:
    block = bytearray(encode_text(SAMPLES["zhangsan"]))
    block[pos] = value
    block[248] = flag if flag % 3 == 0 else block[248]
    try:
        parse_text(bytes(block))
    except CardDataError as e:
        assert e.code


@FUZZ
@given(st.binary(max_size=1400))
def test_random_read_responses_fail_cleanly(data: bytes) -> None:
    try:
        decode_read_response(data)
    except CardError as e:
        assert e.code
