"""Policy parameters (政策参数): the rules that change by decree, kept as data the authority edits."""

from __future__ import annotations

from datetime import datetime
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
