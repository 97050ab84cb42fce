"""Collection (归集): departments submit files; every row is validated, stored once, and accounted for.

A batch is a file for one catalogue item from one department. It is processed in chunks; each
chunk commits its records, its row outcomes and the batch cursor in one transaction, so a crash
loses nothing accepted, and running the batch again resumes after the last committed chunk
(``processed_rows``). Records themselves are idempotent (``records.service``): the same row sent
again, in this file or another, is recognised as a duplicate; the same natural key with new content
is a correction.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.catalogue.validation import FieldProblem, check_payload, decision_date_of
from xinyong.config import get_settings
from xinyong.db import RawJSON, bulk_insert, unit_of_work, utcnow
from xinyong.errors import DomainError, Forbidden, Invalid, NotFound
from xinyong.ingest import mapping, readers
from xinyong.ingest.models import ColumnMapping, IngestBatch, IngestRow
from xinyong.ingest.validate import FAST_OK, fast_validate
from xinyong.policy import calendar_service
from xinyong.policy import service as policy
from xinyong.records import service as records
from xinyong.subjects import identity, uscc
from xinyong.subjects import service as subjects

OUTCOME_LABELS = {"accepted": "已接收", "correction": "更正", "duplicate": "重复（未新增）", "flagged": "已接收但需核实",
                  "rejected": "已拒绝"}


@dataclass
class Candidate:
    """A row that passed validation, on its way to becoming a record."""

    row: int
    name: str
    payload: dict[str, Any]
    code: str | None = None
    citizen_id: str | None = None
    flags: list[FieldProblem] = field(default_factory=list)


@dataclass
class ChunkResult:
    rows: list[dict[str, Any]] = field(default_factory=list)  # IngestRow values
    records: list[dict[str, Any]] = field(default_factory=list)  # Record values
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOME_LABELS, 0))


# --- submitting ----------------------------------------------------------------------------------

def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _store(path: Path, sha: str, filename: str) -> Path:
    """Keep the file as received (evidence, and what a resumed import reads)."""
    target = get_settings().data_dir / "uploads" / sha[:2] / f"{sha}{Path(filename).suffix.lower()[:8]}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target.with_suffix(".part"))
        target.with_suffix(".part").rename(target)
    return target


def saved_mapping(session: Session, department_id: int, item_code: str) -> dict[str, str]:
    row = session.scalar(select(ColumnMapping).where(ColumnMapping.department_id == department_id,
                                                     ColumnMapping.item_code == item_code))
    return dict(row.mapping) if row else {}


def save_mapping(session: Session, actor: Actor, item_code: str, columns: dict[str, str]) -> ColumnMapping:
    """Remember how this department's columns map to the item's fields ("" ignores a column)."""
    department = access.department_of(session, actor)
    entry = catalogue.get_item(session, item_code)
    valid = {f["name"] for f in entry.version.fields} | set(mapping.IDENTITY_LABELS) | {mapping.IGNORED}
    wrong = [target for target in columns.values() if target not in valid]
    if wrong:
        raise Invalid("MAPPING_TARGET_UNKNOWN", f"映射目标字段不存在：{'、'.join(wrong)}", field="mapping")
    row = session.scalar(select(ColumnMapping).where(ColumnMapping.department_id == department.id,
                                                     ColumnMapping.item_code == item_code))
    if row is None:
        row = ColumnMapping(department_id=department.id, item_code=item_code, mapping=columns, updated_at=utcnow())
        session.add(row)
    else:
        row.mapping, row.updated_at = columns, utcnow()
    session.flush()
    audit.append(session, actor, "ingest.mapping", object_type="column_mapping", object_id=item_code,
                 detail={"department": department.code, "mapping": columns})
    return row


def submit_file(session: Session, actor: Actor, item_code: str, path: Path, filename: str, *,
                channel: str = "upload", declared_encoding: str | None = None) -> IngestBatch:
    """Register a file for import and check its structure; rows are processed by ``run_batch``.

    The same file from the same department for the same item is the same batch: a finished one is
    returned as it is (nothing new is created); one refused for its structure is checked again (the
    department may have saved a column mapping since).
    """
    department = access.department_of(session, actor)
    entry = catalogue.get_item(session, item_code)
    sha = file_sha256(path)
    batch = session.scalar(select(IngestBatch).where(IngestBatch.department_id == department.id,
                                                     IngestBatch.item_code == item_code, IngestBatch.file_sha256 == sha))
    if batch is not None and not (batch.status == "failed" and batch.processed_rows == 0):
        return batch
    stored = _store(path, sha, filename)
    if batch is None:
        batch = IngestBatch(department_id=department.id, item_code=item_code, channel=channel, filename=filename[:255],
                            file_sha256=sha, stored_path=str(stored), mapping={}, submitted_by=actor.user_id,
                            created_at=utcnow())
        session.add(batch)
        session.flush()
    try:
        source = readers.open_source(stored, declared_encoding=declared_encoding)
        targets = mapping.resolve(source.header, entry.version.fields, saved_mapping(session, department.id, item_code))
    except DomainError as error:
        batch.status, batch.error_code, batch.error_message = "failed", error.code, error.message[:1000]
        audit.append(session, actor, "ingest.refuse", object_type="ingest_batch", object_id=batch.id,
                     detail={"file_sha256": sha, "code": error.code})
        return batch
    batch.file_format, batch.encoding = source.file_format, source.encoding
    batch.mapping = {"columns": source.header, "targets": targets}
    batch.status, batch.error_code, batch.error_message = "pending", None, None
    audit.append(session, actor, "ingest.submit", object_type="ingest_batch", object_id=batch.id,
                 detail={"item": item_code, "file": filename[:255], "file_sha256": sha, "format": source.file_format,
                         "encoding": source.encoding})
    return batch


# --- processing ----------------------------------------------------------------------------------

def run_batch(factory: sessionmaker[Session], batch_id: int, *, chunk_rows: int | None = None,
              progress: Callable[[int, int | None], None] | None = None) -> IngestBatch:
    """Process a batch to the end, resuming after its last committed chunk. Safe to call again."""
    with unit_of_work(factory) as session:
        batch = get_batch(session, batch_id)
        if batch.status in ("done", "failed"):
            return batch
        source = readers.open_source(Path(batch.stored_path), declared_format=batch.file_format,
                                     declared_encoding=batch.encoding or None)
        chunk_rows = chunk_rows or int(policy.get(session, "ingest_limits")["chunk_rows"])
        if batch.total_rows is None and not _count_rows(session, batch, source):
            return batch
        batch.status, batch.started_at = "running", batch.started_at or utcnow()
        start, total = batch.processed_rows, batch.total_rows
    if progress:
        progress(start, total)
    expected, chunks = start, 0
    for chunk in source.chunks(start_row=start, chunk_rows=chunk_rows):
        with unit_of_work(factory) as session:
            batch = _claim(session, batch_id)
            if batch.processed_rows != expected:  # another runner took this batch further: leave it to it
                return batch
            process_chunk(session, batch, chunk)
            expected = done = batch.processed_rows
            chunks += 1
            _refresh_statistics(session, chunks)
        if progress:
            progress(done, total)
    with unit_of_work(factory) as session:
        batch = _claim(session, batch_id)
        if batch.status == "done" or batch.processed_rows != expected:
            return batch
        batch.status, batch.finished_at = "done", utcnow()
        audit.append(session, _batch_actor(session, batch), "ingest.finish", object_type="ingest_batch",
                     object_id=batch.id, detail=_counts(batch))
        return batch


def _refresh_statistics(session: Session, chunks: int) -> None:
    """PostgreSQL plans chain look-ups from table statistics; a large import outruns autovacuum,
    and with stale statistics the planner scans instead of using the chain index. Refresh them
    after chunks 1, 2, 4, 8, … of an import (SQLite plans without statistics)."""
    if session.get_bind().dialect.name == "postgresql" and chunks & (chunks - 1) == 0:
        session.execute(text("ANALYZE records, subjects, subject_attestations"))


def _claim(session: Session, batch_id: int) -> IngestBatch:
    """The batch row, locked until this chunk commits (SQLite: the transaction already holds the write lock)."""
    batch = session.scalar(select(IngestBatch).where(IngestBatch.id == batch_id).with_for_update())
    if batch is None:
        raise NotFound("BATCH_NOT_FOUND", f"报送批次不存在：{batch_id}")
    return batch


def _count_rows(session: Session, batch: IngestBatch, source: readers.SourceFile) -> bool:
    """Read the whole file once before importing: a structural fault anywhere refuses the file
    before any row of it becomes visible."""
    try:
        batch.total_rows = sum(chunk.height for chunk in source.chunks(chunk_rows=50_000))
    except DomainError as error:
        batch.status, batch.error_code, batch.error_message = "failed", error.code, error.message[:1000]
        audit.append(session, _batch_actor(session, batch), "ingest.refuse", object_type="ingest_batch",
                     object_id=batch.id, detail={"code": error.code})
        return False
    return True


def _batch_actor(session: Session, batch: IngestBatch) -> Actor:
    if batch.submitted_by is not None:
        return access.actor_for(access.get_user(session, batch.submitted_by))
    department = access.get_department(session, batch.department_id)
    return Actor(user_id=None, username=f"{department.short_name}（命令行）", role="department_submitter",
                 department_id=department.id)


def _counts(batch: IngestBatch) -> dict[str, int]:
    return {"total": batch.total_rows or 0, "accepted": batch.accepted, "corrected": batch.corrected,
            "duplicate": batch.duplicate, "flagged": batch.flagged, "rejected": batch.rejected}


def process_chunk(session: Session, batch: IngestBatch, raw: pl.DataFrame) -> None:
    """Validate, store and account for one chunk, inside the caller's transaction."""
    entry = catalogue.get_item(session, batch.item_code)
    fields = entry.version.fields
    department = access.get_department(session, batch.department_id)
    actor = _batch_actor(session, batch)
    targets: list[str] = batch.mapping["targets"]
    columns: list[str] = batch.mapping["columns"]
    frame = raw.select(*[pl.col(f"c{i}").alias(t) for i, t in enumerate(targets) if t], pl.col("__row"))
    today = clock.today()
    result = ChunkResult()
    candidates = _validate(session, frame, fields, today, result)
    _resolve_subjects(session, actor, candidates, department.code)
    _flag_late(session, batch.item_code, fields, candidates, today)
    _to_records(session, batch, entry, department.id, candidates, result)
    records.insert_many(session, result.records)
    _attach_sources(result, raw, columns)
    for row in result.rows:
        row["batch_id"] = batch.id
    bulk_insert(session, IngestRow.__table__, result.rows)
    ids = [r["id"] for r in result.records]
    batch.processed_rows += raw.height
    batch.accepted += result.counts["accepted"]
    batch.corrected += result.counts["correction"]
    batch.duplicate += result.counts["duplicate"]
    batch.flagged += result.counts["flagged"]
    batch.rejected += result.counts["rejected"]
    digest = hashlib.sha256("".join(r["content_hash"] for r in result.records).encode()).hexdigest()
    audit.append(session, actor, "ingest.chunk", object_type="ingest_batch", object_id=batch.id,
                 detail={"rows": [int(raw["__row"].min() or 0), int(raw["__row"].max() or 0)],
                         "records": [ids[0], ids[-1]] if ids else [], "records_sha256": digest, **result.counts})


