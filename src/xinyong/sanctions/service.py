"""Lists, the legal-basis library and the measure list (名单、法律依据库、奖惩措施清单).

Who may do what: the credit authority keeps the legal-basis library, the list types and the
measure list; a department puts subjects on and takes them off the lists its sector maintains.
Lists that follow a catalogue item fill themselves from the records departments submit
(``absorb_facts``, called by ``xinyong.events`` in the transaction that stores the records).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import and_, exists, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.db import bulk_insert, utcnow
from xinyong.disclosure.publication import add_months
from xinyong.errors import Conflict, Forbidden, Invalid, NotFound
from xinyong.evaluation import service as evaluation
from xinyong.policy import service as policy
from xinyong.sanctions import rules
from xinyong.sanctions.models import LegalBasisDocument, ListEntry, ListExit, ListType, Measure
from xinyong.sanctions.schemas import EntryIn, ExitIn, LegalBasisIn, ListTypeSpec, MeasureSpec
from xinyong.subjects import service as subjects

AUTHORITY = "authority_admin"


def _is_authority(actor: Actor) -> bool:
    return actor.role == AUTHORITY or actor.is_system


def _authority_only(actor: Actor, what: str) -> None:
    if not _is_authority(actor):
        raise Forbidden("SANCTIONS_AUTHORITY_ONLY", f"只有信用主管部门可以{what}")


def matter_types(session: Session) -> dict[str, str]:
    """事项类型: code -> name (policy ``sanction_matter_types``)."""
    return dict(policy.get(session, "sanction_matter_types"))


def matter_label(session: Session, code: str) -> str:
    known = matter_types(session)
    if code not in known:
        raise Invalid("MATTER_UNKNOWN", f"未知的核查事项类型：{code}（可选：{'、'.join(f'{k} {v}' for k, v in known.items())}）",
                      field="matter_type")
    return known[code]


def basis_rules(session: Session) -> rules.BasisRules:
    return rules.BasisRules.from_policy(policy.get(session, "sanction_basis_levels"))


def _level_order(session: Session) -> list[str]:
    return list(policy.get(session, "legal_basis_levels")["order"])


# --- legal-basis library ------------------------------------------------------------------------------

def legal_bases(session: Session) -> list[LegalBasisDocument]:
    return list(session.scalars(select(LegalBasisDocument).order_by(LegalBasisDocument.id)))


def basis_by_code(session: Session, code: str) -> LegalBasisDocument:
    """A citable document; refuses an unknown or repealed one."""
    basis = session.scalar(select(LegalBasisDocument).where(LegalBasisDocument.code == code))
    if basis is None:
        raise Invalid("BASIS_UNKNOWN", f"法律依据库中没有代码为 {code} 的文件，请先登记该法律依据", field="basis")
    if basis.repealed_on is not None and basis.repealed_on <= clock.today():
        raise Invalid("BASIS_REPEALED", f"{basis.title}已于{basis.repealed_on:%Y年%m月%d日}废止，不能作为依据", field="basis")
    return basis


def add_basis(session: Session, actor: Actor, data: LegalBasisIn) -> LegalBasisDocument:
    _authority_only(actor, "登记法律依据")
    if session.scalar(select(LegalBasisDocument.id).where(LegalBasisDocument.code == data.code)) is not None:
        raise Conflict("BASIS_EXISTS", f"法律依据代码已存在：{data.code}", field="code")
    basis = LegalBasisDocument(**data.model_dump(), repealed_on=None, created_at=utcnow(), created_by=actor.username)
    session.add(basis)
    session.flush()
    audit.append(session, actor, "sanctions.basis.add", object_type="legal_basis", object_id=basis.code,
                 detail=data.model_dump(mode="json"))
    return basis


def repeal_basis(session: Session, actor: Actor, code: str, repealed_on: date) -> LegalBasisDocument:
    """Record that a document was repealed: it can no longer be cited by new lists or measures."""
    _authority_only(actor, "登记法律依据的废止")
    basis = basis_by_code(session, code)
    basis.repealed_on = repealed_on
    audit.append(session, actor, "sanctions.basis.repeal", object_type="legal_basis", object_id=code,
                 detail={"repealed_on": repealed_on.isoformat()})
    return basis


# --- list types -----------------------------------------------------------------------------------------

def list_types(session: Session, *, include_retired: bool = False) -> list[ListType]:
    query = select(ListType).order_by(ListType.id)
    if not include_retired:
        query = query.where(ListType.retired_at.is_(None))
    return list(session.scalars(query))


def list_type_by_id(session: Session, type_id: int) -> ListType:
    found = session.get(ListType, type_id)
    if found is None:
        raise NotFound("LIST_TYPE_UNKNOWN", f"名单类型不存在：{type_id}")
    return found


def list_type(session: Session, code: str) -> ListType:
    found = session.scalar(select(ListType).where(ListType.code == code))
    if found is None:
        raise NotFound("LIST_TYPE_UNKNOWN", f"名单类型不存在：{code}", field="list_type")
    return found


def _check_source(session: Session, spec: ListTypeSpec) -> None:
    if spec.source is None:
        return
    from xinyong.catalogue import service as catalogue

    item = catalogue.get_item(session, spec.source.item)
    names = {f["name"] for f in item.version.fields}
    wanted = [spec.source.decision_number, spec.source.reasons, *spec.source.where, spec.source.expires]
    missing = [name for name in wanted if name and name not in names]
    if missing:
        raise Invalid("LIST_SOURCE_FIELD", f"目录信息项 {spec.source.item} 没有字段：{'、'.join(missing)}", field="source")


def create_list_type(session: Session, actor: Actor, spec: ListTypeSpec) -> ListType:
    """A new kind of list; refused unless its legal basis is high enough (防止泛化滥用)."""
    _authority_only(actor, "设立名单")
    basis = basis_by_code(session, spec.basis)
    rules.check_list_type(spec, basis.level, basis_rules(session), _level_order(session))
    if session.scalar(select(ListType.id).where(ListType.code == spec.code)) is not None:
        raise Conflict("LIST_TYPE_EXISTS", f"名单类型代码已存在：{spec.code}", field="code")
    _check_source(session, spec)
    created = ListType(code=spec.code, name=spec.name, category=spec.category,
                       nature=rules.NATURE_OF_CATEGORY[spec.category], severity=spec.severity,
                       issuing_authority=spec.issuing_authority, maintaining_sectors=spec.maintaining_sectors,
                       basis_id=basis.id, basis_article=spec.basis_article, period_months=spec.period_months,
                       exit_conditions=spec.exit_conditions, subject_kinds=list(spec.subject_kinds),
                       source=spec.source.model_dump() if spec.source else None,
                       created_at=utcnow(), created_by=actor.username, retired_at=None)
    session.add(created)
    session.flush()
    session.info.pop("sourced_list_types", None)
    audit.append(session, actor, "sanctions.list_type.create", object_type="list_type", object_id=spec.code,
                 detail=spec.model_dump(mode="json"))
    if spec.source is not None:
        absorb_existing(session, created)
    return created


# --- measures -------------------------------------------------------------------------------------------

def _list_facts(session: Session) -> dict[str, rules.ListFacts]:
    return {t.code: rules.ListFacts(t.nature, t.severity) for t in list_types(session)}


def _grades_of_models(session: Session) -> dict[str, tuple[list[str], str]]:
    return {m.code: ([g.code for g in m.spec.grades], m.spec.purpose) for m in evaluation.list_models(session)}


def check_measure(session: Session, spec: MeasureSpec) -> LegalBasisDocument:
    basis = basis_by_code(session, spec.basis)
    rules.check_measure(spec, basis.level, basis_rules(session), _level_order(session), lists=_list_facts(session),
                        matter_types=matter_types(session), grades_of_model=_grades_of_models(session))
    return basis


def _measure_row(spec: MeasureSpec, basis: LegalBasisDocument, version: int, actor: Actor, note: str) -> Measure:
    return Measure(code=spec.code, version=version, name=spec.name, content=spec.content, nature=spec.nature,
                   measure_type=spec.measure_type, basis_id=basis.id, basis_article=spec.basis_article,
                   list_types=spec.list_types, record_severities=list(spec.record_severities),
                   record_items=spec.record_items, grade_triggers=[g.model_dump() for g in spec.grade_triggers],
                   matter_types=spec.matter_types, implementing_sectors=spec.implementing_sectors,
                   subject_kinds=list(spec.subject_kinds), change_note=note, created_at=utcnow(),
                   created_by=actor.username, retired_at=None)


def create_measure(session: Session, actor: Actor, spec: MeasureSpec) -> Measure:
    """Add a measure to the list; refused without a legal basis of the level its type needs."""
    _authority_only(actor, "制定奖惩措施清单")
    basis = check_measure(session, spec)
    if session.scalar(select(Measure.id).where(Measure.code == spec.code)) is not None:
        raise Conflict("MEASURE_EXISTS", f"措施代码已存在：{spec.code}，修改请提交新版本", field="code")
    measure = _measure_row(spec, basis, 1, actor, "设立")
    session.add(measure)
    session.flush()
    audit.append(session, actor, "sanctions.measure.create", object_type="measure", object_id=spec.code,
                 detail=spec.model_dump(mode="json"))
    return measure


def revise_measure(session: Session, actor: Actor, code: str, spec: MeasureSpec, note: str) -> Measure:
    """A new version of a measure; the previous one is retired (checks keep pointing at it)."""
    _authority_only(actor, "修订奖惩措施清单")
    if spec.code != code:
        raise Invalid("MEASURE_CODE_CHANGED", "修订时不能修改措施代码", field="code")
    if len(note.strip()) < 2:
        raise Invalid("MEASURE_NOTE_REQUIRED", "请填写修订说明", field="note")
    current = measure_in_force(session, code)
    basis = check_measure(session, spec)
    current.retired_at = utcnow()
    measure = _measure_row(spec, basis, current.version + 1, actor, note.strip())
    session.add(measure)
    session.flush()
    audit.append(session, actor, "sanctions.measure.revise", object_type="measure", object_id=code,
                 detail={"version": measure.version, "note": note.strip(), "spec": spec.model_dump(mode="json")})
    return measure


def retire_measure(session: Session, actor: Actor, code: str, note: str) -> Measure:
    """Withdraw a measure from the list (废止); it stops applying at once."""
    _authority_only(actor, "废止措施")
    if len(note.strip()) < 2:
        raise Invalid("MEASURE_NOTE_REQUIRED", "请填写废止理由", field="note")
    current = measure_in_force(session, code)
    current.retired_at = utcnow()
    audit.append(session, actor, "sanctions.measure.retire", object_type="measure", object_id=code,
                 detail={"version": current.version, "note": note.strip()})
    return current


def measure_in_force(session: Session, code: str) -> Measure:
    found = session.scalar(select(Measure).where(Measure.code == code, Measure.retired_at.is_(None)))
    if found is None:
        raise NotFound("MEASURE_NOT_FOUND", f"措施不存在或已废止：{code}")
    return found


def measures(session: Session, *, matter_type: str | None = None, nature: str | None = None) -> list[Measure]:
    """The measure list in force, optionally for one matter or nature."""
    query = select(Measure).where(Measure.retired_at.is_(None)).order_by(Measure.nature.desc(), Measure.code)
    if matter_type is not None:  # in SQL: a check needs ~30 of ~200 measures, and loads them on every request
        if session.get_bind().dialect.name == "postgresql":
            query = query.where(type_coerce(Measure.matter_types, JSONB).contains([matter_type]))
        else:
            matters = func.json_each(Measure.matter_types).table_valued("value")
            query = query.where(exists(select(1).select_from(matters).where(matters.c.value == matter_type)))
    if nature is not None:
        query = query.where(Measure.nature == nature)
    return list(session.scalars(query))


def measure_versions(session: Session, code: str) -> list[Measure]:
    return list(session.scalars(select(Measure).where(Measure.code == code).order_by(Measure.version)))


def spec_of(session: Session, measure: Measure) -> MeasureSpec:
    basis = session.get(LegalBasisDocument, measure.basis_id)
    assert basis is not None
    return MeasureSpec(code=measure.code, name=measure.name, content=measure.content, nature=measure.nature,  # type: ignore[arg-type]
                       measure_type=measure.measure_type, basis=basis.code,  # type: ignore[arg-type]
                       basis_article=measure.basis_article, list_types=measure.list_types,
                       record_severities=measure.record_severities, record_items=measure.record_items,
                       grade_triggers=measure.grade_triggers,  # type: ignore[arg-type]
                       matter_types=measure.matter_types, implementing_sectors=measure.implementing_sectors,
                       subject_kinds=measure.subject_kinds)  # type: ignore[arg-type]


def bases_by_id(session: Session) -> dict[int, LegalBasisDocument]:
    return {b.id: b for b in legal_bases(session)}


# --- list entries ---------------------------------------------------------------------------------------

def in_force(at: datetime) -> Any:
    """The SQL condition for an entry in force at ``at``: listed, not expired, not taken off."""
    return and_(ListEntry.listed_at <= at, or_(ListEntry.expires_at.is_(None), ListEntry.expires_at > at),
                ~exists().where(ListExit.entry_id == ListEntry.id, ListExit.effective_at <= at))


def _may_maintain(session: Session, actor: Actor, kind: ListType) -> int:
    """The department acting for the list: the actor's own, if its sector maintains the list."""
    if actor.department_id is None:
        raise Forbidden("LIST_NOT_YOURS", f"只有{'、'.join(kind.maintaining_sectors)}部门可以维护“{kind.name}”")
    department = access.get_department(session, actor.department_id)
    if department.sector not in kind.maintaining_sectors and actor.role != AUTHORITY:
        raise Forbidden("LIST_NOT_YOURS", f"“{kind.name}”由{'、'.join(kind.maintaining_sectors)}部门维护，本部门无权操作")
    return department.id


