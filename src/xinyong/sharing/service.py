"""Departmental sharing (政务共享): 以共享为原则、不共享为例外.

What a department may read of a subject is decided per record, by the sharing class of the catalogue
item version the record was accepted under:

- 无条件共享: every department, always;
- 有条件共享: a department holding an approved share request (共享申请) for that item whose term covers
  today, and only for the purpose the request was approved for (用途限定): the read must state that
  purpose. A read that states no purpose never gets 有条件共享 records;
- 不予共享: never;
- whatever the department provided itself it always sees; the credit authority sees everything.

Requests are filed by a department (item, purpose, 履职依据, term in months up to the policy's
maximum) and approved (with the term) or rejected (with the reason) by the credit authority; the
department may withdraw one. Expiry is decided at read time. Every request and decision is audited,
and every read is audited (``record.read``) and logged in ``share_reads`` with its purpose, so the
subject sees which departments read its non-public information and why (``reads_of_subject``).
Policy parameters: ``sharing_purposes`` (the purposes a department may state) and
``sharing_requests`` (``max_term_months``, ``overview_days``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.catalogue.models import CatalogueItemVersion
from xinyong.db import utcnow
from xinyong.disclosure.publication import add_months
from xinyong.errors import Conflict, Forbidden, Invalid, NotFound
from xinyong.notifications import service as notifications
from xinyong.notifications.todo import Todo
from xinyong.policy import service as policy
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.sharing.models import ShareRead, ShareRequest
from xinyong.sharing.schemas import (
    BASIS_LABELS,
    CONDITIONAL,
    NEVER,
    PUBLIC,
    REQUEST_STATUS,
    UNCONDITIONAL,
    DecisionIn,
    ShareRequestIn,
)
from xinyong.subjects import service as subjects
from xinyong.subjects.models import Subject

AUTHORITY = "authority_admin"
DEPARTMENT_ROLES = ("department_submitter", "applying_department")
SHOWN = ("authority", "own", "unconditional", "approved")
LIVE = ("pending", "approved")
AUTHORITY_NAME = "信用主管部门"
MAX_ID = 2**63
DISHONEST = "失信"


def rules(session: Session) -> dict[str, Any]:
    return dict(policy.get(session, "sharing_requests"))


def purposes(session: Session) -> list[str]:
    return [str(p) for p in policy.get(session, "sharing_purposes")]


def is_authority(actor: Actor) -> bool:
    return actor.role == AUTHORITY or actor.is_system


def is_department(actor: Actor) -> bool:
    return actor.role in DEPARTMENT_ROLES


def _department_id(actor: Actor) -> int:
    if not is_department(actor) or actor.department_id is None:
        raise Forbidden("SHARING_DEPARTMENT_REQUIRED", "只有政府部门的账号可以申请共享")
    return actor.department_id


def _reader(actor: Actor) -> str:
    """``authority`` or ``department``: who may read shared records at all."""
    if is_authority(actor):
        return "authority"
    if is_department(actor) and actor.department_id is not None:
        return "department"
    raise Forbidden("SHARING_READER_REQUIRED", "只有政府部门和信用主管部门可以查询共享信息")


def check_purpose(session: Session, purpose: str | None, *, required: bool) -> str:
    """The stated purpose (用途), one of the policy's list; "" when none was stated and none is required."""
    purpose = (purpose or "").strip()
    allowed = purposes(session)
    if not purpose:
        if required:
            raise Invalid("SHARING_PURPOSE_REQUIRED", f"请说明查询用途：{'、'.join(allowed)}", field="purpose")
        return ""
    if purpose not in allowed:
        raise Invalid("SHARING_PURPOSE_UNKNOWN", f"用途“{purpose[:40]}”不在共享用途清单中，可选：{'、'.join(allowed)}",
                      field="purpose")
    return purpose


# --- requests -----------------------------------------------------------------------------------------------

