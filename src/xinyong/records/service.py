"""The record store: accept facts, correct and revoke them by new facts, derive the current view.

A chain is one department's record of one item about one subject, identified by the item's
natural key (e.g. 处罚决定书文号). Idempotence: a re-sent record with the same chain and content is
the record already held. The same natural key with different content is a correction (更正) that
supersedes the head of that chain; a revocation (撤销) is a fact that withdraws it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from xinyong import clock, events
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.catalogue.validation import FieldProblem, check_payload, decision_date_of
from xinyong.config import get_settings
from xinyong.db import allocate_ids, bulk_insert, in_values, utcnow
from xinyong.disclosure import publication
from xinyong.errors import Forbidden, Invalid, NotFound
from xinyong.policy import service as policy
from xinyong.records.models import Record
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject
from xinyong.subjects.schemas import OrganisationIn


class PayloadInvalid(Invalid):
    """A record that does not match its catalogue item; ``problems`` lists every field at fault."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        first = problems[0]
        super().__init__(first.code, "；".join(p.message for p in problems), field=first.field,
                         problems=[p.__dict__ for p in problems])
        self.problems = problems


@dataclass(frozen=True)
class Submission:
    record: Record
    outcome: str  # accepted / duplicate / correction

    @property
    def created(self) -> bool:
        return self.outcome != "duplicate"


def payload_json(payload: dict[str, Any]) -> str:
    """The canonical text of a payload: what is hashed, and what collection stores."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


def content_hash(subject_id: int, payload: dict[str, Any]) -> str:
    return content_hash_of(subject_id, payload_json(payload))


def content_hash_of(subject_id: int, canonical_payload: str) -> str:
    """SHA-256 of ``{"payload": …, "subject": id}`` in canonical JSON, from the payload's canonical text."""
    text = f'{{"payload": {canonical_payload}, "subject": {subject_id}}}'
    return hashlib.sha256(text.encode()).hexdigest()


def publication_periods(session: Session) -> dict[str, Any]:
    """The policy's default publication periods per severity (失信信息公示期限)."""
    return policy.get(session, "publication_periods")


def publication_fields(version: Any, *, severity: str | None, decision_date: date | None, payload: dict[str, Any],
                       subject_kind: str, periods: dict[str, Any]) -> dict[str, Any]:
    """The publication columns of a new fact (公示), from the rules in ``disclosure.publication``."""
    window = publication.publication_window(publication.PublicationRule.from_item(version, periods),
                                            decision_date=decision_date, record_severity=severity,
                                            payload=payload, subject_kind=subject_kind)
    starts = clock.start_of(window.starts_on) if window.published and window.starts_on else None
    ends = clock.start_of(window.ends_on) if window.published and window.ends_on else None
    return {"published": window.published and starts is not None, "publication_starts_at": starts,
            "publication_ends_at": ends}


def fill_publication_windows(session: Session, *, batch_size: int = 5000) -> int:
    """Compute the windows of facts stored before windows existed (``published`` NULL). Idempotent."""
    periods = publication_periods(session)
    versions: dict[int, Any] = {}
    filled = 0
    while True:
        rows = session.execute(select(Record.id, Record.kind, Record.item_version_id, Record.severity,
                                      Record.decision_date, Record.payload, Subject.kind)
                               .join(Subject, Subject.id == Record.subject_id)
                               .where(Record.published.is_(None)).order_by(Record.id).limit(batch_size)).all()
        if not rows:
            return filled
        updates = []
        for record_id, kind, version_id, severity, decided, payload, subject_kind in rows:
            if version_id not in versions:
                versions[version_id] = catalogue.get_version(session, version_id)
            fields = {"published": False} if kind == "revocation" else publication_fields(
                versions[version_id], severity=severity, decision_date=decided, payload=payload,
                subject_kind=subject_kind, periods=periods)
            updates.append({"id": record_id, **fields})
        session.execute(update(Record), updates)
        filled += len(updates)


def resolve_subject(session: Session, actor: Actor, ref: SubjectRef, source: str) -> Subject:
    """Find the subject a record names, registering it (with the department as source) if new."""
    if ref.uscc:
        return subjects.register_organisation(session, actor, OrganisationIn(uscc=ref.uscc, name=ref.name),
                                              source=source)
    if ref.citizen_id:
        return subjects.register_person(session, actor, ref.citizen_id, ref.name, get_settings().person_id_secret)
    raise Invalid("SUBJECT_REF_MISSING", "必须提供统一社会信用代码或证件号码", field="统一社会信用代码")