def _expiry(listed_on: date, months: int | None, until: date | None = None) -> datetime | None:
    if until is not None:
        return clock.start_of(until + timedelta(days=1))
    return clock.start_of(add_months(listed_on, months)) if months else None


def add_entry(session: Session, actor: Actor, data: EntryIn) -> ListEntry:
    """Put a subject on a list kept on the platform (列入). Lists that follow records refuse."""
    kind = list_type(session, data.list_type)
    if kind.retired_at is not None:
        raise Invalid("LIST_TYPE_RETIRED", f"名单类型已停用：{kind.name}", field="list_type")
    if kind.source is not None:
        raise Invalid("LIST_FOLLOWS_RECORDS", f"“{kind.name}”由目录信息项 {kind.source['item']} 的信用记录生成，"
                      "请通过数据报送提交认定信息", field="list_type")
    department_id = _may_maintain(session, actor, kind)
    subject = subjects.by_code_or_fail(session, data.subject_code)
    if subject.kind not in kind.subject_kinds:
        raise Invalid("LIST_SUBJECT_KIND", f"“{kind.name}”不适用于{subject.kind}类主体", field="subject_code")
    if data.decision_date > clock.today():
        raise Invalid("LIST_DECISION_FUTURE", "认定日期不能晚于今天", field="decision_date")
    duplicate = session.scalar(select(ListEntry.id).where(ListEntry.list_type_id == kind.id,
                                                          ListEntry.subject_id == subject.id,
                                                          ListEntry.decision_number == data.decision_number))
    if duplicate is not None:
        raise Conflict("LIST_ENTRY_EXISTS", f"该主体已按认定文书 {data.decision_number} 列入此名单", field="decision_number")
    entry = ListEntry(list_type_id=kind.id, subject_id=subject.id, department_id=department_id,
                      decision_number=data.decision_number, decision_date=data.decision_date, reasons=data.reasons,
                      listed_at=clock.start_of(data.decision_date),
                      expires_at=_expiry(data.decision_date, data.period_months or kind.period_months),
                      exit_conditions=data.exit_conditions or kind.exit_conditions, source_record_id=None,
                      created_at=utcnow(), created_by=actor.username)
    session.add(entry)
    session.flush()
    audit.append(session, actor, "sanctions.entry.add", object_type="list_entry", object_id=entry.id,
                 subject_id=subject.id, detail={"list_type": kind.code, **data.model_dump(mode="json")})
    return entry