def state(request: ShareRequest, today: date | None = None) -> str:
    """The request's state now: an approved request is ``scheduled``, ``approved`` (in force) or ``expired``."""
    if request.status != "approved":
        return request.status
    today = today or clock.today()
    if request.starts_on is not None and request.starts_on > today:
        return "scheduled"
    if request.ends_on is not None and request.ends_on < today:
        return "expired"
    return "approved"


def status_label(request: ShareRequest, today: date | None = None) -> str:
    return REQUEST_STATUS[state(request, today)]


def in_force(request: ShareRequest, today: date | None = None) -> bool:
    return state(request, today) == "approved"


def _in_force_where(today: date) -> Any:
    return and_(ShareRequest.status == "approved", ShareRequest.starts_on <= today, ShareRequest.ends_on >= today)


def _live_where(today: date) -> Any:
    """Pending, or approved and not yet over: what a second request for the same thing would duplicate."""
    return or_(ShareRequest.status == "pending", and_(ShareRequest.status == "approved", ShareRequest.ends_on >= today))


def _number(session: Session) -> str:
    year = clock.today().year
    prefix = f"GXSQ{year}"
    count = session.scalar(select(func.count()).select_from(ShareRequest)
                           .where(ShareRequest.number.like(f"{prefix}%"))) or 0
    return f"{prefix}{count + 1:06d}"


def _item(session: Session, code: str) -> catalogue.Item:
    try:
        return catalogue.get_item(session, code.strip())
    except NotFound:
        raise Invalid("SHARING_ITEM_UNKNOWN", f"目录中没有信息项“{code.strip()[:40]}”", field="item") from None


def _check_term(session: Session, months: int, field_name: str = "term_months") -> int:
    limit = int(rules(session)["max_term_months"])
    if months < 1 or months > limit:
        raise Invalid("SHARING_TERM_INVALID", f"共享期限须为1至{limit}个月", field=field_name)
    return months


def file_request(session: Session, actor: Actor, data: ShareRequestIn) -> ShareRequest:
    """共享申请 by a department, for one 有条件共享 item and one purpose."""
    department_id = _department_id(actor)
    entry = _item(session, data.item)
    name = entry.version.name
    if entry.version.sharing_class == UNCONDITIONAL:
        raise Invalid("SHARING_NOT_NEEDED", f"“{name}”为无条件共享信息，各部门可直接查询，无需申请", field="item")
    if entry.version.sharing_class == NEVER:
        raise Invalid("SHARING_NEVER", f"“{name}”为不予共享信息，不能申请共享", field="item")
    purpose = check_purpose(session, data.purpose, required=True)
    basis = data.basis.strip()
    if len(basis) < 5:
        raise Invalid("SHARING_BASIS_REQUIRED", "请写明履职依据（职责及其法律、法规或政策依据）", field="basis")
    months = _check_term(session, data.term_months)
    today = clock.today()
    duplicate = session.scalar(select(ShareRequest).where(
        ShareRequest.department_id == department_id, ShareRequest.item_code == entry.code,
        ShareRequest.purpose == purpose, _live_where(today)).limit(1))
    if duplicate is not None:
        raise Conflict("SHARING_REQUEST_DUPLICATE",
                       f"本部门已有“{name}”用于“{purpose}”的共享申请 {duplicate.number}（{status_label(duplicate, today)}）",
                       field="item", number=duplicate.number)
    request = ShareRequest(number=_number(session), department_id=department_id, item_code=entry.code, purpose=purpose,
                           basis=basis, term_months=months, status="pending", requested_at=utcnow(),
                           requested_by=actor.username, user_id=actor.user_id, decided_at=None, decided_by=None,
                           decision_note="", starts_on=None, ends_on=None)
    session.add(request)
    session.flush()
    _audit(session, actor, "sharing.request", request, {"basis": basis, "term_months": months})
    return request


def _audit(session: Session, actor: Actor, action: str, request: ShareRequest, extra: dict[str, Any]) -> None:
    audit.append(session, actor, action, object_type="share_request", object_id=request.number,
                 detail={"number": request.number, "department_id": request.department_id, "item": request.item_code,
                         "purpose": request.purpose, "status": request.status, **extra})


