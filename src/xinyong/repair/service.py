"""Credit repair (信用修复) and objections (异议), with working-day deadlines.

Repair. A subject applies against one dishonesty record or one list entry; the platform checks
eligibility first and says why not (``eligibility``). The credit authority's platform takes the
application in (受理 / 不予受理) within ``intake_working_days``; the department that made the finding
decides (谁认定、谁修复: 同意修复 / 不予修复) within ``decision_working_days`` (per-sector overrides).
Approval acts at once: the record gets a ``repair`` fact (``records.service.mark_repaired``), so
publication ends on every page, API, 双公示 list and export, lists that follow the record let the
subject go (移出: 信用修复), measures stop applying in joint checks, evaluation stops counting it, and the
upward feed carries the repair notice; each reader's acknowledgement is tracked
(``feed.service.deliveries``). A list entry kept on the platform is ended by a 信用修复 exit.

Objections. A subject (or, registered by the authority, a person named in a record) objects to a
record with reasons and evidence; until answered the record is marked 异议处理中 on public pages.
The providing department answers within ``objections.working_days``: corrected (a correction fact),
revoked (a revocation fact) or upheld with reasons. Both travel upwards like every fact.

Every step is audited; every refusal on the web is audited too (``request.state.audit_refusals``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.config import get_settings
from xinyong.db import utcnow
from xinyong.disclosure.publication import add_months
from xinyong.errors import Conflict, Forbidden, Invalid, NotFound
from xinyong.notifications import service as notifications
from xinyong.notifications.todo import Todo
from xinyong.policy import calendar_service
from xinyong.policy import service as policy
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.repair.models import CaseMaterial, Objection, RepairApplication, RepairStep
from xinyong.repair.schemas import (
    MATERIAL_LABELS,
    REPAIR_STATUS,
    AnswerIn,
    Eligibility,
    MaterialIn,
    ObjectionIn,
    RepairIn,
)
from xinyong.sanctions import service as sanctions
from xinyong.subjects import service as subjects

AUTHORITY = "authority_admin"
MAX_MATERIAL_BYTES = 20 * 1024 * 1024
SIGNATURES = {b"%PDF": "application/pdf", b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg",
              b"PK\x03\x04": "application/zip"}  # zip: OFD and DOCX documents
OPEN = ("submitted", "accepted")


def rules(session: Session) -> dict[str, Any]:
    return dict(policy.get(session, "credit_repair"))


def _deadline(session: Session, working_days: int) -> datetime:
    """The end of the N-th working day after today (Shanghai): deadlines never fall on a holiday."""
    last = calendar_service.working_calendar(session).add_working_days(clock.today(), working_days)
    return clock.start_of(last + timedelta(days=1))


def _is_authority(actor: Actor) -> bool:
    return actor.role == AUTHORITY or actor.is_system


# --- materials ------------------------------------------------------------------------------------------

def _sniff(content: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if content.startswith(magic)), None)


def check_materials(materials: list[MaterialIn]) -> None:
    for index, material in enumerate(materials, start=1):
        if not material.content:
            raise Invalid("MATERIAL_EMPTY", f"第{index}个材料“{material.filename}”是空文件", field="materials")
        if len(material.content) > MAX_MATERIAL_BYTES:
            raise Invalid("MATERIAL_TOO_LARGE", f"第{index}个材料“{material.filename}”超过20MB", field="materials")
        if _sniff(material.content) is None:
            raise Invalid("MATERIAL_TYPE", f"第{index}个材料“{material.filename}”不是PDF、JPG、PNG或OFD/DOCX文件",
                          field="materials")


def _keep(session: Session, actor: Actor, case_kind: str, case_id: int, materials: list[MaterialIn]) -> None:
    """Store each file under the data directory by its SHA-256 (kept forever; never overwritten)."""
    folder = get_settings().data_dir / "materials"
    folder.mkdir(parents=True, exist_ok=True)
    for material in materials:
        digest = hashlib.sha256(material.content).hexdigest()
        path = folder / digest
        if not path.exists():
            path.write_bytes(material.content)
        session.add(CaseMaterial(case_kind=case_kind, case_id=case_id, kind=material.kind,
                                 filename=Path(material.filename).name[:200], media_type=_sniff(material.content) or "",
                                 size=len(material.content), sha256=digest, stored_as=f"materials/{digest}",
                                 uploaded_at=utcnow(), uploaded_by=actor.username))


def materials_of(session: Session, case_kind: str, case_id: int) -> list[CaseMaterial]:
    return list(session.scalars(select(CaseMaterial).where(CaseMaterial.case_kind == case_kind,
                                                           CaseMaterial.case_id == case_id).order_by(CaseMaterial.id)))


def material_content(session: Session, actor: Actor, material_id: int) -> tuple[CaseMaterial, bytes]:
    """A kept file, for the subject of its case, the departments handling it and the authority."""
    material = session.get(CaseMaterial, material_id)
    if material is None:
        raise NotFound("MATERIAL_NOT_FOUND", "材料不存在")
    case = (session.get(RepairApplication, material.case_id) if material.case_kind == "repair"
            else session.get(Objection, material.case_id))
    assert case is not None
    department = case.deciding_department_id if isinstance(case, RepairApplication) else case.department_id
    if not (_is_authority(actor) or actor.role == "auditor" or actor.subject_id == case.subject_id
            or actor.department_id == department):
        raise Forbidden("MATERIAL_NOT_YOURS", "无权查看该材料")
    audit.append(session, actor, "material.read", object_type="case_material", object_id=material.id,
                 subject_id=case.subject_id, detail={"case": material.case_kind, "case_id": case.id})
    return material, (get_settings().data_dir / material.stored_as).read_bytes()


# --- repair: eligibility --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """What a repair is about: a record, or a list entry (with the record it follows, if any)."""

    subject_id: int
    department_id: int
    record: Record | None
    entry: sanctions.ListEntry | None
    label: str


def target_of(session: Session, data: RepairIn) -> Target:
    if (data.record_id is None) == (data.entry_id is None):
        raise Invalid("REPAIR_TARGET", "请指定一条信用记录或一条名单记录（二选一）", field="record_id")
    if data.record_id is not None:
        record = records.get(session, data.record_id)
        name = catalogue.item_names(session).get(record.item_code, record.item_code)
        return Target(record.subject_id, record.department_id, record, None, f"{name}（{record.natural_key}）")
    entry = sanctions.get_entry(session, data.entry_id or 0)
    source = records.get(session, entry.source_record_id) if entry.source_record_id else None
    kind = sanctions.list_type_by_id(session, entry.list_type_id)
    return Target(entry.subject_id, entry.department_id, source, entry, f"{kind.name}（{entry.decision_number}）")


def _refuse(code: str, reason: str, earliest: datetime | None = None) -> Eligibility:
    return Eligibility(eligible=False, code=code, reason=reason, earliest=earliest)


def _min_months(session: Session, record: Record | None, severity: str | None) -> int:
    if record is not None:
        version = catalogue.version_snapshot(session, record.item_version_id)
        if version.min_publication_months is not None:
            return version.min_publication_months
    periods = records.publication_periods(session)
    return int(periods.get(severity or "", {}).get("min_months", 0))


def _record_refusal(session: Session, record: Record, now: datetime) -> Eligibility | None:
    item = catalogue.version_snapshot(session, record.item_version_id)
    if record.kind == "repair":
        return _refuse("REPAIR_ALREADY_REPAIRED", "该记录已完成信用修复")
    if not records.is_current(session, record):
        return _refuse("REPAIR_NOT_CURRENT", "该记录已被更正、撤销或修复，请对最新记录申请")
    if item.credit_nature != "失信":
        return _refuse("REPAIR_NOT_DISHONESTY", f"“{item.name}”不是失信信息，无需信用修复")
    if record.item_code in rules(session)["not_repairable_items"]:
        return _refuse("REPAIR_NOT_REPAIRABLE", f"“{item.name}”不适用信用修复程序，请向认定机关申请依法屏蔽或删除")
    if not record.published or (record.publication_ends_at is not None and record.publication_ends_at <= now):
        return _refuse("REPAIR_NOT_PUBLISHED", "该记录未在公示期内（未公示或公示期已满），已不再公示，无需修复")
    return None


def _too_early(session: Session, record: Record | None, entry: sanctions.ListEntry | None, severity: str | None,
               now: datetime) -> Eligibility | None:
    months = _min_months(session, record, severity)
    started = entry.listed_at if entry is not None else (record.publication_starts_at if record else None)
    if started is None or months == 0:
        return None
    earliest = clock.start_of(add_months(clock.local(started).date(), months))
    if now < earliest:
        return _refuse("REPAIR_TOO_EARLY", f"最短公示期（{months}个月）未满，可于{clock.local(earliest):%Y年%m月%d日}起申请",
                       earliest)
    return None


def _repeated(session: Session, target: Target) -> Eligibility | None:
    if target.record is None:
        return None
    limit = rules(session)["repeated_dishonesty"]
    since = add_months(target.record.decision_date or clock.today(), -int(limit["window_months"]))
    same = session.scalar(select(func.count()).select_from(records.current_query().where(
        Record.subject_id == target.subject_id, Record.item_code == target.record.item_code,
        Record.decision_date >= since).subquery())) or 0
    if same >= int(limit["max_records"]):
        return _refuse("REPAIR_REPEATED", f"{limit['window_months']}个月内同类失信记录{same}条，属于重复失信，暂不予修复")
    return None


def _open_application(session: Session, target: Target) -> RepairApplication | None:
    query = select(RepairApplication).where(RepairApplication.status.in_(OPEN))
    if target.entry is not None:
        query = query.where(RepairApplication.entry_id == target.entry.id)
    else:
        assert target.record is not None
        query = query.where(RepairApplication.record_id == target.record.id)
    return session.scalar(query.limit(1))


def _entry_refusal(session: Session, target: Target, now: datetime) -> Eligibility | None:
    assert target.entry is not None
    kind = sanctions.list_type_by_id(session, target.entry.list_type_id)
    if kind.nature != "失信":
        return _refuse("REPAIR_NOT_DISHONESTY", f"“{kind.name}”是守信激励名单，无需信用修复")
    if kind.code in rules(session)["not_repairable_list_types"]:
        return _refuse("REPAIR_NOT_REPAIRABLE", f"“{kind.name}”不适用信用修复程序：{kind.exit_conditions}")
    if sanctions.entry_status(target.entry, sanctions.exit_of(session, target.entry.id), now) != "在列":
        return _refuse("REPAIR_NOT_LISTED", "该主体已不在此名单中，无需修复")
    return _too_early(session, target.record, target.entry, kind.severity, now)


def eligibility(session: Session, target: Target) -> Eligibility:
    """Whether the target may be repaired now, and if not, why (and from when)."""
    now = clock.now()
    if target.entry is not None:
        refusal = _entry_refusal(session, target, now)
    else:
        assert target.record is not None
        refusal = _record_refusal(session, target.record, now) or _too_early(
            session, target.record, None, target.record.severity, now)
    refusal = refusal or _repeated(session, target)
    if refusal is None and _open_application(session, target) is not None:
        refusal = _refuse("REPAIR_DUPLICATE", "已有一份针对该记录的修复申请正在办理，请勿重复申请")
    return refusal or Eligibility(eligible=True)


# --- repair: the workflow ----------------------------------------------------------------------------------

def _number(session: Session, prefix: str, model: Any) -> str:
    year = clock.today().year
    count = session.scalar(select(func.count()).select_from(model).where(model.number.like(f"{prefix}{year}%"))) or 0
    return f"{prefix}{year}{count + 1:06d}"


def _step(session: Session, actor: Actor, application: RepairApplication, step: str, note: str = "") -> None:
    session.add(RepairStep(application_id=application.id, step=step, note=note, at=utcnow(), by=actor.username,
                           department_id=actor.department_id))
    audit.append(session, actor, f"repair.{step}", object_type="repair_application", object_id=application.id,
                 subject_id=application.subject_id, detail={"number": application.number, "note": note,
                                                            "status": application.status})


def _check_applicant(actor: Actor, target: Target) -> None:
    if actor.subject_id != target.subject_id and not _is_authority(actor):
        raise Forbidden("REPAIR_NOT_YOURS", "只能为本主体的信用记录申请信用修复")


def _check_required_materials(session: Session, materials: list[MaterialIn]) -> None:
    given = {m.kind for m in materials}
    missing = [MATERIAL_LABELS[k] for k in rules(session)["required_materials"] if k not in given]
    if missing:
        raise Invalid("REPAIR_MATERIALS_MISSING", f"请上传：{'、'.join(missing)}", field="materials")
    check_materials(materials)


def apply(session: Session, actor: Actor, data: RepairIn, materials: list[MaterialIn]) -> RepairApplication:
    """提交信用修复申请 — refused with the reason if the target is not eligible now."""
    target = target_of(session, data)
    _check_applicant(actor, target)
    verdict = eligibility(session, target)
    if not verdict.eligible:
        raise (Conflict if verdict.code == "REPAIR_DUPLICATE" else Invalid)(
            verdict.code, verdict.reason, earliest=verdict.earliest.isoformat() if verdict.earliest else None)
    if not data.obligations_fulfilled:
        raise Invalid("REPAIR_OBLIGATIONS", "申请信用修复须已履行行政处罚等法定责任和义务", field="obligations_fulfilled")
    _check_required_materials(session, materials)
    application = RepairApplication(
        number=_number(session, "XYXF", RepairApplication), subject_id=target.subject_id,
        target="entry" if target.entry is not None else "record", record_id=target.record.id if target.record else None,
        entry_id=target.entry.id if target.entry else None, deciding_department_id=target.department_id,
        status="submitted", reasons=data.reasons.strip(), obligations_fulfilled=True, submitted_at=utcnow(),
        submitted_by=actor.username, user_id=actor.user_id,
        intake_due_at=_deadline(session, int(rules(session)["intake_working_days"])), decision_due_at=None,
        decided_at=None, repair_record_id=None)
    session.add(application)
    session.flush()
    _keep(session, actor, "repair", application.id, materials)
    _step(session, actor, application, "submit", target.label)
    return application


def get_application(session: Session, application_id: int) -> RepairApplication:
    found = session.get(RepairApplication, application_id)
    if found is None:
        raise NotFound("REPAIR_NOT_FOUND", f"信用修复申请不存在：{application_id}")
    return found


def _in_status(application: RepairApplication, *statuses: str) -> None:
    if application.status not in statuses:
        status = REPAIR_STATUS.get(application.status, application.status)
        raise Conflict("REPAIR_WRONG_STATE", f"申请{application.number}当前状态为“{status}”，不能办理此步骤")


def _subject_notice(session: Session, application: RepairApplication, title: str, body: str = "") -> None:
    notifications.notify(session, title=title, body=body, url=f"/me/repairs/{application.id}",
                         subject_id=application.subject_id)


def accept(session: Session, actor: Actor, application_id: int, note: str = "") -> RepairApplication:
    """受理 by the credit authority's platform; the deciding department's deadline starts."""
    if not _is_authority(actor):
        raise Forbidden("REPAIR_INTAKE_BY_AUTHORITY", "信用修复申请由信用主管部门（平台）受理")
    application = get_application(session, application_id)
    _in_status(application, "submitted")
    department = access.get_department(session, application.deciding_department_id)
    days = rules(session)["decision_working_days_by_sector"].get(department.sector, rules(session)["decision_working_days"])
    application.status = "accepted"
    application.decision_due_at = _deadline(session, int(days))
    _step(session, actor, application, "accept", note)
    notifications.notify(session, title=f"请审核信用修复申请 {application.number}", url=f"/repairs/{application.id}",
                         body=f"请于{clock.local(application.decision_due_at):%Y年%m月%d日}前作出决定（{days}个工作日）",
                         department_id=application.deciding_department_id)
    _subject_notice(session, application, f"信用修复申请 {application.number} 已受理")
    return application


def not_accept(session: Session, actor: Actor, application_id: int, note: str) -> RepairApplication:
    """不予受理, with the reason the subject will read."""
    if not _is_authority(actor):
        raise Forbidden("REPAIR_INTAKE_BY_AUTHORITY", "信用修复申请由信用主管部门（平台）受理")
    if len(note.strip()) < 2:
        raise Invalid("REPAIR_NOTE_REQUIRED", "请填写不予受理的理由", field="note")
    application = get_application(session, application_id)
    _in_status(application, "submitted")
    application.status, application.decided_at = "not_accepted", utcnow()
    _step(session, actor, application, "not_accept", note.strip())
    _subject_notice(session, application, f"信用修复申请 {application.number} 不予受理", note.strip())
    return application


def _check_decider(actor: Actor, application: RepairApplication) -> None:
    if actor.department_id != application.deciding_department_id:
        raise Forbidden("REPAIR_WRONG_DEPARTMENT", "信用修复由作出失信认定的部门决定（谁认定、谁修复）")


def approve(session: Session, actor: Actor, application_id: int, note: str = "") -> RepairApplication:
    """同意修复: the record and the lists it put the subject on stop having effect, now."""
    application = get_application(session, application_id)
    _check_decider(actor, application)
    _in_status(application, "accepted")
    reason = f"信用修复（{application.number}）"
    if application.record_id is not None:
        current = records.get(session, application.record_id)
        if records.is_current(session, current):
            application.repair_record_id = records.mark_repaired(session, actor, current.id, reason).id
    if application.entry_id is not None and sanctions.exit_of(session, application.entry_id) is None:
        sanctions.exit_for_repair(session, actor, application.entry_id, application.number)
    application.status, application.decided_at = "approved", utcnow()
    _step(session, actor, application, "approve", note)
    _subject_notice(session, application, f"信用修复申请 {application.number} 已同意修复",
                    "相关失信信息已停止公示，相关名单已移出，联合惩戒措施已解除。")
    return application


def refuse(session: Session, actor: Actor, application_id: int, note: str) -> RepairApplication:
    """不予修复, with the reason."""
    if len(note.strip()) < 2:
        raise Invalid("REPAIR_NOTE_REQUIRED", "请填写不予修复的理由", field="note")
    application = get_application(session, application_id)
    _check_decider(actor, application)
    _in_status(application, "accepted")
    application.status, application.decided_at = "refused", utcnow()
    _step(session, actor, application, "refuse", note.strip())
    _subject_notice(session, application, f"信用修复申请 {application.number} 不予修复", note.strip())
    return application


def withdraw(session: Session, actor: Actor, application_id: int) -> RepairApplication:
    application = get_application(session, application_id)
    if actor.subject_id != application.subject_id:
        raise Forbidden("REPAIR_NOT_YOURS", "只能撤回本主体的申请")
    _in_status(application, *OPEN)
    application.status, application.decided_at = "withdrawn", utcnow()
    _step(session, actor, application, "withdraw")
    return application


def steps(session: Session, application_id: int) -> list[RepairStep]:
    return list(session.scalars(select(RepairStep).where(RepairStep.application_id == application_id)
                                .order_by(RepairStep.id)))


def may_see(actor: Actor, application: RepairApplication) -> bool:
    return (_is_authority(actor) or actor.role == "auditor" or actor.subject_id == application.subject_id
            or actor.department_id == application.deciding_department_id)


def application_for(session: Session, actor: Actor, application_id: int) -> RepairApplication:
    application = get_application(session, application_id)
    if not may_see(actor, application):
        raise Forbidden("REPAIR_NOT_YOURS", "无权查看该信用修复申请")
    _audit_read(session, actor, "repair_application", application.id, application.subject_id)
    return application


def _audit_read(session: Session, actor: Actor, kind: str, case_id: int, subject_id: int) -> None:
    """Staff reading a subject's case is a non-public read: audited (the subject reading its own is not)."""
    if actor.subject_id != subject_id:
        audit.append(session, actor, f"{kind}.read", object_type=kind, object_id=case_id, subject_id=subject_id)


