from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from halldomain.idnumber import (
    IdNumberError,
    check_character,
    mask_id_number,
    mask_name,
    parse_id_number,
)
from tests.conftest import ID_ELDERLY, ID_YOUNG


def test_known_numbers_validate_and_give_birth_date():
    assert parse_id_number(ID_YOUNG).birth == date(1990, 3, 7)
    elder = parse_id_number(ID_ELDERLY.lower())  # a lower-case x is accepted
    assert elder.value == ID_ELDERLY
    assert elder.age_on(date(2026, 11, 17)) == 76
    assert elder.age_on(date(2026, 12, 30)) == 76
    assert elder.age_on(date(2026, 12, 31)) == 77


def test_wrong_check_character_is_refused_in_chinese():
    wrong = ID_YOUNG[:17] + ("3" if ID_YOUNG[17] != "3" else "4")
    with pytest.raises(IdNumberError) as err:
        parse_id_number(wrong)
    assert err.value.code == "id_check_digit"
    assert "校验位" in err.value.message


@pytest.mark.parametrize(
    "bad", ["", "1234", "11010519900307123", "1101051990030712AA", "110105199002301231"]
)
def test_malformed_numbers_are_refused(bad):
    with pytest.raises(IdNumberError):
        parse_id_number(bad)


def test_card_kinds():
    permit = "810000199001010002"
    permit = permit[:17] + check_character(permit[:17])
    assert parse_id_number(permit).kind == "hk_mo_tw"
    foreign = "931586199001010003"
    foreign = foreign[:17] + check_character(foreign[:17])
    assert parse_id_number(foreign).kind == "foreign_2023"
    assert parse_id_number("USA123456789012").kind == "foreign_2017"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_any_number_with_its_check_character_passes_the_check(first17):
    value = first17 + check_character(first17)
    try:
        parse_id_number(value)
    except IdNumberError as err:
        assert err.code == "id_birth_date"  # only the embedded date can be wrong
    for other in "0123456789X":
        if other != value[17]:
            with pytest.raises(IdNumberError):
                parse_id_number(first17 + other)


def test_masks():
    assert mask_id_number("440102199001011234") == "4401**********1234"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧阳**"
    assert mask_name("王小明") == "王**"
    assert mask_name("欧阳娜") == "欧阳*"
    assert mask_name("John Smith") == "J*** S****"
