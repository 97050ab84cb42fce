"""Pydantic shapes of the subject registry's API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class OrganisationIn(BaseModel):
    uscc: str = Field(description="统一社会信用代码", examples=["91320102MA1XXXXXX0"])
    name: str = Field(min_length=2, max_length=200, description="名称")
    kind: str | None = Field(default=None, description="主体类型；缺省时由机构类别码推定")
    legal_representative: str | None = Field(default=None, max_length=100)
    registration_authority: str | None = Field(default=None, max_length=100)
    registered_on: date | None = None
    registered_capital: float | None = Field(default=None, ge=0)
    industry: str | None = Field(default=None, max_length=1)
    address: str | None = Field(default=None, max_length=300)


class PersonIn(BaseModel):
    citizen_id: str = Field(description="居民身份证号码（仅用于计算主体标识，不保存明文）")
    name: str = Field(min_length=1, max_length=50)


class SubjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    uscc: str | None
    masked_id: str | None
    name: str
    region_code: str
    industry: str | None
    legal_representative: str | None
    registration_authority: str | None
    registered_on: date | None
    status: str
    created_at: datetime


class ConflictDecisionIn(BaseModel):
    outcome: str
    note: str = Field(min_length=2, max_length=1000)