def get_entry(session: Session, entry_id: int) -> ListEntry:
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        raise NotFound("LIST_ENTRY_NOT_FOUND", f"名单记录不存在：{entry_id}")
    return entry


def exit_of(session: Session, entry_id: int) -> ListExit | None:
    return session.scalar(select(ListExit).where(ListExit.entry_id == entry_id))


def entry_status(entry: ListEntry, exit_: ListExit | None, at: datetime | None = None) -> str:
    """在列 / 已移出（reason） / 已期满 / 未生效 at ``at``."""
    at = at or clock.now()
    if exit_ is not None and exit_.effective_at <= at:
        return f"已移出（{rules.EXIT_REASONS.get(exit_.reason, exit_.reason)}）"
    if entry.expires_at is not None and entry.expires_at <= at:
        return "已期满"
    return "在列" if entry.listed_at <= at else "未生效"


def exit_entry(session: Session, actor: Actor, entry_id: int, data: ExitIn) -> ListExit:
    """Take a subject off a list before its period ends (移出), as a new fact."""
    entry = get_entry(session, entry_id)
    kind = session.get(ListType, entry.list_type_id)
    assert kind is not None
    department_id = _may_maintain(session, actor, kind) if not _is_authority(actor) else actor.department_id
    now = clock.now()
    if exit_of(session, entry.id) is not None or (entry.expires_at is not None and entry.expires_at <= now):
        raise Conflict("LIST_ENTRY_NOT_IN_FORCE", "该主体已不在此名单中（已移出或已期满）")
    if entry.source_record_id is not None and data.reason in ("revocation", "correction"):
        raise Invalid("LIST_EXIT_BY_RECORD", "该名单记录由信用记录生成：撤销或更正请对信用记录操作（撤销/更正后自动移出）",
                      field="reason")
    if data.reason == "repair" and not _is_authority(actor):
        raise Forbidden("LIST_REPAIR_BY_AUTHORITY", "因信用修复移出名单须经信用修复程序办理")
    leaving = ListExit(entry_id=entry.id, reason=data.reason, decision_number=data.decision_number,
                       note=data.note, effective_at=now, department_id=department_id, created_at=utcnow(),
                       created_by=actor.username)
    session.add(leaving)
    session.flush()
    audit.append(session, actor, "sanctions.entry.exit", object_type="list_entry", object_id=entry.id,
                 subject_id=entry.subject_id, detail={"list_type": kind.code, **data.model_dump(mode="json")})
    return leaving


