"""统一社会信用代码 (GB 32100-2015): construction, validation and the reasons given for refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.policy.service import seed_defaults
from xinyong.subjects import uscc

RULES = uscc.UsccRules.from_policy(seed_defaults()["uscc_categories"]["value"])
REJECTION_CODES = {"USCC_CHECK_DIGIT", "USCC_ORG_CODE_CHECK", "USCC_CATEGORY", "USCC_DEPARTMENT",
                   "USCC_REGION", "USCC_CHARACTER"}
# Province, prefecture and county level codes, plus the configured central-level "100000".
REGIONS = ["100000", "110000", "110101", "120000", "310000", "310115", "320100", "320102", "340602",
           "440300", "441900", "620105", "650100"]
# Codes of real organisations, published online (also in python-stdnum's test data).
REAL_CODES = ["91110000600037341L", "121200004013590816", "91310115MA1K3BTP2B", "92340602MA2PBMEM24",
              "91440300568520498A", "9144030071526726XG", "91620105L015101280", "913101127033980359"]
GOOD = "91110000600037341L"

departments_and_categories = st.sampled_from(
    sorted((dept, cat) for dept, cats in RULES.categories.items() for cat in cats))
regions = st.sampled_from(REGIONS)
org_bodies = st.text(alphabet=uscc.ALPHABET, min_size=8, max_size=8)


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    department, category = draw(departments_and_categories)
    return uscc.build(department, category, draw(regions), draw(org_bodies))


def rejection(raw: str) -> uscc.UsccError:
    with pytest.raises(uscc.UsccError) as caught:
        uscc.validate(raw, RULES)
    return caught.value


def test_the_sample_regions_are_real_divisions() -> None:
    assert all(uscc.region_name(code, RULES) for code in REGIONS)


@given(valid_codes())
def test_built_codes_always_validate(code: str) -> None:
    assert len(code) == 18
    assert uscc.validate(code, RULES) == code


@given(valid_codes(), st.integers(min_value=0, max_value=17), st.sampled_from(uscc.ALPHABET))
def test_changing_any_one_character_is_always_rejected(code: str, position: int, replacement: str) -> None:
    if code[position] == replacement:
        replacement = uscc.ALPHABET[(uscc.ALPHABET.index(replacement) + 1) % len(uscc.ALPHABET)]
    changed = code[:position] + replacement + code[position + 1:]
    error = rejection(changed)
    assert error.code in REJECTION_CODES
    assert error.field == "统一社会信用代码"


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(valid_codes(), st.data())
def test_normalise_accepts_full_width_spaces_and_lower_case(code: str, data: st.DataObject) -> None:
    styled = "".join(
        data.draw(st.sampled_from([c, c.lower(), _full_width(c), _full_width(c.lower()), f" {c}", f"{c}\u3000"]))
        for c in code)
    assert uscc.normalise(styled) == code
    assert uscc.validate(styled, RULES) == code


def test_normalise_examples() -> None:
    assert uscc.normalise("９１１１ ００００ ６０００３７３４１ｌ") == GOOD
    assert uscc.normalise(" 91110000-600037341l ") == GOOD


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_validate(code: str) -> None:
    assert uscc.validate(code, RULES) == code


@pytest.mark.parametrize("department", ["A", "N", "Y"])
@given(regions, org_bodies)
def test_letter_departments_validate_when_well_formed(department: str, region: str, body: str) -> None:
    code = uscc.build(department, "1", region, body)
    assert code.startswith(f"{department}1")
    assert uscc.validate(code, RULES) == code


def test_empty() -> None:
    assert rejection("  ").code == "USCC_EMPTY"


@pytest.mark.parametrize("raw", [GOOD[:-1], GOOD + "0"])
def test_wrong_length(raw: str) -> None:
    error = rejection(raw)
    assert error.code == "USCC_LENGTH"
    assert error.message == f"统一社会信用代码应为18位，实际为{len(raw)}位"


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_alphabet(bad: str) -> None:
    error = rejection(GOOD[:9] + bad + GOOD[10:])
    assert error.code == "USCC_CHARACTER"
    assert f"第10位字符“{bad}”不合法" in error.message
    assert "不得使用I、O、Z、S、V" in error.message


def test_unknown_department() -> None:
    error = rejection("B" + GOOD[1:])
    assert error.code == "USCC_DEPARTMENT"
    assert error.message == "统一社会信用代码第1位登记管理部门码“B”不存在"


def test_category_not_in_its_department() -> None:
    error = rejection("94" + GOOD[2:])
    assert error.code == "USCC_CATEGORY"
    assert error.message == "统一社会信用代码第2位机构类别码“4”不属于登记管理部门“市场监管”"


@pytest.mark.parametrize("region", ["999999", "110099", "000000"])
def test_bad_region(region: str) -> None:
    error = rejection(GOOD[:2] + region + GOOD[8:])
    assert error.code == "USCC_REGION"
    assert error.message == f"统一社会信用代码第3-8位行政区划码“{region}”不是有效的行政区划代码"


def test_wrong_organisation_code_check() -> None:
    error = rejection(GOOD[:16] + "2" + GOOD[17])
    assert error.code == "USCC_ORG_CODE_CHECK"
    assert error.message == "统一社会信用代码第17位（组织机构代码校验码）应为“1”，实际为“2”"


def test_wrong_check_digit_names_the_expected_one() -> None:
    error = rejection(GOOD[:17] + "N")
    assert error.code == "USCC_CHECK_DIGIT"
    assert error.message == "统一社会信用代码第18位校验码应为“L”，实际为“N”"


def test_check_digit_and_org_code_check_helpers() -> None:
    assert uscc.check_digit(GOOD[:17]) == "L"
    assert uscc.org_code_check(GOOD[8:16]) == GOOD[16]
    assert uscc.build("9", "1", "110000", "60003734") == GOOD