def applications(session: Session, actor: Actor, *, status: str | None = None, limit: int = 100,
                 offset: int = 0) -> list[RepairApplication]:
    """The applications an actor handles or made: the authority all, a department those it decides,
    a subject its own."""
    query = select(RepairApplication)
    if actor.subject_id is not None:
        query = query.where(RepairApplication.subject_id == actor.subject_id)
    elif not (_is_authority(actor) or actor.role == "auditor"):
        query = query.where(RepairApplication.deciding_department_id == (actor.department_id or -1))
    if status:
        query = query.where(RepairApplication.status == status)
    return list(session.scalars(query.order_by(RepairApplication.id.desc()).limit(limit).offset(offset)))


def overdue(application: RepairApplication, at: datetime | None = None) -> bool:
    at = at or clock.now()
    due = application.intake_due_at if application.status == "submitted" else application.decision_due_at
    return application.status in OPEN and due is not None and due <= at


def notice_deliveries(session: Session, application: RepairApplication) -> list[Any]:
    """Where the repair notice went and whether each reader acknowledged it (送达确认)."""
    from xinyong.feed import service as feed

    return feed.deliveries(session, application.repair_record_id) if application.repair_record_id else []


# --- objections (异议) ------------------------------------------------------------------------------------

def _objection_days(session: Session) -> int:
    return int(policy.get(session, "objections")["working_days"])


