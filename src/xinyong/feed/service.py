"""Upward feed (向上级平台报送): publish every fact by cursor; pull and apply a lower platform's feed.

Publishing. The record store is append-only and a correction or revocation is a new record with a
higher id, so the record id is a monotonic cursor: "everything after N" is every fact accepted,
corrected or revoked since a receiver last asked. An entry names the providing department and the
subject by their codes (never by this instance's ids) and carries the natural key, so the receiver
can find its own copy of a chain. ``export`` writes the current records of one item as a file in
the layout collection accepts (Chinese labels), which a higher platform can feed to ``xinyong ingest``.

Receiving. ``pull`` fetches pages after the stored cursor and applies each page in one transaction
together with the cursor update, so a crash between pages loses nothing and repeats nothing.
Originals and corrections go through ``records.service.submit`` (same validation, idempotence and
correction rules as any submission); revocations revoke the receiver's head of the same chain. An
entry the receiver refuses is kept in ``feed_failures`` and skipped; it never stops the feed.

Limitations (documented, not hidden):
- Natural persons leave only as masked ID and name (``person=True``): the keyed hash of the ID
  is local to each instance, so a receiver cannot register them and records a failure instead.
- The file export carries current versions only; revocations travel by the API feed alone.
- ``content_hash`` is the sender's (it covers the sender's subject id); receivers compute their own.
- On PostgreSQL record ids come from a sequence and transactions may commit out of id order, so the
  feed stops before a gap in ids that is younger than ``GAP_SETTLE`` (the missing ids may still
  commit) and continues once it has settled; a rolled-back insert therefore delays the feed, at most
  by ``GAP_SETTLE``.
- The feed is a read model over records, departments and subjects: it joins their tables read-only.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import Department
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.db import unit_of_work, utcnow
from xinyong.errors import DomainError, Invalid, NotFound
from xinyong.feed.models import FeedFailure, FeedReader, FeedSource
from xinyong.ingest.mapping import IDENTITY_LABELS, SUBJECT_CODE, SUBJECT_NAME
from xinyong.ingest.report import neutralise
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject

if TYPE_CHECKING:
    import httpx

MAX_PAGE = 5000
GAP_SETTLE = timedelta(minutes=5)
SYNC_SECTOR = "上级平台同步"
OPERATION_LABELS = {"original": "新增", "correction": "更正", "revocation": "撤销", "repair": "信用修复"}
EXPORT_FORMATS = ("csv", "ndjson")


class FeedEntry(BaseModel):
    """One fact of the feed, named by codes a receiving platform understands."""

    model_config = ConfigDict(frozen=True)

    feed_id: int
    operation: Literal["original", "correction", "revocation", "repair"]
    operation_label: str
    item_code: str
    department_code: str
    department_name: str
    subject_uscc: str | None
    subject_name: str
    person: bool = False
    masked_id: str | None = None
    natural_key: str
    payload: dict[str, Any]
    decision_date: date | None
    received_at: datetime
    content_hash: str
    supersedes: int | None = None
    reason: str = ""
    published: bool | None = None  # the sender's publication window (公示期), for the receiver's information
    publication_ends_at: datetime | None = None


class FeedPage(BaseModel):
    entries: list[FeedEntry]
    next_cursor: int
    has_more: bool


class FeedSourceError(DomainError):
    status = 502


# --- publishing -----------------------------------------------------------------------------------

def _entry(record: Record, department: Department, subject: Subject) -> FeedEntry:
    person = subject.uscc is None
    return FeedEntry(
        feed_id=record.id, operation=record.kind, operation_label=OPERATION_LABELS[record.kind],
        item_code=record.item_code, department_code=department.code, department_name=department.name,
        subject_uscc=subject.uscc, subject_name=subject.name, person=person,
        masked_id=subject.masked_id if person else None, natural_key=record.natural_key, payload=record.payload,
        decision_date=record.decision_date, received_at=clock.local(record.received_at),
        content_hash=record.content_hash, supersedes=record.supersedes_id, reason=record.reason,
        published=record.published,
        publication_ends_at=clock.local(record.publication_ends_at) if record.publication_ends_at else None)


def _settled(rows: list[Any], after: int) -> list[Any]:
    """Stop before a young gap in ids: on PostgreSQL the missing ids may still be committed."""
    horizon = utcnow() - GAP_SETTLE
    previous = after
    for index, row in enumerate(rows):
        record = row[0]
        if record.id != previous + 1 and record.received_at > horizon:
            return rows[:index]
        previous = record.id
    return rows


def changes(session: Session, after: int, limit: int) -> list[FeedEntry]:
    """Every fact with a feed id above ``after``, oldest first, at most ``limit``."""
    query = (select(Record, Department, Subject).join(Department, Department.id == Record.department_id)
             .join(Subject, Subject.id == Record.subject_id).where(Record.id > after)
             .order_by(Record.id).limit(max(1, min(limit, MAX_PAGE))))
    return [_entry(*row) for row in _settled(list(session.execute(query)), after)]


def _any_after(session: Session, cursor: int) -> bool:
    return session.scalar(select(Record.id).where(Record.id > cursor).limit(1)) is not None


def read_changes(session: Session, actor: Actor, after: int, limit: int) -> FeedPage:
    """A page of the feed for a higher platform; the read is audited."""
    limit = max(1, min(limit, MAX_PAGE))
    entries = changes(session, after, limit)
    cursor = entries[-1].feed_id if entries else after
    page = FeedPage(entries=entries, next_cursor=cursor, has_more=len(entries) == limit and _any_after(session, cursor))
    _acknowledge(session, actor, after)
    audit.append(session, actor, "feed.read", object_type="feed", object_id="records",
                 detail={"after": after, "entries": len(entries), "next_cursor": cursor})
    return page


def acknowledge(session: Session, actor: Actor, through: int) -> int:
    """A reader says it has applied every entry up to ``through`` (送达确认); returns what is recorded."""
    highest = session.scalar(select(func.max(Record.id))) or 0
    through = max(0, min(through, highest))
    _acknowledge(session, actor, through)
    audit.append(session, actor, "feed.acknowledge", object_type="feed", object_id="records",
                 detail={"through": through})
    return through


def _acknowledge(session: Session, actor: Actor, through: int) -> None:
    """Asking for the entries after N acknowledges every entry up to N, as does ``acknowledge``."""
    if actor.user_id is None:
        return
    reader = session.get(FeedReader, actor.user_id)
    now = utcnow()
    if reader is None:
        session.add(FeedReader(user_id=actor.user_id, acknowledged_through=through, first_read_at=now, last_read_at=now))
    else:
        reader.acknowledged_through = max(reader.acknowledged_through, through)
        reader.last_read_at = now


@dataclass(frozen=True)
class Delivery:
    """Whether one reader of the feed has acknowledged one fact (e.g. a repair notice)."""

    reader: str
    acknowledged: bool
    acknowledged_through: int
    last_read_at: datetime


def deliveries(session: Session, feed_id: int) -> list[Delivery]:
    """Every platform that reads this feed, and whether it has acknowledged fact ``feed_id``."""
    from xinyong.access.models import User

    rows = session.execute(select(FeedReader, User.display_name).join(User, User.id == FeedReader.user_id)
                           .order_by(FeedReader.user_id)).all()
    return [Delivery(name, r.acknowledged_through >= feed_id, r.acknowledged_through, r.last_read_at) for r, name in rows]


def _export_query(item_code: str, after: int, department_code: str | None) -> Select[Any]:
    query = (records.current_query().add_columns(Subject.uscc, Subject.name)
             .join(Subject, Subject.id == Record.subject_id)
             .where(Record.item_code == item_code, Record.id > after, Subject.uscc.is_not(None),
                    Record.kind != "repair"))  # a repaired record is not sent on as current
    if department_code:
        query = query.join(Department, Department.id == Record.department_id).where(Department.code == department_code)
    return query.order_by(Record.id).execution_options(yield_per=1000)


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def export_rows(session: Session, item_code: str, *, after: int = 0,
                department_code: str | None = None) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Header and rows (label → value) of the current organisation records of one item.

    Columns are the identity columns collection recognises and the labels of the item's fields in
    force; a field removed from the item since a record was stored is not exported.
    """
    fields = catalogue.get_item(session, item_code).version.fields
    header = [IDENTITY_LABELS[SUBJECT_NAME], IDENTITY_LABELS[SUBJECT_CODE], *(f["label"] for f in fields)]

    def rows() -> Iterator[dict[str, Any]]:
        for record, code, name in session.execute(_export_query(item_code, after, department_code)):
            values = {f["label"]: _cell(record.payload[f["name"]]) for f in fields if f["name"] in record.payload}
            yield {header[0]: name, header[1]: code, **values}

    return header, rows()


