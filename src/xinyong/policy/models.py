"""Policy parameters (政策参数): the rules that change by decree, kept as data the authority edits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class PolicyParameter(Base):
    __tablename__ = "policy_parameters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(300))  # which regulation, and firm/reported/assumed
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class CalendarDay(Base):
    """One day of a State Council holiday schedule (节假日安排) loaded by the credit authority.

    Overrides the built-in calendar (``xinyong.calendar``): a year the package does not know
    yet, or a correction of a wrong built-in day. Replaced a whole year at a time; every load
    is audited with the days before and after.
    """

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column("date", primary_key=True)
    is_working_day: Mapped[bool]
    name: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(200))  # the notice it comes from, e.g. 国办发明电〔2026〕X号
    loaded_at: Mapped[datetime]
    loaded_by: Mapped[str] = mapped_column(String(64))