def get_request(session: Session, number: str) -> ShareRequest:
    found = session.scalar(select(ShareRequest).where(ShareRequest.number == number.strip()[:24]))
    if found is None:
        raise NotFound("SHARING_REQUEST_NOT_FOUND", f"共享申请不存在：{number.strip()[:24]}")
    return found


def request_for(session: Session, actor: Actor, number: str) -> ShareRequest:
    """A request, for the authority or the department that filed it."""
    found = get_request(session, number)
    if not is_authority(actor) and (not is_department(actor) or found.department_id != actor.department_id):
        raise NotFound("SHARING_REQUEST_NOT_FOUND", f"共享申请不存在：{number.strip()[:24]}")
    return found


def decide(session: Session, actor: Actor, number: str, data: DecisionIn) -> ShareRequest:
    """The credit authority approves (term from ``starts_on``, ``term_months`` months) or rejects with a reason."""
    if not is_authority(actor):
        raise Forbidden("SHARING_APPROVE_BY_AUTHORITY", "共享申请由信用主管部门审核")
    request = get_request(session, number)
    if request.status != "pending":
        raise Conflict("SHARING_REQUEST_WRONG_STATE",
                       f"共享申请 {request.number} 当前状态为“{status_label(request)}”，不能再审核")
    note = data.note.strip()
    item_name = catalogue.item_names(session).get(request.item_code, request.item_code)
    if data.decision == "reject":
        if len(note) < 2:
            raise Invalid("SHARING_REASON_REQUIRED", "不予批准须说明理由", field="note")
        request.status = "rejected"
        title = f"共享申请 {request.number}（{item_name}）未获批准"
    else:
        today = clock.today()
        starts = data.starts_on or today
        if starts < today:
            raise Invalid("SHARING_START_IN_PAST", "共享开始日期不能早于今天", field="starts_on")
        if starts > add_months(today, 12):
            raise Invalid("SHARING_START_TOO_LATE", "共享开始日期不能晚于一年以后", field="starts_on")
        months = _check_term(session, data.term_months or request.term_months)
        request.status, request.starts_on = "approved", starts
        request.ends_on = add_months(starts, months) - timedelta(days=1)
        request.term_months = months
        title = f"共享申请 {request.number}（{item_name}）已批准，共享期限至{request.ends_on.isoformat()}"
    request.decided_at, request.decided_by, request.decision_note = utcnow(), actor.username, note
    session.flush()
    _audit(session, actor, f"sharing.{'approve' if data.decision == 'approve' else 'reject'}", request,
           {"note": note, "starts_on": request.starts_on.isoformat() if request.starts_on else None,
            "ends_on": request.ends_on.isoformat() if request.ends_on else None})
    notifications.notify(session, title=title, body=note, url="/sharing/requests", department_id=request.department_id)
    return request


def withdraw(session: Session, actor: Actor, number: str, note: str = "") -> ShareRequest:
    """The department withdraws its request: a pending one, or an approved one it no longer needs."""
    department_id = _department_id(actor)
    request = get_request(session, number)
    if request.department_id != department_id:
        raise NotFound("SHARING_REQUEST_NOT_FOUND", f"共享申请不存在：{request.number}")
    if request.status not in LIVE or state(request) == "expired":
        raise Conflict("SHARING_REQUEST_WRONG_STATE",
                       f"共享申请 {request.number} 当前状态为“{status_label(request)}”，不能撤回")
    request.status = "withdrawn"
    request.decided_at, request.decided_by, request.decision_note = utcnow(), actor.username, note.strip()[:1000]
    session.flush()
    _audit(session, actor, "sharing.withdraw", request, {"note": request.decision_note})
    return request


