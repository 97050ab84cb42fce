"""The public portal (信用信息公示): subject search, subject pages, 双公示 lists, record pages.

Everything here is for readers without an account. What they see is decided at read time:
``records.service.public_query`` keeps only current records of 社会公开 items inside their
publication window at this moment, and every value passes ``masking`` before it leaves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.disclosure import masking
from xinyong.disclosure.cache import TIME_TO_LIVE, CachedPage, PageCache
from xinyong.disclosure.schemas import (
    PublicField,
    PublicityPage,
    PublicRecord,
    PublicSection,
    PublicSubject,
    PublicSubjectSummary,
    SearchPage,
)
from xinyong.errors import Invalid, NotFound
from xinyong.policy import service as policy
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.repair import service as repair
from xinyong.subjects import search as subject_search
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.kinds import INDUSTRIES, kind_label
from xinyong.subjects.models import Subject
from xinyong.web.caching import etag_of

PUBLIC = "社会公开"
MAX_PER_PAGE = 50
MAX_PAGE = 500
LIST_COUNT_CAP = 10_000


def _pages(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def check_paging(page: int, per_page: int) -> None:
    if page < 1 or page > MAX_PAGE:
        raise Invalid("PAGE_OUT_OF_RANGE", f"页码应在1到{MAX_PAGE}之间", field="page")
    if per_page < 1 or per_page > MAX_PER_PAGE:
        raise Invalid("PER_PAGE_OUT_OF_RANGE", f"每页条数应在1到{MAX_PER_PAGE}之间", field="per_page")


# --- subjects ------------------------------------------------------------------------------------

def _region(subject: Subject) -> str:
    return uscc.region_name(subject.region_code) or subject.region_code


def _summary(subject: Subject) -> PublicSubjectSummary:
    return PublicSubjectSummary(code=subject.uscc or "", name=subject.name, kind=kind_label(subject.kind),
                                region=_region(subject), status=subject.status,
                                legal_representative=subject.legal_representative)


def search(session: Session, q: str | None, *, page: int = 1, per_page: int = 20) -> SearchPage:
    """信用主体查询: organisations by name fragment, code or pinyin initials (see ``subjects.search``)."""
    check_paging(page, per_page)
    match = subject_search.find(session, q)
    chosen = match.ids[(page - 1) * per_page:page * per_page]
    found = {s.id: s for s in subjects.by_ids(session, chosen)}
    return SearchPage(query=subject_search.clean_query(q), items=[_summary(found[i]) for i in chosen if i in found],
                      total=len(match.ids), capped=match.capped, page=page, per_page=per_page,
                      pages=_pages(len(match.ids), per_page))


def public_subject(session: Session, code: str) -> Subject:
    """An organisation by its code; natural persons have no public page."""
    subject = subjects.by_code(session, uscc.normalise(code)) if code else None
    if subject is None or subject.kind == "natural_person":
        raise NotFound("SUBJECT_NOT_FOUND", "未找到该统一社会信用代码对应的主体")
    return subject


def subject_page(session: Session, code: str) -> PublicSubject:
    """A subject's registration information and every record the public may see now, by item."""
    return _subject_view(session, public_subject(session, code))


def subject_page_cached(session: Session, code: str, cache: PageCache) -> CachedPage:
    """The subject page as JSON bytes, from ``cache`` while nothing was written and no window moved."""
    now, version = clock.now(), audit.head_seq(session)
    key = uscc.normalise(code or "")
    page = cache.get(key, version=version, now=now)
    if page is not None:
        return page
    subject = public_subject(session, code)
    body = _subject_view(session, subject).model_dump_json().encode()
    boundary = records.next_publication_change(session, subject.id, now)
    expires = min(now + TIME_TO_LIVE, boundary) if boundary else now + TIME_TO_LIVE
    page = CachedPage(body, etag_of(body), version, expires)
    cache.put(key, page)
    return page


def _subject_view(session: Session, subject: Subject) -> PublicSubject:
    shown = records.public_for_subject(session, subject.id)
    view = _Renderer(session, shown)
    sections = []
    for item in catalogue.snapshots_in_force(session):
        if item.disclosure_class != PUBLIC:
            continue
        rows = [view.record(r, subject) for r in shown if r.item_code == item.item_code]
        sections.append(PublicSection(item_code=item.item_code, item_name=item.name, category=item.category,
                                      credit_nature=item.credit_nature, records=rows))
    summary = _summary(subject)
    return PublicSubject(**summary.model_dump(), registration_authority=subject.registration_authority,
                         registered_on=subject.registered_on, registered_capital=subject.registered_capital,
                         address=subject.address, industry=INDUSTRIES.get(subject.industry or ""), sections=sections)


def record_page(session: Session, record_id: int) -> PublicRecord:
    record = records.public_record(session, record_id)
    return _Renderer(session, [record]).record(record, subjects.get(session, record.subject_id))


# --- 双公示 ----------------------------------------------------------------------------------------

