"""What a credit report says, read from the platform's data as of a time (the renderer's input).

Two reports, both for organisations (法人和非法人组织) only:

- ``general_document`` — 公共信用信息报告: registration information (基础信息) and, per kind of
  information, what the platform holds: licences, penalties still in their publication window, the
  lists the subject is on (失信 and 守信), commitments, evaluation grades and honours.
- ``special_document`` — 专项信用报告（替代有无违法违规记录证明）: for each field (领域) of the policy
  parameter ``special_report_fields``, the violation records decided within a period by the
  departments of that field's sectors, and a conclusion per field ("未发现违法违规记录" or "发现 N 条").

Everything is read through other contexts' service modules. ``as_of`` is the data cut-off: facts
the platform received after it are left out. Which facts are current (corrections, revocations,
credit repair) and whether a list entry is in force are decided at generation time — reports are
issued with ``as_of`` = now and stored, so the two agree in practice; the notes of a report say so.
Nothing here writes or audits: the caller (``reports.service.issue``) audits the issue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.catalogue import service as catalogue
from xinyong.commitments import service as commitments
from xinyong.disclosure import masking
from xinyong.errors import Invalid
from xinyong.evaluation import service as evaluation
from xinyong.policy import service as policy
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.reports.document import ReportDocument, Section
from xinyong.sanctions import service as sanctions
from xinyong.subjects import service as subjects
from xinyong.subjects.kinds import kind_label
from xinyong.subjects.models import Subject

DASH = "—"
ENTERPRISE_KINDS = {"enterprise", "individual_business", "cooperative"}
LIST_ROWS_CAP = 1000  # list entries and records per section: far above any real subject's count
LIST_EXIT_NOT_VIOLATION = {"repair", "revocation", "correction"}  # sanctions.rules.EXIT_REASONS keys

# Columns per catalogue item: (field name, header; None takes the catalogue label of the item in force).
LICENCE_COLUMNS = [("XK_WSH", "许可决定文书号"), ("XK_NR", None), ("XK_XKJG", None), ("XK_JDRQ", "决定日期"),
                   ("XK_YXQZI", None), ("XK_ZT", "状态")]
PENALTY_COLUMNS = [("CF_WSH", "决定书文号"), ("CF_WFXW", None), ("CF_NR", None), ("CF_CFJG", None),
                   ("CF_JDRQ", "决定日期")]
HONOUR_COLUMNS = [("RYMC", None), ("RYJB", None), ("SYJG", None), ("SYRQ", None)]
COMMITMENT_HEADERS = ["承诺书编号", "承诺类型", "承诺事项", "承诺受理部门", "承诺日期", "履约状态"]
LIST_HEADERS = ["名单名称", "认定文书号", "列入事由", "认定部门", "列入日期", "有效期至"]
GRADE_HEADERS = ["评价模型", "评价基准日", "评价等级"]
SPECIAL_BASICS = {"名称", "统一社会信用代码", "主体类型", "法定代表人", "登记状态", "住所"}
SPECIAL_HEADERS = ["信息类别", "决定（认定）文书号", "违法违规事由", "决定（认定）机关", "决定日期"]

# How a violation record of each item is summarised in a special report: (文书号, 事由 fields, 机关).
VIOLATION_SUMMARY: dict[str, tuple[str, tuple[str, ...], str]] = {
    "ADM_PENALTY": ("CF_WSH", ("CF_WFXW", "CF_NR"), "CF_CFJG"),
    "LIST_SERIOUS": ("RDWH", ("MDLX", "RDYY"), "RDJG"),
    "LIST_ABNORMAL": ("LRWH", ("LRYY",), "ZCJG"),
    "ADM_COERCION": ("QZ_WSH", ("QZ_LB", "QZ_SY"), "QZ_JG"),
    "JUD_EXECUTION": ("AH", ("SXXW",), "ZXFY"),
    "COMMITMENT_BREACH": ("CNBH", ("CNSX", "WLYQK"), "RDJG"),
}


# --- policy: the fields of a special report -------------------------------------------------------------

@dataclass(frozen=True)
class FieldRule:
    """One field (领域) of a special report: whose records (department sectors) of which items count."""

    name: str
    description: str
    sectors: tuple[str, ...]
    items: tuple[str, ...]


def special_fields(session: Session) -> dict[str, FieldRule]:
    """The fields a special report may cover, in policy order (policy ``special_report_fields``)."""
    value: dict[str, Any] = policy.get(session, "special_report_fields") or {}
    return {name: FieldRule(name, str(spec.get("description", "")), tuple(spec.get("sectors", ())),
                            tuple(spec.get("items", ())))
            for name, spec in value.items()}


# --- small helpers ----------------------------------------------------------------------------------------

def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _iso(day: date | None) -> str:
    return day.isoformat() if day else DASH


def _amount(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:.4f}".rstrip("0").rstrip(".") + "万元"


def _received_by(record: Record, as_of: datetime) -> bool:
    return record.received_at <= as_of


def _organisation(session: Session, subject_id: int) -> Subject:
    subject = subjects.get(session, subject_id)
    if subject.kind == "natural_person" or not subject.uscc:
        raise Invalid("REPORT_PERSON_NOT_SUPPORTED",
                      "信用报告仅为法人和非法人组织出具；自然人可在“我的信用”中查询本人的信用信息", field="subject")
    return subject


def basics_of(subject: Subject) -> list[tuple[str, str]]:
    """基础信息 from the subject registry."""
    return [("名称", subject.name), ("统一社会信用代码", subject.uscc or DASH), ("主体类型", kind_label(subject.kind)),
            ("法定代表人", subject.legal_representative or DASH),
            ("登记机关", subject.registration_authority or DASH), ("成立日期", _iso(subject.registered_on)),
            ("注册资本", _amount(subject.registered_capital)), ("登记状态", subject.status or DASH),
            ("住所", subject.address or DASH)]


class _Catalogue:
    """Field labels and specs of the items in force, and item names (one light query, cached by catalogue)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.items = {s.item_code: s for s in catalogue.snapshots_in_force(session)}

    def name(self, item_code: str) -> str:
        found = self.items.get(item_code)
        return found.name if found else item_code

    def spec(self, item_code: str, field: str) -> dict[str, Any]:
        found = self.items.get(item_code)
        for spec in found.fields if found else ():
            if spec["name"] == field:
                return spec
        return {"name": field, "label": field}

    def headers(self, item_code: str, columns: Sequence[tuple[str, str | None]]) -> list[str]:
        return [header or self.spec(item_code, field)["label"] for field, header in columns]

    def cell(self, item_code: str, payload: dict[str, Any], field: str) -> str:
        """A payload value as a report prints it: personal fields masked, ID and phone numbers scrubbed."""
        return masking.public_value(self.spec(item_code, field), payload.get(field)) or DASH

    def row(self, record: Record, columns: Sequence[tuple[str, str | None]]) -> list[str]:
        return [self.cell(record.item_code, record.payload, field) for field, _ in columns]

    def nature(self, record: Record) -> str:
        return catalogue.version_snapshot(self.session, record.item_version_id).credit_nature


