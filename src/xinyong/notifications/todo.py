"""The shape of a to-do item (待办事项) that contexts hand to the to-do list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Todo:
    """Something an actor has to do, with its deadline (working days already counted)."""

    area: str  # 信用修复 / 异议处理 / 核查反馈 / 信用承诺
    title: str  # 受理信用修复申请 XYXF202600001
    url: str  # the page where it is done
    due_at: datetime | None
    overdue: bool
