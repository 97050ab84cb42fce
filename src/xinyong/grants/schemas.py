"""Shapes of grants (授权) in the API and the labels the pages use."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

SCOPE_LABELS = {"registration": "登记信息", "lists": "红黑名单", "report": "信用报告"}
STATUS_LABELS = {"live": "生效中", "pending": "未生效", "expired": "已过期", "revoked": "已撤销"}
CROSS_BORDER = ("可出境", "需出境评估", "不得出境")  # code names: allowed / review / domestic_only
CROSS_BORDER_CODES = {"可出境": "allowed", "需出境评估": "review", "不得出境": "domestic_only"}


class GrantIn(BaseModel):
    institution_code: str = Field(min_length=1, max_length=18, description="被授权机构的统一社会信用代码")
    scope: list[str] = Field(description="授权范围：registration、item:<目录信息项代码>、lists、grade:<评价模型代码>、report")
    purpose: str = Field(max_length=500, description="授权用途，如“流动资金贷款授信审查”")
    ends_on: date = Field(description="授权截止日（含当日）")
    starts_on: date | None = Field(default=None, description="授权起始日；不填为今天")


class RevocationIn(BaseModel):
    reason: str = Field(default="", max_length=500, description="撤销理由（可不填）")


class GrantOut(BaseModel):
    number: str = Field(description="授权编号")
    subject_code: str
    subject_name: str
    institution_code: str
    institution_name: str
    scope: list[str]
    scope_labels: list[str]
    purpose: str
    starts_on: date
    ends_on: date
    status: str = Field(description="live 生效中 / pending 未生效 / expired 已过期 / revoked 已撤销")
    status_label: str
    created_at: datetime
    revoked_at: datetime | None


class ProfileOut(BaseModel):
    grant: str = Field(description="授权编号")
    subject_code: str
    queried_at: datetime
    sections: list[str] = Field(description="本次返回的授权范围")
    profile: dict[str, Any] = Field(description="registration / items / lists / grades：只含授权范围内的信息，个人信息已脱敏")


class ReviewIn(BaseModel):
    institution_code: str = Field(min_length=1, max_length=18)
    scope_item: str = Field(min_length=1, max_length=60, description="item:<代码>、registration、lists、grade:<模型>、report")
    approved: bool
    reference: str = Field(min_length=2, max_length=100, description="出境评估（审批）文号")
    valid_until: date | None = None
    note: str = Field(default="", max_length=500)


class ReviewOut(BaseModel):
    institution_code: str
    institution_name: str
    scope_item: str
    approved: bool
    reference: str
    valid_until: date | None
    note: str
    decided_at: datetime
    decided_by: str
