"""Grants (授权书), what institutions asked under them, throttling alerts and cross-border reviews.

A grant is never deleted: revocation stamps ``revoked_at`` once. Every authorised query — served or
refused — leaves a ``GrantQuery`` row next to its audit entry; the refused ones are the counter the
enumeration defence reads (in the database, so it holds across processes).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class Grant(Base):
    """授权书: one subject authorises one institution to read a scope, for a purpose, in a period."""

    __tablename__ = "grants"
    __table_args__ = (Index("ix_grants_institution_subject", "institution_id", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # 授权编号, SQ20261128A7K2M9Q4
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    scope: Mapped[list[Any]]  # scope items: registration, item:<CODE>, lists, grade:<MODEL>, report
    purpose: Mapped[str] = mapped_column(String(500))
    starts_on: Mapped[date]
    ends_on: Mapped[date]  # inclusive: the last day the grant is live
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revocation_reason: Mapped[str] = mapped_column(String(500), default="")


class GrantQuery(Base):
    """One authorised query by an institution: served (what sections) or refused (with the code)."""

    __tablename__ = "grant_queries"
    __table_args__ = (Index("ix_grant_queries_institution_at", "institution_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grants.id"), index=True)  # only when it is the asker's
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))  # only when served
    asked_key: Mapped[str] = mapped_column(String(64))  # sha256 of the code asked for (no clear text kept)
    scope_item: Mapped[str] = mapped_column(String(60), default="")  # the one item asked (require_grant) or ""
    outcome: Mapped[str] = mapped_column(String(10))  # served / refused
    code: Mapped[str] = mapped_column(String(40), default="")  # the refusal code
    sections: Mapped[list[Any]]  # scope items served
    at: Mapped[datetime]


class GrantAlert(Base):
    """An enumeration alert: an institution's refusals crossed the threshold; throttled until ``until``."""

    __tablename__ = "grant_alerts"
    __table_args__ = (Index("ix_grant_alerts_institution_until", "institution_id", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    raised_at: Mapped[datetime]
    until: Mapped[datetime]
    refusals: Mapped[int]
    distinct_subjects: Mapped[int]


class CrossBorderReview(Base):
    """出境评估: the authority's decision on one scope item for one foreign institution (latest wins)."""

    __tablename__ = "cross_border_reviews"
    __table_args__ = (Index("ix_cross_border_reviews_institution_item", "institution_id", "scope_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    scope_item: Mapped[str] = mapped_column(String(60))  # item:<CODE>, registration, lists, grade:<MODEL>, report
    approved: Mapped[bool]
    reference: Mapped[str] = mapped_column(String(100))  # 评估（审批）文号
    valid_until: Mapped[date | None]
    note: Mapped[str] = mapped_column(String(500), default="")
    decided_at: Mapped[datetime]
    decided_by: Mapped[str] = mapped_column(String(64))