def _requests_query(actor: Actor, status: str | None, item: str | None, department_id: int | None) -> Select[Any]:
    query = select(ShareRequest)
    if is_authority(actor):
        if department_id is not None:
            query = query.where(ShareRequest.department_id == department_id)
    elif is_department(actor) and actor.department_id is not None:
        query = query.where(ShareRequest.department_id == actor.department_id)
    else:
        raise Forbidden("SHARING_READER_REQUIRED", "只有政府部门和信用主管部门可以查看共享申请")
    if item:
        query = query.where(ShareRequest.item_code == item)
    today = clock.today()
    if status == "approved":
        query = query.where(_in_force_where(today))
    elif status == "scheduled":
        query = query.where(ShareRequest.status == "approved", ShareRequest.starts_on > today)
    elif status == "expired":
        query = query.where(ShareRequest.status == "approved", ShareRequest.ends_on < today)
    elif status:
        query = query.where(ShareRequest.status == status)
    return query


def list_requests(session: Session, actor: Actor, *, status: str | None = None, item: str | None = None,
                  department_id: int | None = None, limit: int = 50, offset: int = 0) -> tuple[list[ShareRequest], int]:
    """The department's own requests, or every request for the credit authority; newest first."""
    query = _requests_query(actor, status, item, department_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ShareRequest.id.desc()).limit(limit).offset(offset))
    return list(rows), total


# --- reading --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shared:
    """A record given to a reader, and on what basis (own / unconditional / approved / authority)."""

    record: Record
    basis: str
    request: ShareRequest | None = None


@dataclass
class ItemGroup:
    """One catalogue item on the department's view of a subject."""

    code: str
    name: str
    sharing_class: str
    disclosure_class: str
    status: str  # shared / request_required / not_shared
    note: str
    request: ShareRequest | None = None
    records: list[Shared] = field(default_factory=list)


@dataclass
class SharedView:
    subject: Subject
    purpose: str
    read: ShareRead
    shared: list[Shared]
    items: list[ItemGroup] = field(default_factory=list)

    @property
    def records(self) -> list[Record]:
        return [s.record for s in self.shared]


class _Versions:
    """Item versions by id, read once per call (versions never change)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[int, CatalogueItemVersion] = {}

    def __call__(self, version_id: int) -> CatalogueItemVersion:
        if version_id not in self.cache:
            self.cache[version_id] = catalogue.get_version(self.session, version_id)
        return self.cache[version_id]


def _approvals(session: Session, department_id: int, today: date) -> dict[tuple[str, str], ShareRequest]:
    """(item, purpose) → the department's approved request in force today."""
    rows = session.scalars(select(ShareRequest).where(ShareRequest.department_id == department_id,
                                                      _in_force_where(today)).order_by(ShareRequest.id))
    return {(r.item_code, r.purpose): r for r in rows}


def basis_of(sharing_class: str, *, reader: str, own: bool, approval: ShareRequest | None) -> str:
    """Why a reader may see a record (``SHOWN``), or why not (request_required / not_shared). Pure."""
    if reader == "authority":
        return "authority"
    if own:
        return "own"
    if sharing_class == UNCONDITIONAL:
        return "unconditional"
    if sharing_class == CONDITIONAL:
        return "approved" if approval is not None else "request_required"
    return "not_shared"


def _judge(record: Record, version: CatalogueItemVersion, actor: Actor, reader: str, purpose: str,
           approvals: dict[tuple[str, str], ShareRequest]) -> Shared:
    approval = approvals.get((record.item_code, purpose)) if purpose else None
    basis = basis_of(version.sharing_class, reader=reader, own=record.department_id == actor.department_id,
                     approval=approval)
    return Shared(record, basis, approval if basis == "approved" else None)


def public_now(record: Record, version: CatalogueItemVersion, at: datetime) -> bool:
    """Whether the record is public information at ``at``: a 社会公开 item, and for dishonesty
    (失信) information only inside its publication window (unpublished, expired and repaired
    records are not public). 守信 and 中性 public information (e.g. registration) has no window."""
    if version.disclosure_class != PUBLIC or record.kind == "repair":
        return False
    if version.credit_nature != DISHONEST:
        return True
    starts, ends = record.publication_starts_at, record.publication_ends_at
    return bool(record.published) and starts is not None and starts <= at and (ends is None or ends > at)


