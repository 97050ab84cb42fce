"""Credit repair (信用修复) and objections (异议) on the web: the subject's pages, the staff pages, the
dashboard, material downloads and the API.

Every state-changing route asks for its refusals to be audited (``request.state.audit_refusals``):
refusals that reach the error handler (403, 404, and every API refusal) are recorded there in their
own transaction as ``repair.refused`` / ``objection.refused`` (403: ``access.denied``); the ones a
form shows inline are recorded here after the refused change was rolled back (``_refused``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.permissions import P, role_allows
from xinyong.actor import Actor
from xinyong.catalogue import service as catalogue
from xinyong.errors import Conflict, DomainError, Forbidden, Invalid
from xinyong.policy import calendar_service
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.repair import service
from xinyong.repair.models import CaseMaterial, Objection, RepairApplication, RepairStep
from xinyong.repair.schemas import (
    MATERIAL_LABELS,
    OBJECTION_STATUS,
    REPAIR_STATUS,
    AnswerIn,
    DecisionIn,
    Eligibility,
    MaterialIn,
    ObjectionIn,
    RepairIn,
)
from xinyong.sanctions import service as sanctions
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject
from xinyong.web.deps import get_db, require
from xinyong.web.forms import parse_form, record_inline_refusal
from xinyong.web.templating import render

router = APIRouter(tags=["信用修复和异议"])
REPAIR, OBJECTION = "repair", "objection"  # audit areas: repair.refused / objection.refused
FORM_ERRORS = (Invalid, Conflict)  # shown inline (and audited); refusals (403) and missing objects go to the error page
PER_PAGE = 50
DASHBOARD_LIMIT = 100_000
MAX_OTHER_FILES = 10
REPAIR_STATUS_PATTERN = f"^$|^({'|'.join(REPAIR_STATUS)})$"
OBJECTION_STATUS_PATTERN = f"^$|^({'|'.join(OBJECTION_STATUS)})$"
REPAIR_TAGS = {"submitted": "info", "accepted": "info", "not_accepted": "bad", "approved": "ok", "refused": "bad",
               "withdrawn": "warn"}
OBJECTION_TAGS = {"open": "warn", "corrected": "ok", "revoked": "ok", "upheld": "info"}
STEP_LABELS = {"submit": "提交申请", "accept": "受理", "not_accept": "不予受理", "approve": "同意修复", "refuse": "不予修复",
               "withdraw": "撤回申请"}
DECISIONS = ("not_accept", "approve", "refuse")
OUTCOMES = {"corrected": "更正记录", "revoked": "撤销记录", "upheld": "维持原记录"}
LABELS = {"record_id": "信用记录", "entry_id": "名单记录", "reasons": "理由", "obligations_fulfilled": "已履行法定义务",
          "objector": "异议人", "note": "处理意见", "outcome": "处理结果", "payload": "更正后的内容"}
FLASHES = {"submitted": "申请已提交，平台将在受理期限内受理", "withdrawn": "申请已撤回", "accept": "已受理，已通知认定部门审核",
           "not_accept": "已决定不予受理，已通知申请人", "approve": "已同意修复：该信息已停止公示，相关名单已移出，联合惩戒措施已解除",
           "refuse": "已决定不予修复，已通知申请人", "objected": "异议已提交，处理期间公示页面标注“异议处理中”",
           "registered": "异议已登记，已转提供部门核实", "answered": "已答复异议，结果已通知异议人"}


# --- response shapes ------------------------------------------------------------------------------------

class StepOut(BaseModel):
    step: str
    label: str
    note: str
    at: datetime
    by: str
    department: str | None


class MaterialOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
    url: str = Field(description="下载地址（须有权查看该申请或异议）")


class DeliveryOut(BaseModel):
    reader: str = Field(description="接收修复通知的平台（上级平台、订阅方）")
    acknowledged: bool = Field(description="是否已确认接收（送达确认）")
    last_read_at: datetime | None


class RepairOut(BaseModel):
    id: int
    number: str = Field(description="申请编号")
    status: str
    status_label: str
    subject_id: int
    subject_name: str
    subject_code: str
    target: str = Field(description="record：信用记录；entry：名单记录")
    record_id: int | None
    entry_id: int | None
    target_label: str
    deciding_department_id: int
    deciding_department: str = Field(description="作出失信认定、决定是否修复的部门（谁认定、谁修复）")
    reasons: str
    obligations_fulfilled: bool
    submitted_at: datetime
    submitted_by: str
    intake_due_at: datetime = Field(description="受理期限（工作日）")
    decision_due_at: datetime | None = Field(description="审核决定期限（受理后起算，工作日）")
    decided_at: datetime | None
    overdue: bool = Field(description="当前步骤已超过办理期限")
    repair_record_id: int | None
    url: str


class RepairDetail(RepairOut):
    outcome_note: str = Field(description="不予受理、同意修复或不予修复的意见")
    steps: list[StepOut]
    materials: list[MaterialOut]
    notice_deliveries: list[DeliveryOut] = Field(description="同意修复后，修复通知的送达情况")


class ObjectionOut(BaseModel):
    id: int
    number: str
    status: str
    status_label: str
    subject_id: int
    subject_name: str
    subject_code: str
    record_id: int
    record_label: str
    department_id: int
    department: str = Field(description="提供该记录、负责核实答复的部门")
    objector: str
    reasons: str
    submitted_at: datetime
    submitted_by: str
    due_at: datetime = Field(description="答复期限（工作日）")
    overdue: bool
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str
    result_record_id: int | None = Field(description="更正或撤销产生的新记录")
    url: str


class ObjectionDetail(ObjectionOut):
    materials: list[MaterialOut]


class EligibilityOut(Eligibility):
    target_label: str


class DepartmentStats(BaseModel):
    department_id: int
    department: str
    deciding: int = Field(description="已受理、待决定的修复申请")
    overdue_decisions: int
    decided: int
    average_working_days: float | None = Field(description="已办结申请从提交到办结的平均工作日")
    open_objections: int
    overdue_objections: int


class Dashboard(BaseModel):
    repairs_by_status: dict[str, int]
    objections_by_status: dict[str, int]
    overdue_intake: int = Field(description="逾期未受理的修复申请（平台受理）")
    overdue_decisions: int
    overdue_objections: int
    average_working_days: float | None = Field(description="已办结修复申请的平均办理工作日")
    departments: list[DepartmentStats]
    overdue: list[RepairOut]
    overdue_objection_items: list[ObjectionOut]


# --- building the shapes ----------------------------------------------------------------------------------

def _code(subject: Subject | None) -> str:
    return (subject.uscc or subject.masked_id or "") if subject else ""


class _Lookups:
    """Names a page of cases needs, read once: subjects, departments, catalogue items, list types."""

    def __init__(self, session: Session, subject_ids: Iterable[int]) -> None:
        self.session = session
        self.subjects = {s.id: s for s in subjects.by_ids(session, sorted(set(subject_ids)))}
        self.departments = access.department_names(session)
        self.items = catalogue.item_names(session)

    def record_label(self, record_id: int) -> str:
        record = records.get(self.session, record_id)
        return f"{self.items.get(record.item_code, record.item_code)}（{record.natural_key}）"

    def target_label(self, application: RepairApplication) -> str:
        if application.entry_id is not None:
            entry = sanctions.get_entry(self.session, application.entry_id)
            return f"{sanctions.list_type_by_id(self.session, entry.list_type_id).name}（{entry.decision_number}）"
        return self.record_label(application.record_id or 0)


def _repair_out(a: RepairApplication, names: _Lookups, now: datetime) -> RepairOut:
    subject = names.subjects.get(a.subject_id)
    return RepairOut(id=a.id, number=a.number, status=a.status, status_label=REPAIR_STATUS.get(a.status, a.status),
                     subject_id=a.subject_id, subject_name=subject.name if subject else "", subject_code=_code(subject),
                     target=a.target, record_id=a.record_id, entry_id=a.entry_id, target_label=names.target_label(a),
                     deciding_department_id=a.deciding_department_id,
                     deciding_department=names.departments.get(a.deciding_department_id, ""), reasons=a.reasons,
                     obligations_fulfilled=a.obligations_fulfilled, submitted_at=a.submitted_at,
                     submitted_by=a.submitted_by, intake_due_at=a.intake_due_at, decision_due_at=a.decision_due_at,
                     decided_at=a.decided_at, overdue=service.overdue(a, now), repair_record_id=a.repair_record_id,
                     url=f"/repairs/{a.id}")


def _repairs_out(session: Session, found: list[RepairApplication]) -> list[RepairOut]:
    names, now = _Lookups(session, [a.subject_id for a in found]), clock.now()
    return [_repair_out(a, names, now) for a in found]


def _material_out(m: CaseMaterial) -> MaterialOut:
    return MaterialOut(id=m.id, kind=m.kind, kind_label=MATERIAL_LABELS.get(m.kind, m.kind), filename=m.filename,
                       media_type=m.media_type, size=m.size, sha256=m.sha256, uploaded_at=m.uploaded_at,
                       uploaded_by=m.uploaded_by, url=f"/materials/{m.id}")


def _step_out(s: RepairStep, departments: dict[int, str]) -> StepOut:
    return StepOut(step=s.step, label=STEP_LABELS.get(s.step, s.step), note=s.note, at=s.at, by=s.by,
                   department=departments.get(s.department_id) if s.department_id else None)


def _repair_detail(session: Session, a: RepairApplication) -> RepairDetail:
    names = _Lookups(session, [a.subject_id])
    steps = [_step_out(s, names.departments) for s in service.steps(session, a.id)]
    deliveries = [DeliveryOut(reader=d.reader, acknowledged=d.acknowledged, last_read_at=d.last_read_at)
                  for d in service.notice_deliveries(session, a)]
    return RepairDetail(**_repair_out(a, names, clock.now()).model_dump(),
                        outcome_note=next((s.note for s in reversed(steps) if s.step in DECISIONS), ""), steps=steps,
                        materials=[_material_out(m) for m in service.materials_of(session, REPAIR, a.id)],
                        notice_deliveries=deliveries)


def _objection_out(o: Objection, names: _Lookups, now: datetime) -> ObjectionOut:
    subject = names.subjects.get(o.subject_id)
    return ObjectionOut(id=o.id, number=o.number, status=o.status, status_label=OBJECTION_STATUS.get(o.status, o.status),
                        subject_id=o.subject_id, subject_name=subject.name if subject else "", subject_code=_code(subject),
                        record_id=o.record_id, record_label=names.record_label(o.record_id), department_id=o.department_id,
                        department=names.departments.get(o.department_id, ""), objector=o.objector, reasons=o.reasons,
                        submitted_at=o.submitted_at, submitted_by=o.submitted_by, due_at=o.due_at,
                        overdue=o.status == "open" and o.due_at <= now, decided_at=o.decided_at, decided_by=o.decided_by,
                        decision_note=o.decision_note, result_record_id=o.result_record_id, url=f"/objections/{o.id}")


def _objections_out(session: Session, found: list[Objection]) -> list[ObjectionOut]:
    names, now = _Lookups(session, [o.subject_id for o in found]), clock.now()
    return [_objection_out(o, names, now) for o in found]


def _objection_detail(session: Session, o: Objection) -> ObjectionDetail:
    [out] = _objections_out(session, [o])
    return ObjectionDetail(**out.model_dump(),
                           materials=[_material_out(m) for m in service.materials_of(session, OBJECTION, o.id)])


# --- the dashboard (pure: computed from the cases the actor may see) -----------------------------------------

def _average(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def dashboard(applications: list[RepairOut], objections: list[ObjectionOut],
              working_days: Callable[[datetime, datetime], int]) -> Dashboard:
    """Counts by status, what is overdue (intake by the platform; decisions and answers per department)
    and the average handling time in working days (submission to the last step, decided cases only)."""
    handled = {a.id: working_days(a.submitted_at, a.decided_at) for a in applications
               if a.decided_at is not None and a.status != "withdrawn"}
    per: dict[int, dict[str, Any]] = defaultdict(lambda: {"deciding": 0, "overdue_decisions": 0, "days": [],
                                                          "open_objections": 0, "overdue_objections": 0})
    names: dict[int, str] = {}
    for a in applications:
        names[a.deciding_department_id] = a.deciding_department
        row = per[a.deciding_department_id]
        row["deciding"] += a.status == "accepted"
        row["overdue_decisions"] += a.status == "accepted" and a.overdue
        if a.id in handled and a.status != "not_accepted":  # 不予受理 is the platform's, not the department's
            row["days"].append(handled[a.id])
    for o in objections:
        names[o.department_id] = o.department
        per[o.department_id]["open_objections"] += o.status == "open"
        per[o.department_id]["overdue_objections"] += o.overdue
    departments = [DepartmentStats(department_id=d, department=names[d], deciding=row["deciding"],
                                   overdue_decisions=row["overdue_decisions"], decided=len(row["days"]),
                                   average_working_days=_average(row["days"]), open_objections=row["open_objections"],
                                   overdue_objections=row["overdue_objections"])
                   for d, row in sorted(per.items(), key=lambda kv: (-kv[1]["overdue_decisions"], names[kv[0]]))]
    repairs, answers = Counter(a.status for a in applications), Counter(o.status for o in objections)
    return Dashboard(repairs_by_status={s: repairs.get(s, 0) for s in REPAIR_STATUS},
                     objections_by_status={s: answers.get(s, 0) for s in OBJECTION_STATUS},
                     overdue_intake=sum(a.overdue and a.status == "submitted" for a in applications),
                     overdue_decisions=sum(a.overdue and a.status == "accepted" for a in applications),
                     overdue_objections=sum(o.overdue for o in objections),
                     average_working_days=_average(list(handled.values())), departments=departments,
                     overdue=[a for a in applications if a.overdue], overdue_objection_items=[o for o in objections if o.overdue])


def _dashboard(session: Session, actor: Actor) -> Dashboard:
    calendar = calendar_service.working_calendar(session)

    def working_days(start: datetime, end: datetime) -> int:
        return calendar.working_days_between(clock.local(start).date(), clock.local(end).date())

    return dashboard(_repairs_out(session, service.applications(session, actor, limit=DASHBOARD_LIMIT)),
                     _objections_out(session, service.objections(session, actor, limit=DASHBOARD_LIMIT)), working_days)


# --- input: forms, uploads, audit of refusals ---------------------------------------------------------------

def _audited(request: Request, area: str) -> None:
    request.state.audit_refusals = area


def _optional_id(value: str | int | None, field: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if not value.strip():
        return None
    if not value.strip().isdigit():
        raise Invalid("REPAIR_FORM_INVALID", f"{LABELS[field]}编号应为整数", field=field)
    return int(value.strip())


def _material(kind: str, upload: UploadFile | None) -> MaterialIn | None:
    """One uploaded file as a material; read at most one byte past the limit (the service refuses it)."""
    if upload is None or not upload.filename:
        return None
    content = upload.file.read(service.MAX_MATERIAL_BYTES + 1)
    return MaterialIn(kind=kind, filename=Path(upload.filename).name[:200] or "材料",  # type: ignore[arg-type]
                      media_type=(upload.content_type or "application/octet-stream")[:100], content=content)


def _materials(named: list[tuple[str, UploadFile | None]], others: list[UploadFile] | None,
               others_kind: str = "other") -> list[MaterialIn]:
    """The named files (one each) and any number of others (up to MAX_OTHER_FILES), as materials."""
    extra = [u for u in others or [] if u is not None and u.filename]
    if len(extra) > MAX_OTHER_FILES:
        raise Invalid("MATERIAL_TOO_MANY", f"{MATERIAL_LABELS[others_kind]}至多上传{MAX_OTHER_FILES}个文件", field="materials")
    found = [_material(kind, upload) for kind, upload in named] + [_material(others_kind, u) for u in extra]
    return [m for m in found if m is not None]


def _repair_in(record_id: str | int | None, entry_id: str | int | None, reasons: str, fulfilled: bool) -> RepairIn:
    return parse_form(RepairIn, {"record_id": _optional_id(record_id, "record_id"),
                             "entry_id": _optional_id(entry_id, "entry_id"), "reasons": reasons.strip(),
                             "obligations_fulfilled": fulfilled}, "REPAIR_FORM_INVALID", LABELS)


@dataclass(frozen=True)
class TargetView:
    """What a case is about, for people: a title and labelled facts."""

    title: str
    facts: list[tuple[str, str]]


def _publication(session: Session, record: Record) -> str:
    """Where the record stands now: its own window, or what a later fact of its chain did to it."""
    head = records.history(session, record)[-1]
    if head.id == record.id:
        return records.publication_status(record)
    if head.kind == "revocation":
        return "已撤销，停止公示"
    if head.kind == "correction":
        return f"已更正（以记录{head.id}为准）：{records.publication_status(head)}"
    return records.publication_status(head)  # repair: 已信用修复，停止公示


def _record_view(session: Session, record: Record) -> TargetView:
    version = catalogue.version_snapshot(session, record.item_version_id)
    labels = {f["name"]: f["label"] for f in version.fields}
    facts = [("提供部门", access.get_department(session, record.department_id).name),
             ("决定日期", record.decision_date.isoformat() if record.decision_date else ""),
             ("失信程度", f"{record.severity}失信" if record.severity else "—"),
             ("公示状态", _publication(session, record))]
    facts += [(labels.get(k, k), str(v)) for k, v in record.payload.items()]
    return TargetView(f"{version.name}（{record.natural_key}）", facts)


def _target_view(session: Session, target: service.Target) -> TargetView:
    if target.entry is None:
        assert target.record is not None
        return _record_view(session, target.record)
    view = sanctions.entry_view(session, target.entry.id)
    return TargetView(target.label, [("名单", view.list_type.name), ("认定部门", view.department),
                                     ("认定文书号", target.entry.decision_number),
                                     ("认定日期", target.entry.decision_date.isoformat()), ("列入事由", target.entry.reasons),
                                     ("状态", view.status), ("移出条件", target.entry.exit_conditions)])


def _target(session: Session, actor: Actor, record_id: int | None, entry_id: int | None) -> service.Target:
    """The record or list entry a subject means, refused if it is someone else's."""
    target = service.target_of(session, RepairIn.model_construct(record_id=record_id, entry_id=entry_id))
    if target.subject_id != actor.subject_id:
        raise Forbidden("REPAIR_NOT_YOURS", "只能为本主体的信用记录申请信用修复")
    return target


