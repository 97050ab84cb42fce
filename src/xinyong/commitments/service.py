"""Credit commitments (信用承诺): made by a subject to a department, kept or broken.

Who does what: a subject makes a commitment for itself, to a department it chooses; a department
registers one made at its window (书面承诺) for a subject, to itself; only the department a
commitment was made to finds it fulfilled or breached (谁受理、谁认定), once.

What flows where: a public commitment is published as a COMMITMENT record in the name of that
department, and each finding corrects that record's 履约状态. A breach is a COMMITMENT_BREACH
dishonesty record (一般, with the catalogue's legal basis), public or not — through the record store
it reaches the public page, the next evaluation run and the joint checks like any other record.

Natural persons: records about a person need the citizen ID, which the platform never keeps in
clear, so a person's commitments stay on the platform (never public) and a person's breach is
recorded on the commitment only — a person is restricted only through lists anyway.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import Department
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.commitments import rules
from xinyong.commitments.models import Commitment
from xinyong.commitments.schemas import STATUS_LABELS, TOLERANCE, CommitmentIn, RegistrationIn
from xinyong.db import utcnow
from xinyong.errors import Conflict, Forbidden, Invalid, NotFound
from xinyong.evaluation import service as evaluation
from xinyong.notifications.service import notify
from xinyong.notifications.todo import Todo
from xinyong.policy import service as policy
from xinyong.policy.calendar_service import working_calendar
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.sanctions import service as sanctions
from xinyong.subjects import identity
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject

AREA = "信用承诺"
AUTHORITY = "authority_admin"
PERSON = "natural_person"
PUBLIC_ITEM = "COMMITMENT"
BREACH_ITEM = "COMMITMENT_BREACH"
NUMBER_PREFIX = "XYCN"


# --- 容缺受理: who may have it ----------------------------------------------------------------------

def tolerance_rule(session: Session) -> rules.ToleranceRule:
    return rules.ToleranceRule.from_policy(policy.get(session, "tolerance_acceptance"))


def _model_name(session: Session, code: str) -> str:
    try:
        return evaluation.get_model(session, code).spec.name
    except NotFound:
        return code


def tolerance_allowed(session: Session, subject_id: int) -> tuple[bool, str]:
    """Whether the subject may make a 容缺受理型 commitment now, and why (policy ``tolerance_acceptance``):
    its grade in the model's latest run, and the lists it is on now."""
    rule = tolerance_rule(session)
    lists = sanctions.severities_in_force(session, subject_id)
    current = evaluation.current_grades(session, rule.grade_model, [subject_id])
    if current is None:
        return rules.tolerance(rule, grade=None, model_name=_model_name(session, rule.grade_model), lists=lists)
    _run_id, model_name, grades = current
    return rules.tolerance(rule, grade=grades.get(subject_id), model_name=model_name, lists=lists)


# --- making and registering ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Terms:
    kind: str
    matter_type: str | None
    matter: str
    content: str
    public: bool
    made_on: date
    materials_due_on: date | None