def exit_for_repair(session: Session, actor: Actor, entry_id: int, application_number: str) -> ListExit:
    """移出 because a repair application was approved (the repair workflow checked who decides)."""
    entry = get_entry(session, entry_id)
    leaving = ListExit(entry_id=entry.id, reason="repair", decision_number=application_number,
                       note=f"信用修复申请 {application_number} 同意修复", effective_at=clock.now(),
                       department_id=actor.department_id, created_at=utcnow(), created_by=actor.username)
    session.add(leaving)
    session.flush()
    audit.append(session, actor, "sanctions.entry.exit", object_type="list_entry", object_id=entry.id,
                 subject_id=entry.subject_id, detail={"reason": "repair", "application": application_number})
    return leaving


@dataclass(frozen=True)
class EntryView:
    entry: ListEntry
    list_type: ListType
    subject_name: str
    subject_code: str
    department: str
    status: str
    exit: ListExit | None

    @property
    def last_day(self) -> date | None:
        """有效期至: the last day in force (``expires_at`` is the midnight after it)."""
        expires = self.entry.expires_at
        return clock.local(expires - timedelta(microseconds=1)).date() if expires is not None else None


def _views(session: Session, query: Any, *, limit: int, offset: int) -> list[EntryView]:
    from xinyong.subjects import identity

    rows = session.execute(query.order_by(ListEntry.decision_date.desc(), ListEntry.id.desc())
                           .limit(limit).offset(offset)).all()
    exits = {x.entry_id: x for x in session.scalars(select(ListExit).where(ListExit.entry_id.in_([r[0].id for r in rows])))}
    names = access.department_names(session)
    return [EntryView(e, t, s.name if s.uscc else identity.mask_name(s.name), s.uscc or s.masked_id or "",
                      names.get(e.department_id, ""), entry_status(e, exits.get(e.id)), exits.get(e.id))
            for e, t, s in rows]