def _own_record(session: Session, actor: Actor, record_id: int) -> Record:
    record = records.get(session, record_id)
    if record.subject_id != actor.subject_id:
        raise Forbidden("OBJECTION_NOT_YOURS", "只能对本主体的信用记录提出异议")
    return record


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class FieldInput:
    name: str
    label: str
    value: str
    options: list[str] | None


def _field_inputs(session: Session, record: Record, sent: dict[str, str] | None = None) -> list[FieldInput]:
    """The record's fields as the correction form shows them: current values (or what was sent)."""
    fields = catalogue.version_snapshot(session, record.item_version_id).fields
    return [FieldInput(f["name"], f["label"], (sent or {}).get(f["name"], _text(record.payload.get(f["name"]))),
                       f.get("enum")) for f in fields]


def changed_fields(original: dict[str, Any], sent: dict[str, str]) -> dict[str, str]:
    """Only the fields the department changed (compared as the form showed them)."""
    return {name: value.strip() for name, value in sent.items() if value.strip() != _text(original.get(name)).strip()}


FIELD_PREFIX = "field_"


async def _field_values(request: Request) -> dict[str, str]:
    """The correction form's ``field_<CODE>`` inputs (the record's fields vary by catalogue item)."""
    form = await request.form()
    return {key[len(FIELD_PREFIX):]: str(value) for key, value in form.items()
            if key.startswith(FIELD_PREFIX) and isinstance(value, str)}