def _validate(session: Session, frame: pl.DataFrame, fields: list[dict[str, Any]], today: date,
              result: ChunkResult) -> list[Candidate]:
    rules = subjects.rules(session)
    checked = fast_validate(frame, fields, rules, today)
    names = [f["name"] for f in fields]
    candidates = []
    for row in checked.filter(pl.col(FAST_OK)).select("__row", mapping.SUBJECT_NAME, mapping.SUBJECT_CODE,
                                                       *names).iter_rows():
        payload = {name: value for name, value in zip(names, row[3:], strict=True) if value is not None}
        candidates.append(Candidate(row=row[0], name=row[1], code=row[2], payload=payload))
    slow = frame.join(checked.filter(~pl.col(FAST_OK)).select("__row"), on="__row")
    for values in slow.iter_rows(named=True):
        candidate, problems = check_row(session, values, fields, today, rules)
        if candidate is not None:
            candidates.append(candidate)
        else:
            _account(result, values["__row"], "rejected", problems)
    return sorted(candidates, key=lambda c: c.row)


def check_row(session: Session, values: dict[str, Any], fields: list[dict[str, Any]], today: date,
              rules: uscc.UsccRules) -> tuple[Candidate | None, list[FieldProblem]]:
    """The scalar rules for one row (payload and subject identity), every problem reported."""
    payload_values = {k: v for k, v in values.items() if not k.startswith("__")}
    clean, problems = check_payload(fields, payload_values, check_uscc=lambda raw: uscc.validate(raw, rules),
                                    today=today)
    name = (values.get(mapping.SUBJECT_NAME) or "").strip()
    code_text = (values.get(mapping.SUBJECT_CODE) or "").strip()
    id_text = (values.get(mapping.CITIZEN_ID) or "").strip()
    if not name:
        problems.append(FieldProblem(mapping.SUBJECT_NAME, "SUBJECT_NAME_REQUIRED", "行政相对人名称为必填项"))
    code = citizen_id = None
    try:
        if code_text:
            code = uscc.validate(code_text, rules)
        elif id_text:
            citizen_id = identity.validate_citizen_id(id_text)
        else:
            problems.append(FieldProblem(mapping.SUBJECT_CODE, "SUBJECT_REF_MISSING",
                                         "统一社会信用代码和证件号码不能同时为空"))
    except DomainError as error:
        target = mapping.SUBJECT_CODE if code_text else mapping.CITIZEN_ID
        problems.append(FieldProblem(target, error.code, error.message))
    if problems:
        return None, problems
    return Candidate(row=values["__row"], name=name, payload=clean, code=code, citizen_id=citizen_id), []


