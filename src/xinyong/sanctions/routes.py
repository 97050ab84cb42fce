"""Rewards and punishments (守信激励和失信惩戒): lists, the legal-basis library, the measure list,
joint checks (联合奖惩核查) and feedback — pages, the staff API and the public measure list."""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, get_args
from urllib.parse import quote

import yaml
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from xinyong.access import service as access
from xinyong.access.permissions import P, role_allows
from xinyong.actor import Actor
from xinyong.catalogue import service as catalogue
from xinyong.catalogue.schemas import LegalBasisLevel
from xinyong.config import get_settings
from xinyong.errors import Conflict, Invalid
from xinyong.sanctions import checks, export, rules, service
from xinyong.sanctions.models import JointCheck, LegalBasisDocument, ListType, Measure
from xinyong.sanctions.schemas import (
    CheckIn,
    CheckOut,
    EntryIn,
    ExitIn,
    FeedbackBatchIn,
    FeedbackIn,
    HitOut,
    LegalBasisIn,
    ListTypeSpec,
    MeasureOut,
    MeasureSpec,
    SubjectOutcome,
    TriggerOut,
)
from xinyong.web.caching import json_with_etag
from xinyong.web.deps import get_db, get_read_db, require
from xinyong.web.forms import parse_form
from xinyong.web.ratelimit import public_rate_limit
from xinyong.web.templating import render

router = APIRouter(tags=["联合奖惩"])
public_api = APIRouter(prefix="/api/v1/public", tags=["奖惩措施清单（公开接口）"],
                       dependencies=[Depends(require(P.PUBLIC)), Depends(public_rate_limit)],
                       responses={304: {"description": "未变化（If-None-Match 与 ETag 相同）"},
                                  429: {"description": "请求过于频繁；Retry-After 头给出需等待的秒数"}})
PER_PAGE = 50
FORM_ERRORS = (Invalid, Conflict)  # shown inline; refusals (403) and missing objects go to the error page
OUTCOMES = {"hits": "适用措施", "punish": "适用惩戒", "reward": "适用激励", "both": "惩戒和激励", "clean": "未发现",
            "unknown": "主体库中无此主体", "invalid": "代码无效"}
OUTCOME_PATTERN = f"^({'|'.join(OUTCOMES)})$"
LEVELS = list(get_args(LegalBasisLevel))
SEVERITY_TAGS = {"严重": "bad", "一般": "warn"}


# --- response shapes ------------------------------------------------------------------------------------

class BasisOut(BaseModel):
    code: str
    title: str
    level: str
    issuer: str
    document_number: str
    effective_on: date | None
    repealed_on: date | None


class ListTypeOut(BaseModel):
    code: str
    name: str
    category: str
    nature: str
    severity: str | None
    issuing_authority: str
    maintaining_sectors: list[str]
    basis_title: str
    basis_level: str
    basis_article: str
    period_months: int | None
    exit_conditions: str
    subject_kinds: list[str]
    follows_item: str | None
    in_force: int | None = None


class MeasureDetail(MeasureOut):
    basis: str
    list_types: list[str]
    record_severities: list[str]
    record_items: list[str]
    grade_triggers: list[dict[str, Any]]
    subject_kinds: list[str]
    change_note: str
    created_at: datetime
    retired_at: datetime | None


class PublicMeasures(BaseModel):
    measures: list[MeasureDetail]
    list_types: list[ListTypeOut]
    matter_types: dict[str, str]


class MeasureRevisionIn(BaseModel):
    spec: MeasureSpec
    note: str


class NoteIn(BaseModel):
    note: str


class EntryOut(BaseModel):
    id: int
    list_type: str
    list_name: str
    subject_code: str
    subject_name: str
    department: str
    decision_number: str
    decision_date: date
    reasons: str
    listed_at: datetime
    expires_at: datetime | None
    exit_conditions: str
    status: str
    exit_reason: str | None
    exit_note: str


class EntriesPage(BaseModel):
    total: int
    items: list[EntryOut]


class CheckSummary(BaseModel):
    id: int
    matter_type: str
    matter_reference: str
    channel: str
    filename: str | None
    checked_at: datetime
    subjects: int
    unknown: int
    punished: int
    rewarded: int
    hits: int
    feedback_due_at: datetime | None
    url: str


class CheckPage(CheckOut):
    total: int
    limit: int
    offset: int


class FeedbackRecorded(BaseModel):
    recorded: int


class DepartmentFeedbackOut(BaseModel):
    department_id: int
    department: str
    checks: int
    hits: int
    answered: int
    taken: int
    overdue: int
    rate: float


class OverdueOut(BaseModel):
    check_id: int
    department: str
    matter_type: str
    checked_at: datetime
    feedback_due_at: datetime | None
    pending: int


class FeedbackStats(BaseModel):
    departments: list[DepartmentFeedbackOut]
    overdue: list[OverdueOut]
    monthly: list[dict[str, Any]]


