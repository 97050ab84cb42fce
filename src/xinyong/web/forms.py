"""Turn form input into a pydantic model, or a Chinese ``Invalid`` naming the first bad field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from xinyong.errors import Invalid

_MESSAGES = {"missing": "为必填项", "string_too_short": "太短", "string_too_long": "太长",
             "literal_error": "取值不在允许范围内", "int_parsing": "应为整数", "greater_than_equal": "超出允许范围",
             "less_than_equal": "超出允许范围", "string_pattern_mismatch": "格式不正确", "too_short": "不能为空",
             "float_parsing": "应为数字", "float_type": "应为数字", "int_type": "应为整数", "bool_parsing": "应为是或否",
             "list_type": "应为列表", "model_type": "应为映射（键: 值）", "dict_type": "应为映射（键: 值）",
             "string_type": "应为文本", "greater_than": "超出允许范围", "less_than": "超出允许范围",
             "extra_forbidden": "不是可用的字段", "too_long": "项数过多"}


M = TypeVar("M", bound=BaseModel)


def parse_form(model: type[M], data: dict[str, Any], code: str = "FORM_INVALID") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = _MESSAGES.get(first["type"], f"格式不正确（{first['msg']}）")
        raise Invalid(code, f"{where}：{message}", field=where) from None
