"""The record store: accept facts, correct and revoke them by new facts, derive the current view.

A chain is one department's record of one item about one subject, identified by the item's
natural key (e.g. 处罚决定书文号). Idempotence: a re-sent record with the same chain and content is
the record already held. The same natural key with different content is a correction (更正) that
supersedes the head of that chain; a revocation (撤销) is a fact that withdraws it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from xinyong import clock
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.catalogue.validation import FieldProblem, check_payload, decision_date_of
from xinyong.config import get_settings
from xinyong.db import allocate_ids, bulk_insert, utcnow
from xinyong.errors import Forbidden, Invalid, NotFound
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
    outcome = "correction" if head is not None and head.kind != "revocation" else "accepted"
    record = Record(subject_id=subject.id, item_code=item_code, item_version_id=entry.version.id,
                    department_id=department_id, kind="correction" if outcome == "correction" else "original",
                    supersedes_id=head.id if outcome == "correction" else None, natural_key=natural_key,
                    content_hash=digest, payload=clean, severity=entry.version.severity,
                    decision_date=decision_date_of(entry.version.fields, clean), received_at=utcnow(),
                    submitted_by=actor.user_id)
    session.add(record)
    session.flush()
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
                        received_at=utcnow(), reason=reason.strip(), submitted_by=actor.user_id)
    session.add(revocation)
    session.flush()
    audit.append(session, actor, "record.revoke", object_type="record", object_id=record.id,
                 subject_id=record.subject_id, detail={"revocation": revocation.id, "reason": reason.strip()})
    return revocation


def _current_filter() -> Any:
    successor = aliased(Record)
    return and_(Record.kind != "revocation", ~exists().where(successor.supersedes_id == Record.id))


def current_query() -> Select[tuple[Record]]:
    """The current view: facts nothing supersedes, revocations excluded."""
    return select(Record).where(_current_filter())


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