def _resolve_subjects(session: Session, actor: Actor, candidates: list[Candidate], source: str) -> None:
    """Attach subject ids; a name that differs from the registry's flags the row (一码多赋 check)."""
    pairs = {(c.code, c.name) for c in candidates if c.code}
    known = subjects.resolve_organisations(session, actor, pairs, source=source) if pairs else {}
    secret = get_settings().person_id_secret
    for c in candidates:
        if c.code:
            subject_id, registered = known[c.code]
        else:
            person = subjects.register_person(session, actor, c.citizen_id or "", c.name, secret)
            subject_id, registered = person.id, person.normalised_name
        c.payload["__subject_id"] = subject_id
        if subjects.normalise_name(c.name) != registered:
            c.flags.append(FieldProblem(mapping.SUBJECT_NAME, "SUBJECT_NAME_MISMATCH",
                                        f"行政相对人名称“{c.name}”与主体库中该代码的登记名称不一致，已列入赋码冲突待核实"))


def _flag_late(session: Session, item_code: str, fields: list[dict[str, Any]], candidates: list[Candidate],
               today: date) -> None:
    """双公示 timeliness: late rows are accepted and flagged (报送时限, working days)."""
    limit = policy.get(session, "timeliness_working_days").get(item_code)
    if limit is None:
        return
    calendar = calendar_service.working_calendar(session)
    decision_field = next((f["name"] for f in fields if f.get("decision_date")), "")
    due_by_date: dict[date, date] = {}
    for c in candidates:
        decided = decision_date_of(fields, c.payload)
        if decided is None:
            continue
        if decided not in due_by_date:
            due_by_date[decided] = calendar.add_working_days(decided, int(limit))
        due = due_by_date[decided]
        if today > due:
            late = calendar.working_days_between(due, today)
            c.flags.append(FieldProblem(decision_field, "LATE_SUBMISSION",
                                        f"决定日期{decided.isoformat()}，应于{due.isoformat()}前报送（{limit}个工作日），"
                                        f"已逾期{late}个工作日"))


