"""The 256-byte text block of all four card types, nations, dates and ID check characters."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from drivers.idcard import (
    LONG_TERM,
    SAMPLE_CARDS,
    SAMPLES,
    CardDataError,
    encode_text,
    parse_text,
)
from drivers.idcard.nations import NATIONS, nation_code, nation_name
from drivers.idcard.textblock import TEXT_LEN
from halldomain.idnumber import parse_id_number


def hand_built_resident() -> bytes:
    """A block assembled field by field from the GA/T 467 offsets, not by encode_text."""
    block = bytearray(b" \x00" * 128)

    def put(offset: int, value: str) -> None:
        raw = value.encode("utf-16-le")
        block[offset : offset + len(raw)] = raw

    put(0, "张三")
    put(30, "1")
    put(32, "01")
    put(36, "19900307")
    put(52, "广东省韶关市武江区示例路1号")
    put(122, "440203199003070016")
    put(158, "韶关市公安局武江分局")
    put(188, "20150501")
    put(204, "长期")
    return bytes(block)


def test_resident_block_from_the_standard_offsets() -> None:
    card = parse_text(hand_built_resident())
    assert card.to_json_dict() == {
        "card_type": "resident",
        "name": "张三",
        "gender": "male",
        "nation": "汉",
        "birth": "1990-03-07",
        "address": "广东省韶关市武江区示例路1号",
        "id_number": "440203199003070016",
        "authority": "韶关市公安局武江分局",
        "valid_from": "2015-05-01",
        "valid_to": LONG_TERM,
    }


@pytest.mark.parametrize("card", SAMPLE_CARDS, ids=list(SAMPLES))
def test_every_sample_round_trips_and_has_a_valid_number(card) -> None:
    block = encode_text(card)
    assert len(block) == TEXT_LEN
    assert parse_text(block, card.photo) == card
    parse_id_number(card.id_number)  # check character valid


def test_type_flag_is_at_offset_248() -> None:
    flags = {k: encode_text(c)[248:250].decode("utf-16-le") for k, c in SAMPLES.items()}
    assert flags["zhangsan"] == " "
    assert flags["hk"] == "J"
    assert flags["foreign2017"] == "I"
    assert flags["foreign2023"] == "Y"


def test_foreign_2017_layout() -> None:
    block = encode_text(SAMPLES["foreign2017"])
    assert block[0:120].decode("utf-16-le").strip() == "SAMPLE, JOHN"
    assert block[122:152].decode("utf-16-le").strip() == "USA440180010100"
    assert block[152:158].decode("utf-16-le") == "USA"
    assert block[158:188].decode("utf-16-le").strip() == "约翰"
    assert block[220:236].decode("utf-16-le") == "19800101"
    data = parse_text(block).to_json_dict()
    assert data["card_type"] == "foreign_2017" and data["english_name"] == "SAMPLE, JOHN"
    assert "address" not in data and "authority" not in data


def test_foreign_2017_without_chinese_name_uses_the_english_name() -> None:
    card = replace(SAMPLES["foreign2017"], name="SAMPLE, JOHN")
    assert parse_text(encode_text(card)).name == "SAMPLE, JOHN"


def test_foreign_2023_english_name_spans_two_fields() -> None:
    long_name = "ABCDEFGHIJKLMNOPQRSTUVWXYZ ABCDEFGHIJKLMNO"  # 42 characters: 35 + 7
    card = replace(SAMPLES["foreign2023"], english_name=long_name)
    block = encode_text(card)
    assert block[220:242].decode("utf-16-le").strip() == long_name[35:]
    assert parse_text(block).english_name == long_name
    assert parse_text(block).id_number.startswith("9")


def test_hk_permit_fields() -> None:
    card = parse_text(encode_text(SAMPLES["hk"]))
    assert card.card_type == "hk_mo_tw" and card.permit_number == "H00000001"
    assert card.issue_count == "01" and card.address and card.authority


def test_json_has_exactly_the_contract_keys() -> None:
    allowed = {
        "card_type", "name", "english_name", "gender", "nation", "birth", "address",
        "id_number", "authority", "valid_from", "valid_to",
    }  # fmt: skip
    for card in SAMPLE_CARDS:
        data = card.to_json_dict()
        assert set(data) <= allowed
        assert "photo" not in json.dumps(data)
        date.fromisoformat(data["birth"])
        assert data["valid_to"] == LONG_TERM or date.fromisoformat(data["valid_to"])


def test_elderly_sample_is_over_70_with_a_long_term_card() -> None:
    elderly = SAMPLES["wangwu"]
    assert elderly.age_on(date(2026, 1, 1)) >= 70
    assert elderly.to_json_dict()["valid_to"] == LONG_TERM


def test_wrong_check_character_is_a_clear_error() -> None:
    card = replace(SAMPLES["zhangsan"], id_number="440203199003070017")
    with pytest.raises(CardDataError) as err:
        parse_text(encode_text(card))
    assert err.value.code == "id_check_digit" and "校验位" in err.value.message


@pytest.mark.parametrize(
    ("offset", "value", "code"),
    [(30, "3", "bad_gender"), (36, "19901332", "bad_date"), (204, "2035xx01", "bad_date")],
)
def test_bad_fields_are_clear_errors(offset: int, value: str, code: str) -> None:
    block = bytearray(encode_text(SAMPLES["zhangsan"]))
    raw = value.encode("utf-16-le")
    block[offset : offset + len(raw)] = raw
    with pytest.raises(CardDataError) as err:
        parse_text(bytes(block))
    assert err.value.code == code


def test_unknown_type_flag() -> None:
    block = bytearray(encode_text(SAMPLES["zhangsan"]))
    block[248:250] = "Q".encode("utf-16-le")
    with pytest.raises(CardDataError, match="unknown_card_type"):
        parse_text(bytes(block))


def test_number_of_another_card_type_is_refused() -> None:
    card = replace(SAMPLES["hk"], card_type="resident")
    with pytest.raises(CardDataError, match="id_kind_mismatch"):
        parse_text(encode_text(card))


def test_all_56_nations() -> None:
    assert len(NATIONS) == 56
    assert list(NATIONS) == [f"{i:02d}" for i in range(1, 57)]
    assert len(set(NATIONS.values())) == 56
    assert (
        nation_name("01") == "汉" and nation_name("05") == "维吾尔" and nation_name("56") == "基诺"
    )
    assert nation_code("蒙古族") == "02" and nation_code("朝鲜") == "10"
    assert nation_name("99") is None


def test_repr_never_shows_the_full_name_number_or_photo() -> None:
    text = repr(SAMPLES["ouyang"])
    assert "欧阳娜娜" not in text and "210102200006160026" not in text
    assert "欧阳**" in text and "photo" not in text
