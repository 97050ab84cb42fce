"""Natural persons: citizen ID numbers are never stored or shown in clear.

A person is keyed by an HMAC of the normalised ID (keyed, so the 10^8-ish space of valid IDs
cannot be brute-forced from the table alone); display uses a masked form.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import date
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric

from xinyong import clock
from xinyong.errors import Invalid

_regions = numdb.get("cn/loc")


def normalise_id(raw: str) -> str:
    return ric.compact(unicodedata.normalize("NFKC", raw or "").replace(" ", "")).upper()


@lru_cache(maxsize=8192)
def _province_known(address_code: str) -> bool:
    return bool(_regions.info(address_code)[0][1])


def validate_citizen_id(raw: str) -> str:
    """Check a GB 11643 number: format, province, birth date, check digit.

    The county part of the address code is not checked against the birth year (python-stdnum
    does, and so rejects real IDs issued under codes older than its table), only the province.
    """
    number = normalise_id(raw)
    if len(number) != 18:
        raise Invalid("PERSON_ID_LENGTH", f"居民身份证号码应为18位，实际为{len(number)}位", field="证件号码")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise Invalid("PERSON_ID_FORMAT", "居民身份证号码前17位应为数字，第18位为数字或X", field="证件号码")
    if not _province_known(number[:6]):
        raise Invalid("PERSON_ID_REGION", f"居民身份证号码地址码“{number[:6]}”不属于任何省级行政区", field="证件号码")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    if born is None or born.year < 1900 or born > clock.today():
        raise Invalid("PERSON_ID_BIRTH_DATE", f"居民身份证号码中的出生日期“{number[6:14]}”无效", field="证件号码")
    expected = ric.calc_check_digit(number)
    if number[17] != expected:
        raise Invalid("PERSON_ID_CHECK_DIGIT", f"居民身份证号码第18位校验码应为“{expected}”，实际为“{number[17]}”",
                      field="证件号码")
    return number


def person_key(citizen_id: str, secret: bytes) -> str:
    return hmac.new(secret, normalise_id(citizen_id).encode(), hashlib.sha256).hexdigest()


def mask_id(number: str) -> str:
    """``320102199001011234`` → ``3201**********1234``."""
    number = normalise_id(number)
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str) -> str:
    """Keep the surname: ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧阳**`` (compound surnames kept)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    keep = 2 if len(name) >= 4 else 1
    return name[:keep] + "*" * (len(name) - keep)


def mask_phone(phone: str) -> str:
    digits = (phone or "").strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