def object_to(session: Session, actor: Actor, data: ObjectionIn, materials: list[MaterialIn]) -> Objection:
    """提出异议 against a current record of one's own (or registered by the authority for someone named)."""
    record = records.get(session, data.record_id)
    if actor.subject_id != record.subject_id and not _is_authority(actor):
        raise Forbidden("OBJECTION_NOT_YOURS", "只能对本主体的信用记录提出异议")
    if _is_authority(actor) and not data.objector.strip():
        raise Invalid("OBJECTION_OBJECTOR_REQUIRED", "代为登记异议时须填写异议人", field="objector")
    if record.kind in ("revocation", "repair") or not records.is_current(session, record):
        raise Invalid("OBJECTION_RECORD_NOT_CURRENT", "该记录已被更正、撤销或修复，请对最新记录提出异议")
    if session.scalar(select(Objection.id).where(Objection.record_id == record.id, Objection.status == "open")):
        raise Conflict("OBJECTION_DUPLICATE", "该记录已有异议正在处理，请勿重复提出")
    check_materials(materials)
    subject = subjects.get(session, record.subject_id)
    objection = Objection(number=_number(session, "XYYY", Objection), subject_id=record.subject_id,
                          record_id=record.id, department_id=record.department_id,
                          objector=(data.objector.strip() or subject.name)[:100], reasons=data.reasons.strip(),
                          status="open", submitted_at=utcnow(), submitted_by=actor.username, user_id=actor.user_id,
                          due_at=_deadline(session, _objection_days(session)), decided_at=None, decided_by=None,
                          decision_note="", result_record_id=None)
    session.add(objection)
    session.flush()
    _keep(session, actor, "objection", objection.id, materials)
    audit.append(session, actor, "objection.submit", object_type="objection", object_id=objection.id,
                 subject_id=record.subject_id, detail={"number": objection.number, "record": record.id})
    notifications.notify(session, title=f"请处理异议 {objection.number}", url=f"/objections/{objection.id}",
                         body=f"请于{clock.local(objection.due_at):%Y年%m月%d日}前核实并答复", department_id=record.department_id)
    return objection


