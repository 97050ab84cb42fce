"""Departmental sharing (政务共享): share requests for 有条件共享 items and the log of every read.

A request's ``status`` is its state after the last decision; whether an approved request is in force
is decided at read time from ``starts_on``/``ends_on`` (no job ends it). ``share_reads`` keeps one row
per read of a subject's records by a department (or the credit authority), with the purpose stated,
the items and records given and the requests that allowed the 有条件共享 ones: what the subject sees at
``/me/reads``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class ShareRequest(Base):
    """共享申请: a department asks to use one 有条件共享 item for one purpose, for a term."""

    __tablename__ = "share_requests"
    __table_args__ = (Index("ix_share_requests_department_item", "department_id", "item_code", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # 申请编号 GXSQ2026000001
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    item_code: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(40))  # 用途, one of the policy's sharing purposes
    basis: Mapped[str] = mapped_column(String(1000))  # 履职依据: the duty and its legal basis
    term_months: Mapped[int]  # the term asked for
    status: Mapped[str] = mapped_column(String(12))  # pending / approved / rejected / withdrawn
    requested_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]  # approval, rejection or withdrawal
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_note: Mapped[str] = mapped_column(String(1000), default="")
    starts_on: Mapped[date | None]  # the approved term, both days included
    ends_on: Mapped[date | None]


class ShareRead(Base):
    """One read of a subject's records through sharing (查询记录), besides its audit entry."""

    __tablename__ = "share_reads"
    __table_args__ = (Index("ix_share_reads_subject_at", "subject_id", "at"),
                      Index("ix_share_reads_department_at", "department_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # None: the credit authority
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reader: Mapped[str] = mapped_column(String(64))  # username
    role: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    purpose: Mapped[str] = mapped_column(String(40), default="")  # "" when the reader stated none
    channel: Mapped[str] = mapped_column(String(10))  # api / page
    item_codes: Mapped[list[Any]]  # items of the records given
    record_ids: Mapped[list[Any]]
    request_ids: Mapped[list[Any]]  # approved requests that allowed 有条件共享 records
    non_public: Mapped[bool]  # some record given is not public (disclosure class or publication window)
    non_public_items: Mapped[list[Any]]