# --- building the shapes ----------------------------------------------------------------------------------

def _measure_out(m: Measure, bases: dict[int, LegalBasisDocument]) -> MeasureOut:
    basis = bases[m.basis_id]
    return MeasureOut(id=m.id, code=m.code, version=m.version, name=m.name, content=m.content, nature=m.nature,
                      measure_type=m.measure_type, basis_title=basis.title, basis_level=basis.level,
                      basis_article=m.basis_article, matter_types=m.matter_types,
                      implementing_sectors=m.implementing_sectors)


def _measure_detail(m: Measure, bases: dict[int, LegalBasisDocument]) -> MeasureDetail:
    return MeasureDetail(**_measure_out(m, bases).model_dump(), basis=bases[m.basis_id].code, list_types=m.list_types,
                         record_severities=m.record_severities, record_items=m.record_items,
                         grade_triggers=m.grade_triggers, subject_kinds=m.subject_kinds, change_note=m.change_note,
                         created_at=m.created_at, retired_at=m.retired_at)


def _list_type_out(kind: ListType, bases: dict[int, LegalBasisDocument], in_force: int | None = None) -> ListTypeOut:
    basis = bases[kind.basis_id]
    return ListTypeOut(code=kind.code, name=kind.name, category=kind.category, nature=kind.nature,
                       severity=kind.severity, issuing_authority=kind.issuing_authority,
                       maintaining_sectors=kind.maintaining_sectors, basis_title=basis.title, basis_level=basis.level,
                       basis_article=kind.basis_article, period_months=kind.period_months,
                       exit_conditions=kind.exit_conditions, subject_kinds=kind.subject_kinds,
                       follows_item=(kind.source or {}).get("item"), in_force=in_force)


def _entry_out(view: service.EntryView) -> EntryOut:
    e, leaving = view.entry, view.exit
    return EntryOut(id=e.id, list_type=view.list_type.code, list_name=view.list_type.name, subject_code=view.subject_code,
                    subject_name=view.subject_name, department=view.department, decision_number=e.decision_number,
                    decision_date=e.decision_date, reasons=e.reasons, listed_at=e.listed_at, expires_at=e.expires_at,
                    exit_conditions=e.exit_conditions, status=view.status,
                    exit_reason=leaving.reason if leaving else None, exit_note=leaving.note if leaving else "")


def _hit_out(hit: checks.HitView, bases: dict[int, LegalBasisDocument]) -> HitOut:
    return HitOut(hit_id=hit.hit.id, measure=_measure_out(hit.measure, bases),
                  triggers=[TriggerOut(**t) for t in hit.hit.triggers], feedback=export.feedback_state(hit.feedback),
                  feedback_note=hit.feedback.note if hit.feedback else "")


def _subject_out(view: checks.SubjectView, bases: dict[int, LegalBasisDocument]) -> SubjectOutcome:
    return SubjectOutcome(position=view.row.position, given_code=view.row.given_code, subject_code=view.code,
                          subject_name=view.name, outcome=view.row.outcome,  # type: ignore[arg-type]
                          outcome_label=rules.OUTCOME_LABELS[view.row.outcome],
                          punishments=[_hit_out(h, bases) for h in view.punishments],
                          incentives=[_hit_out(h, bases) for h in view.incentives])


def _check_fields(session: Session, check: JointCheck) -> dict[str, Any]:
    return {"id": check.id, "matter_type": check.matter_type,
            "matter_label": service.matter_types(session).get(check.matter_type, check.matter_type),
            "matter_reference": check.matter_reference,
            "department": access.get_department(session, check.department_id).name, "checked_at": check.checked_at,
            "subjects": check.subjects, "unknown": check.unknown, "punished": check.punished,
            "rewarded": check.rewarded, "hits": check.hits, "feedback_due_at": check.feedback_due_at}


def _results(session: Session, views: list[checks.SubjectView]) -> list[SubjectOutcome]:
    bases = service.bases_by_id(session) if any(v.hits for v in views) else {}
    return [_subject_out(v, bases) for v in views]


def _summary(check: JointCheck) -> CheckSummary:
    return CheckSummary(id=check.id, matter_type=check.matter_type, matter_reference=check.matter_reference,
                        channel=check.channel, filename=check.filename, checked_at=check.checked_at,
                        subjects=check.subjects, unknown=check.unknown, punished=check.punished,
                        rewarded=check.rewarded, hits=check.hits, feedback_due_at=check.feedback_due_at,
                        url=f"/sanctions/checks/{check.id}")


def _spool(upload: UploadFile) -> Path:
    """The upload under the data directory (streamed: files can be large); the caller removes it."""
    folder = get_settings().data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(upload.filename or "").suffix[:8]
    with tempfile.NamedTemporaryFile(delete=False, dir=folder, prefix="check-", suffix=suffix) as handle:
        shutil.copyfileobj(upload.file, handle, 1 << 20)
    return Path(handle.name)


