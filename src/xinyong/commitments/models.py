"""Credit commitments (信用承诺): what a subject promised a department, and whether it kept it.

A commitment is never deleted. Its ``status`` moves once, from 履约中 to 已履约 or 未履约, by the
department it was made to; the move is audited. What the public and the other contexts see of it
are record facts: the COMMITMENT record of a public commitment (corrected on each decision) and,
on a breach, a COMMITMENT_BREACH dishonesty record.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class Commitment(Base):
    """信用承诺书: one subject's written commitment to one department for one matter."""

    __tablename__ = "commitments"
    __table_args__ = (Index("ix_commitments_department_status", "department_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # 承诺书编号, XYCN2026000001
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))  # the department it is made to
    kind: Mapped[str] = mapped_column(String(10))  # 审批替代型 / 容缺受理型 / 信用修复型 / 行业自律型 / 主动型
    matter_type: Mapped[str | None] = mapped_column(String(40))  # policy ``sanction_matter_types`` code
    matter: Mapped[str] = mapped_column(String(200))  # 承诺事项
    content: Mapped[str] = mapped_column(String(2000))  # 承诺内容
    made_on: Mapped[date]  # 承诺日期
    public: Mapped[bool]  # 向社会公开: published as a COMMITMENT record
    materials_due_on: Mapped[date | None]  # 容缺受理: the working day by which the missing materials are due
    status: Mapped[str] = mapped_column(String(12))  # in_progress / fulfilled / breached
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))  # newest fact of its COMMITMENT record
    breach_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))  # the COMMITMENT_BREACH record
    channel: Mapped[str] = mapped_column(String(10))  # online (by the subject) / offline (registered by the department)
    made_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_note: Mapped[str] = mapped_column(String(1000), default="")