def publicity_kinds(session: Session) -> dict[str, dict[str, Any]]:
    """The 双公示 lists and the items behind them (policy parameter ``double_publicity``)."""
    return policy.get(session, "double_publicity")


@dataclass(frozen=True)
class PublicityQuery:
    department: str | None = None  # department code
    region: str | None = None  # GB/T 2260 code or prefix (e.g. 3201 for 南京市)
    date_from: date | None = None
    date_to: date | None = None
    category: str | None = None


def publicity(session: Session, kind: str, query: PublicityQuery, *, page: int = 1,
              per_page: int = 20, counted: bool = True) -> PublicityPage:
    """The latest 行政许可 or 行政处罚 across departments, filtered; newest decision first."""
    check_paging(page, per_page)
    spec = publicity_kinds(session).get(kind)
    if spec is None:
        raise NotFound("PUBLICITY_KIND_UNKNOWN", f"没有“{kind}”这类公示信息，应为 licences 或 penalties")
    where = _publicity_filter(session, spec, query)
    rows, total = records.public_list(session, spec["item"], where, limit=per_page, offset=(page - 1) * per_page,
                                      count_cap=LIST_COUNT_CAP if counted else 0)
    view = _Renderer(session, rows)
    people = {s.id: s for s in subjects.by_ids(session, list({r.subject_id for r in rows}))}
    return PublicityPage(kind=kind, title=spec["title"], items=[view.record(r, people[r.subject_id]) for r in rows],
                         total=total, page=page, per_page=per_page, pages=_pages(total, per_page))


def _publicity_filter(session: Session, spec: dict[str, Any], query: PublicityQuery) -> records.PublicFilter:
    department_id = None
    if query.department:
        known = {d.code: d.id for d in access.departments(session)}
        if query.department not in known:
            raise Invalid("DEPARTMENT_UNKNOWN", f"没有代码为“{query.department}”的部门", field="department")
        department_id = known[query.department]
    region_ids = None
    if query.region:
        if not query.region.isdigit() or not 2 <= len(query.region) <= 6:
            raise Invalid("REGION_INVALID", "行政区划代码应为2至6位数字", field="region")
        region_ids = subjects.ids_in_region(query.region)
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise Invalid("DATE_RANGE_INVALID", "起始日期不能晚于截止日期", field="date_from")
    return records.PublicFilter(department_id=department_id, subject_ids=region_ids, decided_from=query.date_from,
                                decided_to=query.date_to, category_field=spec.get("category_field"),
                                category=query.category or None)


def filter_choices(session: Session, kind: str) -> dict[str, Any]:
    """Options for the 双公示 filters: departments, regions, categories of the item."""
    spec = publicity_kinds(session).get(kind) or {}
    item = catalogue.get_item(session, spec["item"]) if spec else None
    categories: list[str] = []
    if item is not None:
        field = next((f for f in item.version.fields if f["name"] == spec.get("category_field")), None)
        categories = list((field or {}).get("enum") or [])
    departments = access.departments(session)
    regions = sorted({d.region_code for d in departments if d.region_code})
    return {"departments": [(d.code, d.name) for d in departments],
            "regions": [(r, uscc.region_name(r) or r) for r in regions], "categories": categories}


# --- rendering -----------------------------------------------------------------------------------

class _Renderer:
    """Turns stored records into what the public sees, caching catalogue versions and names per request."""

    def __init__(self, session: Session, shown: list[Record] | None = None) -> None:
        self.session = session
        self.departments = access.department_names(session)
        self.kinds = {spec["item"]: (kind, spec) for kind, spec in publicity_kinds(session).items()}
        self.objected = repair.under_objection(session, [r.id for r in shown or []])

    def record(self, record: Record, subject: Subject) -> PublicRecord:
        version = catalogue.version_snapshot(self.session, record.item_version_id)
        person = subject.kind == "natural_person"
        fields = []
        for spec in version.fields:
            value = masking.public_value(spec, record.payload.get(spec["name"]))
            if value is not None:
                fields.append(PublicField(name=spec["name"], label=spec["label"], value=value))
        kind, spec = self.kinds.get(record.item_code, (None, {}))
        title = masking.scrub(str(record.payload.get(spec.get("document_field")) or "")) if spec else ""
        category = record.payload.get(spec.get("category_field")) if spec else None
        ends = record.publication_ends_at
        return PublicRecord(
            id=record.id, item_code=record.item_code, item_name=version.name,
            subject_code=subject.masked_id if person else subject.uscc,
            subject_name=masking.subject_name(subject.name, natural_person=person and not version.publish_person_name),
            subject_has_page=not person,
            department=self.departments.get(record.department_id, ""), decision_date=record.decision_date,
            publication_ends_at=ends, publication_last_day=(clock.local(ends) - timedelta(days=1)).date() if ends else None,
            title=title or version.name, publicity_kind=kind, category=str(category) if category else None,
            fields=fields, under_objection=record.id in self.objected)