def _check_upload(session: Session, actor: Actor, matter_type: str, matter_reference: str,
                  upload: UploadFile) -> JointCheck:
    # Routes that check files are plain functions: FastAPI runs them in its thread pool, so a large
    # batch does not hold up the event loop.
    path = _spool(upload)
    try:
        return checks.check_file(session, actor, matter_type.strip(), path, upload.filename or "upload",
                                 matter_reference=matter_reference)
    finally:
        path.unlink(missing_ok=True)


# --- public: the measure list -----------------------------------------------------------------------------

def _public_measures(session: Session) -> PublicMeasures:
    bases = service.bases_by_id(session)
    return PublicMeasures(measures=[_measure_detail(m, bases) for m in service.measures(session)],
                          list_types=[_list_type_out(t, bases) for t in service.list_types(session)],
                          matter_types=service.matter_types(session))


@public_api.get("/measures", summary="失信惩戒措施清单和守信激励措施清单（现行），含法律依据、适用事项和名单",
                response_model=PublicMeasures)
def public_measures_api(request: Request, session: Session = Depends(get_read_db)) -> Response:
    return json_with_etag(request, _public_measures(session))


@router.get("/measures", include_in_schema=False, dependencies=[Depends(require(P.PUBLIC))])
def public_measures_page(request: Request, session: Session = Depends(get_read_db)):  # type: ignore[no-untyped-def]
    listing = _public_measures(session)
    return render(request, "sanctions_public.html", title="奖惩措施清单", listing=listing, severity_tags=SEVERITY_TAGS,
                  list_names={t.code: t.name for t in listing.list_types})


# --- API: lists, bases, measures -----------------------------------------------------------------------------

@router.get("/api/v1/sanctions/lists", summary="名单类型及在列主体数")
def lists_api(_: Actor = Depends(require(P.SANCTIONS_READ)), session: Session = Depends(get_db)) -> list[ListTypeOut]:
    bases, counts = service.bases_by_id(session), service.counts_in_force(session)
    return [_list_type_out(t, bases, counts.get(t.code, 0)) for t in service.list_types(session)]


@router.get("/api/v1/sanctions/lists/{code}/entries", summary="名单中的主体（按认定日期倒序，含状态）")
def entries_api(code: str, in_force: bool = False, limit: int = Query(PER_PAGE, ge=1, le=1000),
                offset: int = Query(0, ge=0), _: Actor = Depends(require(P.SANCTIONS_READ)),
                session: Session = Depends(get_db)) -> EntriesPage:
    service.list_type(session, code)
    total, views = service.entries(session, list_code=code, in_force_only=in_force, limit=limit, offset=offset)
    return EntriesPage(total=total, items=[_entry_out(v) for v in views])


@router.post("/api/v1/sanctions/entries", summary="将主体列入名单（仅限本部门领域维护的名单）", status_code=201)
def entry_add_api(body: EntryIn, actor: Actor = Depends(require(P.SANCTIONS_LISTS)),
                  session: Session = Depends(get_db)) -> EntryOut:
    return _entry_out(service.entry_view(session, service.add_entry(session, actor, body).id))


@router.post("/api/v1/sanctions/entries/{entry_id}/exit", summary="将主体移出名单（作为新的事实记录，不删除）")
def entry_exit_api(entry_id: int, body: ExitIn, actor: Actor = Depends(require(P.SANCTIONS_LISTS)),
                   session: Session = Depends(get_db)) -> EntryOut:
    service.exit_entry(session, actor, entry_id, body)
    return _entry_out(service.entry_view(session, entry_id))


@router.post("/api/v1/sanctions/list-types", summary="设立名单类型（法律依据层级不足的拒绝）", status_code=201)
def list_type_api(spec: ListTypeSpec, actor: Actor = Depends(require(P.SANCTIONS_CONFIGURE)),
                  session: Session = Depends(get_db)) -> ListTypeOut:
    return _list_type_out(service.create_list_type(session, actor, spec), service.bases_by_id(session))


@router.get("/api/v1/sanctions/bases", summary="法律依据库")
def bases_api(_: Actor = Depends(require(P.SANCTIONS_READ)), session: Session = Depends(get_db)) -> list[BasisOut]:
    return [BasisOut.model_validate(b, from_attributes=True) for b in service.legal_bases(session)]


@router.post("/api/v1/sanctions/bases", summary="登记法律依据", status_code=201)
def basis_add_api(body: LegalBasisIn, actor: Actor = Depends(require(P.SANCTIONS_CONFIGURE)),
                  session: Session = Depends(get_db)) -> BasisOut:
    return BasisOut.model_validate(service.add_basis(session, actor, body), from_attributes=True)