def _write_csv(handle: BinaryIO, header: list[str], rows: Iterator[dict[str, Any]]) -> int:
    """UTF-8 with BOM; cells a spreadsheet would run as a formula are neutralised."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([neutralise(row.get(column)) for column in header])
        count += 1
    text.flush()
    text.detach()
    return count


def _write_ndjson(handle: BinaryIO, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for row in rows:
        handle.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
        count += 1
    return count


def export(session: Session, actor: Actor, item_code: str, handle: BinaryIO, *, fmt: str = "csv", after: int = 0,
           department_code: str | None = None) -> int:
    """Write the item's current records to ``handle`` in a layout collection accepts; audited."""
    if fmt not in EXPORT_FORMATS:
        raise Invalid("FEED_FORMAT_UNKNOWN", "导出格式只支持 csv 和 ndjson", field="format")
    header, rows = export_rows(session, item_code, after=after, department_code=department_code)
    count = _write_csv(handle, header, rows) if fmt == "csv" else _write_ndjson(handle, rows)
    audit.append(session, actor, "feed.read", object_type="feed", object_id=f"export:{item_code}",
                 detail={"item": item_code, "after": after, "format": fmt, "department": department_code,
                         "rows": count})
    return count


# --- receiving ------------------------------------------------------------------------------------

