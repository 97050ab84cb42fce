"""The subject registry for staff, and the conflict list for the credit authority."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from xinyong.access import service as access
from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.catalogue import service as catalogue
from xinyong.config import get_settings
from xinyong.errors import DomainError
from xinyong.records import service as records
from xinyong.sharing import service as sharing
from xinyong.subjects import service
from xinyong.subjects.kinds import INDUSTRIES, SUBJECT_KINDS
from xinyong.subjects.schemas import ConflictDecisionIn, OrganisationIn, PersonIn, SubjectOut
from xinyong.web.deps import get_db, require
from xinyong.web.forms import parse_form
from xinyong.web.templating import render

router = APIRouter(tags=["信用主体"])
PER_PAGE = 20


class SubjectPage(BaseModel):
    total: int
    items: list[SubjectOut]


class ConflictOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    summary: str
    evidence: dict[str, object]
    open: bool
    outcome: str | None


def _source(session: Session, actor: Actor) -> str:
    if actor.department_id:
        return access.get_department(session, actor.department_id).code
    return "registry"


@router.get("/api/v1/subjects", summary="检索信用主体库")
def search_api(q: str = Query("", max_length=100), kind: str | None = None, page: int = Query(1, ge=1, le=10000),
               actor: Actor = Depends(require(P.SUBJECTS_READ)), session: Session = Depends(get_db)) -> SubjectPage:
    rows, total = service.search(session, q=q, kind=kind, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return SubjectPage(total=total, items=[SubjectOut.model_validate(r) for r in rows])


@router.post("/api/v1/subjects", summary="登记法人和非法人组织", status_code=201)
def register_api(body: OrganisationIn, actor: Actor = Depends(require(P.SUBJECTS_REGISTER)),
                 session: Session = Depends(get_db)) -> SubjectOut:
    return SubjectOut.model_validate(service.register_organisation(session, actor, body, source=_source(session, actor)))


@router.post("/api/v1/subjects/persons", summary="登记自然人（身份证号只保存加密摘要）", status_code=201)
def register_person_api(body: PersonIn, actor: Actor = Depends(require(P.SUBJECTS_REGISTER)),
                        session: Session = Depends(get_db)) -> SubjectOut:
    subject = service.register_person(session, actor, body.citizen_id, body.name, get_settings().person_id_secret)
    return SubjectOut.model_validate(subject)


@router.get("/api/v1/subjects/conflicts", summary="赋码冲突清单")
def conflicts_api(open_only: bool = False, actor: Actor = Depends(require(P.SUBJECTS_CONFLICTS)),
                  session: Session = Depends(get_db)) -> list[ConflictOut]:
    return [ConflictOut(id=v.conflict.id, kind=v.conflict.kind, kind_label=v.kind_label, summary=v.conflict.summary,
                        evidence=v.conflict.evidence, open=v.is_open, outcome=v.decision.outcome if v.decision else None)
            for v in service.list_conflicts(session, open_only=open_only)]


@router.post("/api/v1/subjects/conflicts/{conflict_id}/decision", summary="处理赋码冲突", status_code=201)
def decide_api(conflict_id: int, body: ConflictDecisionIn, adopted_name: str | None = None,
               actor: Actor = Depends(require(P.SUBJECTS_CONFLICTS)), session: Session = Depends(get_db)) -> dict[str, str]:
    decision = service.decide_conflict(session, actor, conflict_id, body.outcome, body.note, adopted_name)
    return {"outcome": decision.outcome, "note": decision.note}


@router.get("/api/v1/subjects/{code}", summary="按统一社会信用代码查询主体")
def get_api(code: str, actor: Actor = Depends(require(P.SUBJECTS_READ)), session: Session = Depends(get_db)) -> SubjectOut:
    return SubjectOut.model_validate(service.by_code_or_fail(session, code))


# --- pages ----------------------------------------------------------------------------------------

@router.get("/subjects", include_in_schema=False)
def registry_page(request: Request, q: str = Query("", max_length=100), kind: str = "", page: int = Query(1, ge=1),
                  actor: Actor = Depends(require(P.SUBJECTS_READ)), session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    rows, total = service.search(session, q=q, kind=kind or None, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render(request, "subjects_list.html", title="信用主体库", rows=rows, total=total, q=q, kind=kind,
                  page=page, per_page=PER_PAGE, kinds=SUBJECT_KINDS)


@router.get("/subjects/register", include_in_schema=False)
def register_form(request: Request, actor: Actor = Depends(require(P.SUBJECTS_REGISTER))):  # type: ignore[no-untyped-def]
    return render(request, "subjects_register.html", title="登记信用主体", kinds=SUBJECT_KINDS, industries=INDUSTRIES,
                  form={})


@router.post("/subjects/register", include_in_schema=False)
async def register_page(request: Request, actor: Actor = Depends(require(P.SUBJECTS_REGISTER)),
                        session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {k: str(v).strip() for k, v in (await request.form()).items()}
    try:
        data = parse_form(OrganisationIn, {key: value or None for key, value in form.items()})
        subject = service.register_organisation(session, actor, data, source=_source(session, actor))
    except DomainError as error:
        session.rollback()
        return render(request, "subjects_register.html", status_code=error.status, title="登记信用主体",
                      kinds=SUBJECT_KINDS, industries=INDUSTRIES, form=form, error=error)
    return _detail(request, session, actor, subject.id, flash=f"已登记：{subject.name}")


@router.get("/subjects/conflicts", include_in_schema=False)
def conflicts_page(request: Request, all: bool = False, actor: Actor = Depends(require(P.SUBJECTS_CONFLICTS)),
                   session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return render(request, "subjects_conflicts.html", title="赋码冲突", views=service.list_conflicts(session, open_only=not all),
                  outcomes=service.CONFLICT_OUTCOMES, show_all=all, sources=access.department_names_by_code(session))


@router.post("/subjects/conflicts/{conflict_id}", include_in_schema=False)
def decide_page(conflict_id: int, request: Request, outcome: str = Form(""), note: str = Form(""),
                adopted_name: str = Form(""), actor: Actor = Depends(require(P.SUBJECTS_CONFLICTS)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    error = None
    try:
        service.decide_conflict(session, actor, conflict_id, outcome, note, adopted_name or None)
    except DomainError as caught:
        session.rollback()
        error = caught
    return render(request, "subjects_conflicts.html", title="赋码冲突", views=service.list_conflicts(session, open_only=True),
                  outcomes=service.CONFLICT_OUTCOMES, show_all=False, error=error,
                  sources=access.department_names_by_code(session),
                  flash=None if error else "已记录处理决定", status_code=error.status if error else 200)


def _detail(request: Request, session: Session, actor: Actor, subject_id: int, **extra: object):  # type: ignore[no-untyped-def]
    subject = service.get(session, subject_id)
    rows = sharing.subject_records(session, actor, subject.id, channel="page")  # by sharing class (docs/sharing.md)
    return render(request, "subjects_detail.html", title=subject.name, subject=subject, records=rows,
                  departments=access.department_names(session), item_names=catalogue.item_names(session),
                  statuses={r.id: records.publication_status(r) for r in rows}, **extra)


@router.get("/subjects/{subject_id}", include_in_schema=False)
def detail_page(subject_id: int, request: Request, actor: Actor = Depends(require(P.SUBJECTS_READ)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _detail(request, session, actor, subject_id)
