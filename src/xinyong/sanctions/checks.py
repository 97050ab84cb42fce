"""Joint checks at decision time (联合奖惩核查) and the departments' feedback (反馈).

An applying department asks, for one matter (事项), which measures apply to one subject or to a
batch (every bidder of a tender, from an XLSX/CSV file). The answer, per subject, is exactly the
measures of that matter whose own triggers the subject has now — an entry in force on one of the
measure's lists, a dishonesty record of one of its severities still in its publication window, or a
grade of one of its models — each with its legal basis and the reason it applies
(``rules.applicable``). Every check is stored with every subject asked about; the department then
reports, per measure applied, whether it took it and why not (反馈) within a working-day deadline.
"""

from __future__ import annotations

import gc
import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.config import get_settings
from xinyong.db import allocate_ids, bulk_insert, in_values, insert_tuples, utcnow
from xinyong.errors import DomainError, Forbidden, Invalid, NotFound
from xinyong.evaluation import service as evaluation
from xinyong.ingest import readers
from xinyong.notifications.todo import Todo
from xinyong.policy import calendar_service
from xinyong.policy import service as policy
from xinyong.records import service as records
from xinyong.sanctions import rules, service
from xinyong.sanctions.models import CheckFeedback, CheckHit, CheckSubject, JointCheck, ListEntry, ListType, Measure
from xinyong.sanctions.schemas import FeedbackIn
from xinyong.subjects import identity
from xinyong.subjects import service as subjects

MAX_BATCH = 200_000
CODE_COLUMNS = ("统一社会信用代码", "统一社会信用代码/身份证号码", "身份证号码", "证件号码", "主体代码", "代码", "uscc", "code")


@dataclass(slots=True)
class Asked:
    """One subject asked about: as given, and as found."""

    position: int
    given: str  # shown and stored: the code, or a masked citizen id
    subject_id: int | None = None
    kind: str = ""
    code: str | None = None
    name: str | None = None
    problem: str = ""  # why it could not be checked


@dataclass(frozen=True)
class Applied:
    measure: Measure
    triggers: list[rules.Trigger]


@dataclass(slots=True)
class Outcome:
    asked: Asked
    applied: list[Applied] = field(default_factory=list)
    outcome: str = "clean"  # clean / punish / reward / both / unknown / invalid


def _outcome(asked: Asked, applied: list[Applied]) -> Outcome:
    if asked.subject_id is None:
        return Outcome(asked, applied, "invalid" if asked.problem.startswith("代码无效") else "unknown")
    return Outcome(asked, applied, rules.outcome_of(a.measure.nature for a in applied) if applied else "clean")


# --- who is asked about -----------------------------------------------------------------------------

def _normal(raw: str) -> str:
    """The code as the registry stores it (full-width folded, spaces and hyphens out, upper case)."""
    text = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)
    return text.replace(" ", "").replace("-", "").strip().upper()


def _diagnose(session: Session, entry: Asked, text: str, secret: bytes) -> str | None:
    """For a code the registry does not hold as a USCC: its person key if it is a valid citizen ID;
    otherwise say on ``entry`` why it is invalid, or that it is a valid code nobody registered."""
    try:
        subjects.validate_code(session, text)
    except DomainError as as_code:
        try:
            number = identity.validate_citizen_id(text)
        except DomainError:
            entry.given = identity.mask_id(text) if text.isdigit() and len(text) >= 15 else text[:40]
            entry.problem = f"代码无效：{as_code.message}"
            return None
        entry.given = identity.mask_id(number)
        return identity.person_key(number, secret)
    entry.problem = "主体库中无此主体（未登记或代码有误），请核实后单独核查"
    return None