# --- API: repair ------------------------------------------------------------------------------------------

REPAIR_FORM_DOC = ("multipart/form-data：record_id 或 entry_id（二选一）、reasons、obligations_fulfilled（true）；"
                   "文件 commitment_letter（信用修复承诺书）、fulfilment_proof（履行法定义务证明）为必交材料，others 可多个；"
                   "每个文件不超过20MB，须为 PDF、JPG、PNG 或 OFD/DOCX。")


@router.post("/api/v1/repairs", summary="提交信用修复申请（不符合条件的说明原因和最早可申请日期）", status_code=201,
             description=REPAIR_FORM_DOC)
def apply_api(request: Request, record_id: int | None = Form(None), entry_id: int | None = Form(None),
              reasons: str = Form(...), obligations_fulfilled: bool = Form(...),
              commitment_letter: UploadFile | None = File(None), fulfilment_proof: UploadFile | None = File(None),
              others: list[UploadFile] = File([]), actor: Actor = Depends(require(P.REPAIR_APPLY)),
              session: Session = Depends(get_db)) -> RepairDetail:
    _audited(request, REPAIR)
    data = _repair_in(record_id, entry_id, reasons, obligations_fulfilled)
    materials = _materials([("commitment_letter", commitment_letter), ("fulfilment_proof", fulfilment_proof)], others)
    return _repair_detail(session, service.apply(session, actor, data, materials))