def _entry_query() -> Any:
    from xinyong.subjects.models import Subject

    return select(ListEntry, ListType, Subject).join(ListType, ListType.id == ListEntry.list_type_id).join(
        Subject, Subject.id == ListEntry.subject_id)


def entries(session: Session, *, list_code: str | None = None, subject_id: int | None = None,
            in_force_only: bool = False, limit: int = 50, offset: int = 0) -> tuple[int, list[EntryView]]:
    """Entries newest first with their status now (natural persons' names masked); (total, page)."""
    query = _entry_query()
    if list_code:
        query = query.where(ListType.code == list_code)
    if subject_id is not None:
        query = query.where(ListEntry.subject_id == subject_id)
    if in_force_only:
        query = query.where(in_force(clock.now()))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return total, _views(session, query, limit=limit, offset=offset)


def entry_view(session: Session, entry_id: int) -> EntryView:
    """One entry with its status now."""
    found = _views(session, _entry_query().where(ListEntry.id == entry_id), limit=1, offset=0)
    if not found:
        raise NotFound("LIST_ENTRY_NOT_FOUND", f"名单记录不存在：{entry_id}")
    return found[0]


def counts_in_force(session: Session) -> dict[str, int]:
    """Subjects on each list now: list type code -> entries in force."""
    rows = session.execute(select(ListType.code, func.count(ListEntry.id))
                           .join(ListEntry, ListEntry.list_type_id == ListType.id)
                           .where(in_force(clock.now())).group_by(ListType.code))
    return {code: count for code, count in rows}


