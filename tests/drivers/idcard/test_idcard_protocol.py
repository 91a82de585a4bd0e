"""GA/T 467 framing: the documented frames byte for byte, resync and damaged frames."""

from __future__ import annotations

from drivers.idcard import protocol as p


def test_command_frames_match_the_documented_bytes() -> None:
    assert p.build_command(p.FIND_CARD).hex(" ").upper() == "AA AA AA 96 69 00 03 20 01 22"
    assert p.build_command(p.SELECT_CARD).hex(" ").upper() == "AA AA AA 96 69 00 03 20 02 21"
    assert p.build_command(p.READ_TEXT_PHOTO).hex(" ").upper() == "AA AA AA 96 69 00 03 30 01 32"
    assert p.build_command(p.READ_WITH_FINGERPRINT).hex().upper().endswith("00033010" + "23")
    assert p.build_command(p.RESET_SAM).hex().upper().endswith("0310FFEC")
    assert p.build_command(p.SAM_STATUS).hex().upper().endswith("0311FFED")
    assert p.build_command(p.SAM_ID).hex().upper().endswith("0312FFEE")


def test_response_frames_match_the_documented_bytes() -> None:
    found = p.build_response(p.SW3_CARD_FOUND, bytes(4))
    assert found.hex(" ").upper() == "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"
    assert (
        p.build_response(p.SW3_FIND_FAILED).hex(" ").upper() == "AA AA AA 96 69 00 04 00 00 80 84"
    )


def test_parser_finds_frames_between_noise_and_split_across_chunks() -> None:
    frame = p.build_response(p.SW3_CARD_FOUND, bytes(4))
    stream = b"\x00\xaa\xaa\x13" + frame + b"\xaa\xaa\xaa" + frame
    parser = p.FrameParser()
    got = []
    for i in range(0, len(stream), 3):
        got += parser.feed(stream[i : i + 3])
    assert [f.sw3 for f in got if isinstance(f, p.Frame)] == [0x9F, 0x9F]
    assert parser.pending == 0


def test_bad_checksum_is_reported_and_the_next_good_frame_still_found() -> None:
    good = p.build_response(p.SW3_SUCCESS)
    damaged = good[:-1] + bytes([good[-1] ^ 1])
    items = p.FrameParser().feed(damaged + good)
    assert items[0] == p.BadFrame("checksum")
    assert isinstance(items[-1], p.Frame) and items[-1].sw3 == 0x90


def test_an_absurd_length_is_skipped() -> None:
    parser = p.FrameParser()
    items = parser.feed(p.PREAMBLE + b"\xff\xff" + p.build_response(0x90))
    assert p.BadFrame("length") in items
    assert isinstance(items[-1], p.Frame)


def test_every_sw3_code_has_a_chinese_message() -> None:
    for sw3 in (0x90, 0x9F, 0x91, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41):
        code, message = p.sw3_describe(sw3)
        assert code and any("\u4e00" <= ch <= "\u9fff" for ch in message)
    assert p.sw3_describe(0x47)[0] == "random_failed"
    assert p.sw3_describe(0x60)[0] == "sam_selftest_failed"
    assert p.sw3_describe(0x66)[0] == "sam_not_authorised"
    assert p.sw3_describe(0x80)[0] == "find_failed"
    assert p.sw3_describe(0x81)[0] == "select_failed"
    assert p.sw3_describe(0x55)[0] == "sw3_55"


def test_read_with_fingerprint_answer_decodes() -> None:
    from drivers.idcard import SAMPLES
    from drivers.idcard.reader import decode_read_response
    from drivers.idcard.sam import SamModule

    sam = SamModule()
    sam.place(SAMPLES["lisi"])
    for command in (p.FIND_CARD, p.SELECT_CARD):
        p.FrameParser().feed(sam.handle(p.Frame(bytes(command))))
    (frame,) = p.FrameParser().feed(sam.handle(p.Frame(bytes(p.READ_WITH_FINGERPRINT))))
    assert isinstance(frame, p.Frame) and frame.sw3 == 0x90
    assert decode_read_response(frame.data, with_fingerprint=True) == SAMPLES["lisi"]


def test_read_answer_is_1295_bytes_with_len_0508() -> None:
    from drivers.idcard import SAMPLES
    from drivers.idcard.sam import SamModule

    sam = SamModule()
    sam.place(SAMPLES["zhangsan"])
    sam.handle(p.Frame(bytes(p.FIND_CARD)))
    sam.handle(p.Frame(bytes(p.SELECT_CARD)))
    answer = sam.handle(p.Frame(bytes(p.READ_TEXT_PHOTO)))
    assert len(answer) == 1295 and answer[5:7] == b"\x05\x08"
    assert answer[7:14] == bytes.fromhex("000090 0100 0400".replace(" ", ""))
    # one swipe, one read: find now fails until the card is taken away
    assert p.FrameParser().feed(sam.handle(p.Frame(bytes(p.FIND_CARD))))[0].sw3 == 0x80  # type: ignore[union-attr]
