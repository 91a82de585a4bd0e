"""LED strip frames: known bytes, checksum vectors, and encode/decode round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.led import (
    TEMPLATES,
    FrameDecoder,
    LedTemplate,
    LedTemplateError,
    crc16_modbus,
    decode_frame,
    encode_frame,
    make_template,
    sum8,
    xor8,
)

# Text a strip can show: GB2312 Han characters, digits, letters, punctuation.
GB2312_TEXT = st.text(
    alphabet=st.sampled_from("请到号窗口暂停服务办理户籍社保医公积金出入境ABCXYZ0123456789 -:（）"),
    max_size=60,
)
ALL_TEMPLATES = [
    *TEMPLATES.values(),
    make_template("cnqs", checksum="crc16-modbus"),
    make_template("colon", checksum="none", layout="3A {addr} {cmd} {text} 0A"),
    make_template("colon", encoding="gbk", escape="none"),
    LedTemplate("len-only", "AA 55 {addr} {len} [{cmd} {text}] {check}", b"\x01", "xor8"),
]


def test_checksum_known_vectors() -> None:
    assert crc16_modbus(b"123456789") == (0x4B37).to_bytes(2, "little")
    assert crc16_modbus(bytes.fromhex("01 03 00 00 00 01")) == bytes.fromhex("84 0A")
    assert sum8(bytes.fromhex("68 01 0C")) == b"\x75"
    assert sum8(b"\xff\xff") == b"\xfe"
    assert xor8(bytes.fromhex("00 03 20 01")) == b"\x22"  # the ID card reader's find-card CHK


def test_cnqs_frame_bytes() -> None:
    frame = encode_frame(TEMPLATES["cnqs"], 3, "A023 请到3号窗口")
    text = "A023 请到3号窗口".encode("gb2312")
    body = bytes([0x68, 3, 0x31]) + text
    assert frame == bytes([0xFF, 0x68, len(body), len(body)]) + body + sum8(body) + b"\x16"


def test_colon_frame_escapes_its_own_delimiters() -> None:
    frame = encode_frame(TEMPLATES["colon"], 0x0A, "12:30")  # address 0A and ':' in the text
    assert frame[0] == 0x3A and frame[-1] == 0x0A
    assert b"\x0a" not in frame[1:-1] and b"\x3a" not in frame[1:-1]
    assert frame[1:3] == b"\x7d\x2a"  # address 0A escaped
    decoded = decode_frame(TEMPLATES["colon"], frame)
    assert decoded is not None and (decoded.address, decoded.text) == (0x0A, "12:30")


def test_a_corrupted_frame_does_not_decode() -> None:
    frame = bytearray(encode_frame(TEMPLATES["cnqs"], 3, "A023"))
    frame[8] ^= 0x01
    assert decode_frame(TEMPLATES["cnqs"], bytes(frame)) is None


def test_control_characters_and_missing_characters_are_replaced() -> None:
    frame = encode_frame(TEMPLATES["cnqs"], 1, "A\x16\n1😀")
    decoded = decode_frame(TEMPLATES["cnqs"], frame)
    assert decoded is not None and decoded.text == "A  1?"


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"layout": "{addr} {cmd} {text} {check} 16"}, "start bytes"),
        ({"layout": "FF {addr} {cmd} {text} {check}"}, "end bytes or a {len}"),
        ({"layout": "FF {addr} {text} {check} 16"}, "{cmd}"),
        ({"layout": "FF {addr} {cmd} {text} ZZ"}, "'ZZ'"),
        ({"checksum": "md5"}, "checksum"),
        ({"checksum": "none"}, "{check}"),
    ],
)
def test_a_bad_template_is_a_clear_error(parts: dict[str, str], message: str) -> None:
    with pytest.raises(LedTemplateError, match=message.replace("{", "\\{").replace("}", "\\}")):
        make_template("cnqs", **parts)  # type: ignore[arg-type]


def test_a_too_long_text_is_refused_not_truncated() -> None:
    with pytest.raises(ValueError, match="too long"):
        encode_frame(TEMPLATES["cnqs"], 1, "请" * 200)


@settings(max_examples=200, deadline=None)
@given(
    template=st.sampled_from(ALL_TEMPLATES),
    address=st.integers(0, 255),
    text=GB2312_TEXT,
)
def test_round_trip(template: LedTemplate, address: int, text: str) -> None:
    frame = encode_frame(template, address, text)
    decoded = decode_frame(template, frame)
    assert decoded is not None
    assert (decoded.address, decoded.text) == (address, text)


@settings(max_examples=100, deadline=None)
@given(
    template=st.sampled_from(ALL_TEMPLATES[:4]),
    items=st.lists(st.tuples(st.integers(0, 255), GB2312_TEXT), min_size=1, max_size=6),
    garbage=st.binary(max_size=8),
    cuts=st.lists(st.integers(1, 40), max_size=6),
)
def test_stream_decoder_finds_every_frame_after_garbage_in_any_pieces(
    template: LedTemplate, items: list[tuple[int, str]], garbage: bytes, cuts: list[int]
) -> None:
    # Garbage without the start byte, so it cannot be mistaken for the start of a frame.
    garbage = bytes(b for b in garbage if b != template.start[0])
    stream = garbage + b"".join(encode_frame(template, a, t) for a, t in items)
    decoder = FrameDecoder(template)
    frames = []
    pos = 0
    for cut in [*cuts, len(stream)]:
        frames += decoder.feed(stream[pos : pos + cut])
        pos += cut
    frames += decoder.feed(stream[pos:])
    assert [(f.address, f.text) for f in frames] == items
