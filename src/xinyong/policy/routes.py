"""Policy parameters: the credit authority reads and changes them."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session

from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.errors import Invalid
from xinyong.policy import service
from xinyong.web.deps import get_db, require
from xinyong.web.templating import render

router = APIRouter(tags=["政策参数"])


def _view(request: Request, session: Session, **extra: object):  # type: ignore[no-untyped-def]
    rows = service.list_all(session)
    return render(request, "policy.html", title="政策参数", rows=rows,
                  texts={r.key: json.dumps(r.value, ensure_ascii=False, indent=2) for r in rows}, **extra)


@router.get("/admin/policy", include_in_schema=False)
def policy_page(request: Request, actor: Actor = Depends(require(P.POLICY_EDIT)), session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _view(request, session)


@router.post("/admin/policy/{key}", include_in_schema=False)
def change_page(key: str, request: Request, value: str = Form(""), actor: Actor = Depends(require(P.POLICY_EDIT)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        raise Invalid("POLICY_VALUE_JSON", f"参数值不是有效的JSON：第{error.lineno}行第{error.colno}列", field=key) from None
    service.change(session, actor, key, parsed)
    return _view(request, session, flash="已保存，变更已记入审计日志")


@router.get("/api/v1/policy", summary="政策参数", dependencies=[Depends(require(P.POLICY_EDIT))])
def policy_api(session: Session = Depends(get_db)) -> dict[str, object]:
    return {r.key: r.value for r in service.list_all(session)}
