"""The sharing demo: requests at every stage and reads, through the real services, on a small demo world."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import demo
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.audit import service as audit
from xinyong.sharing import demo as sharing_demo
from xinyong.sharing import service


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_demo_activity(seeded: Session) -> None:
    demo.generate(seeded, subjects=60, seed=7)
    summary = sharing_demo.activity(seeded, seed=7)
    assert summary["requests"] == len(sharing_demo.PLANS) and summary["approved"] == 4 and summary["reads"] >= 30
    admin = access.actor_for(seeded.scalars(select(User).where(User.username == "admin")).one())
    states = [service.state(r) for r in service.list_requests(seeded, admin, limit=100)[0]]
    assert sorted(set(states)) == ["approved", "expired", "pending", "rejected", "withdrawn"]
    qiye = access.actor_for(seeded.scalars(select(User).where(User.username == "qiye")).one())
    views, total = service.reads_of_subject(seeded, qiye)
    assert total >= 1 and {v.purpose for v in views} >= {"公共资源交易"}
    assert service.overview(seeded, admin).reads
    assert audit.verify(seeded).ok