@router.get("/api/v1/repairs", summary="信用修复申请（主体：本主体的；部门：由本部门决定的；信用主管部门和审计员：全部）")
def repairs_api(status: str = Query("", pattern=REPAIR_STATUS_PATTERN), limit: int = Query(PER_PAGE, ge=1, le=500),
                offset: int = Query(0, ge=0), actor: Actor = Depends(require(P.REPAIR_READ)),
                session: Session = Depends(get_db)) -> list[RepairOut]:
    return _repairs_out(session, service.applications(session, actor, status=status or None, limit=limit, offset=offset))


@router.get("/api/v1/repairs/eligibility", summary="本主体的一条失信记录或名单记录现在能否申请信用修复，不能的说明原因")
def eligibility_api(record_id: int | None = None, entry_id: int | None = None,
                    actor: Actor = Depends(require(P.REPAIR_APPLY)), session: Session = Depends(get_db)) -> EligibilityOut:
    target = _target(session, actor, record_id, entry_id)
    return EligibilityOut(**service.eligibility(session, target).model_dump(), target_label=target.label)


@router.get("/api/v1/repairs/dashboard", summary="信用修复和异议办理情况：状态统计、逾期事项、各部门平均办理工作日")
def dashboard_api(actor: Actor = Depends(require(P.REPAIR_CASES)), session: Session = Depends(get_db)) -> Dashboard:
    return _dashboard(session, actor)