def _department(session: Session, department_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None:
        raise Invalid("COMMITMENT_DEPARTMENT_UNKNOWN", f"接受承诺的部门不存在：{department_id}", field="department_id")
    return department


def _number(commitment: Commitment, year: int) -> str:
    """承诺书编号 from the row's own id: unique without a counter that parallel writers would contend for."""
    return f"{NUMBER_PREFIX}{year}{commitment.id:06d}"


def _check_terms(session: Session, subject: Subject, department: Department, terms: _Terms) -> None:
    if terms.matter_type and terms.matter_type not in sanctions.matter_types(session):
        raise Invalid("COMMITMENT_MATTER_UNKNOWN", f"未知的事项类型：{terms.matter_type}", field="matter_type")
    if subject.kind == PERSON and terms.public:
        raise Invalid("COMMITMENT_PERSON_NOT_PUBLIC", "自然人的信用承诺不向社会公开，请取消“向社会公开”", field="public")
    if terms.made_on > clock.today():
        raise Invalid("COMMITMENT_DATE_FUTURE", "承诺日期不能晚于今天", field="made_on")
    if terms.kind == TOLERANCE:
        allowed, reason = tolerance_allowed(session, subject.id)
        if not allowed:
            raise Invalid("COMMITMENT_TOLERANCE_NOT_ALLOWED", f"{reason}。可改为其他类型的承诺，或补齐材料后再申请办理",
                          field="kind")
    rules.check_materials_due(terms.kind, terms.materials_due_on, made_on=terms.made_on, today=clock.today(),
                              calendar=working_calendar(session), max_working_days=tolerance_rule(session).max_working_days)
    same = session.scalar(select(Commitment.number).where(
        Commitment.subject_id == subject.id, Commitment.department_id == department.id, Commitment.kind == terms.kind,
        Commitment.matter == terms.matter, Commitment.status == "in_progress").limit(1))
    if same is not None:
        raise Conflict("COMMITMENT_DUPLICATE", f"已就“{terms.matter}”向{department.name}作出{terms.kind}承诺（{same}），"
                       "该承诺正在履约中", field="matter", number=same)


def _submitter(actor: Actor, department: Department) -> Actor:
    """Records are submitted in the name of the department the commitment was made to."""
    if actor.department_id == department.id:
        return actor
    return Actor(user_id=None, username=f"信用承诺：{actor.username}"[:64], role="system", department_id=department.id)


def _submit(session: Session, actor: Actor, commitment: Commitment, subject: Subject, department: Department,
            item: str, payload: dict[str, Any]) -> int:
    submission = records.submit(session, _submitter(actor, department), item, SubjectRef(uscc=subject.uscc, name=subject.name),
                                payload, department_id=department.id, department_code=department.code)
    return submission.record.id


def _public_payload(commitment: Commitment) -> dict[str, Any]:
    return {"CNBH": commitment.number, "CNLX": commitment.kind, "CNSX": f"{commitment.matter}：{commitment.content}",
            "CNRQ": commitment.made_on.isoformat(), "LYZT": STATUS_LABELS[commitment.status]}


def _create(session: Session, actor: Actor, subject: Subject, department: Department, terms: _Terms,
            channel: str) -> Commitment:
    _check_terms(session, subject, department, terms)
    commitment = Commitment(number=f"~{secrets.token_hex(8)}", subject_id=subject.id,
                            department_id=department.id, kind=terms.kind, matter_type=terms.matter_type or None,
                            matter=terms.matter, content=terms.content, made_on=terms.made_on, public=terms.public,
                            materials_due_on=terms.materials_due_on, status="in_progress", record_id=None,
                            breach_record_id=None, channel=channel, made_by=actor.username, user_id=actor.user_id,
                            created_at=utcnow(), decided_at=None, decided_by=None, decision_note="")
    session.add(commitment)
    session.flush()
    commitment.number = _number(commitment, clock.today().year)
    session.flush()
    if commitment.public:
        commitment.record_id = _submit(session, actor, commitment, subject, department, PUBLIC_ITEM,
                                       _public_payload(commitment))
    audit.append(session, actor, f"commitment.{'make' if channel == 'online' else 'register'}", object_type="commitment",
                 object_id=commitment.number, subject_id=subject.id,
                 detail={"department": department.code, "kind": terms.kind, "matter": terms.matter,
                         "public": terms.public, "made_on": terms.made_on.isoformat(),
                         "materials_due_on": terms.materials_due_on.isoformat() if terms.materials_due_on else None,
                         "record": commitment.record_id})
    if channel == "online":
        notify(session, title=f"收到信用承诺 {commitment.number}", url=f"/commitments/{commitment.id}",
               body=f"{subject.name}就“{terms.matter}”向本部门作出{terms.kind}承诺" + (
                   f"，补齐材料期限{terms.materials_due_on.isoformat()}" if terms.materials_due_on else ""),
               department_id=department.id)
    else:
        notify(session, title=f"{department.name}登记了你的信用承诺 {commitment.number}", url=f"/me/commitments#c-{commitment.id}",
               body=f"就“{terms.matter}”作出的{terms.kind}承诺已登记，请按承诺履行", subject_id=subject.id)
    return commitment


def make(session: Session, actor: Actor, data: CommitmentIn) -> Commitment:
    """A subject makes a commitment for itself to a department (在线承诺)."""
    if actor.subject_id is None:
        raise Forbidden("COMMITMENT_SUBJECT_REQUIRED", "只有信用主体账号可以在线作出信用承诺")
    subject = subjects.get(session, actor.subject_id)
    terms = _Terms(data.kind, data.matter_type, data.matter.strip(), data.content.strip(), data.public, clock.today(),
                   data.materials_due_on)
    return _create(session, actor, subject, _department(session, data.department_id), terms, "online")


def register(session: Session, actor: Actor, data: RegistrationIn) -> Commitment:
    """A department registers a commitment a subject made to it in writing at its window (窗口承诺)."""
    if actor.department_id is None:
        raise Forbidden("COMMITMENT_DEPARTMENT_REQUIRED", "须以部门账号登记本部门收到的信用承诺")
    department = access.get_department(session, actor.department_id)
    subject = subjects.by_code(session, data.subject_code)
    if subject is None:
        raise Invalid("COMMITMENT_SUBJECT_UNKNOWN", f"主体库中没有统一社会信用代码为{data.subject_code.strip().upper()}的主体",
                      field="subject_code")
    terms = _Terms(data.kind, data.matter_type, data.matter.strip(), data.content.strip(), data.public,
                   data.made_on or clock.today(), data.materials_due_on)
    return _create(session, actor, subject, department, terms, "offline")


# --- findings: fulfilled or breached ------------------------------------------------------------------

def get(session: Session, commitment_id: int) -> Commitment:
    found = session.get(Commitment, commitment_id)
    if found is None:
        raise NotFound("COMMITMENT_NOT_FOUND", f"信用承诺不存在：{commitment_id}")
    return found


def _decidable(session: Session, actor: Actor, commitment_id: int, note: str) -> tuple[Commitment, str]:
    commitment = session.get(Commitment, commitment_id, with_for_update=True)
    if commitment is None:
        raise NotFound("COMMITMENT_NOT_FOUND", f"信用承诺不存在：{commitment_id}")
    if actor.department_id != commitment.department_id:
        name = access.get_department(session, commitment.department_id).name
        raise Forbidden("COMMITMENT_NOT_YOURS", f"该承诺是向{name}作出的，只有该部门可以认定履约情况")
    if commitment.status != "in_progress":
        raise Conflict("COMMITMENT_DECIDED", f"该承诺已于{clock.local(commitment.decided_at or utcnow()):%Y-%m-%d}认定为"
                       f"{STATUS_LABELS[commitment.status]}，不能再次认定")
    note = note.strip()
    if len(note) < 2:
        raise Invalid("COMMITMENT_NOTE_REQUIRED", "请填写履约情况或未履行情况说明", field="note")
    return commitment, note


def _decide(session: Session, actor: Actor, commitment: Commitment, status: str, note: str) -> None:
    commitment.status = status
    commitment.decided_at = utcnow()
    commitment.decided_by = actor.username
    commitment.decision_note = note[:1000]


def fulfil(session: Session, actor: Actor, commitment_id: int, note: str) -> Commitment:
    """The department finds the commitment kept (已履约); a public one's record says so."""
    commitment, note = _decidable(session, actor, commitment_id, note)
    _decide(session, actor, commitment, "fulfilled", note)
    subject, department = subjects.get(session, commitment.subject_id), access.get_department(session, commitment.department_id)
    if commitment.public and subject.uscc:
        commitment.record_id = _submit(session, actor, commitment, subject, department, PUBLIC_ITEM,
                                       _public_payload(commitment))
    session.flush()
    audit.append(session, actor, "commitment.fulfil", object_type="commitment", object_id=commitment.number,
                 subject_id=subject.id, detail={"note": note, "record": commitment.record_id})
    notify(session, title=f"信用承诺 {commitment.number} 已认定履约", url=f"/me/commitments#c-{commitment.id}",
           body=f"{department.name}认定你就“{commitment.matter}”作出的{commitment.kind}承诺已履行：{note}",
           subject_id=subject.id)
    return commitment


def breach(session: Session, actor: Actor, commitment_id: int, note: str) -> Commitment:
    """The department finds the commitment broken (未履约): a COMMITMENT_BREACH dishonesty record is
    stored (organisations), and a public commitment's record says 未履约."""
    commitment, note = _decidable(session, actor, commitment_id, note)
    due = commitment.materials_due_on
    if commitment.kind == TOLERANCE and due is not None and clock.today() <= due:
        raise Invalid("COMMITMENT_NOT_YET_DUE", f"补齐材料期限{due.isoformat()}尚未届满（当日仍可补齐），期限届满后方可认定未履约",
                      field="note")
    _decide(session, actor, commitment, "breached", note)
    subject, department = subjects.get(session, commitment.subject_id), access.get_department(session, commitment.department_id)
    if subject.uscc:
        commitment.breach_record_id = _submit(session, actor, commitment, subject, department, BREACH_ITEM, {
            "CNBH": commitment.number, "CNLX": commitment.kind, "CNSX": commitment.matter, "WLYQK": note,
            "RDRQ": clock.today().isoformat(), "RDJG": department.name})
        if commitment.public:
            commitment.record_id = _submit(session, actor, commitment, subject, department, PUBLIC_ITEM,
                                           _public_payload(commitment))
    session.flush()
    audit.append(session, actor, "commitment.breach", object_type="commitment", object_id=commitment.number,
                 subject_id=subject.id, detail={"note": note, "breach_record": commitment.breach_record_id,
                                                "record": commitment.record_id})
    notify(session, title=f"信用承诺 {commitment.number} 被认定未履行", url=f"/me/commitments#c-{commitment.id}",
           body=(f"{department.name}认定你就“{commitment.matter}”作出的{commitment.kind}承诺未履行：{note}。"
                 + ("该认定已作为失信信息记入信用记录，可依法提出异议或在符合条件后申请信用修复。" if subject.uscc else "")),
           subject_id=subject.id)
    return commitment


# --- reading ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CommitmentView:
    commitment: Commitment
    subject_name: str
    subject_code: str
    department: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.commitment.status]

    @property
    def overdue(self) -> bool:
        """容缺受理 materials past their deadline and nobody has decided yet."""
        due = self.commitment.materials_due_on
        return self.commitment.status == "in_progress" and due is not None and due < clock.today()