def resolve(session: Session, codes: Sequence[str], *, first_position: int = 1) -> list[Asked]:
    """Find each given code (统一社会信用代码 or 身份证号码) in the subject registry.

    Codes the registry holds were validated when stored, so they are only looked up; the full
    check (check digits, regions, ID birth dates) runs on the rest, to say why they were not found.
    """
    normal = [_normal(raw or "") for raw in codes]
    asked = [Asked(first_position + i, text[:40]) for i, text in enumerate(normal)]
    by_code = {f.uscc: f for f in subjects.lookup(session, codes=set(normal))}
    secret = get_settings().person_id_secret
    keys = {}
    for entry, text in zip(asked, normal, strict=True):
        if text not in by_code and (key := _diagnose(session, entry, text, secret)) is not None:
            keys[entry.position] = key
    by_key = {f.person_key: f for f in subjects.lookup(session, person_keys=set(keys.values()))}
    for entry, text in zip(asked, normal, strict=True):
        hit = by_code.get(text) or by_key.get(keys.get(entry.position, ""))
        if hit is not None:
            entry.subject_id, entry.kind, entry.code = hit.id, hit.kind, hit.uscc or hit.masked_id
            entry.name = hit.name if hit.uscc else identity.mask_name(hit.name)
            entry.problem = ""
        elif entry.position in keys:
            entry.problem = "主体库中无此主体（未登记或证件号码有误），请核实后单独核查"
    return asked


# --- what applies ---------------------------------------------------------------------------------------

def measure_rules(found: Iterable[Measure]) -> list[rules.MeasureRule]:
    return [rules.MeasureRule(id=m.id, nature=m.nature, list_types=frozenset(m.list_types),
                              record_severities=frozenset(m.record_severities), record_items=frozenset(m.record_items),
                              grades={g["model"]: frozenset(g["grades"]) for g in m.grade_triggers},
                              subject_kinds=frozenset(m.subject_kinds)) for m in found]


def _list_triggers(session: Session, subject_ids: Sequence[int], codes: set[str], at: datetime,
                   into: dict[int, list[rules.Trigger]]) -> None:
    types = {t.id: t for t in service.list_types(session) if t.code in codes}
    if not types:
        return
    rows = session.execute(select(ListEntry.id, ListEntry.subject_id, ListEntry.list_type_id, ListEntry.decision_number)
                           .where(in_values(session, ListEntry.subject_id, subject_ids),
                                  ListEntry.list_type_id.in_(list(types)), service.in_force(at)))
    for entry_id, subject_id, type_id, number in rows:
        kind = types[type_id]
        into[subject_id].append(rules.Trigger("list", entry_id, f"列入{kind.name}（{number}）", list_type=kind.code))


def _record_triggers(session: Session, subject_ids: Sequence[int], measures: Sequence[rules.MeasureRule], at: datetime,
                     into: dict[int, list[rules.Trigger]]) -> None:
    severities = {s for m in measures for s in m.record_severities}
    if not severities:
        return
    wanted = [m for m in measures if m.record_severities]
    items: set[str] = set() if any(not m.record_items for m in wanted) else {i for m in wanted for i in m.record_items}
    found = records.in_window_dishonesty(session, subject_ids, severities, items, at)
    names = catalogue.item_names(session) if found else {}
    for record_id, subject_id, item, severity in found:
        into[subject_id].append(rules.Trigger("record", record_id, f"{severity}失信记录：{names.get(item, item)}（{record_id}）",
                                              item=item, severity=severity))


def _grade_triggers(session: Session, subject_ids: Sequence[int], measures: Sequence[rules.MeasureRule],
                    into: dict[int, list[rules.Trigger]]) -> None:
    wanted: dict[str, set[str]] = defaultdict(set)
    for m in measures:
        for model, grades in m.grades.items():
            wanted[model] |= grades
    for model, grades in wanted.items():
        current = evaluation.current_grades(session, model, subject_ids)
        if current is None:
            continue
        run, name, by_subject = current
        for subject_id, grade in by_subject.items():
            if grade in grades:
                into[subject_id].append(rules.Trigger("grade", run, f"{name}等级 {grade}", model=model, grade=grade))


def triggers_of(session: Session, subject_ids: Sequence[int], measures: Sequence[rules.MeasureRule],
                at: datetime) -> dict[int, list[rules.Trigger]]:
    """What each subject is on or has that one of ``measures`` names (subjects with nothing are absent)."""
    found: dict[int, list[rules.Trigger]] = defaultdict(list)
    ids = sorted(set(subject_ids))
    _list_triggers(session, ids, {c for m in measures for c in m.list_types}, at, found)
    _record_triggers(session, ids, measures, at, found)
    _grade_triggers(session, ids, measures, found)
    return found