@router.get("/api/v1/repairs/{application_id}", summary="一份信用修复申请：办理步骤、材料、修复通知送达情况")
def repair_api(application_id: int, actor: Actor = Depends(require(P.REPAIR_READ)),
               session: Session = Depends(get_db)) -> RepairDetail:
    return _repair_detail(session, service.application_for(session, actor, application_id))


def _repair_step(request: Request, session: Session, actor: Actor, application_id: int, step: str, note: str) -> Any:
    _audited(request, REPAIR)
    if step == "accept":
        return service.accept(session, actor, application_id, note.strip())
    if step == "not_accept":
        return service.not_accept(session, actor, application_id, note)
    if step == "approve":
        return service.approve(session, actor, application_id, note.strip())
    if step == "refuse":
        return service.refuse(session, actor, application_id, note)
    return service.withdraw(session, actor, application_id)


@router.post("/api/v1/repairs/{application_id}/accept", summary="受理（信用主管部门），认定部门的审核期限开始计算")
def accept_api(application_id: int, body: DecisionIn, request: Request, actor: Actor = Depends(require(P.REPAIR_HANDLE)),
               session: Session = Depends(get_db)) -> RepairDetail:
    return _repair_detail(session, _repair_step(request, session, actor, application_id, "accept", body.note))


@router.post("/api/v1/repairs/{application_id}/not-accept", summary="不予受理（信用主管部门；须说明理由）")
def not_accept_api(application_id: int, body: DecisionIn, request: Request,
                   actor: Actor = Depends(require(P.REPAIR_HANDLE)), session: Session = Depends(get_db)) -> RepairDetail:
    return _repair_detail(session, _repair_step(request, session, actor, application_id, "not_accept", body.note))


@router.post("/api/v1/repairs/{application_id}/approve",
             summary="同意修复（作出认定的部门）：立即停止公示、移出名单、解除联合惩戒，并向上级平台和订阅方发出修复通知")
def approve_api(application_id: int, body: DecisionIn, request: Request, actor: Actor = Depends(require(P.REPAIR_HANDLE)),
                session: Session = Depends(get_db)) -> RepairDetail:
    return _repair_detail(session, _repair_step(request, session, actor, application_id, "approve", body.note))


@router.post("/api/v1/repairs/{application_id}/refuse", summary="不予修复（作出认定的部门；须说明理由）")
def refuse_api(application_id: int, body: DecisionIn, request: Request, actor: Actor = Depends(require(P.REPAIR_HANDLE)),
               session: Session = Depends(get_db)) -> RepairDetail:
    return _repair_detail(session, _repair_step(request, session, actor, application_id, "refuse", body.note))


@router.post("/api/v1/repairs/{application_id}/withdraw", summary="撤回本主体尚在办理中的申请")
def withdraw_api(application_id: int, request: Request, actor: Actor = Depends(require(P.REPAIR_APPLY)), session: Session = Depends(get_db)) -> RepairDetail:
    return _repair_detail(session, _repair_step(request, session, actor, application_id, "withdraw", ""))


# --- API: objections ----------------------------------------------------------------------------------------

@router.post("/api/v1/objections", summary="对本主体的信用记录提出异议（处理期间公示页面标注“异议处理中”）", status_code=201,
             description="multipart/form-data：record_id、reasons；文件 evidence 可多个（证据材料，每个不超过20MB）。")
def object_api(request: Request, record_id: int = Form(...), reasons: str = Form(...),
               evidence: list[UploadFile] = File([]), actor: Actor = Depends(require(P.REPAIR_APPLY)),
               session: Session = Depends(get_db)) -> ObjectionDetail:
    _audited(request, OBJECTION)
    data = parse_form(ObjectionIn, {"record_id": record_id, "reasons": reasons.strip()}, "OBJECTION_FORM_INVALID", LABELS)
    return _objection_detail(session, service.object_to(session, actor, data, _materials([], evidence, "evidence")))


@router.get("/api/v1/objections", summary="异议（主体：本主体的；部门：对本部门记录的；信用主管部门和审计员：全部）")
def objections_api(status: str = Query("", pattern=OBJECTION_STATUS_PATTERN), limit: int = Query(PER_PAGE, ge=1, le=500),
                   offset: int = Query(0, ge=0), actor: Actor = Depends(require(P.REPAIR_READ)),
                   session: Session = Depends(get_db)) -> list[ObjectionOut]:
    return _objections_out(session, service.objections(session, actor, status=status or None, limit=limit, offset=offset))