def _last_day(ends: datetime | None) -> str:
    """公示截止: the last day of a publication window (its end is the midnight after it)."""
    return (clock.local(ends) - timedelta(days=1)).date().isoformat() if ends else "长期"


def _sources_note(platform_name: str, department_names: Iterable[str]) -> str:
    names = sorted({n for n in department_names if n})
    text = f"本报告信息来源于{platform_name}依法归集的公共信用信息"
    return f"{text}，本报告所列信息的提供单位为：{'、'.join(names)}。" if names else f"{text}。"


def _common_notes(platform_name: str, verify_url: str, as_of: datetime) -> list[str]:
    cut_off = clock.local(as_of).strftime("%Y年%m月%d日 %H:%M:%S")
    verify = f"，或访问 {verify_url}" if verify_url else ""
    return [
        f"本报告反映截至数据截止时间（{cut_off}）平台归集的信息，此后新增、更正、撤销或修复的信息不在本报告中反映；"
        "信息的现行状态（是否已被更正、撤销或信用修复）和名单状态以报告出具时为准。",
        f"本报告由{platform_name}出具并加盖电子签名。可扫描报告首页二维码{verify}核验报告真伪；"
        "报告内容被改动的，核验将不能通过。",
        "本报告的采信及使用期限由使用单位根据有关规定和业务需要确定。",
        f"信用主体对本报告所列信息有异议的，可通过{platform_name}提出异议申请。",
    ]


# --- the general report ---------------------------------------------------------------------------------

