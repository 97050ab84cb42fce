"""The demo's commitments go through the real service and leave what the pages should show."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import demo
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.audit import service as audit
from xinyong.commitments import demo as commitments_demo
from xinyong.commitments import service
from xinyong.commitments.models import Commitment
from xinyong.records.models import Record


def test_demo_commitments(sanctioned: Session) -> None:
    demo.generate(sanctioned, subjects=150, seed=7)
    summary = commitments_demo.activity(sanctioned, seed=7)
    assert summary["审批替代型"] >= 5 and summary["容缺受理型"] >= 8 and summary["breached"] == 1
    assert summary["overdue"] == 2 and summary["fulfilled"] >= 2
    made = list(sanctioned.scalars(select(Commitment)))
    assert len(made) == sum(summary.get(k, 0) for k in ("审批替代型", "容缺受理型", "主动型", "行业自律型"))
    broken = [c for c in made if c.status == "breached"]
    assert len(broken) == 1 and sanctioned.get(Record, broken[0].breach_record_id).item_code == "COMMITMENT_BREACH"  # type: ignore[union-attr]
    market = access.actor_for(sanctioned.scalars(select(User).where(User.username == "scjg")).one())
    assert sum(t.overdue for t in service.todo_items(sanctioned, market)) == 2
    qiye = access.actor_for(sanctioned.scalars(select(User).where(User.username == "qiye")).one())
    assert len(service.for_subject(sanctioned, qiye.subject_id or 0)) >= 1
    verification = audit.verify(sanctioned)
    assert verification.ok, verification.message
