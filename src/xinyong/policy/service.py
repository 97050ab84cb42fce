"""Read and change policy parameters (政策参数). Seeded from ``seed/policy.yaml``."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.db import utcnow
from xinyong.errors import NotFound
from xinyong.policy.models import PolicyParameter


@cache
def seed_defaults() -> dict[str, dict[str, Any]]:
    text = resources.files("xinyong.seed").joinpath("policy.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def seed(session: Session) -> int:
    """Insert the parameters that are missing; never overwrite what the authority changed."""
    existing = set(session.scalars(select(PolicyParameter.key)))
    added = 0
    for key, spec in seed_defaults().items():
        if key in existing:
            continue
        session.add(PolicyParameter(key=key, label=spec["label"], source=spec["source"],
                                    value=spec["value"], updated_at=utcnow(), updated_by="seed"))
        added += 1
    session.flush()
    return added


def get(session: Session, key: str) -> Any:
    """A parameter's value, read once per session (unit of work); the seed file is the fallback
    for a database not yet seeded."""
    cache: dict[str, Any] = session.info.setdefault("policy", {})
    if key not in cache:
        row = session.get(PolicyParameter, key)
        if row is not None:
            cache[key] = row.value
        else:
            defaults = seed_defaults()
            if key not in defaults:
                raise NotFound("POLICY_UNKNOWN", f"未知的政策参数：{key}")
            cache[key] = defaults[key]["value"]
    return cache[key]


def list_all(session: Session) -> list[PolicyParameter]:
    return list(session.scalars(select(PolicyParameter).order_by(PolicyParameter.key)))


def change(session: Session, actor: Actor, key: str, value: Any) -> PolicyParameter:
    row = session.get(PolicyParameter, key)
    if row is None:
        raise NotFound("POLICY_UNKNOWN", f"未知的政策参数：{key}")
    before = row.value
    row.value = value
    session.info.pop("policy", None)
    row.updated_at = utcnow()
    row.updated_by = actor.username
    audit.append(session, actor, "policy.change", object_type="policy_parameter", object_id=key,
                 detail={"before": before, "after": value})
    return row