@router.get("/api/v1/sanctions/measures", summary="奖惩措施清单（现行版本）")
def measures_api(_: Actor = Depends(require(P.SANCTIONS_READ)), session: Session = Depends(get_db)) -> list[MeasureDetail]:
    bases = service.bases_by_id(session)
    return [_measure_detail(m, bases) for m in service.measures(session)]


@router.get("/api/v1/sanctions/measures/{code}/versions", summary="措施的全部版本")
def measure_versions_api(code: str, _: Actor = Depends(require(P.SANCTIONS_READ)),
                         session: Session = Depends(get_db)) -> list[MeasureDetail]:
    bases = service.bases_by_id(session)
    return [_measure_detail(m, bases) for m in service.measure_versions(session, code)]


@router.post("/api/v1/sanctions/measures", summary="新增措施（法律依据层级不足或触发条件不当的拒绝）", status_code=201)
def measure_add_api(spec: MeasureSpec, actor: Actor = Depends(require(P.SANCTIONS_CONFIGURE)),
                    session: Session = Depends(get_db)) -> MeasureDetail:
    return _measure_detail(service.create_measure(session, actor, spec), service.bases_by_id(session))


@router.put("/api/v1/sanctions/measures/{code}", summary="修订措施（生成新版本，原版本停止适用）")
def measure_revise_api(code: str, body: MeasureRevisionIn, actor: Actor = Depends(require(P.SANCTIONS_CONFIGURE)),
                       session: Session = Depends(get_db)) -> MeasureDetail:
    measure = service.revise_measure(session, actor, code, body.spec, body.note)
    return _measure_detail(measure, service.bases_by_id(session))


@router.post("/api/v1/sanctions/measures/{code}/retire", summary="废止措施（立即停止适用）")
def measure_retire_api(code: str, body: NoteIn, actor: Actor = Depends(require(P.SANCTIONS_CONFIGURE)),
                       session: Session = Depends(get_db)) -> MeasureDetail:
    return _measure_detail(service.retire_measure(session, actor, code, body.note), service.bases_by_id(session))


# --- API: checks and feedback --------------------------------------------------------------------------------

@router.post("/api/v1/sanctions/checks", summary="联合奖惩核查（最多1000个主体，同步返回适用的措施）", status_code=201,
             response_model=CheckOut)
def check_api(body: CheckIn, actor: Actor = Depends(require(P.SANCTIONS_CHECK)),
              session: Session = Depends(get_db)) -> Response:
    check, views = checks.check_and_show(session, actor, body.matter_type, body.subjects,
                                         matter_reference=body.matter_reference, channel="api")
    out = CheckOut(**_check_fields(session, check), results=_results(session, views))
    # Serialised here, once: FastAPI would dump and validate the model again (a hot path, p95 < 20 ms).
    return Response(out.model_dump_json(), status_code=201, media_type="application/json")


@router.post("/api/v1/sanctions/checks/batch", summary="批量联合奖惩核查（上传 XLSX、CSV 或 JSON 文件）", status_code=201)
def check_batch_api(matter_type: str = Form(...), matter_reference: str = Form(""), file: UploadFile = File(...),
                    actor: Actor = Depends(require(P.SANCTIONS_CHECK)),
                    session: Session = Depends(get_db)) -> CheckSummary:
    return _summary(_check_upload(session, actor, matter_type, matter_reference, file))


@router.get("/api/v1/sanctions/checks", summary="核查记录（部门看本部门，信用主管部门看全部）")
def checks_api(limit: int = Query(PER_PAGE, ge=1, le=500), offset: int = Query(0, ge=0),
               actor: Actor = Depends(require(P.SANCTIONS_CHECK)), session: Session = Depends(get_db)) -> list[CheckSummary]:
    return [_summary(c) for c in checks.checks(session, actor, limit=limit, offset=offset)[1]]


@router.get("/api/v1/sanctions/checks/{check_id}", summary="核查结果（分页；outcome=hits 只看适用措施的主体）")
def check_get_api(check_id: int, outcome: str | None = Query(None, pattern=OUTCOME_PATTERN),
                  limit: int = Query(200, ge=1, le=1000), offset: int = Query(0, ge=0),
                  actor: Actor = Depends(require(P.SANCTIONS_CHECK)), session: Session = Depends(get_db)) -> CheckPage:
    check = checks.get_check(session, actor, check_id)
    total, views = checks.subject_rows(session, check, outcome=outcome, limit=limit, offset=offset)
    return CheckPage(**_check_fields(session, check), results=_results(session, views), total=total, limit=limit,
                     offset=offset)


@router.get("/api/v1/sanctions/checks/{check_id}/export", summary="导出核查结果（XLSX，或 UTF-8 带 BOM 的 CSV）",
            response_class=Response)
