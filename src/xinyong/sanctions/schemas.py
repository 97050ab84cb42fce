"""Shapes of legal bases, list types, measures, entries, checks and feedback, as users send them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from xinyong.catalogue.schemas import LegalBasisLevel

ListCategory = Literal["严重失信主体名单", "经营异常名录", "其他失信名单", "守信激励对象名单"]
MeasureNature = Literal["惩戒", "激励"]
MeasureType = Literal["减损权益或增加义务", "市场性", "行业性", "激励"]
ExitReason = Literal["repair", "revocation", "correction", "fulfilled"]
SubjectKind = Literal["enterprise", "individual_business", "cooperative", "social_org", "public_institution",
                      "government", "other_org", "natural_person"]
ORGANISATIONS: list[SubjectKind] = ["enterprise", "individual_business", "cooperative", "social_org",
                                    "public_institution", "government", "other_org"]
CODE = r"^[A-Z][A-Z0-9_]{1,39}$"


class LegalBasisIn(BaseModel):
    """A document of the legal-basis library (法律依据库)."""

    code: str = Field(pattern=CODE, description="依据代码，如 LAW_CIVIL_PROCEDURE")
    title: str = Field(min_length=3, max_length=200, description="文件名称，如 《中华人民共和国民事诉讼法》")
    level: LegalBasisLevel
    issuer: str = Field(min_length=2, max_length=100, description="制定机关")
    document_number: str = Field(default="", max_length=100, description="文号")
    effective_on: date | None = None


class SourceSpec(BaseModel):
    """A list that follows a catalogue item: its current records are the list's entries."""

    item: str = Field(pattern=CODE, description="目录信息项代码")
    where: dict[str, str] = Field(default_factory=dict, description="字段取值条件，如 {MDLX: 重大税收违法失信主体}")
    decision_number: str = Field(description="认定文书号字段")
    reasons: str = Field(description="列入事由字段")
    expires: str | None = Field(default=None, description="有效期至字段（含当日）")


class ListTypeSpec(BaseModel):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=2, max_length=100)
    category: ListCategory
    severity: Literal["严重", "一般"] | None = Field(default=None, description="失信名单的严重程度")
    issuing_authority: str = Field(min_length=2, max_length=100, description="认定部门")
    maintaining_sectors: list[str] = Field(min_length=1, description="负责列入、移出的部门领域")
    basis: str = Field(pattern=CODE, description="法律依据代码（法律依据库）")
    basis_article: str = Field(default="", max_length=100)
    period_months: int | None = Field(default=None, ge=1, le=120, description="列入期限（月）；不填则至满足移出条件")
    exit_conditions: str = Field(min_length=2, max_length=1000)
    subject_kinds: list[SubjectKind] = Field(default_factory=lambda: list(ORGANISATIONS), min_length=1)
    source: SourceSpec | None = None


class GradeTrigger(BaseModel):
    model: str = Field(pattern=CODE, description="评价模型代码")
    grades: list[str] = Field(min_length=1, description="触发的等级，如 [A]")


class MeasureSpec(BaseModel):
    """One measure of the measure list, as the authority writes it."""

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=2, max_length=200)
    content: str = Field(min_length=2, max_length=2000, description="措施内容")
    nature: MeasureNature
    measure_type: MeasureType
    basis: str = Field(pattern=CODE, description="法律依据代码（法律依据库）")
    basis_article: str = Field(default="", max_length=100)
    list_types: list[str] = Field(default_factory=list, description="触发措施的名单类型")
    record_severities: list[Literal["严重", "一般"]] = Field(default_factory=list,
                                                           description="触发措施的失信记录严重程度")
    record_items: list[str] = Field(default_factory=list, description="仅这些目录信息项的失信记录触发（不填则任意）")
    grade_triggers: list[GradeTrigger] = Field(default_factory=list, description="触发措施的评价等级")
    matter_types: list[str] = Field(min_length=1, description="适用事项")
    implementing_sectors: list[str] = Field(min_length=1, description="实施部门")
    subject_kinds: list[SubjectKind] = Field(default_factory=lambda: list(ORGANISATIONS), min_length=1)


class EntryIn(BaseModel):
    """A decision putting a subject on a list kept on the platform (列入)."""

    list_type: str = Field(pattern=CODE)
    subject_code: str = Field(min_length=15, max_length=18, description="统一社会信用代码")
    decision_number: str = Field(min_length=2, max_length=100, description="认定文书号")
    decision_date: date
    reasons: str = Field(min_length=2, max_length=1000, description="列入事由")
    period_months: int | None = Field(default=None, ge=1, le=120, description="列入期限（月）；不填按名单类型")
    exit_conditions: str = Field(default="", max_length=1000)


class ExitIn(BaseModel):
    """Taking a subject off a list before its period ends (移出)."""

    reason: ExitReason
    decision_number: str = Field(default="", max_length=100)
    note: str = Field(min_length=2, max_length=1000, description="移出理由")


class CheckIn(BaseModel):
    """A joint check of one or more subjects for one matter (联合奖惩核查)."""

    matter_type: str = Field(min_length=1, max_length=40, description="事项类型代码，如 GOV_PROCUREMENT")
    matter_reference: str = Field(default="", max_length=200, description="事项名称或编号")
    subjects: list[str] = Field(min_length=1, max_length=1000, description="统一社会信用代码或身份证号码")


class FeedbackIn(BaseModel):
    hit_id: int
    taken: bool = Field(description="是否已采取该措施")
    note: str = Field(default="", max_length=1000, description="未采取的理由或采取的情况")


class FeedbackBatchIn(BaseModel):
    items: list[FeedbackIn] = Field(min_length=1, max_length=5000)


class TriggerOut(BaseModel):
    kind: Literal["list", "record", "grade"]
    id: int | None
    label: str


class MeasureOut(BaseModel):
    id: int
    code: str
    version: int
    name: str
    content: str
    nature: str
    measure_type: str
    basis_title: str
    basis_level: str
    basis_article: str
    matter_types: list[str]
    implementing_sectors: list[str]


class HitOut(BaseModel):
    hit_id: int
    measure: MeasureOut
    triggers: list[TriggerOut]
    feedback: Literal["pending", "taken", "not_taken"]
    feedback_note: str = ""


class SubjectOutcome(BaseModel):
    position: int
    given_code: str
    subject_code: str | None
    subject_name: str | None
    outcome: Literal["clean", "punish", "reward", "both", "unknown", "invalid"]
    outcome_label: str
    punishments: list[HitOut]
    incentives: list[HitOut]


class CheckOut(BaseModel):
    id: int
    matter_type: str
    matter_label: str
    matter_reference: str
    department: str
    checked_at: datetime
    subjects: int
    unknown: int
    punished: int
    rewarded: int
    hits: int
    feedback_due_at: datetime | None
    results: list[SubjectOutcome]