def _head(session: Session, department_id: int, item_code: str, subject_id: int, natural_key: str) -> Record | None:
    """The newest fact of a chain: one department's record of one item about one subject."""
    return session.scalar(select(Record).where(Record.department_id == department_id, Record.item_code == item_code,
                                               Record.subject_id == subject_id, Record.natural_key == natural_key)
                          .order_by(Record.id.desc()).limit(1))


def submit(session: Session, actor: Actor, item_code: str, ref: SubjectRef, payload: dict[str, Any],
           *, department_id: int, department_code: str) -> Submission:
    """Validate one record against the item in force and store it (or recognise it)."""
    entry = catalogue.get_item(session, item_code)
    clean, problems = check_payload(entry.version.fields, payload,
                                    check_uscc=lambda raw: subjects.validate_code(session, raw),
                                    today=clock.today())
    if problems:
        raise PayloadInvalid(problems)
    subject = resolve_subject(session, actor, ref, department_code)
    natural_key = "|".join(str(clean.get(k, "")) for k in entry.version.natural_key)
    digest = content_hash(subject.id, clean)
    head = _head(session, department_id, item_code, subject.id, natural_key)
    if head is not None and head.content_hash == digest and head.kind != "revocation":
        return Submission(head, "duplicate")
    if head is not None and head.kind == "repair":
        raise Invalid("RECORD_REPAIRED", "该记录已完成信用修复，不能再更正；新的失信行为请以新的文书号报送",
                      field=entry.version.natural_key[0] if entry.version.natural_key else None)
    outcome = "correction" if head is not None and head.kind != "revocation" else "accepted"
    decided = decision_date_of(entry.version.fields, clean)
    shown = publication_fields(entry.version, severity=entry.version.severity, decision_date=decided, payload=clean,
                               subject_kind=subject.kind, periods=publication_periods(session))
    record = Record(subject_id=subject.id, item_code=item_code, item_version_id=entry.version.id,
                    department_id=department_id, kind="correction" if outcome == "correction" else "original",
                    supersedes_id=head.id if outcome == "correction" else None, natural_key=natural_key,
                    content_hash=digest, payload=clean, severity=entry.version.severity,
                    decision_date=decided, received_at=utcnow(), submitted_by=actor.user_id, **shown)
    session.add(record)
    session.flush()
    events.facts_stored(session, [fact_of(record)])
    audit.append(session, actor, f"record.{outcome}", object_type="record", object_id=record.id,
                 subject_id=subject.id, detail={"item": item_code, "natural_key": natural_key,
                                                "content_hash": digest, "supersedes": record.supersedes_id})
    return Submission(record, outcome)


ChainKey = tuple[int, str]  # (subject id, natural key) within one department and item


@dataclass(frozen=True)
class Head:
    id: int
    content_hash: str
    kind: str


def chain_heads(session: Session, department_id: int, item_code: str, keys: set[ChainKey]) -> dict[ChainKey, Head]:
    """The newest fact of each chain named in ``keys`` (bulk form of the look-up ``submit`` does).

    The chain index leads with (department, item, natural key), so each look-up is an index search
    and the cost does not grow with the records already stored; the subject is checked here.
    """
    heads: dict[ChainKey, Head] = {}
    pairs = sorted(keys)
    for start in range(0, len(pairs), 400):
        rows = session.execute(select(Record.id, Record.subject_id, Record.natural_key, Record.content_hash, Record.kind)
                               .where(Record.department_id == department_id, Record.item_code == item_code,
                                      Record.natural_key.in_({k for _, k in pairs[start:start + 400]})))
        for record_id, subject_id, natural_key, digest, kind in rows:
            key = (subject_id, natural_key)
            if key in keys and (key not in heads or heads[key].id < record_id):
                heads[key] = Head(record_id, digest, kind)
    return heads


def reserve_ids(session: Session, count: int) -> list[int]:
    """Ids for records about to be inserted with ``insert_many`` (so rows can link to each other)."""
    return allocate_ids(session, Record.__table__, count)