def decide(session: Session, matter_type: str, asked: Sequence[Asked]) -> list[Outcome]:
    """The measures of ``matter_type`` that apply to each subject asked about, now."""
    service.matter_label(session, matter_type)
    in_force = service.measures(session, matter_type=matter_type)
    by_id = {m.id: m for m in in_force}
    measure_list = measure_rules(in_force)
    index = rules.MeasureIndex(measure_list)
    triggers = triggers_of(session, [a.subject_id for a in asked if a.subject_id is not None], measure_list, clock.now())
    outcomes = []
    for entry in asked:
        found = triggers.get(entry.subject_id) if entry.subject_id is not None else None
        applied = [Applied(by_id[m.id], reasons) for m, reasons in index.applicable(entry.kind, found)] if found else []
        outcomes.append(_outcome(entry, applied))
    return outcomes


# --- recording a check ----------------------------------------------------------------------------------

def feedback_days(session: Session) -> int:
    return int(policy.get(session, "joint_check_feedback")["working_days"])


def _due(session: Session) -> datetime:
    """End of the N-th working day after today (Shanghai), N from policy."""
    last = calendar_service.working_calendar(session).add_working_days(clock.today(), feedback_days(session))
    return clock.start_of(last + timedelta(days=1))


def _department_of(session: Session, actor: Actor) -> int:
    if actor.department_id is None:
        raise Forbidden("CHECK_DEPARTMENT_REQUIRED", "联合奖惩核查须以部门身份发起")
    return actor.department_id


def record(session: Session, actor: Actor, matter_type: str, matter_reference: str, outcomes: Sequence[Outcome], *,
           channel: str, filename: str | None = None, file_sha256: str | None = None) -> tuple[JointCheck, list[int]]:
    """Store the check, every subject asked about and every measure applied; audit it.

    Returns the check and the ids given to the applied measures (hits), in outcome order."""
    hits = [(o, a) for o in outcomes for a in o.applied]
    check = JointCheck(department_id=_department_of(session, actor), user_id=actor.user_id, checked_by=actor.username,
                       matter_type=matter_type, matter_reference=matter_reference.strip(), channel=channel,
                       filename=filename, file_sha256=file_sha256, checked_at=utcnow(), subjects=len(outcomes),
                       unknown=sum(o.asked.subject_id is None for o in outcomes),
                       punished=sum(o.outcome in ("punish", "both") for o in outcomes),
                       rewarded=sum(o.outcome in ("reward", "both") for o in outcomes),
                       hits=len(hits), feedback_due_at=_due(session) if hits else None)
    session.add(check)
    session.flush()
    insert_tuples(session, CheckSubject.__table__, ("check_id", "position", "subject_id", "given_code", "outcome"),
                  [(check.id, o.asked.position, o.asked.subject_id, o.asked.given, o.outcome) for o in outcomes])
    ids = allocate_ids(session, CheckHit.__table__, len(hits))
    bulk_insert(session, CheckHit.__table__, [
        {"id": hit_id, "check_id": check.id, "position": o.asked.position, "subject_id": o.asked.subject_id,
         "measure_id": a.measure.id, "triggers": [{"kind": t.kind, "id": t.id, "label": t.label} for t in a.triggers]}
        for hit_id, (o, a) in zip(ids, hits, strict=True)])
    single = outcomes[0].asked.subject_id if len(outcomes) == 1 else None
    audit.append(session, actor, "sanctions.check", object_type="joint_check", object_id=check.id, subject_id=single,
                 detail={"matter_type": matter_type, "matter_reference": check.matter_reference, "channel": channel,
                         "subjects": check.subjects, "unknown": check.unknown, "punished": check.punished,
                         "rewarded": check.rewarded, "hits": check.hits, "file_sha256": file_sha256})
    return check, ids


