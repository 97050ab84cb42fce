"""What the public portal and its API show: only published, masked information."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class PublicField(BaseModel):
    name: str
    label: str
    value: str


class PublicRecord(BaseModel):
    """One published record (公示信息), personal data masked."""

    id: int
    item_code: str
    item_name: str
    subject_code: str | None = Field(description="统一社会信用代码；自然人为脱敏证件号码")
    subject_name: str
    subject_has_page: bool = Field(description="行政相对人有公开的主体页面（自然人没有）")
    department: str = Field(description="信息提供单位")
    decision_date: date | None
    publication_ends_at: datetime | None = Field(description="公示截止时刻（不含），之后自动停止公示；为空表示不设失信公示期限")
    publication_last_day: date | None = Field(description="公示期最后一日（含）")
    title: str = Field(description="文书号等标题")
    publicity_kind: str | None = Field(description="所属双公示类别：licences 行政许可、penalties 行政处罚")
    category: str | None = Field(description="许可类别或处罚类别")
    fields: list[PublicField]
    under_objection: bool = Field(default=False, description="异议处理中：信用主体对该记录提出的异议正在核实")


class PublicSection(BaseModel):
    item_code: str
    item_name: str
    category: str
    credit_nature: str
    records: list[PublicRecord]


class PublicSubjectSummary(BaseModel):
    code: str
    name: str
    kind: str
    region: str
    status: str
    legal_representative: str | None


class PublicSubject(PublicSubjectSummary):
    """A subject's public page (信用信息公示): registration information and published records."""

    registration_authority: str | None
    registered_on: date | None
    registered_capital: float | None = Field(description="注册资本（万元）")
    address: str | None
    industry: str | None
    sections: list[PublicSection]


class SearchPage(BaseModel):
    query: str
    items: list[PublicSubjectSummary]
    total: int = Field(description="匹配的主体数（最多计至上限）")
    capped: bool = Field(description="匹配超过上限，请输入更完整的名称或代码")
    page: int
    per_page: int
    pages: int


class PublicityPage(BaseModel):
    """One page of a 双公示 list (行政许可 or 行政处罚), newest decisions first."""

    kind: str
    title: str
    items: list[PublicRecord]
    total: int
    page: int
    per_page: int
    pages: int