def withheld_records(session: Session, actor: Actor, record_ids: Collection[int]) -> set[int]:
    """Of ``record_ids``, those ``actor`` would not be given when stating no purpose — for views derived
    from records (an evaluation explanation), which must not show what the records themselves would not.
    Nothing is logged: no record is given."""
    if not record_ids or _reader(actor) == "authority":
        return set()
    versions = _Versions(session)
    return {r.id for r in records.by_ids(session, record_ids)
            if _judge(r, versions(r.item_version_id), actor, "department", "", {}).basis not in SHOWN}


def _log(session: Session, actor: Actor, subject_id: int, purpose: str, channel: str, shared: list[Shared],
         versions: _Versions, *, object_type: str, object_id: int, withheld: int) -> ShareRead:
    now = clock.now()
    given = [s.record for s in shared]
    non_public = sorted({r.item_code for r in given if not public_now(r, versions(r.item_version_id), now)})
    request_ids = sorted({s.request.id for s in shared if s.request is not None})
    read = ShareRead(at=utcnow(), department_id=actor.department_id, user_id=actor.user_id, reader=actor.username[:64],
                     role=actor.role[:32], subject_id=subject_id, purpose=purpose, channel=channel,
                     item_codes=sorted({r.item_code for r in given}), record_ids=[r.id for r in given],
                     request_ids=request_ids, non_public=bool(non_public), non_public_items=non_public)
    session.add(read)
    session.flush()
    audit.append(session, actor, "record.read", object_type=object_type, object_id=object_id, subject_id=subject_id,
                 detail={"records": [r.id for r in given], "purpose": purpose, "share_read": read.id,
                         "requests": request_ids, "withheld": withheld})
    return read


def read_subject(session: Session, actor: Actor, subject_id: int, *, purpose: str | None = None, channel: str = "api",
                 require_purpose: bool = False, detailed: bool = False) -> SharedView:
    """A subject's current records as the reader may see them; the read is audited and logged.

    ``require_purpose``: a department must state a purpose (the sharing API and page). ``detailed``:
    also group by item, with the 有条件共享 items the department would need a request for.
    """
    reader = _reader(actor)
    purpose = check_purpose(session, purpose, required=require_purpose and reader == "department")
    subject = subjects.get(session, subject_id)
    today = clock.today()
    approvals = _approvals(session, actor.department_id or 0, today) if reader == "department" else {}
    versions = _Versions(session)
    judged = [_judge(r, versions(r.item_version_id), actor, reader, purpose, approvals)
              for r in records.current_for_subject(session, subject.id)]
    shared = [s for s in judged if s.basis in SHOWN]
    read = _log(session, actor, subject.id, purpose, channel, shared, versions, object_type="subject",
                object_id=subject.id, withheld=len(judged) - len(shared))
    view = SharedView(subject, purpose, read, shared)
    if detailed:
        view.items = _groups(session, reader, shared, versions, approvals, purpose)
    return view


