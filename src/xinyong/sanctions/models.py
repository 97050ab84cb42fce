"""Tables of the rewards-and-punishments context (守信激励和失信惩戒).

Nothing here is deleted or rewritten: a subject leaves a list by expiry or by a ``ListExit`` fact,
a measure changes by a new version, feedback on a check is appended (the newest one counts).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class LegalBasisDocument(Base):
    """A law, regulation or policy document that lists and measures may cite (法律依据库).

    The level belongs to the document, not to whoever cites it: a measure cannot claim 法律 for a
    规范性文件. A repealed document (``repealed_on``) can no longer be cited.
    """

    __tablename__ = "legal_bases"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))  # 《中华人民共和国民事诉讼法》
    level: Mapped[str] = mapped_column(String(20))  # 法律 / 行政法规 / … (policy ``legal_basis_levels``)
    issuer: Mapped[str] = mapped_column(String(100))  # 全国人民代表大会 / 国务院 / …
    document_number: Mapped[str] = mapped_column(String(100), default="")  # 国办发〔2025〕22号
    effective_on: Mapped[date | None]
    repealed_on: Mapped[date | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class ListType(Base):
    """A kind of list (名单): 严重失信主体名单 of one type, 经营异常名录, 守信激励对象名单 (红名单).

    ``source`` makes the list follow a catalogue item: every current record of that item (matching
    ``where``) is an entry, so departments keep submitting as they already do. Lists without a
    source are kept on the platform by the departments of ``maintaining_sectors``.
    """

    __tablename__ = "list_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(20))  # 严重失信主体名单 / 经营异常名录 / 其他失信名单 / 守信激励对象名单
    nature: Mapped[str] = mapped_column(String(4))  # 失信 / 守信
    severity: Mapped[str | None] = mapped_column(String(4))  # 严重 / 一般 for 失信 lists
    issuing_authority: Mapped[str] = mapped_column(String(100))  # 认定部门, e.g. 最高人民法院
    maintaining_sectors: Mapped[list[Any]]  # department sectors that put subjects on and take them off
    basis_id: Mapped[int] = mapped_column(ForeignKey("legal_bases.id"))
    basis_article: Mapped[str] = mapped_column(String(100), default="")
    period_months: Mapped[int | None]  # 列入期限; None: until the exit conditions are met
    exit_conditions: Mapped[str] = mapped_column(String(1000), default="")  # 移出条件
    subject_kinds: Mapped[list[Any]]
    source: Mapped[dict[str, Any] | None]  # {item, where, decision_number, reasons, expires}
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    retired_at: Mapped[datetime | None]


class ListEntry(Base):
    """A subject put on a list by a decision (列入决定). Never updated, never deleted.

    In force from ``listed_at`` up to (not including) ``expires_at`` unless a ``ListExit`` ends it
    earlier; the check compares both with the clock at read time, so expiry needs no job.
    """

    __tablename__ = "list_entries"
    __table_args__ = (Index("ix_list_entries_subject", "subject_id", "list_type_id"),
                      Index("ix_list_entries_type_listed", "list_type_id", "listed_at"),
                      UniqueConstraint("source_record_id", "list_type_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    list_type_id: Mapped[int] = mapped_column(ForeignKey("list_types.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    decision_number: Mapped[str] = mapped_column(String(100))  # 认定文书号
    decision_date: Mapped[date]
    reasons: Mapped[str] = mapped_column(String(1000))  # 列入事由
    listed_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]  # exclusive; None: until exit conditions are met
    exit_conditions: Mapped[str] = mapped_column(String(1000), default="")
    source_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))  # unique per list type
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class ListExit(Base):
    """A subject leaving a list before expiry (移出): 信用修复, 撤销, 更正, 履行完毕."""

    __tablename__ = "list_exits"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("list_entries.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(20))  # see rules.EXIT_REASONS
    decision_number: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")
    effective_at: Mapped[datetime]
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class Measure(Base):
    """One version of one measure of the measure list (失信惩戒措施清单 / 守信激励措施清单).

    Immutable: a revision is a new version and the old one gets ``retired_at``. Checks keep the id
    of the version they applied, so a past check still shows the measure as it was.
    """

    __tablename__ = "measures"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(String(2000))  # 措施内容
    nature: Mapped[str] = mapped_column(String(4))  # 惩戒 / 激励
    measure_type: Mapped[str] = mapped_column(String(20))  # 减损权益或增加义务 / 市场性 / 行业性 / 激励
    basis_id: Mapped[int] = mapped_column(ForeignKey("legal_bases.id"))
    basis_article: Mapped[str] = mapped_column(String(100), default="")
    list_types: Mapped[list[Any]]  # list type codes whose entries trigger it
    record_severities: Mapped[list[Any]]  # 严重 / 一般 dishonesty records (in their window) that trigger it
    record_items: Mapped[list[Any]]  # narrows record triggers to these catalogue items (empty: any 失信 item)
    grade_triggers: Mapped[list[Any]]  # [{model, grades}] evaluation grades that trigger it
    matter_types: Mapped[list[Any]]  # 适用事项
    implementing_sectors: Mapped[list[Any]]  # 实施部门
    subject_kinds: Mapped[list[Any]]
    change_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    retired_at: Mapped[datetime | None]


class JointCheck(Base):
    """One 联合奖惩核查 request by an applying department: one subject or a batch, for one matter."""

    __tablename__ = "joint_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_by: Mapped[str] = mapped_column(String(64))
    matter_type: Mapped[str] = mapped_column(String(40))
    matter_reference: Mapped[str] = mapped_column(String(200), default="")  # 事项名称或编号, e.g. 招标项目编号
    channel: Mapped[str] = mapped_column(String(10))  # single / batch (file) / api
    filename: Mapped[str | None] = mapped_column(String(200))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime]
    subjects: Mapped[int]
    unknown: Mapped[int]  # not in the registry, or not a valid code
    punished: Mapped[int]  # subjects with at least one 惩戒 measure
    rewarded: Mapped[int]  # subjects with at least one 激励 measure
    hits: Mapped[int]
    feedback_due_at: Mapped[datetime | None]  # None when nothing applied


class CheckSubject(Base):
    """One subject asked about in a check, in the order given, with its outcome."""

    __tablename__ = "joint_check_subjects"

    check_id: Mapped[int] = mapped_column(ForeignKey("joint_checks.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)  # row of the file (from 1), or index in the request
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    given_code: Mapped[str] = mapped_column(String(40))  # as given; citizen ids masked
    outcome: Mapped[str] = mapped_column(String(10))  # clean / punish / reward / both / unknown / invalid


class CheckHit(Base):
    """One measure that applied to one subject in a check, and what triggered it."""

    __tablename__ = "joint_check_hits"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("joint_checks.id"), index=True)
    position: Mapped[int]
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id"))
    triggers: Mapped[list[Any]]  # [{kind: list|record|grade, id, label}]


class CheckFeedback(Base):
    """反馈: what the department did about one hit. Appended; the newest feedback of a hit counts."""

    __tablename__ = "joint_check_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("joint_check_hits.id"), index=True)
    taken: Mapped[bool]  # 已采取 / 未采取
    note: Mapped[str] = mapped_column(String(1000), default="")  # why not, or what was done
    reported_at: Mapped[datetime]
    reported_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
