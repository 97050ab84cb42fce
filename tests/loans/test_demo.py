"""The 信易贷 demo: three products of the demo bank, applications over the last months, mostly decided."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import demo
from xinyong.audit import service as audit
from xinyong.grants import service as grants
from xinyong.loans import demo as loans_demo
from xinyong.loans import service
from xinyong.loans.models import LoanApplication


def test_the_demo_fills_the_dashboard(frozen_clock: datetime, sanctioned: Session) -> None:
    demo.generate(sanctioned, subjects=150, seed=7)
    summary = loans_demo.activity(sanctioned, seed=7)
    assert summary["products"] == 3
    assert 20 <= summary["applications"] <= 40
    assert summary["approved"] > summary["rejected"] > 0 and summary["pending"] >= 2 and summary["disbursed"] > 0
    stats = service.statistics(sanctioned)
    total = stats.total
    assert total.applications == summary["applications"] and total.approved == summary["approved"]
    assert total.first_loans > 0 and 0 < (total.unsecured_share or 0) <= 1
    assert len([m for m in stats.by_month if m.applications]) >= 4 and len(stats.by_industry) >= 2
    rows = list(sanctioned.scalars(select(LoanApplication)))
    for row in rows:  # every application went with a grant to the demo bank for the agreed profile
        grant = grants.get_grant(sanctioned, row.grant_number)
        assert grant is not None and grant.subject_id == row.subject_id and grant.institution_id == row.institution_id
        assert sorted(grant.scope) == sorted(service.profile_scope(sanctioned))
        assert (grant.revoked_at is not None) == (row.status == "withdrawn")
    assert audit.verify(sanctioned).ok
    assert loans_demo.activity(sanctioned, seed=7) == {}  # once only
