"""The auditor's view of the hash-chained log, and chain verification."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.audit import service
from xinyong.web.deps import get_db, require
from xinyong.web.templating import render

router = APIRouter(tags=["审计"])
PER_PAGE = 50


class EntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str | None
    subject_id: int | None
    detail: dict[str, object]
    hash: str
    prev_hash: str


class VerificationOut(BaseModel):
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    problem: str | None
    problem_seq: int | None
    message: str


@router.get("/api/v1/audit/entries", summary="审计日志")
def entries_api(action: str | None = None, page: int = Query(1, ge=1), actor: Actor = Depends(require(P.AUDIT_READ)),
                session: Session = Depends(get_db)) -> list[EntryOut]:
    rows = service.recent(session, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, action=action)
    service.append(session, actor, "audit.read", object_type="audit_log", detail={"action": action, "page": page})
    return [EntryOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/api/v1/audit/verification", summary="校验审计链")
def verify_api(actor: Actor = Depends(require(P.AUDIT_READ)), session: Session = Depends(get_db)) -> VerificationOut:
    return VerificationOut(**service.verify(session).__dict__)


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request, action: str = Query("", max_length=64), page: int = Query(1, ge=1),
               verify: bool = False, actor: Actor = Depends(require(P.AUDIT_READ)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    rows = service.recent(session, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, action=action or None)
    service.append(session, actor, "audit.read", object_type="audit_log", detail={"action": action, "page": page})
    return render(request, "audit.html", title="审计日志", rows=rows, action=action, page=page, per_page=PER_PAGE,
                  total=service.count(session), verification=service.verify(session) if verify else None)