@dataclass
class PullResult:
    source_url: str
    cursor: int
    pages: int = 0
    received: int = 0
    applied: int = 0  # new local facts (original, correction, revocation)
    unchanged: int = 0  # already held here (duplicate, already revoked)
    failed: int = 0  # refused here; see feed_failures


def _source(session: Session, source_url: str, *, lock: bool = False) -> FeedSource:
    query = select(FeedSource).where(FeedSource.source_url == source_url)
    source = session.scalar(query.with_for_update() if lock else query)
    if source is None:
        source = FeedSource(source_url=source_url, cursor=0, applied=0, failed=0)
        session.add(source)
        session.flush()
    return source


def _check_url(source_url: str) -> str:
    url = source_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) > 500:
        raise Invalid("FEED_SOURCE_URL_INVALID", "下级平台地址须为 http:// 或 https:// 开头的网址（不超过500字符）",
                      field="source_url")
    return url


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return f"{error.get('code', '')} {error.get('message', '')}".strip()
    except (ValueError, AttributeError):
        return response.text[:200]


def _fetch(client: httpx.Client, source_url: str, token: str, after: int, limit: int) -> FeedPage:
    import httpx

    try:
        response = client.get(f"{source_url}/api/v1/feed/records", params={"after": after, "limit": limit},
                              headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as error:
        raise FeedSourceError("FEED_SOURCE_UNREACHABLE", f"无法连接下级平台 {source_url}：{error}") from error
    if response.status_code != 200:
        raise FeedSourceError("FEED_SOURCE_REFUSED",
                              f"下级平台拒绝了请求（HTTP {response.status_code}）：{_error_text(response)}")
    try:
        return FeedPage.model_validate(response.json())
    except (ValueError, ValidationError) as error:
        raise FeedSourceError("FEED_SOURCE_MALFORMED", f"下级平台返回的数据格式不正确：{str(error)[:300]}") from error


def _department(session: Session, entry: FeedEntry) -> Department:
    """The providing department by its code, registered on first sight."""
    code = subjects.validate_code(session, entry.department_code)
    return access.create_department(session, code=code, name=entry.department_name[:100],
                                    short_name=entry.department_name[:40], region_code=code[2:8], sector=SYNC_SECTOR)


def _actor(department: Department) -> Actor:
    return Actor(user_id=None, username=f"下级平台同步：{department.short_name}", role="system",
                 department_id=department.id)


def _head(session: Session, department: Department, entry: FeedEntry, what: str) -> records.Head:
    """This platform's newest fact of the chain an entry withdraws or repairs."""
    subject = subjects.by_code(session, entry.subject_uscc or "")
    key = (subject.id if subject else 0, entry.natural_key)
    head = records.chain_heads(session, department.id, entry.item_code, {key}).get(key) if subject else None
    if head is None:
        raise NotFound(f"FEED_{what.upper()}_TARGET_MISSING", f"本平台没有被{OPERATION_LABELS[what]}记录的副本"
                       f"（下级平台记录{entry.supersedes}，业务主键“{entry.natural_key}”）")
    return head


def _revoke(session: Session, actor: Actor, department: Department, entry: FeedEntry) -> str:
    head = _head(session, department, entry, "revocation")
    if head.kind == "revocation":
        return "unchanged"
    records.revoke(session, actor, head.id, entry.reason if len(entry.reason.strip()) >= 2 else "下级平台已撤销")
    return "applied"


def _repair(session: Session, actor: Actor, department: Department, entry: FeedEntry) -> str:
    """A repair notice (信用修复): this platform stops publishing its copy at once, too."""
    head = _head(session, department, entry, "repair")
    if head.kind in ("repair", "revocation"):
        return "unchanged"
    records.mark_repaired(session, actor, head.id, entry.reason or "下级平台已完成信用修复")
    return "applied"


def _apply(session: Session, entry: FeedEntry) -> str:
    if entry.person:
        raise Invalid("FEED_PERSON_NOT_TRANSFERABLE", "自然人信用记录不随上报传输身份证号码（仅脱敏号码），"
                      "本平台无法确定对应主体，请通过其他渠道报送")
    department = _department(session, entry)
    actor = _actor(department)
    if entry.operation == "revocation":
        return _revoke(session, actor, department, entry)
    if entry.operation == "repair":
        return _repair(session, actor, department, entry)
    ref = SubjectRef(uscc=entry.subject_uscc, name=entry.subject_name)
    result = records.submit(session, actor, entry.item_code, ref, entry.payload, department_id=department.id,
                            department_code=department.code)
    return "applied" if result.created else "unchanged"


def _apply_safely(session: Session, source_url: str, entry: FeedEntry) -> str:
    """Apply one entry in a savepoint; a refusal is recorded as a failure instead."""
    try:
        with session.begin_nested():
            return _apply(session, entry)
    except (DomainError, ValidationError) as error:
        code = error.code if isinstance(error, DomainError) else "FEED_ENTRY_INVALID"
        message = error.message if isinstance(error, DomainError) else str(error)
        session.add(FeedFailure(source_url=source_url, feed_id=entry.feed_id, code=code[:60], message=message[:1000],
                                at=utcnow()))
        return "failed"


def _apply_page(factory: sessionmaker[Session], source_url: str, page: FeedPage, result: PullResult) -> None:
    """Apply a page and move the cursor past it in one transaction."""
    with unit_of_work(factory) as session:
        source = _source(session, source_url, lock=True)
        outcomes = Counter(_apply_safely(session, source_url, entry)
                           for entry in page.entries if entry.feed_id > source.cursor)
        source.cursor = max(source.cursor, page.next_cursor)
        source.applied += outcomes["applied"] + outcomes["unchanged"]
        source.failed += outcomes["failed"]
        source.last_pulled_at = utcnow()
        audit.append(session, Actor.system("上级平台同步"), "feed.pull", object_type="feed_source", object_id=source.id,
                     detail={"source": source_url, "cursor": source.cursor, **outcomes})
        result.cursor = source.cursor
    result.pages += 1
    result.received += len(page.entries)
    result.applied += outcomes["applied"]
    result.unchanged += outcomes["unchanged"]
    result.failed += outcomes["failed"]


def _send_acknowledgement(client: httpx.Client, source_url: str, token: str, through: int) -> None:
    """Tell the lower platform what is applied here (its repair notices are then known delivered).
    Best effort: if it fails, the next pull (``after`` = our cursor) acknowledges the same."""
    import httpx

    try:
        client.post(f"{source_url}/api/v1/feed/acknowledge", json={"through": through},
                    headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError:
        return


def _stored_cursor(factory: sessionmaker[Session], source_url: str) -> int:
    with unit_of_work(factory) as session:
        return _source(session, source_url).cursor


def pull(session_factory: sessionmaker[Session], source_url: str, token: str, *, http: httpx.Client | None = None,
         page: int = 1000) -> PullResult:
    """Fetch and apply everything the lower platform at ``source_url`` published after our cursor."""
    import httpx

    url = _check_url(source_url)
    result = PullResult(url, _stored_cursor(session_factory, url))
    client = http or httpx.Client(timeout=60)
    try:
        while True:
            before = result.cursor
            fetched = _fetch(client, url, token, before, max(1, min(page, MAX_PAGE)))
            _apply_page(session_factory, url, fetched, result)
            if result.cursor > before:
                _send_acknowledgement(client, url, token, result.cursor)
            if not fetched.has_more or result.cursor <= before:
                return result
    finally:
        if http is None:
            client.close()


# --- reading the receiver's state -----------------------------------------------------------------

def sources(session: Session) -> list[FeedSource]:
    return list(session.scalars(select(FeedSource).order_by(FeedSource.id)))


def failures(session: Session, source_url: str, *, limit: int = 100) -> list[FeedFailure]:
    return list(session.scalars(select(FeedFailure).where(FeedFailure.source_url == source_url)
                                .order_by(FeedFailure.id.desc()).limit(limit)))
