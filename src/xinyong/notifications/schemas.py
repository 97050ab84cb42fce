"""API shapes of notifications: to-do items and notices."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class TodoOut(BaseModel):
    area: str = Field(description="类别：信用修复 / 异议处理 / 核查反馈 / 信用承诺")
    title: str
    url: str = Field(description="办理页面")
    due_at: datetime | None = Field(description="办理期限（已按工作日计算）")
    overdue: bool


class TodoList(BaseModel):
    total: int
    overdue: int
    items: list[TodoOut] = Field(description="逾期的在前，其余按期限先后")


class NoticeOut(BaseModel):
    id: int
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None
    addressed_to: Literal["user", "subject", "department"] = Field(description="发给本人、本主体或本部门")


class NoticePage(BaseModel):
    total: int
    unread: int
    limit: int
    offset: int
    items: list[NoticeOut]