def check_export_api(check_id: int, format: str = Query("xlsx", pattern="^(xlsx|csv)$"),
                     actor: Actor = Depends(require(P.SANCTIONS_CHECK)), session: Session = Depends(get_db)) -> Response:
    exported = export.export_check(session, actor, check_id, format)
    fallback = re.sub(r"[^A-Za-z0-9._-]", "", exported.filename)
    return Response(exported.content, media_type=exported.media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(exported.filename)}"})


@router.post("/api/v1/sanctions/checks/{check_id}/feedback", summary="反馈措施实施情况（仅限发起核查的部门）",
             status_code=201)
def feedback_api(check_id: int, body: FeedbackBatchIn, actor: Actor = Depends(require(P.SANCTIONS_CHECK)),
                 session: Session = Depends(get_db)) -> FeedbackRecorded:
    return FeedbackRecorded(recorded=checks.give_feedback(session, actor, check_id, body.items))


def _feedback_stats(session: Session) -> FeedbackStats:
    departments = [DepartmentFeedbackOut(**{k: getattr(d, k) for k in DepartmentFeedbackOut.model_fields})
                   for d in checks.feedback_by_department(session)]
    overdue = [OverdueOut(check_id=o.check.id, department=o.department, matter_type=o.check.matter_type,
                          checked_at=o.check.checked_at, feedback_due_at=o.check.feedback_due_at, pending=o.pending)
               for o in checks.overdue(session)]
    return FeedbackStats(departments=departments, overdue=overdue, monthly=checks.monthly(session))


@router.get("/api/v1/sanctions/feedback", summary="各部门核查反馈情况（反馈率、逾期未反馈、逐月统计）")
def feedback_stats_api(_: Actor = Depends(require(P.SANCTIONS_OVERSIGHT)),
                       session: Session = Depends(get_db)) -> FeedbackStats:
    return _feedback_stats(session)


# --- pages: overview, lists --------------------------------------------------------------------------------