def _to_records(session: Session, batch: IngestBatch, entry: catalogue.Item, department_id: int,
                candidates: list[Candidate], result: ChunkResult) -> None:
    """Decide each row's outcome against the chains already stored and earlier rows of this chunk."""
    version = entry.version
    keyed = []
    for c in candidates:
        subject_id = c.payload.pop("__subject_id")
        natural_key = "|".join(str(c.payload.get(k, "")) for k in version.natural_key)
        canonical = records.payload_json(c.payload)
        keyed.append((c, subject_id, natural_key, records.content_hash_of(subject_id, canonical), canonical))
    heads: dict[records.ChainKey, records.Head] = records.chain_heads(
        session, department_id, batch.item_code, {(s, k) for _, s, k, _, _ in keyed})
    received = utcnow()
    periods = records.publication_periods(session)
    pending_ids = iter(range(-1, -len(keyed) - 2, -1))  # placeholders until insert_many assigns ids
    for c, subject_id, natural_key, digest, canonical in keyed:
        head = heads.get((subject_id, natural_key))
        live = head is not None and head.kind != "revocation"
        if live and head is not None and head.content_hash == digest:
            _account(result, c.row, "duplicate", [], record_id=head.id)  # nothing new, nothing to check
            continue
        if head is not None and head.kind == "repair":
            _account(result, c.row, "rejected", [FieldProblem(version.natural_key[0], "RECORD_REPAIRED",
                                                              "该记录已完成信用修复，不能再更正；新的失信行为请以新的文书号报送")])
            continue
        kind = "correction" if live else "original"
        placeholder = next(pending_ids)
        decided = decision_date_of(version.fields, c.payload)
        subject_kind = subjects.kind_for_code(session, c.code) if c.code else "natural_person"
        result.records.append({
            "subject_id": subject_id, "item_code": batch.item_code, "item_version_id": version.id,
            "department_id": department_id, "kind": kind, "supersedes_id": head.id if live and head else None,
            "natural_key": natural_key, "content_hash": digest, "payload": RawJSON(canonical), "severity": version.severity,
            "decision_date": decided, "received_at": received, "reason": "", "submitted_by": batch.submitted_by,
            "batch_id": batch.id, "source_row": c.row, "_placeholder": placeholder,
            **records.publication_fields(version, severity=version.severity, decision_date=decided, payload=c.payload,
                                         subject_kind=subject_kind, periods=periods)})
        heads[(subject_id, natural_key)] = records.Head(placeholder, digest, kind)
        outcome = "flagged" if c.flags else ("correction" if live else "accepted")
        _account(result, c.row, outcome, c.flags, record_id=placeholder, plain=outcome == "accepted")
    _assign_ids(session, result)


