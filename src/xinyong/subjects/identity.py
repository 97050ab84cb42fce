"""Natural persons: citizen ID numbers are never stored or shown in clear.

A person is keyed by an HMAC of the normalised ID (keyed, so the 10^8-ish space of valid IDs
cannot be brute-forced from the table alone); display uses a masked form.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from stdnum.cn import ric

from xinyong.errors import Invalid


def normalise_id(raw: str) -> str:
    return ric.compact(unicodedata.normalize("NFKC", raw or "").replace(" ", "")).upper()


def validate_citizen_id(raw: str) -> str:
    number = normalise_id(raw)
    if len(number) != 18:
        raise Invalid("PERSON_ID_LENGTH", f"居民身份证号码应为18位，实际为{len(number)}位", field="证件号码")
    try:
        return ric.validate(number)
    except ric.InvalidChecksum:
        expected = ric.calc_check_digit(number)
        raise Invalid("PERSON_ID_CHECK_DIGIT", f"居民身份证号码第18位校验码应为“{expected}”，实际为“{number[-1]}”",
                      field="证件号码") from None
    except ric.ValidationError:
        raise Invalid("PERSON_ID_FORMAT", "居民身份证号码的出生日期或地址码无效", field="证件号码") from None


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
