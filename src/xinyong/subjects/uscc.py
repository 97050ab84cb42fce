"""统一社会信用代码 (GB 32100-2015): normalise, validate with reasons, and construct.

Structure: 1 登记管理部门码 · 2 机构类别码 · 3–8 行政区划码 (GB/T 2260) ·
9–17 主体标识码 (组织机构代码, GB 11714, its own check character) · 18 校验码.
The department/category table is a policy parameter, passed in as ``UsccRules``; the
check-digit arithmetic is the standard's and builds on python-stdnum.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from stdnum import numdb
from stdnum.cn import uscc as stdnum_uscc

from xinyong.errors import Invalid

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_CODE_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_regions = numdb.get("cn/loc")


@dataclass(frozen=True)
class UsccRules:
    """Registration departments and their category codes, as configured (政策参数 uscc_categories)."""

    departments: Mapping[str, str]
    categories: Mapping[str, Mapping[str, str]]
    extra_region_codes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_policy(cls, value: Mapping[str, object]) -> UsccRules:
        return cls(departments=value["departments"], categories=value["categories"],  # type: ignore[arg-type]
                   extra_region_codes=value.get("extra_region_codes", {}))  # type: ignore[arg-type]


class UsccError(Invalid):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, field="统一社会信用代码")


def normalise(raw: str) -> str:
    """Full-width to half-width, spaces and hyphens out, upper case."""
    return stdnum_uscc.compact(unicodedata.normalize("NFKC", raw or ""))


def check_digit(first17: str) -> str:
    return stdnum_uscc.calc_check_digit(first17)


def org_code_check(first8: str) -> str:
    total = sum(ORG_CODE_VALUES.index(c) * w for c, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


@cache
def known_region_codes() -> frozenset[str]:
    """Every 6-digit GB/T 2260 code in python-stdnum's table (historical ones included)."""
    codes, province = set(), ""
    for line in resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
        else:
            codes.add(province + line.split()[0])
    return frozenset(codes)


def region_name(region_code: str, rules: UsccRules | None = None) -> str | None:
    """The GB/T 2260 name of a 6-digit division code (historical codes included), or None."""
    if rules and region_code in rules.extra_region_codes:
        return rules.extra_region_codes[region_code]
    return _standard_region_name(region_code)


@cache
def _standard_region_name(region_code: str) -> str | None:
    if len(region_code) != 6 or not region_code.isdigit():
        return None
    parts = _regions.info(region_code)
    if len(parts) < 2 or not parts[0][1] or not parts[1][1]:
        return None
    province = parts[0][1]["province"]
    county = parts[1][1]["county"].split("]")[-1]
    return province if region_code.endswith("0000") else f"{province}{county}"


def validate(raw: str, rules: UsccRules) -> str:
    """Return the normalised code, or raise ``UsccError`` saying exactly what is wrong."""
    code = normalise(raw)
    if not code:
        raise UsccError("USCC_EMPTY", "统一社会信用代码为空")
    if len(code) != 18:
        raise UsccError("USCC_LENGTH", f"统一社会信用代码应为18位，实际为{len(code)}位")
    for position, char in enumerate(code, start=1):
        if char not in ALPHABET:
            raise UsccError("USCC_CHARACTER",
                            f"统一社会信用代码第{position}位字符“{char}”不合法（不得使用I、O、Z、S、V）")
    department, category = code[0], code[1]
    if department not in rules.categories:
        raise UsccError("USCC_DEPARTMENT", f"统一社会信用代码第1位登记管理部门码“{department}”不存在")
    if category not in rules.categories[department]:
        raise UsccError(
            "USCC_CATEGORY",
            f"统一社会信用代码第2位机构类别码“{category}”不属于登记管理部门“{rules.departments.get(department, department)}”",
        )
    region = code[2:8]
    if region_name(region, rules) is None:
        raise UsccError("USCC_REGION", f"统一社会信用代码第3-8位行政区划码“{region}”不是有效的行政区划代码")
    expected_org = org_code_check(code[8:16])
    if code[16] != expected_org:
        raise UsccError("USCC_ORG_CODE_CHECK",
                        f"统一社会信用代码第17位（组织机构代码校验码）应为“{expected_org}”，实际为“{code[16]}”")
    expected = check_digit(code[:17])
    if code[17] != expected:
        raise UsccError("USCC_CHECK_DIGIT", f"统一社会信用代码第18位校验码应为“{expected}”，实际为“{code[17]}”")
    return code


def build(department: str, category: str, region: str, org_body: str) -> str:
    """A valid code from its parts; ``org_body`` is the 8-character body of the organisation code."""
    org = org_body + org_code_check(org_body)
    first17 = department + category + region + org
    return first17 + check_digit(first17)
