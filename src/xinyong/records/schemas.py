"""API shapes of the record store."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SubjectRef(BaseModel):
    """Who a record is about: an organisation by code, or a natural person by ID (never stored in clear)."""

    uscc: str | None = Field(default=None, description="统一社会信用代码")
    citizen_id: str | None = Field(default=None, description="居民身份证号码（自然人）")
    name: str = Field(min_length=1, max_length=200, description="行政相对人名称")


class RecordIn(BaseModel):
    item: str = Field(description="目录信息项代码，如 ADM_PENALTY")
    subject: SubjectRef
    payload: dict[str, Any]


class RevocationIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class RecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    item_code: str
    item_version_id: int
    department_id: int
    kind: str
    supersedes_id: int | None
    natural_key: str
    payload: dict[str, Any]
    severity: str | None
    decision_date: date | None
    received_at: datetime
    reason: str
    published: bool | None = Field(default=None, description="是否向社会公示（按目录与失信程度）")
    publication_starts_at: datetime | None = None
    publication_ends_at: datetime | None = Field(default=None, description="公示截止时刻（不含）；为空表示不设期限")


class SubmissionOut(BaseModel):
    created: bool
    outcome: str = Field(description="accepted / duplicate / correction")
    record: RecordOut