def general_document(session: Session, subject_id: int, *, number: str, issued_at: datetime, as_of: datetime,
                     platform_name: str, verify_url: str) -> ReportDocument:
    """公共信用信息报告 of an organisation, from the data as of ``as_of``."""
    subject = _organisation(session, subject_id)
    cat = _Catalogue(session)
    departments = access.department_names(session)
    used: set[int] = set()

    current = [r for r in records.current_for_subject(session, subject.id) if _received_by(r, as_of)]
    by_item: dict[str, list[Record]] = {}
    for record in current:
        by_item.setdefault(record.item_code, []).append(record)

    licences = by_item.get("ADM_LICENSE", [])
    penalties = [r for r in records.public_for_subject(session, subject.id, at=as_of, per_item=LIST_ROWS_CAP)
                 if r.item_code == "ADM_PENALTY" and _received_by(r, as_of)]
    honours = by_item.get("HONOUR", [])
    used.update(r.department_id for r in (*licences, *penalties, *honours))

    sections = [
        Section(title=cat.name("ADM_LICENSE"), columns=cat.headers("ADM_LICENSE", LICENCE_COLUMNS),
                rows=[cat.row(r, LICENCE_COLUMNS) for r in licences]),
        Section(title=cat.name("ADM_PENALTY"), columns=[*cat.headers("ADM_PENALTY", PENALTY_COLUMNS), "公示截止"],
                rows=[[*cat.row(r, PENALTY_COLUMNS), _last_day(r.publication_ends_at)] for r in penalties],
                note="仅列示截至数据截止时间仍在公示期内的行政处罚信息；公示期满、已撤销或已完成信用修复的不予列示。"),
    ]
    dishonest, honoured, list_departments = _list_rows(session, subject.id, as_of)
    used.update(list_departments)
    sections.append(Section(title="失信名单信息", columns=LIST_HEADERS, rows=dishonest,
                            note="列示报告出具时该主体仍在列的严重失信主体名单、经营异常名录等失信名单。"))
    sections.append(Section(title="守信激励对象名单信息", columns=LIST_HEADERS, rows=honoured))
    commitment_rows, commitment_departments = _commitment_rows(session, subject.id, by_item.get("COMMITMENT", []),
                                                               cat, departments, as_of)
    used.update(commitment_departments)
    sections.append(Section(title="信用承诺信息", columns=COMMITMENT_HEADERS, rows=commitment_rows,
                            note="履约状态以报告出具时为准。"))
    sections.append(Section(title="公共信用综合评价", columns=GRADE_HEADERS, rows=_grade_rows(session, subject.id, as_of),
                            note="评价结果为平台按评价模型在评价基准日作出的最近一次评价。"))
    sections.append(Section(title=cat.name("HONOUR"), columns=cat.headers("HONOUR", HONOUR_COLUMNS),
                            rows=[cat.row(r, HONOUR_COLUMNS) for r in honours]))

    kind = "企业版" if subject.kind in ENTERPRISE_KINDS else "法人和非法人组织版"
    notes = [_sources_note(platform_name, (departments.get(i, "") for i in used)),
             "行政处罚等失信信息按规定的公示期限列示，公示期满的不再列示；已撤销的信息和已完成信用修复的信息不予列示。",
             *_common_notes(platform_name, verify_url, as_of)]
    return ReportDocument(number=number, kind="general", title=f"公共信用信息报告（{kind}）", platform_name=platform_name,
                          issued_at=issued_at, data_as_of=as_of, subject_name=subject.name,
                          subject_code=subject.uscc or "", basics=basics_of(subject), sections=sections,
                          verify_url=verify_url, notes=notes)


def _list_rows(session: Session, subject_id: int, as_of: datetime) -> tuple[list[list[str]], list[list[str]], set[int]]:
    """(失信 rows, 守信 rows, department ids) of the lists the subject is on now, listed by ``as_of``."""
    _total, views = sanctions.entries(session, subject_id=subject_id, in_force_only=True, limit=LIST_ROWS_CAP)
    dishonest: list[list[str]] = []
    honoured: list[list[str]] = []
    departments: set[int] = set()
    for view in views:
        entry = view.entry
        if entry.listed_at > as_of:
            continue
        last_day = view.last_day
        row = [view.list_type.name, entry.decision_number or DASH, masking.scrub(entry.reasons or "") or DASH,
               view.department or view.list_type.issuing_authority or DASH, entry.decision_date.isoformat(),
               last_day.isoformat() if last_day else "至满足移出条件"]
        (honoured if view.list_type.nature == "守信" else dishonest).append(row)
        departments.add(entry.department_id)
    return dishonest, honoured, departments


