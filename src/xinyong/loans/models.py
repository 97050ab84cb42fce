"""信易贷: loan products banks publish, and small firms' applications with their outcomes.

Nothing is deleted. A product is withdrawn (下架), never removed; an application moves once from
``submitted`` to ``approved``, ``rejected`` or ``withdrawn``, and an approved one gets its
disbursement date (放款日期) once. The credit profile the bank reads is not stored here: it is read
through the application's grant (``grant_number``) each time, so revoking the grant stops it.

Columns the lending statistics group by are kept on the application as they were when it was made
(``institution_id``, ``subject_kind``, ``industry``, ``applied_month``), so every figure is one SQL
aggregate over this table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class LoanProduct(Base):
    """信易贷产品: one bank's credit product offered to small firms on the platform."""

    __tablename__ = "loan_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # 产品编号, XYDCP000001
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000), default="")
    max_amount: Mapped[float]  # 最高额度，万元
    term_months: Mapped[int]  # 最长期限，月
    rate_min: Mapped[float]  # 年化利率下限，%
    rate_max: Mapped[float]  # 年化利率上限，%
    unsecured: Mapped[bool]  # 信用贷款（无抵押担保）
    target_kinds: Mapped[list[Any]]  # subject kinds it is offered to: enterprise / individual_business
    status: Mapped[str] = mapped_column(String(12))  # active / withdrawn
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None]


class LoanApplication(Base):
    """融资申请: a small firm's application for one product, the grant it gave the bank, the outcome."""

    __tablename__ = "loan_applications"
    __table_args__ = (Index("ix_loan_applications_institution_status", "institution_id", "status"),
                      Index("ix_loan_applications_subject_product", "subject_id", "product_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # 申请编号, XYD2026000001
    product_id: Mapped[int] = mapped_column(ForeignKey("loan_products.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))  # the bank (the product's)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(20))  # as registered when applying
    industry: Mapped[str | None] = mapped_column(String(4))  # GB/T 4754 门类 when applying
    amount: Mapped[float]  # 申请金额，万元
    term_months: Mapped[int]  # 申请期限，月
    purpose: Mapped[str] = mapped_column(String(500))  # 资金用途
    grant_number: Mapped[str] = mapped_column(String(40))  # the subject's authorisation of the bank (grants)
    status: Mapped[str] = mapped_column(String(12))  # submitted / approved / rejected / withdrawn
    applied_at: Mapped[datetime]
    applied_on: Mapped[date]  # Shanghai date
    applied_month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM (Shanghai), for statistics
    applied_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    granted_amount: Mapped[float | None]  # 授信金额，万元
    granted_rate: Mapped[float | None]  # 年化利率，%
    granted_term_months: Mapped[int | None]
    granted_unsecured: Mapped[bool | None]  # 信用贷款 (True) or 抵押/担保 (False)
    first_loan: Mapped[bool | None]  # 首贷户, as reported by the bank
    reject_reason: Mapped[str] = mapped_column(String(500), default="")
    disbursed_on: Mapped[date | None]  # 放款日期
    withdrawn_at: Mapped[datetime | None]
    withdraw_reason: Mapped[str] = mapped_column(String(500), default="")