def insert_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store many new facts at once (collection), ids from ``reserve_ids``. Audited by the caller."""
    bulk_insert(session, Record.__table__, rows)
    events.facts_stored(session, rows)


def fact_of(record: Record) -> dict[str, Any]:
    """A stored record as announced to ``xinyong.events``."""
    return {"id": record.id, "subject_id": record.subject_id, "department_id": record.department_id,
            "item_code": record.item_code, "kind": record.kind, "supersedes_id": record.supersedes_id,
            "payload": record.payload, "decision_date": record.decision_date}


def current_facts(session: Session, item_code: str, *, batch: int = 5000) -> Iterator[list[dict[str, Any]]]:
    """Every current record of one item, as facts, in id order and in batches."""
    columns = (Record.id, Record.subject_id, Record.department_id, Record.item_code, Record.kind,
               Record.supersedes_id, Record.payload, Record.decision_date)
    after = 0
    while True:
        rows = session.execute(select(*columns).where(_current_filter(), Record.item_code == item_code,
                                                      Record.id > after).order_by(Record.id).limit(batch)).all()
        if not rows:
            return
        yield [dict(row._mapping) for row in rows]
        after = rows[-1].id


def in_window_dishonesty(session: Session, subject_ids: Sequence[int], severities: Collection[str],
                         items: Collection[str], at: datetime) -> list[tuple[int, int, str, str]]:
    """(record id, subject id, item, severity) of the subjects' current records of those severities
    (and items, if any given) inside their publication window at ``at``: the records still in effect."""
    if not subject_ids:
        return []
    condition = and_(Record.severity.in_(list(severities)), publicly_visible(at))
    if items:
        condition = and_(condition, Record.item_code.in_(list(items)))
    query = select(Record.id, Record.subject_id, Record.item_code, Record.severity).where(
        in_values(session, Record.subject_id, subject_ids), condition)
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def by_ids(session: Session, record_ids: Collection[int]) -> list[Record]:
    return list(session.scalars(select(Record).where(in_values(session, Record.id, sorted(set(record_ids))))))


def get(session: Session, record_id: int) -> Record:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound("RECORD_NOT_FOUND", f"信用记录不存在：{record_id}")
    return record


def revoke(session: Session, actor: Actor, record_id: int, reason: str) -> Record:
    """Withdraw a record (撤销) by a new fact; only the department that provided it may."""
    record = get(session, record_id)
    if actor.role != "authority_admin" and actor.department_id != record.department_id:
        raise Forbidden("RECORD_NOT_YOURS", "只能撤销本部门报送的信用记录")
    if not is_current(session, record):
        raise Invalid("RECORD_NOT_CURRENT", "该记录已被更正或撤销，请对最新记录操作")
    if len(reason.strip()) < 2:
        raise Invalid("RECORD_REASON_REQUIRED", "请填写撤销理由", field="reason")
    revocation = Record(subject_id=record.subject_id, item_code=record.item_code,
                        item_version_id=record.item_version_id, department_id=record.department_id,
                        kind="revocation", supersedes_id=record.id, natural_key=record.natural_key,
                        content_hash=content_hash(record.subject_id, {"revoked": record.id}),
                        payload={}, severity=record.severity, decision_date=record.decision_date,
                        received_at=utcnow(), reason=reason.strip(), submitted_by=actor.user_id, published=False)
    session.add(revocation)
    session.flush()
    events.facts_stored(session, [fact_of(revocation)])
    audit.append(session, actor, "record.revoke", object_type="record", object_id=record.id,
                 subject_id=record.subject_id, detail={"revocation": revocation.id, "reason": reason.strip()})
    return revocation


def mark_repaired(session: Session, actor: Actor, record_id: int, reason: str) -> Record:
    """信用修复: a new fact (kind ``repair``) that supersedes the record with the same content,
    unpublished: publication, list entries that follow it and measures it triggers end at once,
    and the upward feed carries it as a repair notice."""
    record = get(session, record_id)
    if record.kind == "repair":
        raise Invalid("RECORD_ALREADY_REPAIRED", "该记录已完成信用修复")
    if not is_current(session, record):
        raise Invalid("RECORD_NOT_CURRENT", "该记录已被更正、撤销或修复，请对最新记录操作")
    repair = Record(subject_id=record.subject_id, item_code=record.item_code, item_version_id=record.item_version_id,
                    department_id=record.department_id, kind="repair", supersedes_id=record.id,
                    natural_key=record.natural_key, content_hash=record.content_hash, payload=record.payload,
                    severity=record.severity, decision_date=record.decision_date, received_at=utcnow(),
                    reason=reason.strip()[:500], submitted_by=actor.user_id, published=False)
    session.add(repair)
    session.flush()
    events.facts_stored(session, [fact_of(repair)])
    audit.append(session, actor, "record.repair", object_type="record", object_id=record.id,
                 subject_id=record.subject_id, detail={"repair": repair.id, "reason": repair.reason})
    return repair


_SUCCESSOR = aliased(Record)  # built once: constructing an alias per query is measurable on hot paths


def _current_filter() -> Any:
    return and_(Record.kind != "revocation", ~exists().where(_SUCCESSOR.supersedes_id == Record.id))


def current_query() -> Select[tuple[Record]]:
    """The current view: facts nothing supersedes, revocations excluded."""
    return select(Record).where(_current_filter())


def publicly_visible(at: datetime) -> ColumnElement[bool]:
    """Current, published, and inside its publication window at ``at``: what the public may see.

    Decided at read time from the stored window, so publication ends by itself (end exclusive).
    """
    return and_(_current_filter(), Record.published.is_(True), Record.publication_starts_at <= at,
                or_(Record.publication_ends_at.is_(None), Record.publication_ends_at > at))


def public_query(at: datetime | None = None) -> Select[tuple[Record]]:
    """Records the public sees now (or at ``at``)."""
    return select(Record).where(publicly_visible(at or clock.now()))


def publication_status(record: Record, at: datetime | None = None) -> str:
    """Where a record stands in its publication window, in words (for staff and the subject itself)."""
    at = at or clock.now()
    if record.kind == "repair":
        return "已信用修复，停止公示"
    if not record.published or record.publication_starts_at is None:
        return "不向社会公开"
    if record.publication_starts_at > at:
        return "尚未公示"
    ends = record.publication_ends_at
    if ends is None:
        return "公示中"
    last_day = (clock.local(ends) - timedelta(days=1)).date().isoformat()
    return f"公示中（至{last_day}）" if ends > at else f"公示期满（{last_day}止），已停止公示"


def facts_as_of(cutoff: datetime, fields_by_item: dict[str, list[str]], *,
                subject_id: int | None = None) -> Select[Any]:
    """The facts that were current at ``cutoff`` for batch work (evaluation), one column per field.

    Columns: ``record_id``, ``subject_id``, ``item_code``, ``decision_date`` and ``f_<FIELD>`` for
    every field named (as text; NULL where the record has no such field). Only facts received by
    ``cutoff``, not revocations, not repaired (信用修复 ends a record's effect), not superseded by a fact received by ``cutoff``: the same cut-off
    always gives the same rows, which is what makes a run reproducible.
    """
    later = _SUCCESSOR
    fields = sorted({f for names in fields_by_item.values() for f in names})
    query = (select(Record.id.label("record_id"), Record.subject_id, Record.item_code, Record.decision_date,
                   *(Record.payload[f].as_string().label(f"f_{f}") for f in fields))
            .where(Record.item_code.in_(sorted(fields_by_item)), Record.kind.not_in(("revocation", "repair")),
                   Record.received_at <= cutoff,
                   ~exists().where(later.supersedes_id == Record.id, later.received_at <= cutoff))
             .order_by(Record.id))
    return query if subject_id is None else query.where(Record.subject_id == subject_id)


def public_for_subject(session: Session, subject_id: int, *, at: datetime | None = None,
                       per_item: int = 200) -> list[Record]:
    """A subject's records the public sees, newest decision first (at most ``per_item`` per item)."""
    rows = session.scalars(public_query(at).where(Record.subject_id == subject_id)
                           .order_by(Record.decision_date.desc(), Record.id.desc()))
    kept: list[Record] = []
    per: dict[str, int] = {}
    for record in rows:
        per[record.item_code] = per.get(record.item_code, 0) + 1
        if per[record.item_code] <= per_item:
            kept.append(record)
    return kept


def next_publication_change(session: Session, subject_id: int, at: datetime) -> datetime | None:
    """The earliest moment after ``at`` when one of the subject's current records starts or stops
    being public: until then, what the public sees of the subject cannot change by time alone."""
    current = and_(_current_filter(), Record.subject_id == subject_id, Record.published.is_(True))
    ends = session.scalar(select(func.min(Record.publication_ends_at)).where(current, Record.publication_ends_at > at))
    starts = session.scalar(select(func.min(Record.publication_starts_at))
                            .where(current, Record.publication_starts_at > at))
    moments = [m for m in (ends, starts) if m is not None]
    return min(moments) if moments else None


def public_record(session: Session, record_id: int, *, at: datetime | None = None) -> Record:
    """One record, only if the public sees it now; otherwise as if it did not exist."""
    record = session.scalar(public_query(at).where(Record.id == record_id))
    if record is None:
        raise NotFound("RECORD_NOT_PUBLIC", "该信用信息不存在或不在公示期内")
    return record


@dataclass(frozen=True)
class PublicFilter:
    """Filters of a 双公示 list; ``category`` compares the payload field ``category_field``."""

    department_id: int | None = None
    subject_ids: Select[tuple[int]] | None = None  # e.g. the subjects of a region
    decided_from: date | None = None
    decided_to: date | None = None
    category_field: str | None = None
    category: str | None = None


def public_list(session: Session, item_code: str, where: PublicFilter, *, limit: int, offset: int,
                count_cap: int, at: datetime | None = None) -> tuple[list[Record], int]:
    """Published records of one item, newest decision first, and their count (counted up to ``count_cap``)."""
    query = public_query(at).where(Record.item_code == item_code)
    if where.department_id is not None:
        query = query.where(Record.department_id == where.department_id)
    if where.subject_ids is not None:
        query = query.where(Record.subject_id.in_(where.subject_ids))
    if where.decided_from is not None:
        query = query.where(Record.decision_date >= where.decided_from)
    if where.decided_to is not None:
        query = query.where(Record.decision_date <= where.decided_to)
    if where.category_field and where.category:
        query = query.where(Record.payload[where.category_field].as_string() == where.category)
    newest_first = query.order_by(Record.decision_date.desc(), Record.id.desc())
    total = 0
    if count_cap:
        # Counted newest first too: the index walk then meets published records at once instead of
        # wading through years of expired ones before reaching the cap.
        capped = newest_first.with_only_columns(Record.id).limit(count_cap).subquery()
        total = session.scalar(select(func.count()).select_from(capped)) or 0
    return list(session.scalars(newest_first.limit(limit).offset(offset))), total


def is_current(session: Session, record: Record) -> bool:
    return session.scalar(select(func.count()).select_from(Record)
                          .where(Record.supersedes_id == record.id)) == 0 and record.kind != "revocation"


def current_for_subject(session: Session, subject_id: int) -> list[Record]:
    return list(session.scalars(current_query().where(Record.subject_id == subject_id)
                                .order_by(Record.decision_date.desc(), Record.id.desc())))


def history(session: Session, record: Record) -> list[Record]:
    """Every fact of the record's natural-key chain, oldest first."""
    return list(session.scalars(select(Record).where(
        Record.department_id == record.department_id, Record.item_code == record.item_code,
        Record.subject_id == record.subject_id, Record.natural_key == record.natural_key).order_by(Record.id)))


def read_history(session: Session, actor: Actor, record_id: int) -> list[Record]:
    """A record's whole chain for a non-public reader; the read is audited."""
    record = get(session, record_id)
    chain = history(session, record)
    audit.append(session, actor, "record.read", object_type="record", object_id=record.id,
                 subject_id=record.subject_id, detail={"records": [r.id for r in chain]})
    return chain


def read_subject_records(session: Session, actor: Actor, subject_id: int) -> list[Record]:
    """Current records of a subject for a non-public reader; the read is audited."""
    rows = current_for_subject(session, subject_id)
    audit.append(session, actor, "record.read", object_type="subject", object_id=subject_id,
                 subject_id=subject_id, detail={"records": [r.id for r in rows]})
    return rows


def list_for_department(session: Session, department_id: int, *, limit: int = 50,
                        offset: int = 0) -> tuple[list[Record], int]:
    query = select(Record).where(Record.department_id == department_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Record.id.desc()).limit(limit).offset(offset))), total


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Record)) or 0


