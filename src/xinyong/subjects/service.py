"""The subject registry (信用主体库): register, look up, and find code conflicts.

重复赋码: one organisation holding several codes — the same normalised name in the same region
under different codes. 一码多赋: one code claimed by several organisations — sources attest
different names or registration authorities for it. Both go on a conflict list that the
credit authority decides; decisions are new facts, never edits of the evidence.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.db import allocate_ids, bulk_insert, in_values, utcnow
from xinyong.errors import Invalid, NotFound
from xinyong.policy import service as policy
from xinyong.subjects import identity, pinyin, uscc
from xinyong.subjects.kinds import SUBJECT_KINDS
from xinyong.subjects.models import ConflictDecision, Subject, SubjectAttestation, SubjectConflict
from xinyong.subjects.schemas import OrganisationIn
from xinyong.subjects.search import name_pairs

CONFLICT_KINDS = {"duplicate_code": "重复赋码", "code_conflict": "一码多赋"}
CONFLICT_OUTCOMES = {
    "confirmed": "确认存在问题，已移交登记管理机关处理",
    "dismissed": "经核实不构成冲突",
    "name_adopted": "以核实的名称为准，更新主体名称",
}
_SPACES = re.compile(r"\s+")


def normalise_name(name: str) -> str:
    """Full-width to half-width, no spaces, one kind of bracket: how names are compared."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", name or "")).replace("[", "(").replace("]", ")")


def name_initials(name: str) -> str:
    """Pinyin initials (拼音首字母), e.g. 华为技术有限公司 → HWJSYXGS."""
    return pinyin.initials(normalise_name(name))


def name_columns(name: str, *, searchable: bool = True) -> dict[str, str]:
    """The stored forms of a name: as given, normalised, pinyin initials, search pairs."""
    normalised = normalise_name(name)
    return {"name": name.strip(), "normalised_name": normalised, "name_initials": pinyin.initials(normalised),
            "search_pairs": name_pairs(normalised) if searchable else ""}


def rules(session: Session) -> uscc.UsccRules:
    return uscc.UsccRules.from_policy(policy.get(session, "uscc_categories"))


def validate_code(session: Session, raw: str) -> str:
    return uscc.validate(raw, rules(session))


def kind_for_code(session: Session, code: str) -> str:
    return policy.get(session, "subject_kind_by_category").get(code[:2], "other_org")