def get_objection(session: Session, objection_id: int) -> Objection:
    found = session.get(Objection, objection_id)
    if found is None:
        raise NotFound("OBJECTION_NOT_FOUND", f"异议不存在：{objection_id}")
    return found


def answer(session: Session, actor: Actor, objection_id: int, data: AnswerIn) -> Objection:
    """The providing department's answer: correct (a new fact linked to the old), revoke, or uphold."""
    objection = get_objection(session, objection_id)
    if actor.department_id != objection.department_id:
        raise Forbidden("OBJECTION_WRONG_DEPARTMENT", "异议由提供该信用记录的部门核实处理")
    if objection.status != "open":
        raise Conflict("OBJECTION_DECIDED", f"异议{objection.number}已处理完毕")
    record = records.get(session, objection.record_id)
    if data.outcome == "corrected":
        objection.result_record_id = _correct(session, actor, record, data)
    elif data.outcome == "revoked":
        objection.result_record_id = records.revoke(session, actor, record.id, f"异议成立：{data.note.strip()}").id
    objection.status, objection.decided_at, objection.decided_by = data.outcome, utcnow(), actor.username
    objection.decision_note = data.note.strip()
    audit.append(session, actor, f"objection.{data.outcome}", object_type="objection", object_id=objection.id,
                 subject_id=objection.subject_id, detail={"number": objection.number, "note": objection.decision_note,
                                                          "result_record": objection.result_record_id})
    notifications.notify(session, title=f"异议 {objection.number} 处理结果：{_OUTCOME_LABELS[data.outcome]}",
                         body=objection.decision_note, url=f"/me/objections/{objection.id}", subject_id=objection.subject_id)
    return objection