def _commitment_rows(session: Session, subject_id: int, commitment_records: list[Record], cat: _Catalogue,
                     departments: dict[int, str], as_of: datetime) -> tuple[list[list[str]], set[int]]:
    """Commitments made on this platform, then COMMITMENT records it holds for other ones (e.g. taken
    from a lower platform's feed), newest first within each."""
    rows: list[list[str]] = []
    used: set[int] = set()
    numbers: set[str] = set()
    for view in commitments.for_subject(session, subject_id):
        made = view.commitment
        numbers.add(made.number)
        if made.created_at > as_of:
            continue
        rows.append([made.number, made.kind, masking.scrub(made.matter), view.department or DASH,
                     made.made_on.isoformat(), view.status_label])
        used.add(made.department_id)
    for record in commitment_records:
        payload = record.payload
        if str(payload.get("CNBH", "")) in numbers:
            continue
        rows.append([cat.cell("COMMITMENT", payload, "CNBH"), cat.cell("COMMITMENT", payload, "CNLX"),
                     cat.cell("COMMITMENT", payload, "CNSX"), departments.get(record.department_id, DASH),
                     cat.cell("COMMITMENT", payload, "CNRQ"), cat.cell("COMMITMENT", payload, "LYZT")])
        used.add(record.department_id)
    return rows, used


def _grade_rows(session: Session, subject_id: int, as_of: datetime) -> list[list[str]]:
    """The subject's grade under each model's latest run, when that run's 评价基准日 is not after ``as_of``."""
    cut_off = clock.local(as_of).date().isoformat()
    rows = []
    for grade in evaluation.subject_grades(session, subject_id):
        if grade.as_of > cut_off:
            continue
        shown = grade.grade if grade.grade_label in ("", grade.grade) else f"{grade.grade}（{grade.grade_label}）"
        rows.append([grade.model_name, grade.as_of, shown])
    return rows


# --- the special report ---------------------------------------------------------------------------------

def _chosen_fields(session: Session, fields: list[str]) -> list[FieldRule]:
    known = special_fields(session)
    allowed = "、".join(known)
    wanted = list(dict.fromkeys(f.strip() for f in fields if f and f.strip()))
    if not wanted:
        raise Invalid("REPORT_FIELDS_REQUIRED", f"请选择专项信用报告的查询领域：{allowed}", field="fields",
                      allowed=list(known))
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise Invalid("REPORT_FIELD_UNKNOWN", f"不支持的查询领域：{'、'.join(unknown)}；可选领域：{allowed}",
                      field="fields", unknown=unknown, allowed=list(known))
    return [known[f] for f in wanted]


def _check_period(period_from: date, period_to: date, as_of: datetime) -> None:
    last = clock.local(as_of).date()
    if period_from > period_to:
        raise Invalid("REPORT_PERIOD_INVALID", "查询期间的起始日期不能晚于截止日期", field="period_from")
    if period_to > last:
        raise Invalid("REPORT_PERIOD_INVALID", f"查询期间的截止日期不能晚于数据截止日期（{last.isoformat()}）",
                      field="period_to")


def check_request(session: Session, subject_id: int, kind: str, fields: list[str], period_from: date | None,
                  period_to: date | None, as_of: datetime) -> None:
    """Refuse what no report can be made of, before a report number is taken for it."""
    _organisation(session, subject_id)
    if kind == "special":
        assert period_from is not None and period_to is not None
        _chosen_fields(session, fields)
        _check_period(period_from, period_to, as_of)


@dataclass(frozen=True)
class _Violation:
    decided: date
    row: list[str]
    department_id: int
    order: int  # record or entry id, for a stable order among the same day


def _record_violation(cat: _Catalogue, record: Record, departments: dict[int, str]) -> list[str]:
    payload = record.payload
    number_field, reason_fields, authority_field = VIOLATION_SUMMARY.get(record.item_code, ("", (), ""))
    number = cat.cell(record.item_code, payload, number_field) if number_field else record.natural_key or DASH
    reasons = [cat.cell(record.item_code, payload, f) for f in reason_fields]
    reason = "：".join(r for r in reasons if r != DASH) or DASH
    authority = cat.cell(record.item_code, payload, authority_field) if authority_field else DASH
    if authority == DASH:
        authority = departments.get(record.department_id, DASH)
    return [cat.name(record.item_code), number, reason, authority, _iso(record.decision_date)]


