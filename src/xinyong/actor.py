"""Who is acting: the value every service function receives (a shared kernel, no tables)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    role: str
    department_id: int | None = None
    subject_id: int | None = None
    institution_id: int | None = None
    scopes: frozenset[str] | None = None  # set for API tokens: the token's scopes

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user_id=None, username="匿名", role="public")

    @classmethod
    def system(cls, name: str = "系统") -> Actor:
        return cls(user_id=None, username=name, role="system")

    @property
    def is_anonymous(self) -> bool:
        return self.role == "public"

    @property
    def is_system(self) -> bool:
        return self.role == "system"
