"""What personal data the public sees (脱敏规则). Pure functions: no database, no web.

A catalogue field marked ``personal`` is shown masked by its ``mask`` rule — ``id`` (居民身份证号码,
``3201**********1234``), ``phone`` (``138****5678``), ``name`` (``张*``) — and hidden entirely when it
has none. Free text is scrubbed as well: a valid citizen ID number or a mobile number written into
any published text (违法事实 often quotes them) is masked wherever it appears.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from xinyong.errors import Invalid
from xinyong.subjects import identity

_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
MASKS = {"id": identity.mask_id, "phone": identity.mask_phone, "name": identity.mask_name}


def scrub(text: str) -> str:
    """Mask citizen ID numbers (only real ones: check digit and birth date) and mobile numbers."""
    return _MOBILE.sub(lambda m: identity.mask_phone(m.group()), _ID_LIKE.sub(_mask_if_id, text))


def _mask_if_id(match: re.Match[str]) -> str:
    try:
        return identity.mask_id(identity.validate_citizen_id(match.group()))
    except Invalid:
        return match.group()


def public_value(spec: Mapping[str, Any], value: Any) -> str | None:
    """A field's value as published, or None when the field is not published at all."""
    if value is None or value == "":
        return None
    if spec.get("personal"):
        mask = MASKS.get(spec.get("mask") or "")
        return mask(str(value)) if mask else None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        value = "、".join(str(v) for v in value)
    return scrub(str(value))


def subject_name(name: str, *, natural_person: bool) -> str:
    """Natural persons are named by surname only in public."""
    return identity.mask_name(name) if natural_person else name