def special_document(session: Session, subject_id: int, fields: list[str], period_from: date, period_to: date, *,
                     number: str, issued_at: datetime, as_of: datetime, platform_name: str,
                     verify_url: str) -> ReportDocument:
    """专项信用报告（替代有无违法违规记录证明）: violation records per field within the period."""
    chosen = _chosen_fields(session, fields)
    _check_period(period_from, period_to, as_of)
    subject = _organisation(session, subject_id)
    cat = _Catalogue(session)
    sector_of = {d.id: d.sector for d in access.departments(session)}
    departments = access.department_names(session)

    def in_period(day: date | None) -> bool:
        return day is not None and period_from <= day <= period_to

    # Current facts only: a revoked record is gone, a repaired one is superseded by its ``repair``
    # fact, which is not a violation any more (credit repair ends the record's effect).
    candidates = [r for r in records.current_for_subject(session, subject.id)
                  if r.kind != "repair" and _received_by(r, as_of) and in_period(r.decision_date)
                  and cat.nature(r) == "失信"]
    _total, views = sanctions.entries(session, subject_id=subject.id, limit=LIST_ROWS_CAP)
    kept_lists = [v for v in views if v.entry.source_record_id is None and v.list_type.nature == "失信"
                  and v.entry.listed_at <= as_of and in_period(v.entry.decision_date)
                  and not (v.exit is not None and v.exit.reason in LIST_EXIT_NOT_VIOLATION)]

    start, end = chinese_date(period_from), chinese_date(period_to)
    sections: list[Section] = []
    found: dict[str, int] = {}
    used: set[int] = set()
    for rule in chosen:
        violations = [_Violation(r.decision_date, _record_violation(cat, r, departments), r.department_id, r.id)
                      for r in candidates
                      if r.item_code in rule.items and sector_of.get(r.department_id) in rule.sectors
                      and r.decision_date is not None]
        violations += [_Violation(v.entry.decision_date,
                                  [v.list_type.name, v.entry.decision_number or DASH,
                                   masking.scrub(v.entry.reasons or "") or DASH,
                                   v.department or v.list_type.issuing_authority or DASH,
                                   v.entry.decision_date.isoformat()], v.entry.department_id, -v.entry.id)
                       for v in kept_lists if sector_of.get(v.entry.department_id) in rule.sectors]
        violations.sort(key=lambda v: (v.decided, v.order), reverse=True)
        found[rule.name] = len(violations)
        used.update(v.department_id for v in violations)
        conclusion = (f"经查询，该主体在{start}至{end}期间，在{rule.name}领域发现违法违规记录{len(violations)}条（见下表）。"
                      if violations else f"经查询，该主体在{start}至{end}期间，在{rule.name}领域未发现违法违规记录。")
        sections.append(Section(title=f"{rule.name}领域", columns=SPECIAL_HEADERS, rows=[v.row for v in violations],
                                empty_text="未发现违法违规记录", note=conclusion))

    clean = [name for name, count in found.items() if count == 0]
    dirty = [f"在{name}领域发现违法违规记录{count}条" for name, count in found.items() if count]
    if not dirty:
        conclusion = f"经查询，{subject.name}在{start}至{end}期间，在{'、'.join(found)}领域均未发现违法违规记录。"
    else:
        tail = f"；在{'、'.join(clean)}领域未发现违法违规记录" if clean else ""
        conclusion = f"经查询，{subject.name}在{start}至{end}期间，{'；'.join(dirty)}{tail}。"

    scope = "；".join(f"{rule.name}：{rule.description or '、'.join(cat.name(i) for i in rule.items)}" for rule in chosen)
    notes = [_sources_note(platform_name, (departments.get(i, "") for i in used)),
             "本报告用于替代有无违法违规记录的证明。所称违法违规记录，是指查询期间内作出决定（认定）、现行有效的"
             f"行政处罚、失信名单认定等失信信息。各领域的查询范围为——{scope}。",
             "已撤销的记录不再有效，已完成信用修复的记录依照信用修复的有关规定不再视为违法违规记录，均不在本报告中列示；"
             "公示期满但未经信用修复的记录，其决定日期在查询期间内的仍予列示。",
             *_common_notes(platform_name, verify_url, as_of)]
    return ReportDocument(number=number, kind="special", title="专项信用报告（替代有无违法违规记录证明）",
                          platform_name=platform_name, issued_at=issued_at, data_as_of=as_of,
                          subject_name=subject.name, subject_code=subject.uscc or "",
                          basics=[b for b in basics_of(subject) if b[0] in SPECIAL_BASICS], sections=sections, conclusion=conclusion,
                          period=(period_from, period_to), fields=[rule.name for rule in chosen],
                          verify_url=verify_url, notes=notes)
