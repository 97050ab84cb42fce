"""Natural persons: citizen IDs are validated with reasons, keyed for storage and masked for display."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import ric

from xinyong.errors import Invalid
from xinyong.subjects import identity

REGION = "320102"  # 南京市玄武区
ID_CHARS = "0123456789X"

birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
order_codes = st.integers(min_value=0, max_value=999)
secrets = st.binary(min_size=16, max_size=32)
cjk_names = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=0, max_size=8)


def citizen_id(born: date, order: int, region: str = REGION) -> str:
    first17 = f"{region}{born:%Y%m%d}{order:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


@st.composite
def citizen_ids(draw: st.DrawFn) -> str:
    return citizen_id(draw(birth_dates), draw(order_codes))


def problem(raw: str) -> Invalid:
    with pytest.raises(Invalid) as caught:
        identity.validate_citizen_id(raw)
    assert caught.value.field == "证件号码"
    return caught.value


# --- validate_citizen_id ---------------------------------------------------------------------


@given(citizen_ids())
def test_well_formed_ids_validate(number: str) -> None:
    assert identity.validate_citizen_id(number) == number


@given(citizen_ids())
def test_lower_case_x_full_width_and_spaces_are_normalised(number: str) -> None:
    styled = " ".join(["".join(chr(ord(c) + 0xFEE0) for c in number[:6]), number[6:14], number[14:].lower()])
    assert identity.validate_citizen_id(styled) == number


@given(citizen_ids(), st.sampled_from(ID_CHARS))
def test_a_wrong_check_digit_names_the_expected_one(number: str, wrong: str) -> None:
    assume(wrong != number[-1])
    error = problem(number[:-1] + wrong)
    assert error.code == "PERSON_ID_CHECK_DIGIT"
    assert error.message == f"居民身份证号码第18位校验码应为“{number[-1]}”，实际为“{wrong}”"


@given(citizen_ids(), st.integers(min_value=1, max_value=30))
def test_a_wrong_length_is_refused_with_the_length(number: str, length: int) -> None:
    assume(length != 18)
    raw = (number * 2)[:length]
    error = problem(raw)
    assert error.code == "PERSON_ID_LENGTH"
    assert error.message == f"居民身份证号码应为18位，实际为{length}位"


def with_check_digit(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900100", "18991231"])
def test_impossible_birth_dates_are_refused_with_the_date(birth: str) -> None:
    error = problem(with_check_digit(f"{REGION}{birth}123"))
    assert error.code == "PERSON_ID_BIRTH_DATE"
    assert error.message == f"居民身份证号码中的出生日期“{birth}”无效"


@pytest.mark.parametrize("region", ["999999", "000000", "200101"])
def test_an_address_code_outside_every_province_is_refused(region: str) -> None:
    error = problem(with_check_digit(f"{region}19900101123"))
    assert error.code == "PERSON_ID_REGION"
    assert f"地址码“{region}”" in error.message


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(1982, 12, 31)), order_codes)
def test_ids_issued_under_a_county_code_newer_than_the_birth_year_validate(born: date, order: int) -> None:
    """320102 dates from 1983; people born earlier were issued IDs under it all the same."""
    number = citizen_id(born, order)
    assert identity.validate_citizen_id(number) == number


@pytest.mark.parametrize("position", [0, 5, 10, 16])
def test_letters_in_the_first_seventeen_are_format_errors(position: int) -> None:
    number = citizen_id(date(1990, 1, 1), 123)
    error = problem(number[:position] + "A" + number[position + 1:])
    assert error.code == "PERSON_ID_FORMAT"
    assert error.message == "居民身份证号码前17位应为数字，第18位为数字或X"


def test_a_letter_other_than_x_at_the_end_is_a_format_error() -> None:
    assert problem(citizen_id(date(1990, 1, 1), 123)[:17] + "A").code == "PERSON_ID_FORMAT"


def test_empty_is_a_length_error() -> None:
    assert problem("").code == "PERSON_ID_LENGTH"


# --- person_key ----------------------------------------------------------------------------------


@given(citizen_ids(), secrets)
def test_person_key_is_stable_and_normalised(number: str, secret: bytes) -> None:
    key = identity.person_key(number, secret)
    assert key == identity.person_key(number, secret)
    assert key == identity.person_key(f" {number[:9]} {number[9:].lower()} ", secret)
    assert len(key) == 64 and int(key, 16) >= 0
    assert number not in key


@given(citizen_ids(), secrets, secrets)
def test_person_key_depends_on_the_secret(number: str, one: bytes, other: bytes) -> None:
    assume(one != other)
    assert identity.person_key(number, one) != identity.person_key(number, other)


@given(citizen_ids(), citizen_ids(), secrets)
def test_different_people_get_different_keys(first: str, second: str, secret: bytes) -> None:
    assume(first != second)
    assert identity.person_key(first, secret) != identity.person_key(second, secret)


# --- masking -------------------------------------------------------------------------------------


@given(st.text(alphabet=ID_CHARS, min_size=9, max_size=30))
def test_mask_id_keeps_only_the_first_and_last_four(number: str) -> None:
    masked = identity.mask_id(number)
    assert len(masked) == len(number)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:]
    assert set(masked[4:-4]) == {"*"}
    assert masked != number


@given(st.text(alphabet=ID_CHARS, min_size=1, max_size=8))
def test_mask_id_hides_short_numbers_entirely(number: str) -> None:
    assert identity.mask_id(number) == "*" * len(number)


@given(citizen_ids())
def test_mask_id_of_a_real_id_shows_eight_characters(number: str) -> None:
    masked = identity.mask_id(number)
    assert masked == number[:4] + "*" * 10 + number[-4:]
    assert masked != number


def test_mask_id_example() -> None:
    assert identity.mask_id("320102199001011234") == "3201**********1234"


@given(cjk_names)
def test_mask_name_keeps_the_surname_only(name: str) -> None:
    masked = identity.mask_name(name)
    assert len(masked) == len(name)
    if len(name) <= 1:
        assert masked == name
        return
    keep = 2 if len(name) >= 4 else 1
    assert masked[:keep] == name[:keep]
    assert masked[keep:] == "*" * (len(name) - keep)
    assert masked != name


@pytest.mark.parametrize(("name", "masked"), [("张三", "张*"), ("王小明", "王**"), ("欧阳娜娜", "欧阳**"), ("李", "李"),
                                              (" 赵四 ", "赵*"), ("", "")])
def test_mask_name_examples(name: str, masked: str) -> None:
    assert identity.mask_name(name) == masked