def counts_by_item(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Record.item_code, func.count()).group_by(Record.item_code)).all())


# --- aggregated counts and publication windows for other contexts' read models -----------------------------

def dishonesty_counts(session: Session, *, since: date, until: date,
                      region_prefix: str | None = None) -> list[tuple[str, date, int]]:
    """(item code, decision date, records) of current dishonesty records (a severity, not repaired)
    decided in [since, until], of subjects inside ``region_prefix`` if given (授权运营 products)."""
    query = (select(Record.item_code, Record.decision_date, func.count())
             .where(_current_filter(), Record.kind != "repair", Record.severity.is_not(None),
                    Record.decision_date >= since, Record.decision_date <= until)
             .group_by(Record.item_code, Record.decision_date))
    if region_prefix:
        query = query.where(Record.subject_id.in_(subjects.ids_in_region(region_prefix)))
    return [(item, day, int(n)) for item, day, n in session.execute(query)]


def publication_ends(session: Session, record_ids: Collection[int]) -> dict[int, datetime | None]:
    """For each published record id: the end (exclusive) of its publication window, None when it has
    none. Records never published are absent (the public site never showed them)."""
    if not record_ids:
        return {}
    rows = session.execute(select(Record.id, Record.publication_ends_at).where(
        in_values(session, Record.id, list(record_ids)), Record.published.is_(True)))
    return {record_id: ends for record_id, ends in rows}
