"""Shapes of 信易贷 products, applications, decisions and statistics as clients send and receive them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

STATUS_LABELS = {"submitted": "待审批", "approved": "已批准", "rejected": "未获批准", "withdrawn": "已撤回"}
PRODUCT_STATUS_LABELS = {"active": "在售", "withdrawn": "已下架"}
TARGET_KINDS = {"enterprise": "企业", "individual_business": "个体工商户"}


class ProductIn(BaseModel):
    """A bank publishes a credit product (发布信易贷产品)."""

    name: str = Field(min_length=2, max_length=100, description="产品名称")
    description: str = Field(default="", max_length=1000, description="产品说明")
    max_amount: float = Field(gt=0, le=100000, description="最高额度（万元）")
    term_months: int = Field(ge=1, le=360, description="最长期限（月）")
    rate_min: float = Field(gt=0, le=36, description="年化利率下限（%）")
    rate_max: float = Field(gt=0, le=36, description="年化利率上限（%）")
    unsecured: bool = Field(default=True, description="是否信用贷款（无抵押、无担保）")
    target_kinds: list[Literal["enterprise", "individual_business"]] = Field(
        min_length=1, description="面向的主体类型：enterprise 企业，individual_business 个体工商户")


class ProductOut(BaseModel):
    number: str
    bank_code: str
    bank: str
    name: str
    description: str
    max_amount: float
    term_months: int
    rate_min: float
    rate_max: float
    unsecured: bool
    target_kinds: list[str]
    status: Literal["active", "withdrawn"]
    status_label: str
    created_at: datetime
    withdrawn_at: datetime | None


class ApplicationIn(BaseModel):
    """A small firm applies for a product (申请融资); applying authorises the bank (授权)."""

    product: str = Field(min_length=1, max_length=20, description="产品编号")
    amount: float = Field(gt=0, le=100000, description="申请金额（万元）")
    term_months: int = Field(ge=1, le=360, description="申请期限（月）")
    purpose: str = Field(min_length=2, max_length=500, description="资金用途")


class DecisionIn(BaseModel):
    """The bank's outcome (审批结果): approved with its terms, or rejected with a reason."""

    outcome: Literal["approved", "rejected"] = Field(description="approved 批准 / rejected 不予批准")
    granted_amount: float | None = Field(default=None, gt=0, le=100000, description="授信金额（万元），批准时必填")
    rate: float | None = Field(default=None, gt=0, le=36, description="年化利率（%），批准时必填")
    term_months: int | None = Field(default=None, ge=1, le=360, description="期限（月），批准时必填")
    unsecured: bool | None = Field(default=None, description="是否信用贷款（否：抵押或担保），批准时必填")
    first_loan: bool | None = Field(default=None, description="是否首贷户（银行报告），批准时必填")
    reason: str = Field(default="", max_length=500, description="不予批准的理由")


class DisbursementIn(BaseModel):
    disbursed_on: date = Field(description="放款日期")


class WithdrawIn(BaseModel):
    reason: str = Field(default="", max_length=500, description="撤回原因（可不填）")


class ApplicationOut(BaseModel):
    number: str
    product: str
    product_name: str
    bank_code: str
    bank: str
    subject_code: str
    subject_name: str
    subject_kind: str
    industry: str | None
    amount: float
    term_months: int
    purpose: str
    grant_number: str
    status: Literal["submitted", "approved", "rejected", "withdrawn"]
    status_label: str
    applied_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    granted_amount: float | None
    granted_rate: float | None
    granted_term_months: int | None
    granted_unsecured: bool | None
    first_loan: bool | None
    reject_reason: str
    disbursed_on: date | None
    withdrawn_at: datetime | None


class ApplicationsPage(BaseModel):
    total: int
    items: list[ApplicationOut]


class ProfileOut(BaseModel):
    """The credit profile the bank reads through the application's grant: exactly the granted sections."""

    application: str
    grant_number: str
    subject_code: str
    profile: dict[str, Any]


class Figures(BaseModel):
    """Lending figures for one group (all, a bank, a month, an industry)."""

    key: str
    label: str
    applications: int
    pending: int
    withdrawn: int
    decided: int
    approved: int
    rejected: int
    approval_rate: float | None = Field(description="批准数 ÷ 已审批数")
    amount_applied: float
    amount_granted: float
    unsecured: int = Field(description="批准的信用贷款笔数")
    unsecured_share: float | None = Field(description="信用贷款笔数 ÷ 批准笔数")
    unsecured_amount: float
    first_loans: int = Field(description="首贷户（批准笔数中银行报告为首贷户的）")
    disbursed: int
    amount_disbursed: float


class Statistics(BaseModel):
    total: Figures
    by_bank: list[Figures]
    by_month: list[Figures]
    by_industry: list[Figures]