def _views(session: Session, rows: Sequence[tuple[Commitment, Subject]]) -> list[CommitmentView]:
    names = access.department_names(session)
    return [CommitmentView(c, s.name if s.uscc else identity.mask_name(s.name), s.uscc or s.masked_id or "",
                           names.get(c.department_id, "")) for c, s in rows]


def _query() -> Any:
    return select(Commitment, Subject).join(Subject, Subject.id == Commitment.subject_id)


def for_subject(session: Session, subject_id: int) -> list[CommitmentView]:
    """A subject's commitments, newest first."""
    rows = session.execute(_query().where(Commitment.subject_id == subject_id).order_by(Commitment.id.desc())).all()
    return _views(session, [(c, s) for c, s in rows])


def sees_all(actor: Actor) -> bool:
    """The credit authority oversees every department's commitments (read only)."""
    return actor.role == AUTHORITY or actor.is_system


def for_department(session: Session, actor: Actor, *, status: str | None = None, kind: str | None = None,
                   q: str = "", overdue: bool = False, limit: int = 50, offset: int = 0) -> tuple[int, list[CommitmentView]]:
    """The commitments made to the actor's department (the authority: every department), newest first."""
    query = _query()
    if not sees_all(actor):
        if actor.department_id is None:
            raise Forbidden("COMMITMENT_DEPARTMENT_REQUIRED", "须以部门账号查看本部门收到的信用承诺")
        query = query.where(Commitment.department_id == actor.department_id)
    if status:
        query = query.where(Commitment.status == status)
    if kind:
        query = query.where(Commitment.kind == kind)
    if overdue:
        query = query.where(Commitment.status == "in_progress", Commitment.materials_due_on < clock.today())
    if q.strip():
        text = q.strip()
        query = query.where(or_(Commitment.number == text.upper(), Subject.uscc == text.upper(),
                                Commitment.matter.contains(text, autoescape=True),
                                Subject.name.contains(text, autoescape=True)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Commitment.id.desc()).limit(limit).offset(offset)).all()
    return total, _views(session, [(c, s) for c, s in rows])


