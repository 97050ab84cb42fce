"""API shapes of access: users, tokens."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TokenIn(BaseModel):
    name: str = Field(min_length=2, max_length=100)
    scopes: list[str] = Field(min_length=1)
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    token: str = Field(description="只显示一次，请妥善保存")
    prefix: str
    scopes: list[str]


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    role_label: str
    permissions: list[str]