def _assign_ids(session: Session, result: ChunkResult) -> None:
    """Replace placeholders (negative) by the ids the records will get, in supersedes links too."""
    ids = records.reserve_ids(session, len(result.records))
    real = {}
    for record_id, row in zip(ids, result.records, strict=True):
        real[row.pop("_placeholder")] = record_id
        row["id"] = record_id
    for row in result.records:
        if row["supersedes_id"] is not None and row["supersedes_id"] < 0:
            row["supersedes_id"] = real[row["supersedes_id"]]
    for row in result.rows:
        if row["record_id"] is not None and row["record_id"] < 0:
            row["record_id"] = real[row["record_id"]]


def _account(result: ChunkResult, row: int, outcome: str, problems: list[FieldProblem], *,
             record_id: int | None = None, plain: bool = False) -> None:
    result.counts[outcome] += 1
    if plain:
        return  # a plain acceptance is the record itself (records.batch_id / source_row)
    result.rows.append({"row_number": row, "outcome": outcome, "record_id": record_id,
                        "problems": [p.__dict__ for p in problems], "source": None})


def _attach_sources(result: ChunkResult, raw: pl.DataFrame, columns: list[str], keep: int = 2000) -> None:
    """Keep rejected and flagged rows as sent, for the error report (very long cells cut, the fact noted)."""
    wanted = {row["row_number"] for row in result.rows if row["outcome"] in ("rejected", "flagged")}
    if not wanted:
        return
    sent = {}
    for values in raw.filter(pl.col("__row").is_in(sorted(wanted))).iter_rows(named=True):
        out = {}
        for i, column in enumerate(columns):
            value = values[f"c{i}"]
            if isinstance(value, str) and len(value) > keep:
                value = f"{value[:keep]}…（已截断，原长{len(value)}字）"
            out[column] = value
        sent[values["__row"]] = out
    for row in result.rows:
        row["source"] = sent.get(row["row_number"])


# --- reading -------------------------------------------------------------------------------------

def get_batch(session: Session, batch_id: int) -> IngestBatch:
    batch = session.get(IngestBatch, batch_id)
    if batch is None:
        raise NotFound("BATCH_NOT_FOUND", f"报送批次不存在：{batch_id}")
    return batch


def batch_for(session: Session, actor: Actor, batch_id: int) -> IngestBatch:
    """A batch its department (or the credit authority) may see."""
    batch = get_batch(session, batch_id)
    if actor.role != "authority_admin" and actor.department_id != batch.department_id:
        raise Forbidden("BATCH_NOT_YOURS", "只能查看本部门的报送批次")
    return batch


def batches(session: Session, *, department_id: int | None = None, limit: int = 50) -> list[IngestBatch]:
    query = select(IngestBatch).order_by(IngestBatch.id.desc()).limit(limit)
    if department_id is not None:
        query = query.where(IngestBatch.department_id == department_id)
    return list(session.scalars(query))


def row_outcomes(session: Session, batch: IngestBatch, outcomes: tuple[str, ...] | None = None) -> list[IngestRow]:
    query = select(IngestRow).where(IngestRow.batch_id == batch.id).order_by(IngestRow.row_number)
    if outcomes:
        query = query.where(IngestRow.outcome.in_(outcomes))
    return list(session.scalars(query))


def unfinished(session: Session) -> list[int]:
    return list(session.scalars(select(IngestBatch.id).where(IngestBatch.status.in_(("pending", "running")))))


def count_rows(session: Session, batch: IngestBatch) -> int:
    return session.scalar(select(func.count()).select_from(IngestRow).where(IngestRow.batch_id == batch.id)) or 0