_OUTCOME_LABELS = {"corrected": "已更正", "revoked": "已撤销", "upheld": "维持原记录"}


def _correct(session: Session, actor: Actor, record: Record, data: AnswerIn) -> int:
    if not data.payload:
        raise Invalid("OBJECTION_PAYLOAD_REQUIRED", "更正须提供更正后的记录内容", field="payload")
    department = access.get_department(session, record.department_id)
    subject = subjects.get(session, record.subject_id)
    if subject.uscc is None:
        raise Invalid("OBJECTION_PERSON_CORRECTION", "自然人记录的更正请由提供部门重新报送")
    from xinyong.records.schemas import SubjectRef

    result = records.submit(session, actor, record.item_code, SubjectRef(uscc=subject.uscc, name=subject.name),
                            {**record.payload, **data.payload}, department_id=department.id, department_code=department.code)
    if result.outcome != "correction" or result.record.supersedes_id != record.id:
        raise Invalid("OBJECTION_CORRECTION_UNCHANGED", "更正后的内容与原记录相同，或改变了业务主键（文书号），请检查",
                      field="payload")
    return result.record.id


def under_objection(session: Session, record_ids: list[int]) -> set[int]:
    """Which of these records are marked 异议处理中 now."""
    if not record_ids:
        return set()
    return set(session.scalars(select(Objection.record_id).where(Objection.status == "open",
                                                                 Objection.record_id.in_(record_ids))))


