"""The demo's reports go through the real service: signed, stored, one revoked, one for the bank."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import demo
from xinyong.grants import demo as grants_demo
from xinyong.reports import demo as reports_demo
from xinyong.reports import service
from xinyong.reports.models import CreditReport


def test_demo_reports(sanctioned: Session) -> None:
    demo.generate(sanctioned, subjects=150, seed=7)
    grants_demo.activity(sanctioned, seed=7)
    summary = reports_demo.activity(sanctioned, seed=7)
    assert summary == {"general": 1 + reports_demo.WINDOW_REPORTS, "special": 1, "revoked": 1, "institution": 1}
    issued = list(sanctioned.scalars(select(CreditReport)))
    assert len(issued) == 7 and sum(1 for r in issued if r.institution_id is not None) == 1
    for report in issued:
        _report, pdf = service.report_file(sanctioned, service.Actor.system(), report.number)
        expected = "revoked" if report.revoked_at is not None else "genuine"
        assert service.verify_file(sanctioned, pdf).status == expected