def _groups(session: Session, reader: str, shared: list[Shared], versions: _Versions,
            approvals: dict[tuple[str, str], ShareRequest], purpose: str) -> list[ItemGroup]:
    """Shared records by item (catalogue order), then the items the department may not read now.

    Nothing here tells whether the subject has records of an item the reader may not see."""
    groups: dict[str, ItemGroup] = {}
    for entry in catalogue.list_items(session):
        v = entry.version
        approval = approvals.get((entry.code, purpose)) if purpose else None
        status, note = "shared", BASIS_LABELS["unconditional"] if v.sharing_class == UNCONDITIONAL else ""
        if reader == "authority":
            note = BASIS_LABELS["authority"]
        elif v.sharing_class == CONDITIONAL and approval is None:
            status = "request_required"
            note = ("需申请共享：请说明用途；" if not purpose else f"需申请共享：本部门没有用途为“{purpose}”、在有效期内的已批准申请；") + \
                "本部门提供的记录照常显示"
        elif v.sharing_class == CONDITIONAL:
            note = f"有条件共享（共享申请 {approval.number}，至{approval.ends_on.isoformat() if approval.ends_on else ''}）"
        elif v.sharing_class == NEVER:
            status, note = "not_shared", "不予共享：仅向提供该信息的部门开放；本部门提供的记录照常显示"
        groups[entry.code] = ItemGroup(entry.code, v.name, v.sharing_class, v.disclosure_class, status, note, approval)
    for s in shared:
        group = groups.get(s.record.item_code)
        if group is None:  # an item no longer in the catalogue listing
            version = versions(s.record.item_version_id)
            group = groups[s.record.item_code] = ItemGroup(s.record.item_code, version.name, version.sharing_class,
                                                           version.disclosure_class, "shared", "")
        group.records.append(s)
    return [g for g in groups.values() if g.records or g.status != "shared"]


def subject_records(session: Session, actor: Actor, subject_id: int, *, purpose: str | None = None,
                    channel: str = "api") -> list[Record]:
    """The records a reader may see of a subject (the registry page and the records API), audited and logged."""
    return read_subject(session, actor, subject_id, purpose=purpose, channel=channel).records


def _refusal(session: Session, record: Record, basis: str, purpose: str) -> Forbidden:
    name = catalogue.get_version(session, record.item_version_id).name
    if basis == "not_shared":
        return Forbidden("SHARING_NOT_ALLOWED", f"“{name}”为不予共享信息，只向提供该信息的部门和信用主管部门开放",
                         item=record.item_code)
    wanted = f"用途为“{purpose}”" if purpose else "说明用途并持有"
    return Forbidden("SHARING_REQUEST_REQUIRED",
                     f"“{name}”为有条件共享信息，须{wanted}在有效期内的已批准共享申请才能查看，请先在“信息共享”中申请",
                     item=record.item_code)


def read_record(session: Session, actor: Actor, record_id: int, *, purpose: str | None = None,
                channel: str = "api") -> list[Record]:
    """A record's whole chain (原始、更正、撤销) if the reader may see every fact of it; audited and logged."""
    reader = _reader(actor)
    purpose = check_purpose(session, purpose, required=False)
    if not 0 < record_id < MAX_ID:  # a number no database column holds is no record
        raise NotFound("RECORD_NOT_FOUND", f"信用记录不存在：{record_id}")
    record = records.get(session, record_id)
    chain = records.history(session, record)
    approvals = _approvals(session, actor.department_id or 0, clock.today()) if reader == "department" else {}
    versions = _Versions(session)
    judged = [_judge(r, versions(r.item_version_id), actor, reader, purpose, approvals) for r in chain]
    for s in judged:
        if s.basis not in SHOWN:
            raise _refusal(session, s.record, s.basis, purpose)
    _log(session, actor, record.subject_id, purpose, channel, judged, versions, object_type="record",
         object_id=record.id, withheld=0)
    return chain


# --- the subject's read log -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReadView:
    read: ShareRead
    department: str
    items: list[tuple[str, str, bool]]  # (code, name, public)

    @property
    def purpose(self) -> str:
        return self.read.purpose or "未说明用途"


def _views(session: Session, reads: Iterable[ShareRead]) -> list[ReadView]:
    departments, names = access.department_names(session), catalogue.item_names(session)

    def who(read: ShareRead) -> str:
        if read.department_id is not None and read.role in DEPARTMENT_ROLES:
            return departments.get(read.department_id, "")
        return AUTHORITY_NAME

    return [ReadView(r, who(r), [(code, names.get(code, code), code not in r.non_public_items) for code in r.item_codes])
            for r in reads]