def objections(session: Session, actor: Actor, *, status: str | None = None, limit: int = 100,
               offset: int = 0) -> list[Objection]:
    query = select(Objection)
    if actor.subject_id is not None:
        query = query.where(Objection.subject_id == actor.subject_id)
    elif not (_is_authority(actor) or actor.role == "auditor"):
        query = query.where(Objection.department_id == (actor.department_id or -1))
    if status:
        query = query.where(Objection.status == status)
    return list(session.scalars(query.order_by(Objection.id.desc()).limit(limit).offset(offset)))


def objection_for(session: Session, actor: Actor, objection_id: int) -> Objection:
    objection = get_objection(session, objection_id)
    if not (_is_authority(actor) or actor.role == "auditor" or actor.subject_id == objection.subject_id
            or actor.department_id == objection.department_id):
        raise Forbidden("OBJECTION_NOT_YOURS", "无权查看该异议")
    _audit_read(session, actor, "objection", objection.id, objection.subject_id)
    return objection


# --- to-do list ------------------------------------------------------------------------------------------

def todo_items(session: Session, actor: Actor) -> list[Todo]:
    """Applications to take in (authority), to decide (department), objections to answer (department)."""
    now = clock.now()
    items: list[Todo] = []
    if _is_authority(actor):
        for a in session.scalars(select(RepairApplication).where(RepairApplication.status == "submitted")):
            items.append(Todo("信用修复", f"受理信用修复申请 {a.number}", f"/repairs/{a.id}", a.intake_due_at,
                              a.intake_due_at <= now))
    if actor.department_id is not None:
        for a in session.scalars(select(RepairApplication).where(
                RepairApplication.status == "accepted", RepairApplication.deciding_department_id == actor.department_id)):
            items.append(Todo("信用修复", f"审核信用修复申请 {a.number}", f"/repairs/{a.id}", a.decision_due_at,
                              a.decision_due_at is not None and a.decision_due_at <= now))
        for o in session.scalars(select(Objection).where(Objection.status == "open",
                                                         Objection.department_id == actor.department_id)):
            items.append(Todo("异议处理", f"答复异议 {o.number}", f"/objections/{o.id}", o.due_at, o.due_at <= now))
    return items
