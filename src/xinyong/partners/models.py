"""Platform data partners (互联网平台数据合作) and the list feed they read.

``PartnerListEvent`` is this context's own read model of the lists: an entry entering (``entered``)
and leaving (``ended``: expired at its end, or exited by 信用修复 / 撤销 / 更正 / 移出). It is filled
at read time from ``sanctions.service`` (``service.sync``), and its id is the partners' cursor.
``PartnerFeedState`` is the one row that serialises that filling and remembers when it last ran.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class DataPartner(Base):
    """An internet platform registered as a data partner under an agreement (合作协议)."""

    __tablename__ = "data_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)  # 协议编号
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    list_types: Mapped[list[Any]]  # list type codes it receives
    starts_on: Mapped[date]
    ends_on: Mapped[date]  # last day in force (inclusive)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    terminated_at: Mapped[datetime | None]
    terminated_by: Mapped[str | None] = mapped_column(String(64))
    termination_reason: Mapped[str] = mapped_column(String(500), default="")
    delivered_through: Mapped[int] = mapped_column(default=0)  # highest event id handed out
    acknowledged_through: Mapped[int] = mapped_column(default=0)  # highest event id it confirmed (送达确认)
    last_pulled_at: Mapped[datetime | None]
    last_acknowledged_at: Mapped[datetime | None]


class PartnerListEvent(Base):
    """A list entry entering or leaving, as partners receive it (natural persons masked)."""

    __tablename__ = "partner_list_events"
    __table_args__ = (UniqueConstraint("entry_id", "event"), Index("ix_partner_list_events_open", "event", "ends_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("list_entries.id"))
    event: Mapped[str] = mapped_column(String(8))  # entered / ended
    list_type: Mapped[str] = mapped_column(String(40), index=True)
    subject_code: Mapped[str] = mapped_column(String(32))  # USCC, or a person's masked ID
    subject_name: Mapped[str] = mapped_column(String(200))  # a person's name masked
    person: Mapped[bool]
    decision_number: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date]
    ends_at: Mapped[datetime | None]  # exclusive; None: until exit
    reason: Mapped[str | None] = mapped_column(
        String(20)
    )  # ended: expired / repair / revocation / correction / fulfilled
    exit_decision: Mapped[str] = mapped_column(String(100), default="")
    effective_at: Mapped[datetime]  # entered: listed; ended: when it stopped
    recorded_at: Mapped[datetime]


class PartnerFeedState(Base):
    """The single row locked while the feed is brought up to date (``id`` is always 1)."""

    __tablename__ = "partner_feed_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    synced_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]]