@router.get("/api/v1/objections/{objection_id}", summary="一项异议及其处理结果")
def objection_api(objection_id: int, actor: Actor = Depends(require(P.REPAIR_READ)),
                  session: Session = Depends(get_db)) -> ObjectionDetail:
    return _objection_detail(session, service.objection_for(session, actor, objection_id))


@router.post("/api/v1/objections/{objection_id}/answer",
             summary="答复异议（提供记录的部门）：corrected 更正（payload 为改动的字段）、revoked 撤销、upheld 维持并说明理由")
def answer_api(objection_id: int, body: AnswerIn, request: Request, actor: Actor = Depends(require(P.REPAIR_HANDLE)),
               session: Session = Depends(get_db)) -> ObjectionDetail:
    _audited(request, OBJECTION)
    return _objection_detail(session, service.answer(session, actor, objection_id, body))


# --- materials ----------------------------------------------------------------------------------------------

@router.get("/materials/{material_id}", summary="下载申请或异议的材料（申请人、办理部门、信用主管部门）",
            response_class=Response)
def material_download(material_id: int, actor: Actor = Depends(require(P.REPAIR_READ)),
                      session: Session = Depends(get_db)) -> Response:
    material, content = service.material_content(session, actor, material_id)
    fallback = re.sub(r"[^A-Za-z0-9._-]", "", material.filename) or f"material-{material.id}"
    return Response(content, media_type=material.media_type or "application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(material.filename)}",
        "Cache-Control": "private, no-store"})


# --- pages: the subject's repairs --------------------------------------------------------------------------

def last_day(value: datetime | None) -> str:
    """A deadline is stored as the midnight after its last day; people read the day itself."""
    return (clock.local(value) - timedelta(seconds=1)).date().isoformat() if value else ""


def _render(request: Request, name: str, **context: Any) -> Any:
    return render(request, name, last_day=last_day, **context)


def _pager(found: list[Any]) -> tuple[list[Any], bool]:
    """A page of at most PER_PAGE (one more was asked for: is there a next page?)."""
    return found[:PER_PAGE], len(found) > PER_PAGE