def reads_of_subject(session: Session, actor: Actor, *, limit: int = 50, offset: int = 0) -> tuple[list[ReadView], int]:
    """谁查看了我的信用信息: the reads that included the subject's non-public information, newest first."""
    if actor.subject_id is None:
        raise Forbidden("SHARING_SUBJECT_REQUIRED", "只有信用主体的账号可以查看本主体信息的被查询记录")
    query = select(ShareRead).where(ShareRead.subject_id == actor.subject_id, ShareRead.non_public.is_(True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ShareRead.at.desc(), ShareRead.id.desc()).limit(limit).offset(offset))
    return _views(session, rows), total


# --- the credit authority's overview --------------------------------------------------------------------------

@dataclass(frozen=True)
class ReadStats:
    department: str
    reads: int
    non_public_reads: int
    subjects: int


@dataclass
class Overview:
    days: int
    pending: list[ShareRequest]
    in_force: list[ShareRequest]
    by_item: list[tuple[str, int]]  # (item name, requests in force)
    by_department: list[tuple[str, int]]
    reads: list[ReadStats]
    counts: dict[str, int]  # by state


def overview(session: Session, actor: Actor) -> Overview:
    if not is_authority(actor):
        raise Forbidden("SHARING_APPROVE_BY_AUTHORITY", "共享概况仅供信用主管部门查看")
    today, days = clock.today(), int(rules(session).get("overview_days", 30))
    departments, names = access.department_names(session), catalogue.item_names(session)
    pending = list(session.scalars(select(ShareRequest).where(ShareRequest.status == "pending")
                                   .order_by(ShareRequest.id)))
    in_force = list(session.scalars(select(ShareRequest).where(_in_force_where(today))
                                    .order_by(ShareRequest.item_code, ShareRequest.department_id)))
    by_item: dict[str, int] = {}
    by_department: dict[str, int] = {}
    for r in in_force:
        by_item[names.get(r.item_code, r.item_code)] = by_item.get(names.get(r.item_code, r.item_code), 0) + 1
        name = departments.get(r.department_id, "")
        by_department[name] = by_department.get(name, 0) + 1
    since = utcnow() - timedelta(days=days)
    rows = session.execute(
        select(ShareRead.department_id, ShareRead.role, func.count(),
               func.sum(case((ShareRead.non_public.is_(True), 1), else_=0)), func.count(distinct(ShareRead.subject_id)))
        .where(ShareRead.at >= since).group_by(ShareRead.department_id, ShareRead.role)).all()
    merged: dict[str, list[int]] = {}
    for department_id, role, reads, non_public, subject_count in rows:
        name = departments.get(department_id, "") if department_id is not None and role in DEPARTMENT_ROLES \
            else AUTHORITY_NAME
        row = merged.setdefault(name, [0, 0, 0])
        row[0] += reads
        row[1] += int(non_public or 0)
        row[2] += subject_count
    stats = sorted((ReadStats(name, *values) for name, values in merged.items()), key=lambda s: (-s.reads, s.department))
    counts = {key: 0 for key in REQUEST_STATUS}
    for request in session.scalars(select(ShareRequest)):
        counts[state(request, today)] += 1
    return Overview(days, pending, in_force, sorted(by_item.items(), key=lambda kv: -kv[1]),
                    sorted(by_department.items(), key=lambda kv: -kv[1]), stats, counts)


# --- to-do items (待办事项) -----------------------------------------------------------------------------------

def todo_items(session: Session, actor: Actor) -> list[Todo]:
    """The credit authority's pending share requests."""
    if actor.role != AUTHORITY:
        return []
    names = catalogue.item_names(session)
    departments = access.department_names(session)
    rows = session.scalars(select(ShareRequest).where(ShareRequest.status == "pending").order_by(ShareRequest.id)
                           .limit(200))
    return [Todo(area="共享申请", title=f"审核共享申请 {r.number}：{departments.get(r.department_id, '')}申请"
                                       f"“{names.get(r.item_code, r.item_code)}”", url=f"/sharing/requests#{r.number}",
                 due_at=None, overdue=False) for r in rows]
