"""The demo's grants go through the real service and leave what the pages should show."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import demo
from xinyong.audit import service as audit
from xinyong.grants import demo as grants_demo
from xinyong.grants import service
from xinyong.grants.models import Grant, GrantQuery


def test_demo_grants(sanctioned: Session) -> None:
    demo.generate(sanctioned, subjects=150, seed=7)
    summary = grants_demo.activity(sanctioned, seed=7)
    assert summary["live"] >= 4 and summary["revoked"] == 1 and summary["expired"] == 1 and summary["pending"] == 1
    assert summary["queries"] >= 2 and summary["refused"] == 1 and summary["cross_border_reviews"] == 1
    grants = list(sanctioned.scalars(select(Grant)))
    assert len({g.number for g in grants}) == len(grants) == summary["live"] + 3
    assert {service.status_of(g) for g in grants} == {"live", "revoked", "expired", "pending"}
    outcomes = [q.outcome for q in sanctioned.scalars(select(GrantQuery))]
    assert outcomes.count("served") == summary["queries"] and outcomes.count("refused") == 1
    verification = audit.verify(sanctioned)
    assert verification.ok, verification.message