@router.get("/me/repairs", include_in_schema=False)
def my_repairs_page(request: Request, actor: Actor = Depends(require(P.REPAIR_APPLY)),
                    session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    found = _repairs_out(session, service.applications(session, actor, limit=500))
    return _render(request, "repair_mine.html", title="我的信用修复申请", cases=found, tags=REPAIR_TAGS,
                   subject=subjects.get(session, actor.subject_id or 0))


def _apply_page(request: Request, session: Session, actor: Actor, record_id: int | None, entry_id: int | None, *,
                form: dict[str, Any] | None = None, error: DomainError | None = None) -> Any:
    target = _target(session, actor, record_id, entry_id)
    verdict = service.eligibility(session, target)
    return _render(request, "repair_apply.html", status_code=getattr(error, "status", 200), title="申请信用修复",
                   target=_target_view(session, target), verdict=verdict, record_id=record_id, entry_id=entry_id,
                   form=form or {}, error=error, required=service.rules(session)["required_materials"],
                   max_files=MAX_OTHER_FILES, max_mb=service.MAX_MATERIAL_BYTES // (1024 * 1024))


@router.get("/me/repairs/new", include_in_schema=False)
def apply_form_page(request: Request, record_id: int | None = None, entry_id: int | None = None,
                    actor: Actor = Depends(require(P.REPAIR_APPLY)),
                    session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _apply_page(request, session, actor, record_id, entry_id)


@router.post("/me/repairs", include_in_schema=False)
def apply_page(request: Request, record_id: str = Form(""), entry_id: str = Form(""), reasons: str = Form(""),
               obligations_fulfilled: str = Form(""), commitment_letter: UploadFile | None = File(None),
               fulfilment_proof: UploadFile | None = File(None), others: list[UploadFile] = File([]),
               actor: Actor = Depends(require(P.REPAIR_APPLY)),
               session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    _audited(request, REPAIR)
    target_record, target_entry = _optional_id(record_id, "record_id"), _optional_id(entry_id, "entry_id")
    form = {"reasons": reasons.strip(), "obligations_fulfilled": obligations_fulfilled == "on"}
    try:
        data = _repair_in(target_record, target_entry, reasons, form["obligations_fulfilled"])
        materials = _materials([("commitment_letter", commitment_letter), ("fulfilment_proof", fulfilment_proof)], others)
        application = service.apply(session, actor, data, materials)
    except FORM_ERRORS as error:
        record_inline_refusal(request, session, actor, REPAIR, error)
        return _apply_page(request, session, actor, target_record, target_entry, form=form, error=error)
    return RedirectResponse(f"/me/repairs/{application.id}?done=submitted", status_code=303)


def _flash(request: Request) -> str | None:
    return FLASHES.get(request.query_params.get("done", ""))


def _repair_page(request: Request, session: Session, actor: Actor, application_id: int, *, own: bool,
                 note: str = "", error: DomainError | None = None) -> Any:
    application = service.application_for(session, actor, application_id)
    detail = _repair_detail(session, application)
    target = service.target_of(session, RepairIn.model_construct(record_id=application.record_id,
                                                                 entry_id=application.entry_id))
    intake = actor.role == service.AUTHORITY and role_allows(actor.role, P.REPAIR_HANDLE)
    decides = actor.department_id == application.deciding_department_id and role_allows(actor.role, P.REPAIR_HANDLE)
    return _render(request, "repair_detail.html", status_code=getattr(error, "status", 200),
                   title=f"信用修复申请 {application.number}", r=detail, target=_target_view(session, target), own=own,
                   tags=REPAIR_TAGS, may_withdraw=own and application.status in service.OPEN,
                   may_intake=not own and intake and application.status == "submitted",
                   may_decide=not own and decides and application.status == "accepted",
                   record_link=not own and role_allows(actor.role, P.RECORDS_READ_SHARED),
                   note=note, error=error, flash=_flash(request))


@router.get("/me/repairs/{application_id}", include_in_schema=False)
def my_repair_page(application_id: int, request: Request, actor: Actor = Depends(require(P.REPAIR_APPLY)),
                   session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _repair_page(request, session, actor, application_id, own=True)


@router.post("/me/repairs/{application_id}/withdraw", include_in_schema=False)
def withdraw_page(application_id: int, request: Request, actor: Actor = Depends(require(P.REPAIR_APPLY)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    try:
        _repair_step(request, session, actor, application_id, "withdraw", "")
    except FORM_ERRORS as error:
        record_inline_refusal(request, session, actor, REPAIR, error)
        return _repair_page(request, session, actor, application_id, own=True, error=error)
    return RedirectResponse(f"/me/repairs/{application_id}?done=withdrawn", status_code=303)


# --- pages: staff (the authority takes in, the department decides; the auditor reads) ----------------------

@router.get("/repairs", include_in_schema=False)
def repairs_page(request: Request, status: str = Query("", pattern=REPAIR_STATUS_PATTERN), page: int = Query(1, ge=1),
                 actor: Actor = Depends(require(P.REPAIR_CASES)),
                 session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    found, more = _pager(service.applications(session, actor, status=status or None, limit=PER_PAGE + 1,
                                              offset=(page - 1) * PER_PAGE))
    department = access.get_department(session, actor.department_id) if actor.department_id else None
    return _render(request, "repair_cases.html", title="信用修复", cases=_repairs_out(session, found), page=page,
                   more=more, status=status, statuses=REPAIR_STATUS, tags=REPAIR_TAGS, department=department,
                   authority=actor.role == service.AUTHORITY)


@router.get("/repairs/dashboard", include_in_schema=False)
def dashboard_page(request: Request, actor: Actor = Depends(require(P.REPAIR_CASES)),
                   session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    department = access.get_department(session, actor.department_id) if actor.department_id else None
    return _render(request, "repair_dashboard.html", title="信用修复和异议办理情况", board=_dashboard(session, actor),
                   statuses=REPAIR_STATUS, objection_statuses=OBJECTION_STATUS, tags=REPAIR_TAGS, department=department)


@router.get("/repairs/{application_id}", include_in_schema=False)
def repair_page(application_id: int, request: Request, actor: Actor = Depends(require(P.REPAIR_CASES)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _repair_page(request, session, actor, application_id, own=False)


def _decision_page(request: Request, session: Session, actor: Actor, application_id: int, step: str, note: str) -> Any:
    try:
        _repair_step(request, session, actor, application_id, step, parse_form(DecisionIn, {"note": note.strip()},
                                                                            "REPAIR_FORM_INVALID", LABELS).note)
    except FORM_ERRORS as error:
        record_inline_refusal(request, session, actor, REPAIR, error)
        return _repair_page(request, session, actor, application_id, own=False, note=note, error=error)
    return RedirectResponse(f"/repairs/{application_id}?done={step}", status_code=303)


@router.post("/repairs/{application_id}/{action}", include_in_schema=False)
def decision_page(application_id: int, action: Literal["accept", "not-accept", "approve", "refuse"], request: Request,
                  note: str = Form(""), actor: Actor = Depends(require(P.REPAIR_HANDLE)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    """受理 / 不予受理 (the authority), 同意修复 / 不予修复 (the deciding department): one form each."""
    return _decision_page(request, session, actor, application_id, action.replace("-", "_"), note)


# --- pages: objections ---------------------------------------------------------------------------------------

@router.get("/me/objections", include_in_schema=False)
def my_objections_page(request: Request, actor: Actor = Depends(require(P.REPAIR_APPLY)),
                       session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    found = _objections_out(session, service.objections(session, actor, limit=500))
    return _render(request, "objection_mine.html", title="我的异议", cases=found, tags=OBJECTION_TAGS,
                   subject=subjects.get(session, actor.subject_id or 0))


def _object_page(request: Request, session: Session, actor: Actor, record_id: int | None, *, own: bool,
                 form: dict[str, Any] | None = None, error: DomainError | None = None) -> Any:
    """The objection form: the subject's for one of its records; the authority's for anyone named in one."""
    record = None
    if record_id is not None:
        record = _own_record(session, actor, record_id) if own else records.get(session, record_id)
    return _render(request, "objection_new.html", status_code=getattr(error, "status", 200),
                   title="提出异议" if own else "代为登记异议", own=own, record_id=record_id,
                   target=_record_view(session, record) if record else None, form=form or {}, error=error,
                   max_files=MAX_OTHER_FILES, max_mb=service.MAX_MATERIAL_BYTES // (1024 * 1024))


@router.get("/me/objections/new", include_in_schema=False)
def object_form_page(request: Request, record_id: int = Query(...), actor: Actor = Depends(require(P.REPAIR_APPLY)),
                     session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _object_page(request, session, actor, record_id, own=True)


def _object(request: Request, session: Session, actor: Actor, *, own: bool, record_id: str, reasons: str, objector: str,
            evidence: list[UploadFile]) -> Any:
    _audited(request, OBJECTION)
    form = {"reasons": reasons.strip(), "objector": objector.strip(), "record_id": record_id.strip()}
    target = _optional_id(record_id, "record_id")
    try:
        data = parse_form(ObjectionIn, {"record_id": target, "reasons": form["reasons"], "objector": form["objector"]},
                      "OBJECTION_FORM_INVALID", LABELS)
        objection = service.object_to(session, actor, data, _materials([], evidence, "evidence"))
    except FORM_ERRORS as error:
        record_inline_refusal(request, session, actor, OBJECTION, error)
        return _object_page(request, session, actor, target if own else None, own=own, form=form, error=error)
    if own:
        return RedirectResponse(f"/me/objections/{objection.id}?done=objected", status_code=303)
    return RedirectResponse(f"/objections/{objection.id}?done=registered", status_code=303)


@router.post("/me/objections", include_in_schema=False)
def object_page(request: Request, record_id: str = Form(""), reasons: str = Form(""),
                evidence: list[UploadFile] = File([]), actor: Actor = Depends(require(P.REPAIR_APPLY)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _object(request, session, actor, own=True, record_id=record_id, reasons=reasons, objector="",
                   evidence=evidence)


def _registrar(actor: Actor) -> None:
    if actor.role != service.AUTHORITY:
        raise Forbidden("OBJECTION_REGISTER_BY_AUTHORITY", "代为登记异议由信用主管部门办理；异议请由信用主体在线提出")


@router.get("/objections/new", include_in_schema=False)
def register_form_page(request: Request, record_id: int | None = None, actor: Actor = Depends(require(P.REPAIR_HANDLE)),
                       session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    _registrar(actor)
    return _object_page(request, session, actor, record_id, own=False)


@router.post("/objections/new", include_in_schema=False)
def register_page(request: Request, record_id: str = Form(""), reasons: str = Form(""), objector: str = Form(""),
                  evidence: list[UploadFile] = File([]), actor: Actor = Depends(require(P.REPAIR_HANDLE)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    _audited(request, OBJECTION)
    _registrar(actor)
    return _object(request, session, actor, own=False, record_id=record_id, reasons=reasons, objector=objector,
                   evidence=evidence)


def _objection_page(request: Request, session: Session, actor: Actor, objection_id: int, *, own: bool,
                    form: dict[str, Any] | None = None, sent: dict[str, str] | None = None,
                    error: DomainError | None = None) -> Any:
    objection = service.objection_for(session, actor, objection_id)
    record = records.get(session, objection.record_id)
    answers = (not own and objection.status == "open" and actor.department_id == objection.department_id
               and role_allows(actor.role, P.REPAIR_HANDLE))
    return _render(request, "objection_detail.html", status_code=getattr(error, "status", 200),
                   title=f"异议 {objection.number}", o=_objection_detail(session, objection),
                   target=_record_view(session, record), own=own, tags=OBJECTION_TAGS, may_answer=answers,
                   fields=_field_inputs(session, record, sent) if answers else [], outcomes=OUTCOMES,
                   record_link=not own and role_allows(actor.role, P.RECORDS_READ_SHARED), form=form or {},
                   error=error, flash=_flash(request), field_prefix=FIELD_PREFIX)


@router.get("/me/objections/{objection_id}", include_in_schema=False)
def my_objection_page(objection_id: int, request: Request, actor: Actor = Depends(require(P.REPAIR_APPLY)),
                      session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _objection_page(request, session, actor, objection_id, own=True)


@router.get("/objections", include_in_schema=False)
def objections_page(request: Request, status: str = Query("", pattern=OBJECTION_STATUS_PATTERN),
                    page: int = Query(1, ge=1), actor: Actor = Depends(require(P.REPAIR_CASES)),
                    session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    found, more = _pager(service.objections(session, actor, status=status or None, limit=PER_PAGE + 1,
                                            offset=(page - 1) * PER_PAGE))
    return _render(request, "objection_cases.html", title="异议处理", cases=_objections_out(session, found), page=page,
                   more=more, status=status, statuses=OBJECTION_STATUS, tags=OBJECTION_TAGS,
                   authority=actor.role == service.AUTHORITY and role_allows(actor.role, P.REPAIR_HANDLE))


@router.get("/objections/{objection_id}", include_in_schema=False)
def objection_page(objection_id: int, request: Request, actor: Actor = Depends(require(P.REPAIR_CASES)),
                   session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _objection_page(request, session, actor, objection_id, own=False)


@router.post("/objections/{objection_id}/answer", include_in_schema=False)
def answer_page(objection_id: int, request: Request, outcome: str = Form(""), note: str = Form(""),
                sent: dict[str, str] = Depends(_field_values), actor: Actor = Depends(require(P.REPAIR_HANDLE)),
                session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    _audited(request, OBJECTION)
    form = {"outcome": outcome, "note": note.strip()}
    try:
        original = records.get(session, service.objection_for(session, actor, objection_id).record_id).payload
        payload = changed_fields(original, sent) if outcome == "corrected" else None
        data = parse_form(AnswerIn, {**form, "payload": payload or None}, "OBJECTION_FORM_INVALID", LABELS)
        service.answer(session, actor, objection_id, data)
    except FORM_ERRORS as error:
        record_inline_refusal(request, session, actor, OBJECTION, error)
        return _objection_page(request, session, actor, objection_id, own=False, form=form, sent=sent, error=error)
    return RedirectResponse(f"/objections/{objection_id}?done=answered", status_code=303)