def get(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound("SUBJECT_NOT_FOUND", f"信用主体不存在：{subject_id}")
    return subject


def by_ids(session: Session, ids: list[int]) -> list[Subject]:
    return list(session.scalars(select(Subject).where(Subject.id.in_(ids)))) if ids else []


def ids_in_region(region_prefix: str) -> Select[tuple[int]]:
    """A sub-query of the subjects registered in a region (GB/T 2260 code or its prefix)."""
    return select(Subject.id).where(Subject.region_code.startswith(region_prefix))


def population_query(kinds: list[str]) -> Select[Any]:
    """Subjects of the given kinds for batch work: id, kind, region and industry."""
    return (select(Subject.id.label("subject_id"), Subject.kind, Subject.region_code, Subject.industry)
            .where(Subject.kind.in_(kinds)).order_by(Subject.id))


@dataclass(frozen=True)
class Found:
    """A subject found by code or person key (the columns a batch look-up needs)."""

    id: int
    kind: str
    uscc: str | None
    person_key: str | None
    name: str
    masked_id: str | None


def lookup(session: Session, *, codes: Collection[str] = (), person_keys: Collection[str] = ()) -> list[Found]:
    """Subjects by normalised 统一社会信用代码 and by person key, in batches (unknown ones are absent)."""
    columns = (Subject.id, Subject.kind, Subject.uscc, Subject.person_key, Subject.name, Subject.masked_id)
    found: list[Found] = []
    for column, values in ((Subject.uscc, codes), (Subject.person_key, person_keys)):
        if values:
            found.extend(Found(*row) for row in session.execute(select(*columns).where(in_values(session, column, values))))
    return found


def by_code(session: Session, code: str) -> Subject | None:
    return session.scalar(select(Subject).where(Subject.uscc == uscc.normalise(code)))


def by_code_or_fail(session: Session, code: str) -> Subject:
    subject = by_code(session, code)
    if subject is None:
        raise NotFound("SUBJECT_NOT_FOUND", f"统一社会信用代码为{uscc.normalise(code)}的信用主体不存在")
    return subject


def by_person(session: Session, citizen_id: str, secret: bytes) -> Subject | None:
    key = identity.person_key(identity.validate_citizen_id(citizen_id), secret)
    return session.scalar(select(Subject).where(Subject.person_key == key))


def register_organisation(session: Session, actor: Actor, data: OrganisationIn, *,
                          source: str = "registry") -> Subject:
    """Register an organisation, or attest what ``source`` says about one already known (idempotent)."""
    code = validate_code(session, data.uscc)
    kind = data.kind or kind_for_code(session, code)
    if kind not in SUBJECT_KINDS or kind == "natural_person":
        raise Invalid("SUBJECT_KIND_UNKNOWN", f"主体类型“{kind}”无效", field="kind")
    subject = by_code(session, code)
    if subject is None:
        subject = Subject(
            kind=kind, uscc=code, **name_columns(data.name), region_code=code[2:8], industry=data.industry,
            legal_representative=data.legal_representative, registration_authority=data.registration_authority,
            registered_on=data.registered_on, registered_capital=data.registered_capital, address=data.address,
            created_at=utcnow(),
        )
        session.add(subject)
        session.flush()
        audit.append(session, actor, "subject.register", object_type="subject", object_id=subject.id,
                     subject_id=subject.id, detail={"uscc": code, "name": subject.name, "kind": kind})
    attest(session, subject, source=source, name=data.name, registration_authority=data.registration_authority)
    detect_conflicts(session, subject)
    return subject


def register_person(session: Session, actor: Actor, citizen_id: str, name: str, secret: bytes) -> Subject:
    number = identity.validate_citizen_id(citizen_id)
    key = identity.person_key(number, secret)
    subject = session.scalar(select(Subject).where(Subject.person_key == key))
    if subject is not None:
        return subject
    subject = Subject(kind="natural_person", person_key=key, masked_id=identity.mask_id(number),
                      **name_columns(name, searchable=False), region_code=number[:6], created_at=utcnow())
    session.add(subject)
    session.flush()
    audit.append(session, actor, "subject.register", object_type="subject", object_id=subject.id,
                 subject_id=subject.id, detail={"kind": "natural_person", "masked_id": subject.masked_id})
    return subject


def _in_batches(values: list[Any], size: int = 900) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def resolve_organisations(session: Session, actor: Actor, pairs: set[tuple[str, str]], *,
                          source: str) -> dict[str, tuple[int, str]]:
    """Bulk form of ``register_organisation`` for collection: (code, name) pairs → code → (id, registry name).

    Codes must already be valid. Unknown codes are registered under one of the names given (the
    first in sort order, so the outcome does not depend on row order); every
    (subject, source, name) is attested; a code reported under a name other than the registry's
    is checked for 一码多赋 and new subjects for 重复赋码. One audit entry covers the registrations.
    The caller compares names to flag rows whose name does not match the registry.
    """
    names_by_code: dict[str, str] = {}
    for code, name in sorted(pairs):
        names_by_code.setdefault(code, name)
    known: dict[str, tuple[int, str]] = {}
    for part in _in_batches(list(names_by_code)):
        for subject_id, code, normalised in session.execute(
                select(Subject.id, Subject.uscc, Subject.normalised_name).where(Subject.uscc.in_(part))):
            known[code] = (subject_id, normalised)
    new = {code: name for code, name in names_by_code.items() if code not in known}
    if new:
        known.update(_insert_organisations(session, actor, new))
    _attest_many(session, {(known[code][0], name.strip()) for code, name in pairs}, source)
    for subject_id in sorted({known[code][0] for code, name in pairs if normalise_name(name) != known[code][1]}):
        _check_code_conflict(session, get(session, subject_id))
    return known


def _insert_organisations(session: Session, actor: Actor, names_by_code: dict[str, str]) -> dict[str, tuple[int, str]]:
    kinds = policy.get(session, "subject_kind_by_category")
    ids = allocate_ids(session, Subject.__table__, len(names_by_code))
    now = utcnow()
    rows = [{"id": subject_id, "kind": kinds.get(code[:2], "other_org"), "uscc": code, **name_columns(name),
             "region_code": code[2:8], "status": "存续", "created_at": now}
            for subject_id, (code, name) in zip(ids, names_by_code.items(), strict=True)]
    bulk_insert(session, Subject.__table__, rows)
    audit.append(session, actor, "subject.register_many", object_type="subject", object_id=f"{ids[0]}-{ids[-1]}",
                 detail={"count": len(rows), "codes_sha256": hashlib.sha256("".join(names_by_code).encode()).hexdigest()})
    for part in _in_batches(sorted({row["normalised_name"] for row in rows})):
        _check_duplicate_groups(session, part)
    return {row["uscc"]: (row["id"], row["normalised_name"]) for row in rows}


def _attest_many(session: Session, wanted: set[tuple[int, str]], source: str) -> None:
    ids = sorted({subject_id for subject_id, _ in wanted})
    existing: set[tuple[int, str]] = set()
    for part in _in_batches(ids):
        existing.update(session.execute(select(SubjectAttestation.subject_id, SubjectAttestation.name).where(
            SubjectAttestation.source == source, SubjectAttestation.registration_authority == "",
            SubjectAttestation.subject_id.in_(part))).all())
    now = utcnow()
    rows = [{"subject_id": subject_id, "source": source, "name": name, "registration_authority": "", "seen_at": now}
            for subject_id, name in sorted(wanted - existing)]
    if rows:
        bulk_insert(session, SubjectAttestation.__table__, rows)


def attest(session: Session, subject: Subject, *, source: str, name: str,
           registration_authority: str | None) -> None:
    """Remember what a source said about the subject's name and registration authority."""
    name, authority = name.strip(), (registration_authority or "").strip()
    exists = session.scalar(select(SubjectAttestation.id).where(
        SubjectAttestation.subject_id == subject.id, SubjectAttestation.source == source,
        SubjectAttestation.name == name, SubjectAttestation.registration_authority == authority))
    if exists is None:
        session.add(SubjectAttestation(subject_id=subject.id, source=source, name=name,
                                       registration_authority=authority, seen_at=utcnow()))
        session.flush()


def search(session: Session, *, q: str = "", kind: str | None = None, region: str | None = None,
           limit: int = 20, offset: int = 0) -> tuple[list[Subject], int]:
    """Registry look-up for staff pages: by code, by name fragment, or by pinyin initials."""
    query: Select[Any] = select(Subject)
    term = normalise_name(q)
    if term:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(Subject.uscc == uscc.normalise(term),
                                Subject.normalised_name.like(f"%{escaped}%", escape="\\"),
                                Subject.name_initials.like(f"{escaped.upper()}%", escape="\\")))
    if kind:
        query = query.where(Subject.kind == kind)
    if region:
        query = query.where(Subject.region_code.startswith(region))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Subject.id).limit(limit).offset(offset))
    return list(rows), total