@router.get("/sanctions", include_in_schema=False)
def overview_page(request: Request, _: Actor = Depends(require(P.SANCTIONS_READ)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return render(request, "sanctions_index.html", title="守信激励和失信惩戒", kinds=service.list_types(session),
                  counts=service.counts_in_force(session), bases=service.bases_by_id(session),
                  measures=len(service.measures(session)), severity_tags=SEVERITY_TAGS)


def _maintains(session: Session, actor: Actor, kind: ListType) -> bool:
    """Whether the actor's department keeps the list: decides which forms to offer (the service decides
    again on every write; the authority takes subjects off any list, and adds as a department only)."""
    if not role_allows(actor.role, P.SANCTIONS_LISTS) or actor.department_id is None:
        return False
    return actor.role == service.AUTHORITY or access.get_department(session, actor.department_id).sector in kind.maintaining_sectors


def _list_page(request: Request, session: Session, actor: Actor, code: str, *, page: int = 1, in_force: bool = False,
               form: dict[str, str] | None = None, error: Exception | None = None) -> Any:
    kind = service.list_type(session, code)
    total, views = service.entries(session, list_code=code, in_force_only=in_force, limit=PER_PAGE,
                                   offset=(page - 1) * PER_PAGE)
    item = (kind.source or {}).get("item")
    maintains, authority = _maintains(session, actor, kind), actor.role == service.AUTHORITY
    return render(request, "sanctions_list.html", status_code=getattr(error, "status", 200), title=kind.name, kind=kind,
                  basis=service.bases_by_id(session)[kind.basis_id], total=total, views=views, page=page,
                  per_page=PER_PAGE, in_force=in_force, item=item, item_name=catalogue.item_names(session).get(item, item),
                  may_add=maintains, may_exit=maintains or authority, authority=authority,
                  exit_reasons=rules.EXIT_REASONS, form=form or {}, error=error, severity_tags=SEVERITY_TAGS)


@router.get("/sanctions/lists/{code}", include_in_schema=False)
def list_page(code: str, request: Request, page: int = Query(1, ge=1), in_force: bool = False,
              actor: Actor = Depends(require(P.SANCTIONS_READ)), session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _list_page(request, session, actor, code, page=page, in_force=in_force)


@router.post("/sanctions/lists/{code}/entries", include_in_schema=False)
def entry_add_page(code: str, request: Request, subject_code: str = Form(""), decision_number: str = Form(""),
                   decision_date: str = Form(""), reasons: str = Form(""), period_months: str = Form(""),
                   exit_conditions: str = Form(""), actor: Actor = Depends(require(P.SANCTIONS_LISTS)),
                   session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"subject_code": subject_code.strip(), "decision_number": decision_number.strip(),
            "decision_date": decision_date.strip(), "reasons": reasons.strip(),
            "period_months": period_months.strip() or None, "exit_conditions": exit_conditions.strip()}
    try:
        service.add_entry(session, actor, parse_form(EntryIn, {"list_type": code, **form}, "LIST_ENTRY_INVALID"))
    except FORM_ERRORS as error:
        session.rollback()
        return _list_page(request, session, actor, code, form={k: v or "" for k, v in form.items()}, error=error)
    return RedirectResponse(f"/sanctions/lists/{quote(code)}?added=1", status_code=303)


@router.post("/sanctions/entries/{entry_id}/exit", include_in_schema=False)
def entry_exit_page(entry_id: int, request: Request, reason: str = Form(""), decision_number: str = Form(""),
                    note: str = Form(""), actor: Actor = Depends(require(P.SANCTIONS_LISTS)),
                    session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    code = service.entry_view(session, entry_id).list_type.code
    try:
        data = parse_form(ExitIn, {"reason": reason, "decision_number": decision_number.strip(), "note": note.strip()},
                          "LIST_EXIT_INVALID")
        service.exit_entry(session, actor, entry_id, data)
    except FORM_ERRORS as error:
        session.rollback()
        return _list_page(request, session, actor, code, error=error)
    return RedirectResponse(f"/sanctions/lists/{quote(code)}", status_code=303)


# --- pages: YAML editors (list types, measures) ------------------------------------------------------------

def _yaml(text: str, model: type[ListTypeSpec] | type[MeasureSpec]) -> Any:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise Invalid("SANCTIONS_YAML_INVALID", f"YAML 格式不正确：{str(error)[:200]}", field="yaml_text") from None
    if not isinstance(data, dict):
        raise Invalid("SANCTIONS_YAML_INVALID", "定义应为“键: 值”形式的映射", field="yaml_text")
    return parse_form(model, data, "SANCTIONS_SPEC_INVALID")


def _sample(section: str, code: str) -> dict[str, Any]:
    """A seeded definition for the editor to start from (the first one if ``code`` is no longer seeded)."""
    seeded = service.seed_data()[section]
    return dict(next((d for d in seeded if d["code"] == code), seeded[0]))


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def _editor(request: Request, *, title: str, intro: str, action: str, text: str, back: str, note: str | None = None,
            retire: str | None = None, error: Exception | None = None) -> Any:
    return render(request, "sanctions_edit.html", status_code=getattr(error, "status", 200), title=title, intro=intro,
                  action=action, text=text, back=back, note=note, retire=retire, error=error)


LIST_TYPE_INTRO = ("以 YAML 设立名单类型：注明认定部门、负责列入和移出的部门领域、法律依据（法律依据库中的代码）、列入期限和移出条件。"
                   "失信名单须有法律、行政法规、地方性法规或党中央国务院政策文件依据，层级不足的将被拒绝（防止泛化滥用）。")
MEASURE_INTRO = ("以 YAML 定义措施：措施必须写明法律依据（法律依据库中的代码）和触发条件（名单、失信记录严重程度或评价等级），"
                 "只对触发条件内的主体适用（过惩相当）。减损权益或增加义务的措施须有法律、行政法规或地方性法规依据。"
                 "修订即生成新版本，历史核查仍显示当时的版本。")


def _list_type_editor(request: Request, text: str, error: Exception | None = None) -> Any:
    return _editor(request, title="设立名单类型", intro=LIST_TYPE_INTRO, action="/sanctions/list-types/new", text=text,
                   back="/sanctions", error=error)


@router.get("/sanctions/list-types/new", include_in_schema=False)
def list_type_new_page(request: Request, _: Actor = Depends(require(P.SANCTIONS_CONFIGURE))):  # type: ignore[no-untyped-def]
    sample = _sample("list_types", "RED_HONOUR")
    return _list_type_editor(request, _dump({**sample, "code": "NEW_LIST", "name": "（名单名称）"}))


@router.post("/sanctions/list-types/new", include_in_schema=False)
def list_type_create_page(request: Request, yaml_text: str = Form(""), actor: Actor = Depends(require(P.SANCTIONS_CONFIGURE)),
                          session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        kind = service.create_list_type(session, actor, _yaml(yaml_text, ListTypeSpec))
    except FORM_ERRORS as error:
        session.rollback()
        return _list_type_editor(request, yaml_text, error)
    return RedirectResponse(f"/sanctions/lists/{quote(kind.code)}", status_code=303)


def _measure_editor(request: Request, code: str | None, text: str, note: str = "", error: Exception | None = None) -> Any:
    if code is None:
        return _editor(request, title="新增措施", intro=MEASURE_INTRO, action="/sanctions/measures/new", text=text,
                       back="/sanctions/measures", error=error)
    return _editor(request, title=f"修订措施 {code}", intro=MEASURE_INTRO, action=f"/sanctions/measures/{code}/edit",
                   text=text, back="/sanctions/measures", note=note, retire=f"/sanctions/measures/{code}/retire",
                   error=error)


@router.get("/sanctions/measures", include_in_schema=False)
def measures_page(request: Request, actor: Actor = Depends(require(P.SANCTIONS_READ)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    found = service.measures(session)
    return render(request, "sanctions_measures.html", title="奖惩措施清单", measures=found,
                  versions={m.code: service.measure_versions(session, m.code) for m in found},
                  bases=service.bases_by_id(session), lists=checks.list_type_names(session),
                  matters=service.matter_types(session), retired=request.query_params.get("retired"))


@router.get("/sanctions/measures/new", include_in_schema=False)
def measure_new_page(request: Request, _: Actor = Depends(require(P.SANCTIONS_CONFIGURE))):  # type: ignore[no-untyped-def]
    return _measure_editor(request, None, _dump({**_sample("measures", "M_BIDDING_RESTRICT"), "code": "M_NEW_MEASURE"}))


@router.post("/sanctions/measures/new", include_in_schema=False)
def measure_create_page(request: Request, yaml_text: str = Form(""), actor: Actor = Depends(require(P.SANCTIONS_CONFIGURE)),
                        session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        measure = service.create_measure(session, actor, _yaml(yaml_text, MeasureSpec))
    except FORM_ERRORS as error:
        session.rollback()
        return _measure_editor(request, None, yaml_text, error=error)
    return RedirectResponse(f"/sanctions/measures#{measure.code}", status_code=303)


@router.get("/sanctions/measures/{code}/edit", include_in_schema=False)
def measure_edit_page(code: str, request: Request, _: Actor = Depends(require(P.SANCTIONS_CONFIGURE)),
                      session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    spec = service.spec_of(session, service.measure_in_force(session, code))
    return _measure_editor(request, code, _dump(spec.model_dump(mode="json")))


@router.post("/sanctions/measures/{code}/edit", include_in_schema=False)
def measure_revise_page(code: str, request: Request, yaml_text: str = Form(""), note: str = Form(""),
                        actor: Actor = Depends(require(P.SANCTIONS_CONFIGURE)),
                        session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        service.revise_measure(session, actor, code, _yaml(yaml_text, MeasureSpec), note)
    except FORM_ERRORS as error:
        session.rollback()
        return _measure_editor(request, code, yaml_text, note, error)
    return RedirectResponse(f"/sanctions/measures#{code}", status_code=303)


@router.post("/sanctions/measures/{code}/retire", include_in_schema=False)
def measure_retire_page(code: str, request: Request, note: str = Form(""),
                        actor: Actor = Depends(require(P.SANCTIONS_CONFIGURE)),
                        session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        service.retire_measure(session, actor, code, note)
    except FORM_ERRORS as error:
        session.rollback()
        spec = service.spec_of(session, service.measure_in_force(session, code))
        return _measure_editor(request, code, _dump(spec.model_dump(mode="json")), error=error)
    return RedirectResponse(f"/sanctions/measures?retired={quote(code)}", status_code=303)


# --- pages: legal bases ------------------------------------------------------------------------------------

def _bases_page(request: Request, session: Session, form: dict[str, str] | None = None,
                error: Exception | None = None) -> Any:
    return render(request, "sanctions_bases.html", status_code=getattr(error, "status", 200), title="法律依据库",
                  bases=service.legal_bases(session), levels=LEVELS, form=form or {}, error=error)


@router.get("/sanctions/bases", include_in_schema=False)
def bases_page(request: Request, _: Actor = Depends(require(P.SANCTIONS_READ)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _bases_page(request, session)


@router.post("/sanctions/bases", include_in_schema=False)
def basis_add_page(request: Request, code: str = Form(""), title: str = Form(""), level: str = Form(""),
                   issuer: str = Form(""), document_number: str = Form(""), effective_on: str = Form(""),
                   actor: Actor = Depends(require(P.SANCTIONS_CONFIGURE)),
                   session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"code": code.strip(), "title": title.strip(), "level": level, "issuer": issuer.strip(),
            "document_number": document_number.strip(), "effective_on": effective_on.strip()}
    try:
        service.add_basis(session, actor, parse_form(LegalBasisIn, {**form, "effective_on": form["effective_on"] or None},
                                                     "BASIS_INVALID"))
    except FORM_ERRORS as error:
        session.rollback()
        return _bases_page(request, session, form, error)
    return RedirectResponse(f"/sanctions/bases#{quote(form['code'])}", status_code=303)


# --- pages: joint checks -----------------------------------------------------------------------------------

def _check_form(request: Request, session: Session, actor: Actor, form: dict[str, str] | None = None,
                error: Exception | None = None) -> Any:
    return render(request, "sanctions_check.html", status_code=getattr(error, "status", 200), title="联合奖惩核查",
                  matters=service.matter_types(session), form=form or {}, error=error,
                  department=access.get_department(session, actor.department_id) if actor.department_id else None,
                  max_batch=checks.MAX_BATCH)


@router.get("/sanctions/check", include_in_schema=False)
def check_form_page(request: Request, actor: Actor = Depends(require(P.SANCTIONS_CHECK)),
                    session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _check_form(request, session, actor)


def _check_from_form(session: Session, actor: Actor, form: dict[str, str], upload: UploadFile | None) -> JointCheck:
    if upload is not None and upload.filename:
        if form["code"]:
            raise Invalid("CHECK_ONE_SOURCE", "请填写一个代码或上传一个文件，二者选其一", field="code")
        return _check_upload(session, actor, form["matter_type"], form["matter_reference"], upload)
    return checks.check_codes(session, actor, form["matter_type"], [form["code"]] if form["code"] else [],
                              matter_reference=form["matter_reference"], channel="single")


@router.post("/sanctions/check", include_in_schema=False)
def check_page(request: Request, matter_type: str = Form(""), matter_reference: str = Form(""),
               code: str = Form(""), file: UploadFile | None = File(None),
               actor: Actor = Depends(require(P.SANCTIONS_CHECK)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = {"matter_type": matter_type.strip(), "matter_reference": matter_reference.strip(), "code": code.strip()}
    try:
        check = _check_from_form(session, actor, form, file)
    except FORM_ERRORS as error:
        session.rollback()
        return _check_form(request, session, actor, form, error)
    return RedirectResponse(f"/sanctions/checks/{check.id}", status_code=303)


@router.get("/sanctions/checks", include_in_schema=False)
def checks_page(request: Request, page: int = Query(1, ge=1), actor: Actor = Depends(require(P.SANCTIONS_CHECK)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    total, found = checks.checks(session, actor, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render(request, "sanctions_checks.html", title="核查记录", checks=found, total=total, page=page,
                  per_page=PER_PAGE, departments=access.department_names(session), matters=service.matter_types(session))


def _result_page(request: Request, session: Session, actor: Actor, check_id: int, *, outcome: str = "", page: int = 1,
                 error: Exception | None = None, flash: str | None = None) -> Any:
    check = checks.get_check(session, actor, check_id)
    total, views = checks.subject_rows(session, check, outcome=outcome or None, limit=PER_PAGE,
                                       offset=(page - 1) * PER_PAGE)
    return render(request, "sanctions_result.html", status_code=getattr(error, "status", 200),
                  title=f"核查结果 #{check.id}", check=_check_fields(session, check), row=check, views=views, total=total, page=page,
                  per_page=PER_PAGE, outcome=outcome, outcomes=OUTCOMES, outcome_labels=rules.OUTCOME_LABELS,
                  bases=service.bases_by_id(session), can_feedback=actor.department_id == check.department_id,
                  feedback_state=export.feedback_state, feedback_labels=export.FEEDBACK_LABELS, error=error,
                  flash=flash)


@router.get("/sanctions/checks/{check_id}", include_in_schema=False)
def result_page(check_id: int, request: Request, outcome: str = Query("", pattern=f"^$|{OUTCOME_PATTERN}"),
                page: int = Query(1, ge=1), saved: int | None = None, actor: Actor = Depends(require(P.SANCTIONS_CHECK)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    flash = "反馈已保存" if saved else None
    return _result_page(request, session, actor, check_id, outcome=outcome, page=page, flash=flash)


def _feedback_item(hit_id: str, taken: str, note: str) -> FeedbackIn:
    if taken not in ("true", "false"):
        raise Invalid("FEEDBACK_TAKEN_REQUIRED", "请选择是否已采取该措施", field="taken")
    return parse_form(FeedbackIn, {"hit_id": hit_id, "taken": taken, "note": note.strip()}, "FEEDBACK_INVALID")


@router.post("/sanctions/checks/{check_id}/feedback", include_in_schema=False)
def feedback_page(check_id: int, request: Request, hit_id: str = Form(""), taken: str = Form(""), note: str = Form(""),
                  outcome: str = Form(""), page: int = Form(1), actor: Actor = Depends(require(P.SANCTIONS_CHECK)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    outcome, page = (outcome if outcome in OUTCOMES else ""), max(page, 1)
    try:
        item = _feedback_item(hit_id, taken, note)
        checks.give_feedback(session, actor, check_id, [item])
    except FORM_ERRORS as error:
        session.rollback()
        return _result_page(request, session, actor, check_id, outcome=outcome, page=page, error=error)
    return RedirectResponse(f"/sanctions/checks/{check_id}?outcome={outcome}&page={page}&saved=1#hit-{item.hit_id}",
                            status_code=303)


@router.get("/sanctions/feedback", include_in_schema=False)
def feedback_dashboard_page(request: Request, _: Actor = Depends(require(P.SANCTIONS_OVERSIGHT)),
                            session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return render(request, "sanctions_feedback.html", title="核查反馈情况", stats=_feedback_stats(session),
                  matters=service.matter_types(session))
