"""Signing keys, the certificates of other platforms this one recognises, and the reports issued."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class SigningKey(Base):
    """A key this platform signs reports with (签章密钥). The private key is a file in the data
    directory (``private_key_path``), never in the database; the certificate is published."""

    __tablename__ = "report_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    certificate_pem: Mapped[str] = mapped_column(Text)
    private_key_path: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]  # rotated out: no new reports, old ones still verify
    revoked_at: Mapped[datetime | None]  # compromised: every report it signed is revoked
    revocation_reason: Mapped[str] = mapped_column(String(500), default="")


class TrustedKey(Base):
    """Another platform's certificate whose reports this one recognises (跨区域互认)."""

    __tablename__ = "report_trusted_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    issuer: Mapped[str] = mapped_column(String(100))  # the platform, e.g. 苏州市公共信用信息平台
    certificate_pem: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(500), default="")  # where it was published
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(500))  # e.g. 对方平台已吊销该证书


class CreditReport(Base):
    """One report issued (出具): what was asked, by whom, the signed file and its hash. Never deleted;
    a report found wrong is revoked (作废) and verification says so."""

    __tablename__ = "credit_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # 报告编号
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # general / special
    fields: Mapped[list[Any]]  # special reports: 领域
    period_from: Mapped[date | None]
    period_to: Mapped[date | None]
    data_as_of: Mapped[datetime]
    issued_at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))  # a bank asking with authorisation
    key_id: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    check_code: Mapped[str | None] = mapped_column(String(12))  # 核验码 printed on the report (none before 0017)
    size: Mapped[int]
    stored_as: Mapped[str] = mapped_column(String(300))  # path under the data directory
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str] = mapped_column(String(500), default="")


class ReportNumberCounter(Base):
    """The last report number given out per prefix (XYBG + 行政区划代码 + year). A number is reserved in
    a short transaction of its own, so issuers never wait for one another's layout and signature;
    a number reserved for a report that then failed is skipped, never reused."""

    __tablename__ = "report_number_counters"

    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    last: Mapped[int]