# --- conflicts -------------------------------------------------------------------------------------

def _upsert_conflict(session: Session, kind: str, key: str, summary: str, evidence: dict[str, Any]) -> None:
    conflict = session.scalar(select(SubjectConflict).where(SubjectConflict.kind == kind,
                                                            SubjectConflict.conflict_key == key))
    if conflict is None:
        session.add(SubjectConflict(kind=kind, conflict_key=key, summary=summary, evidence=evidence,
                                    detected_at=utcnow()))
    elif conflict.evidence != evidence:
        # New evidence reopens the case: status is derived from decisions after detected_at.
        conflict.summary, conflict.evidence, conflict.detected_at = summary, evidence, utcnow()
    session.flush()


def _duplicate_region_prefix(session: Session) -> int:
    return int(policy.get(session, "duplicate_code_rule")["region_prefix_digits"])


def _check_duplicate_code(session: Session, subject: Subject) -> None:
    if subject.uscc is None:
        return
    prefix = subject.region_code[: _duplicate_region_prefix(session)]
    codes = sorted(session.scalars(select(Subject.uscc).where(
        Subject.normalised_name == subject.normalised_name, Subject.region_code.startswith(prefix),
        Subject.uscc.is_not(None))))
    if len(codes) > 1:
        _upsert_conflict(session, "duplicate_code", f"{subject.normalised_name}|{prefix}",
                         f"“{subject.name}”在行政区划{prefix}下有{len(codes)}个统一社会信用代码",
                         {"name": subject.name, "region_prefix": prefix, "codes": codes})


def _check_code_conflict(session: Session, subject: Subject) -> None:
    if subject.uscc is None:
        return
    claims = session.execute(select(SubjectAttestation.source, SubjectAttestation.name,
                                    SubjectAttestation.registration_authority)
                             .where(SubjectAttestation.subject_id == subject.id)).all()
    names = {normalise_name(c.name) for c in claims}
    authorities = {c.registration_authority for c in claims if c.registration_authority}
    if len(names) > 1 or len(authorities) > 1:
        evidence = {"uscc": subject.uscc,
                    "claims": sorted([{"source": c.source, "name": c.name,
                                       "registration_authority": c.registration_authority} for c in claims],
                                     key=lambda c: (c["source"], c["name"], c["registration_authority"]))}
        _upsert_conflict(session, "code_conflict", subject.uscc,
                         f"代码{subject.uscc}被不同来源报送为{len(names)}个名称、{len(authorities)}个登记机关",
                         evidence)