def views_of(check: JointCheck, outcomes: Sequence[Outcome], hit_ids: Sequence[int]) -> list[SubjectView]:
    """What ``subject_rows`` would read back, built from the check just recorded (no second read)."""
    ids = iter(hit_ids)
    views = []
    for o in outcomes:
        row = CheckSubject(check_id=check.id, position=o.asked.position, subject_id=o.asked.subject_id,
                           given_code=o.asked.given, outcome=o.outcome)
        hits = [HitView(CheckHit(id=next(ids), check_id=check.id, position=o.asked.position, subject_id=o.asked.subject_id,
                                 measure_id=a.measure.id, triggers=[{"kind": t.kind, "id": t.id, "label": t.label}
                                                                    for t in a.triggers]), a.measure, None)
                for a in o.applied]
        views.append(SubjectView(row, o.asked.name, o.asked.code, hits))
    return views


@contextmanager
def _collector_paused(size: int) -> Iterator[None]:
    """A large batch allocates a few objects per subject, all freed by reference counting; the cyclic
    garbage collector would rescan them again and again (a third of the time at 100,000 subjects)."""
    if size < 2_000 or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def check_codes(session: Session, actor: Actor, matter_type: str, codes: Sequence[str], *,
                matter_reference: str = "", channel: str = "api") -> JointCheck:
    """Check the subjects named by ``codes`` for a matter and record it."""
    return check_and_show(session, actor, matter_type, codes, matter_reference=matter_reference, channel=channel,
                          show=False)[0]


def check_and_show(session: Session, actor: Actor, matter_type: str, codes: Sequence[str], *, matter_reference: str = "",
                   channel: str = "api", show: bool = True) -> tuple[JointCheck, list[SubjectView]]:
    """``check_codes``, also returning every subject's result as ``subject_rows`` would (for the API)."""
    _department_of(session, actor)
    service.matter_label(session, matter_type)
    if not codes:
        raise Invalid("CHECK_NO_SUBJECTS", "请至少提供一个统一社会信用代码或身份证号码", field="subjects")
    if len(codes) > MAX_BATCH:
        raise Invalid("CHECK_TOO_MANY", f"一次最多核查{MAX_BATCH}个主体，请拆分后提交", field="subjects")
    with _collector_paused(len(codes)):
        outcomes = decide(session, matter_type, resolve(session, codes))
        check, hit_ids = record(session, actor, matter_type, matter_reference, outcomes, channel=channel)
        return check, views_of(check, outcomes, hit_ids) if show else []


def _code_column(header: list[str]) -> int:
    cleaned = [h.strip().lower() for h in header]
    for name in CODE_COLUMNS:
        if name.lower() in cleaned:
            return cleaned.index(name.lower())
    raise Invalid("CHECK_FILE_NO_CODE_COLUMN", "文件缺少“统一社会信用代码”列（也可为“身份证号码”“证件号码”“主体代码”）",
                  field="file", header=header)


def codes_from_file(path: Path) -> tuple[list[str], list[int]]:
    """(codes, their row numbers) from a batch file: XLSX, CSV (UTF-8 or GBK), JSON or NDJSON."""
    source = readers.open_source(path)
    column = f"c{_code_column(source.header)}"
    codes: list[str] = []
    rows: list[int] = []
    for chunk in source.chunks():
        for code, row in zip(chunk[column].fill_null("").to_list(), chunk["__row"].to_list(), strict=True):
            if code.strip():
                codes.append(code)
                rows.append(row)
    if not codes:
        raise Invalid("CHECK_FILE_EMPTY", "文件中没有任何需要核查的主体代码", field="file")
    if len(codes) > MAX_BATCH:
        raise Invalid("CHECK_TOO_MANY", f"一次最多核查{MAX_BATCH}个主体，请拆分后提交", field="file")
    return codes, rows


