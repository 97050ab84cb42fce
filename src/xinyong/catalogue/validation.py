"""Check a record's payload against a catalogue item version's field schema.

Pure functions over plain values: the collection pipeline calls them per row and gathers
every problem of a row, not just the first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from xinyong.errors import DomainError

_TRUE = {"是", "true", "1", "y", "yes", "t"}
_FALSE = {"否", "false", "0", "n", "no", "f"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")


@dataclass(frozen=True)
class FieldProblem:
    field: str
    code: str
    message: str


DECIMAL_PATTERN = r"[+-]?[0-9]+(\.[0-9]+)?"
INTEGER_PATTERN = r"[+-]?[0-9]+"


def _ascii(value: Any) -> str:
    """Numbers and dates may arrive in full-width digits (１２．５): fold them to ASCII first."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def canonical_decimal(value: Any) -> str:
    """Amounts as departments write them (``1,200.50``, `` +3 ``) → one text form (``1200.50``, ``3``).

    The text is kept (not a float) so that amounts round-trip exactly; the batch path applies the
    same rule column-wise (``ingest.validate``), so both paths store identical payloads.
    """
    text = _ascii(value).replace(",", "")
    if not re.fullmatch(DECIMAL_PATTERN, text):
        raise InvalidOperation(text)
    return text.removeprefix("+")


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _ascii(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _convert(spec: Mapping[str, Any], value: Any, check_uscc: Callable[[str], str]) -> Any:
    kind = spec["type"]
    if kind in ("string", "text"):
        return str(value).strip()
    if kind == "date":
        return parse_date(value).isoformat()
    if kind == "decimal":
        return canonical_decimal(value)
    if kind == "integer":
        text = _ascii(value)
        if not re.fullmatch(INTEGER_PATTERN, text):
            raise ValueError(text)
        return int(text)
    if kind == "boolean":
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(text)
    if kind == "uscc":
        return check_uscc(str(value))
    if kind == "enum":
        text = str(value).strip()
        if text not in (spec.get("enum") or []):
            raise LookupError(text)
        return text
    raise ValueError(kind)


_TYPE_MESSAGES = {"date": "不是有效日期（应为YYYY-MM-DD）", "decimal": "不是有效数字", "integer": "不是整数",
                  "boolean": "应为“是”或“否”"}


def _shown(value: Any, limit: int = 40) -> str:
    """The value as quoted in a message: long cells are cut (a 100 MB cell must not be stored again)."""
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}…（共{len(text)}字）"


def _problem_for(spec: Mapping[str, Any], value: Any, error: Exception) -> FieldProblem:
    label, value = spec["label"], _shown(value)
    if isinstance(error, DomainError):
        return FieldProblem(spec["name"], error.code, f"{label}：{error.message}")
    if isinstance(error, LookupError):
        allowed = "、".join(spec.get("enum") or [])
        return FieldProblem(spec["name"], "FIELD_ENUM", f"{label}“{value}”不在允许的取值范围内（{allowed}）")
    return FieldProblem(spec["name"], f"FIELD_{spec['type'].upper()}",
                        f"{label}“{value}”{_TYPE_MESSAGES.get(spec['type'], '格式不正确')}")


def _range_problems(spec: Mapping[str, Any], value: Any) -> list[FieldProblem]:
    label, problems = spec["label"], []
    if spec["type"] in ("decimal", "integer"):
        number = Decimal(str(value))
        if spec.get("min") is not None and number < Decimal(str(spec["min"])):
            problems.append(FieldProblem(spec["name"], "FIELD_TOO_SMALL", f"{label}不得小于{spec['min']}"))
        if spec.get("max") is not None and number > Decimal(str(spec["max"])):
            problems.append(FieldProblem(spec["name"], "FIELD_TOO_LARGE", f"{label}不得大于{spec['max']}"))
    if isinstance(value, str):
        limit = spec.get("max_length") or (4000 if spec["type"] == "text" else 500)
        if len(value) > limit:
            problems.append(FieldProblem(spec["name"], "FIELD_TOO_LONG", f"{label}超过{limit}个字符"))
        if spec.get("pattern") and not re.fullmatch(spec["pattern"], value):
            problems.append(FieldProblem(spec["name"], "FIELD_PATTERN", f"{label}“{_shown(value)}”格式不正确"))
    return problems


def check_payload(fields: list[Mapping[str, Any]], payload: Mapping[str, Any], *,
                  check_uscc: Callable[[str], str], today: date) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Return the cleaned payload and every problem found. Unknown keys are a problem too."""
    known = {spec["name"]: spec for spec in fields}
    clean: dict[str, Any] = {}
    problems = [FieldProblem(key, "FIELD_UNKNOWN", f"目录信息项中没有字段“{key}”")
                for key in payload if key not in known]
    for name, spec in known.items():
        value = payload.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.get("required"):
                problems.append(FieldProblem(name, "FIELD_REQUIRED", f"{spec['label']}为必填项"))
            continue
        try:
            converted = _convert(spec, value, check_uscc)
        except (DomainError, ValueError, LookupError, InvalidOperation) as error:
            problems.append(_problem_for(spec, value, error))
            continue
        problems.extend(_range_problems(spec, converted))
        if spec.get("decision_date") and date.fromisoformat(converted) > today:
            problems.append(FieldProblem(name, "DECISION_DATE_FUTURE", f"{spec['label']}{converted}晚于今天"))
        clean[name] = converted
    return clean, problems


def decision_date_of(fields: list[Mapping[str, Any]], clean: Mapping[str, Any]) -> date | None:
    for spec in fields:
        if spec.get("decision_date") and spec["name"] in clean:
            return date.fromisoformat(clean[spec["name"]])
    return None