def detect_conflicts(session: Session, subject: Subject) -> None:
    _check_duplicate_code(session, subject)
    _check_code_conflict(session, subject)


def _check_duplicate_groups(session: Session, names: list[str] | None = None) -> None:
    """List 重复赋码 for every (name, region prefix) group holding several codes — among ``names``,
    or over the whole registry."""
    prefix = func.substr(Subject.region_code, 1, _duplicate_region_prefix(session))  # one expression: PG groups by it
    query = (select(Subject.normalised_name, prefix).where(Subject.uscc.is_not(None))
             .group_by(Subject.normalised_name, prefix).having(func.count(Subject.id) > 1))
    if names is not None:
        query = query.where(Subject.normalised_name.in_(names))
    for normalised, region in session.execute(query).all():
        first = session.scalar(select(Subject).where(Subject.normalised_name == normalised,
                                                     Subject.region_code.startswith(region)).limit(1))
        if first is not None:
            _check_duplicate_code(session, first)


def scan_conflicts(session: Session) -> int:
    """Re-check the whole registry with two grouped queries; returns how many cases are listed."""
    _check_duplicate_groups(session)
    multi = session.scalars(select(SubjectAttestation.subject_id).group_by(SubjectAttestation.subject_id)
                            .having(func.count(SubjectAttestation.id) > 1)).all()
    for subject_id in multi:
        _check_code_conflict(session, get(session, subject_id))
    return session.scalar(select(func.count()).select_from(SubjectConflict)) or 0


@dataclass(frozen=True)
class ConflictView:
    conflict: SubjectConflict
    decision: ConflictDecision | None

    @property
    def is_open(self) -> bool:
        return self.decision is None or self.decision.decided_at < self.conflict.detected_at

    @property
    def kind_label(self) -> str:
        return CONFLICT_KINDS[self.conflict.kind]


def list_conflicts(session: Session, *, open_only: bool = False) -> list[ConflictView]:
    views = []
    for conflict in session.scalars(select(SubjectConflict).order_by(SubjectConflict.detected_at.desc())):
        decision = session.scalar(select(ConflictDecision).where(ConflictDecision.conflict_id == conflict.id)
                                  .order_by(ConflictDecision.decided_at.desc(), ConflictDecision.id.desc())
                                  .limit(1))
        view = ConflictView(conflict, decision)
        if view.is_open or not open_only:
            views.append(view)
    return views


def decide_conflict(session: Session, actor: Actor, conflict_id: int, outcome: str, note: str,
                    adopted_name: str | None = None) -> ConflictDecision:
    conflict = session.get(SubjectConflict, conflict_id)
    if conflict is None:
        raise NotFound("CONFLICT_NOT_FOUND", f"冲突记录不存在：{conflict_id}")
    if outcome not in CONFLICT_OUTCOMES:
        raise Invalid("CONFLICT_OUTCOME_UNKNOWN", f"处理结果“{outcome}”无效", field="outcome")
    if len(note.strip()) < 2:
        raise Invalid("CONFLICT_NOTE_REQUIRED", "请填写处理说明", field="note")
    if outcome == "name_adopted":
        _adopt_name(session, actor, conflict, adopted_name)
    decision = ConflictDecision(conflict_id=conflict.id, outcome=outcome, note=note.strip(),
                                decided_by=actor.user_id, decided_by_name=actor.username,
                                decided_at=utcnow())
    session.add(decision)
    session.flush()
    audit.append(session, actor, "subject.conflict.decide", object_type="subject_conflict", object_id=conflict.id,
                 detail={"outcome": outcome, "note": note.strip(), "adopted_name": adopted_name})
    return decision


def _adopt_name(session: Session, actor: Actor, conflict: SubjectConflict, adopted_name: str | None) -> None:
    if conflict.kind != "code_conflict":
        raise Invalid("CONFLICT_OUTCOME_NOT_APPLICABLE", "仅一码多赋的冲突可以采用核实名称", field="outcome")
    claimed = {c["name"] for c in conflict.evidence["claims"]}
    if adopted_name not in claimed:
        raise Invalid("CONFLICT_NAME_NOT_CLAIMED", "采用的名称必须是某一来源报送过的名称", field="adopted_name")
    subject = by_code_or_fail(session, conflict.evidence["uscc"])
    before = subject.name
    for column, value in name_columns(adopted_name, searchable=subject.kind != "natural_person").items():
        setattr(subject, column, value)
    audit.append(session, actor, "subject.rename", object_type="subject", object_id=subject.id,
                 subject_id=subject.id, detail={"before": before, "after": adopted_name})


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Subject)) or 0
