"""Form input for the web pages: into a pydantic model, or a Chinese ``Invalid`` naming the first bad
field; and the audit entry of a refusal a page shows inline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.errors import DomainError, Invalid

_MESSAGES = {"missing": "为必填项", "string_too_short": "太短", "string_too_long": "太长",
             "literal_error": "取值不在允许范围内", "int_parsing": "应为整数", "greater_than_equal": "超出允许范围",
             "less_than_equal": "超出允许范围", "string_pattern_mismatch": "格式不正确", "too_short": "不能为空",
             "float_parsing": "应为数字", "float_type": "应为数字", "int_type": "应为整数", "bool_parsing": "应为是或否",
             "list_type": "应为列表", "model_type": "应为映射（键: 值）", "dict_type": "应为映射（键: 值）",
             "string_type": "应为文本", "greater_than": "超出允许范围", "less_than": "超出允许范围",
             "extra_forbidden": "不是可用的字段", "too_long": "项数过多"}


M = TypeVar("M", bound=BaseModel)


def parse_form(model: type[M], data: dict[str, Any], code: str = "FORM_INVALID",
               labels: Mapping[str, str] | None = None) -> M:
    """``labels``: the Chinese names of the form's fields, used in the message instead of the field's path."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = _MESSAGES.get(first["type"], f"格式不正确（{first['msg']}）")
        named = (labels or {}).get(where.split(".")[0], where)
        raise Invalid(code, f"{named}：{message}", field=where) from None


def refusal_detail(request: Request, error: DomainError) -> dict[str, str]:
    """What an audit entry keeps of a refused request (the error handler's denials and inline refusals alike)."""
    return {"method": request.method, "code": error.code, "message": error.message[:300]}


def record_inline_refusal(request: Request, session: Session, actor: Actor, area: str, error: DomainError) -> None:
    """A refusal shown inline on a page: nothing of the attempt is kept but its audit entry ``<area>.refused``
    (the same shape as the error handler's), committed with the request's unit of work."""
    session.rollback()
    audit.append(session, actor, f"{area}.refused", object_type="route", object_id=request.url.path[:64],
                 detail=refusal_detail(request, error))