def check_file(session: Session, actor: Actor, matter_type: str, path: Path, filename: str, *,
               matter_reference: str = "") -> JointCheck:
    """A batch check from an uploaded file; subjects not in the registry are reported, not fatal."""
    _department_of(session, actor)
    service.matter_label(session, matter_type)
    codes, rows = codes_from_file(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with _collector_paused(len(codes)):
        asked = resolve(session, codes)
        for entry, row in zip(asked, rows, strict=True):
            entry.position = row
        outcomes = decide(session, matter_type, asked)
        return record(session, actor, matter_type, matter_reference, outcomes, channel="batch",
                      filename=filename[:200], file_sha256=digest)[0]


# --- reading checks -----------------------------------------------------------------------------------

def get_check(session: Session, actor: Actor, check_id: int) -> JointCheck:
    """A check, for its own department or the credit authority."""
    check = session.get(JointCheck, check_id)
    if check is None:
        raise NotFound("CHECK_NOT_FOUND", f"核查记录不存在：{check_id}")
    if actor.role != service.AUTHORITY and actor.department_id != check.department_id:
        raise Forbidden("CHECK_NOT_YOURS", "只能查看本部门发起的核查")
    return check


@dataclass(frozen=True)
class HitView:
    hit: CheckHit
    measure: Measure
    feedback: CheckFeedback | None


@dataclass(frozen=True)
class SubjectView:
    row: CheckSubject
    name: str | None
    code: str | None
    hits: list[HitView]

    @property
    def punishments(self) -> list[HitView]:
        return [h for h in self.hits if h.measure.nature == "惩戒"]

    @property
    def incentives(self) -> list[HitView]:
        return [h for h in self.hits if h.measure.nature == "激励"]


def latest_feedback(session: Session, hit_ids: Sequence[int]) -> dict[int, CheckFeedback]:
    newest: dict[int, CheckFeedback] = {}
    if hit_ids:
        for fb in session.scalars(select(CheckFeedback).where(in_values(session, CheckFeedback.hit_id, hit_ids))
                                  .order_by(CheckFeedback.id)):
            newest[fb.hit_id] = fb
    return newest


def subject_rows(session: Session, check: JointCheck, *, outcome: str | None = None, limit: int = 200,
                 offset: int = 0) -> tuple[int, list[SubjectView]]:
    """The subjects of a check in file order with the measures applied to each; (total, page)."""
    query = select(CheckSubject).where(CheckSubject.check_id == check.id)
    if outcome == "hits":
        query = query.where(CheckSubject.outcome.in_(("punish", "reward", "both")))
    elif outcome:
        query = query.where(CheckSubject.outcome == outcome)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = list(session.scalars(query.order_by(CheckSubject.position).limit(limit).offset(offset)))
    people = {s.id: s for s in subjects.by_ids(session, [r.subject_id for r in page if r.subject_id is not None])}
    positions = [r.position for r in page]
    hits = list(session.scalars(select(CheckHit).where(CheckHit.check_id == check.id, CheckHit.position.in_(positions))
                                .order_by(CheckHit.id))) if positions else []
    measures = {m.id: m for m in session.scalars(select(Measure).where(Measure.id.in_({h.measure_id for h in hits})))}
    feedback = latest_feedback(session, [h.id for h in hits])
    by_position: dict[int, list[HitView]] = defaultdict(list)
    for h in hits:
        by_position[h.position].append(HitView(h, measures[h.measure_id], feedback.get(h.id)))
    views = []
    for r in page:
        person = people.get(r.subject_id) if r.subject_id is not None else None
        name = (person.name if person.uscc else identity.mask_name(person.name)) if person else None
        views.append(SubjectView(r, name, (person.uscc or person.masked_id) if person else None, by_position[r.position]))
    return total, views


def checks(session: Session, actor: Actor, *, limit: int = 50, offset: int = 0) -> tuple[int, list[JointCheck]]:
    """Recent checks: one's own department's, or all for the credit authority."""
    query = select(JointCheck)
    if actor.role != service.AUTHORITY:
        query = query.where(JointCheck.department_id == (actor.department_id or -1))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return total, list(session.scalars(query.order_by(JointCheck.id.desc()).limit(limit).offset(offset)))


# --- feedback (反馈) -----------------------------------------------------------------------------------

def give_feedback(session: Session, actor: Actor, check_id: int, items: Sequence[FeedbackIn]) -> int:
    """Record what the department did about measures applied in its check; all or nothing."""
    check = session.get(JointCheck, check_id)
    if check is None:
        raise NotFound("CHECK_NOT_FOUND", f"核查记录不存在：{check_id}")
    if actor.department_id is None or actor.department_id != check.department_id:
        raise Forbidden("CHECK_NOT_YOURS", "只能反馈本部门发起的核查")
    if not items:
        raise Invalid("FEEDBACK_EMPTY", "请至少反馈一项措施的实施情况", field="items")
    wanted = [i.hit_id for i in items]
    known = set(session.scalars(select(CheckHit.id).where(CheckHit.check_id == check.id, CheckHit.id.in_(wanted))))
    for index, item in enumerate(items, start=1):
        if item.hit_id not in known:
            raise Invalid("FEEDBACK_HIT_UNKNOWN", f"第{index}项：措施 {item.hit_id} 不属于核查 {check.id}", field="hit_id",
                          index=index)
        if not item.taken and len(item.note.strip()) < 2:
            raise Invalid("FEEDBACK_REASON_REQUIRED", f"第{index}项：未采取措施的，须说明理由", field="note", index=index)
    now = utcnow()
    bulk_insert(session, CheckFeedback.__table__, [
        {"hit_id": i.hit_id, "taken": i.taken, "note": i.note.strip(), "reported_at": now,
         "reported_by": actor.username, "user_id": actor.user_id} for i in items])
    audit.append(session, actor, "sanctions.feedback", object_type="joint_check", object_id=check.id,
                 detail={"items": [{"hit_id": i.hit_id, "taken": i.taken, "note": i.note.strip()} for i in items]})
    return len(items)


@dataclass(frozen=True)
class DepartmentFeedback:
    department_id: int
    department: str
    checks: int
    hits: int
    answered: int
    taken: int
    overdue: int

    @property
    def rate(self) -> float:
        return self.answered / self.hits if self.hits else 1.0


def feedback_by_department(session: Session) -> list[DepartmentFeedback]:
    """Per department: checks, measures applied, answered, taken, overdue (past due, unanswered)."""
    now = clock.now()
    answered = select(CheckFeedback.hit_id).distinct().subquery()
    taken_ids = _latest_taken(session)
    rows = session.execute(
        select(JointCheck.department_id, CheckHit.id, JointCheck.feedback_due_at, answered.c.hit_id)
        .join(CheckHit, CheckHit.check_id == JointCheck.id).outerjoin(answered, answered.c.hit_id == CheckHit.id))
    stats: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for department_id, hit_id, due, answer in rows:
        s = stats[department_id]
        s[0] += 1
        s[1] += answer is not None
        s[2] += hit_id in taken_ids
        s[3] += answer is None and due is not None and due <= now
    counts = dict(list(session.execute(select(JointCheck.department_id, func.count())
                                       .group_by(JointCheck.department_id)).all()))
    names = access.department_names(session)
    return sorted((DepartmentFeedback(d, names.get(d, str(d)), counts.get(d, 0), *stats.get(d, [0, 0, 0, 0]))
                   for d in counts), key=lambda f: (-f.checks, f.department_id))


def _latest_taken(session: Session) -> set[int]:
    newest: dict[int, bool] = {}
    for hit_id, taken in session.execute(select(CheckFeedback.hit_id, CheckFeedback.taken).order_by(CheckFeedback.id)):
        newest[hit_id] = taken
    return {h for h, t in newest.items() if t}


@dataclass(frozen=True)
class OverdueCheck:
    check: JointCheck
    department: str
    pending: int


def overdue(session: Session, *, department_id: int | None = None, limit: int = 100) -> list[OverdueCheck]:
    """Checks past their feedback deadline with measures still unanswered, oldest deadline first."""
    answered = select(CheckFeedback.hit_id).distinct().subquery()
    query = (select(JointCheck, func.count(CheckHit.id)).join(CheckHit, CheckHit.check_id == JointCheck.id)
             .outerjoin(answered, answered.c.hit_id == CheckHit.id)
             .where(answered.c.hit_id.is_(None), JointCheck.feedback_due_at <= clock.now())
             .group_by(JointCheck.id).order_by(JointCheck.feedback_due_at, JointCheck.id).limit(limit))
    if department_id is not None:
        query = query.where(JointCheck.department_id == department_id)
    names = access.department_names(session)
    return [OverdueCheck(c, names.get(c.department_id, ""), n) for c, n in session.execute(query).all()]


def monthly(session: Session, months: int = 12) -> list[dict[str, Any]]:
    """Checks, subjects, measures applied and answered per month (Shanghai), oldest first, for charts."""
    start = clock.start_of(clock.today().replace(day=1))
    for _ in range(months - 1):
        start = clock.start_of((start - timedelta(days=1)).date().replace(day=1))
    found = list(session.execute(select(JointCheck.id, JointCheck.checked_at, JointCheck.subjects, JointCheck.hits)
                                 .where(JointCheck.checked_at >= start)).all())
    answered_by_check: dict[int, int] = dict(list(session.execute(
        select(CheckHit.check_id, func.count(func.distinct(CheckFeedback.hit_id)))
        .join(CheckFeedback, CheckFeedback.hit_id == CheckHit.id)
        .where(CheckHit.check_id.in_([f[0] for f in found] or [-1])).group_by(CheckHit.check_id)).all()))
    series: dict[str, dict[str, Any]] = {}
    month = clock.local(start).date()
    for _ in range(months):
        series[f"{month:%Y-%m}"] = {"month": f"{month:%Y-%m}", "checks": 0, "subjects": 0, "hits": 0, "answered": 0}
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    for check_id, at, subjects_, hits in found:
        bucket = series.get(f"{clock.local(at):%Y-%m}")
        if bucket is not None:
            bucket["checks"] += 1
            bucket["subjects"] += subjects_
            bucket["hits"] += hits
            bucket["answered"] += answered_by_check.get(check_id, 0)
    return list(series.values())


def list_type_names(session: Session) -> dict[str, str]:
    return {t.code: t.name for t in session.scalars(select(ListType))}


# --- to-do items (待办事项, gathered by notifications.service.todos) ---------------------------------------

TODO_LIMIT = 200


def todo_items(session: Session, actor: Actor) -> list[Todo]:
    """Feedback to give: for a department, each of its checks with measures still unanswered and the
    feedback deadline; for the credit authority, one line per department with feedback overdue."""
    now = clock.now()
    unanswered = ~exists().where(CheckFeedback.hit_id == CheckHit.id)
    items: list[Todo] = []
    if actor.department_id is not None:
        matters = service.matter_types(session)
        rows = session.execute(
            select(JointCheck.id, JointCheck.matter_type, JointCheck.matter_reference, JointCheck.feedback_due_at,
                   func.count(CheckHit.id))
            .join(CheckHit, CheckHit.check_id == JointCheck.id)
            .where(JointCheck.department_id == actor.department_id, unanswered)
            .group_by(JointCheck.id).order_by(JointCheck.feedback_due_at, JointCheck.id).limit(TODO_LIMIT))
        for check_id, matter, reference, due, pending in rows:
            what = matters.get(matter, matter) + (f" {reference}" if reference else "")
            items.append(Todo("核查反馈", f"反馈联合奖惩核查 #{check_id}（{what}，{pending} 项措施待反馈）",
                              f"/sanctions/checks/{check_id}", due, due is not None and due <= now))
    if actor.role == service.AUTHORITY:
        names = access.department_names(session)
        rows = session.execute(
            select(JointCheck.department_id, func.count(func.distinct(JointCheck.id)), func.count(CheckHit.id),
                   func.min(JointCheck.feedback_due_at))
            .join(CheckHit, CheckHit.check_id == JointCheck.id)
            .where(JointCheck.feedback_due_at <= now, unanswered)
            .group_by(JointCheck.department_id).order_by(JointCheck.department_id))
        for department_id, overdue_checks, pending, earliest in rows:
            items.append(Todo("核查反馈", f"督促{names.get(department_id, department_id)}反馈：{overdue_checks} 次核查、"
                                          f"{pending} 项措施逾期未反馈", "/sanctions/feedback", earliest, True))
    return items
