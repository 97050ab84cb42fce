"""Credit repair applications and objections, their steps and the materials kept with them.

A case's ``status`` is the state after its last step; the steps are the history and are never
changed. What a repair or an objection does to a record is a new record fact (``repair``, a
correction or a revocation) linked from the case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class RepairApplication(Base):
    """信用修复申请: a subject asks that one dishonesty record or list entry stop having effect."""

    __tablename__ = "repair_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # 申请编号
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    target: Mapped[str] = mapped_column(String(10))  # record / entry
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("list_entries.id"), index=True)
    deciding_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)  # 谁认定、谁修复
    status: Mapped[str] = mapped_column(String(16))  # submitted / accepted / not_accepted / approved / refused / withdrawn
    reasons: Mapped[str] = mapped_column(String(2000))  # 整改情况及申请理由
    obligations_fulfilled: Mapped[bool]  # 已履行法定责任和义务的声明
    submitted_at: Mapped[datetime]
    submitted_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    intake_due_at: Mapped[datetime]  # 受理期限
    decision_due_at: Mapped[datetime | None]  # 审核决定期限, set on acceptance
    decided_at: Mapped[datetime | None]
    repair_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))  # the repair fact, once approved


class RepairStep(Base):
    """One step of a repair case (提交、受理、不予受理、同意修复、不予修复、撤回)."""

    __tablename__ = "repair_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("repair_applications.id"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(1000), default="")
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))


class Objection(Base):
    """异议: a subject (or a person named in a record) says a record is wrong."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)  # the providing department
    objector: Mapped[str] = mapped_column(String(100))  # who objects, as they named themselves
    reasons: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16))  # open / corrected / revoked / upheld
    submitted_at: Mapped[datetime]
    submitted_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_note: Mapped[str] = mapped_column(String(1000), default="")
    result_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))  # the correction or revocation


class CaseMaterial(Base):
    """A file kept with a repair application or an objection (承诺书, 履行证明, 证据)."""

    __tablename__ = "case_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_kind: Mapped[str] = mapped_column(String(10))  # repair / objection
    case_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))  # commitment_letter / fulfilment_proof / evidence / other
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    stored_as: Mapped[str] = mapped_column(String(300))  # path under the data directory
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(64))