def view_for(session: Session, actor: Actor, commitment_id: int) -> CommitmentView:
    """One commitment, for its subject, the department it was made to, or the authority."""
    row = session.execute(_query().where(Commitment.id == commitment_id)).first()
    if row is None or (actor.subject_id is not None and row[0].subject_id != actor.subject_id):
        raise NotFound("COMMITMENT_NOT_FOUND", f"信用承诺不存在：{commitment_id}")
    if actor.subject_id is None and not sees_all(actor) and actor.department_id != row[0].department_id:
        raise Forbidden("COMMITMENT_NOT_YOURS", "该承诺不是向本部门作出的")
    return _views(session, [(row[0], row[1])])[0]


def departments(session: Session) -> list[Department]:
    """The departments a subject may make a commitment to."""
    return access.departments(session)


# --- to-do items ----------------------------------------------------------------------------------------

def _end_of(day: date) -> datetime:
    return clock.start_of(day + timedelta(days=1)) - timedelta(seconds=1)


def todo_items(session: Session, actor: Actor) -> list[Todo]:
    """容缺受理 materials: for a department, commitments made to it whose deadline has come (overdue
    when passed); for a subject, its own commitments with materials still due."""
    today = clock.today()
    pending = [Commitment.status == "in_progress", Commitment.materials_due_on.is_not(None)]
    if actor.subject_id is not None:
        rows = session.scalars(select(Commitment).where(Commitment.subject_id == actor.subject_id, *pending)
                               .order_by(Commitment.materials_due_on, Commitment.id)).all()
        return [Todo(area=AREA, title=f"补齐容缺受理材料 {c.number}（{c.matter}）", url=f"/me/commitments#c-{c.id}",
                     due_at=_end_of(c.materials_due_on), overdue=c.materials_due_on < today)  # type: ignore[arg-type,operator]
                for c in rows]
    if actor.department_id is None:
        return []
    found = session.execute(_query().where(Commitment.department_id == actor.department_id, *pending,
                                           Commitment.materials_due_on <= today)
                            .order_by(Commitment.materials_due_on, Commitment.id)).all()
    return [Todo(area=AREA, title=f"核验容缺受理材料 {v.commitment.number}（{v.subject_name}：{v.commitment.matter}）",
                 url=f"/commitments/{v.commitment.id}", due_at=_end_of(v.commitment.materials_due_on),  # type: ignore[arg-type]
                 overdue=v.overdue) for v in _views(session, [(c, s) for c, s in found])]