def severities_in_force(session: Session, subject_id: int) -> dict[str, list[str]]:
    """The severities (严重 / 一般) of the 失信 lists a subject is on now, each with those lists' names."""
    rows = session.execute(select(ListType.severity, ListType.name)
                           .join(ListEntry, ListEntry.list_type_id == ListType.id)
                           .where(ListEntry.subject_id == subject_id, ListType.nature == "失信",
                                  ListType.severity.is_not(None), in_force(clock.now()))
                           .distinct().order_by(ListType.name))
    found: dict[str, list[str]] = {}
    for severity, name in rows:
        found.setdefault(severity, []).append(name)
    return found


# --- lists that follow catalogue items --------------------------------------------------------------------

def _sourced(session: Session) -> dict[str, list[ListType]]:
    """Item code -> list types filled from it (cached for the unit of work)."""
    cached = session.info.get("sourced_list_types")
    if cached is None:
        cached = {}
        for kind in list_types(session):  # JSON null and SQL NULL differ by database: filter here
            if kind.source:
                cached.setdefault(kind.source["item"], []).append(kind)
        session.info["sourced_list_types"] = cached
    return cached


def _payload(fact: Mapping[str, Any]) -> dict[str, Any]:
    payload = fact["payload"]
    return json.loads(payload) if isinstance(payload, str) else dict(payload or {})


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _entry_from_fact(kind: ListType, fact: Mapping[str, Any], payload: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    source = kind.source or {}
    if any(str(payload.get(field, "")) != value for field, value in source.get("where", {}).items()):
        return None
    decided = _as_date(fact.get("decision_date")) or clock.local(now).date()
    until = _as_date(payload.get(source["expires"])) if source.get("expires") else None
    return {"list_type_id": kind.id, "subject_id": fact["subject_id"], "department_id": fact["department_id"],
            "decision_number": str(payload.get(source["decision_number"], ""))[:100],
            "decision_date": decided, "reasons": str(payload.get(source["reasons"], ""))[:1000],
            "listed_at": clock.start_of(decided), "expires_at": _expiry(decided, kind.period_months, until),
            "exit_conditions": kind.exit_conditions, "source_record_id": fact["id"], "created_at": now,
            "created_by": "records"}


_EXIT_FOR_KIND = {"revocation": "revocation", "correction": "correction", "repair": "repair"}


def absorb_facts(session: Session, facts: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """New records of a list's catalogue item become entries; a correction, revocation or repair of
    the record an entry came from takes the subject off (移出: 更正 / 撤销 / 信用修复). Returns (added, ended)."""
    sourced = _sourced(session)
    relevant = [f for f in facts if f["item_code"] in sourced]
    if not relevant:
        return 0, 0
    now = utcnow()
    replaced = {f["supersedes_id"]: f["kind"] for f in relevant if f.get("supersedes_id")}
    ended = 0
    if replaced:
        live = session.execute(select(ListEntry.id, ListEntry.source_record_id).where(
            ListEntry.source_record_id.in_(list(replaced)), ~exists().where(ListExit.entry_id == ListEntry.id)))
        exits = [{"entry_id": entry_id, "reason": _EXIT_FOR_KIND[replaced[record_id]], "decision_number": "",
                  "note": f"信用记录 {record_id} 已{rules.EXIT_REASONS[_EXIT_FOR_KIND[replaced[record_id]]]}",
                  "effective_at": now, "department_id": None, "created_at": now, "created_by": "records"}
                 for entry_id, record_id in live]
        bulk_insert(session, ListExit.__table__, exits)
        ended = len(exits)
    added = []
    for fact in relevant:
        if fact["kind"] in ("revocation", "repair"):
            continue
        payload = _payload(fact)
        for kind in sourced[fact["item_code"]]:
            row = _entry_from_fact(kind, fact, payload, now)
            if row is not None:
                added.append(row)
    bulk_insert(session, ListEntry.__table__, added)
    return len(added), ended


def absorb_existing(session: Session, kind: ListType, *, batch: int = 5000) -> int:
    """Fill a newly created sourced list from the current records of its item."""
    from xinyong.records import service as records

    count = 0
    for chunk in records.current_facts(session, kind.source["item"], batch=batch):  # type: ignore[index]
        now = utcnow()
        rows = [r for f in chunk if (r := _entry_from_fact(kind, f, _payload(f), now)) is not None]
        bulk_insert(session, ListEntry.__table__, rows)
        count += len(rows)
    return count


# --- seeding -------------------------------------------------------------------------------------------

@cache
def seed_data() -> dict[str, Any]:
    return yaml.safe_load(resources.files("xinyong.seed").joinpath("sanctions.yaml").read_text(encoding="utf-8"))


def seed(session: Session, actor: Actor) -> int:
    """Add the seeded legal bases, list types and measures that are missing (idempotent)."""
    data = seed_data()
    added = 0
    known = {b.code for b in legal_bases(session)}
    for raw in data["legal_bases"]:
        if raw["code"] not in known:
            add_basis(session, actor, LegalBasisIn.model_validate(raw))
            added += 1
    known = {t.code for t in list_types(session, include_retired=True)}
    for raw in data["list_types"]:
        if raw["code"] not in known:
            create_list_type(session, actor, ListTypeSpec.model_validate(raw))
            added += 1
    known = set(session.scalars(select(Measure.code)))
    for raw in data["measures"]:
        if raw["code"] not in known:
            create_measure(session, actor, MeasureSpec.model_validate(raw))
            added += 1
    return added


# --- read model for platform data partners (xinyong.partners) ----------------------------------------------

@dataclass(frozen=True)
class FeedEntry:
    """A list entry as it leaves the platform: subject named as on the public site (natural persons
    masked), and ``ends_at`` (exclusive) — the period end, or the end of the publication window of
    the record the entry follows when that comes first (when the public site stops showing it)."""

    entry_id: int
    list_type: str
    list_name: str
    subject_code: str
    subject_name: str
    person: bool
    decision_number: str
    decision_date: date
    listed_at: datetime
    ends_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class FeedExit:
    entry_id: int
    reason: str
    decision_number: str
    effective_at: datetime
    created_at: datetime


def _feed_entries(session: Session, query: Any) -> list[FeedEntry]:
    from xinyong.records import service as records
    from xinyong.subjects import identity

    rows = session.execute(query.order_by(ListEntry.id)).all()
    public_ends = records.publication_ends(session, {e.source_record_id for e, _t, _s in rows if e.source_record_id})
    found = []
    for entry, kind, subject in rows:
        ends = entry.expires_at
        if entry.source_record_id in public_ends:
            published_until = public_ends[entry.source_record_id]
            if published_until is not None and (ends is None or published_until < ends):
                ends = published_until
        person = subject.uscc is None
        code = (subject.masked_id or "") if person else (subject.uscc or "")
        found.append(FeedEntry(entry.id, kind.code, kind.name, code,
                               identity.mask_name(subject.name) if person else subject.name, person,
                               entry.decision_number, entry.decision_date, entry.listed_at, ends, entry.created_at))
    return found


def feed_entries_since(session: Session, since: datetime | None) -> list[FeedEntry]:
    """Entries of every list created at or after ``since`` (all of them without), by id."""
    query = _entry_query()
    if since is not None:
        query = query.where(ListEntry.created_at >= since)
    return _feed_entries(session, query)


def feed_exits_since(session: Session, since: datetime | None) -> list[FeedExit]:
    """Exits (移出) created at or after ``since`` (all of them without), by id."""
    query = select(ListExit).order_by(ListExit.id)
    if since is not None:
        query = query.where(ListExit.created_at >= since)
    return [FeedExit(x.entry_id, x.reason, x.decision_number, x.effective_at, x.created_at) for x in session.scalars(query)]


def feed_entries_in_force(session: Session, list_codes: Sequence[str], *, after: int = 0,
                          limit: int = 1000) -> tuple[list[FeedEntry], int | None]:
    """Entries of those lists in force now with id above ``after`` (a partner's snapshot), by id,
    and the last id looked at when the page was full (None: nothing more). Entries whose publication
    window already ended are left out."""
    now = clock.now()
    query = _entry_query().where(ListType.code.in_(list(list_codes)), in_force(now), ListEntry.id > after).limit(limit)
    scanned = _feed_entries(session, query)
    last = scanned[-1].entry_id if len(scanned) == limit else None
    return [e for e in scanned if e.ends_at is None or e.ends_at > now], last
