"""Demo credit reports, issued through the real service (signed, stored, in the register).

The showcase company (``qiye``) has asked for a 公共信用信息报告 and a 专项信用报告 (市场监管 and 税务 over
the last three years); the authority's window (``admin``) issued general reports for a few other
companies, one of which was later revoked (作废: issued on a penalty that was then corrected); and
the demo bank (``yinhang``) obtained one under a grant covering reports, if the grants demo made one.
Each report takes about 0.1 s to lay out and sign, so the demo issues only a handful.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.grants import service as grants
from xinyong.reports import service
from xinyong.subjects import service as subjects

WINDOW_REPORTS = 4
SPECIAL_FIELDS = ["市场监管", "税务"]


def _actor(session: Session, username: str) -> Actor | None:
    user = session.scalar(select(User).where(User.username == username))
    return access.actor_for(user) if user is not None else None


def _window_subjects(session: Session, rng: random.Random, exclude: int | None) -> list[str]:
    """Codes of a few organisations (reports are for organisations only)."""
    found, _total = subjects.search(session, kind="enterprise", limit=200)
    codes = [s.uscc for s in found if s.uscc and s.id != exclude]
    return rng.sample(codes, min(WINDOW_REPORTS, len(codes)))


def activity(session: Session, *, seed: int = 20261127) -> dict[str, int]:
    """Issue the demo reports; returns counts (general, special, revoked, institution)."""
    rng = random.Random(seed)
    summary: Counter[str] = Counter()
    admin, showcase, bank = _actor(session, "admin"), _actor(session, "qiye"), _actor(session, "yinhang")
    if admin is None:
        return dict(summary)
    if showcase is not None and showcase.subject_id is not None:
        own = subjects.get(session, showcase.subject_id)
        if own.uscc:
            service.issue(session, showcase, own.uscc)
            today = clock.today()
            service.issue(session, showcase, own.uscc, kind="special", fields=SPECIAL_FIELDS,
                          period_from=date(today.year - 3, today.month, 1), period_to=today)
            summary.update(["general", "special"])
    issued = [service.issue(session, admin, code) for code in
              _window_subjects(session, rng, showcase.subject_id if showcase else None)]
    summary["general"] += len(issued)
    if issued:
        service.revoke_report(session, admin, issued[-1].number, "出具所依据的行政处罚信息已由报送部门更正，请重新申请")
        summary["revoked"] += 1
    if bank is not None and bank.institution_id is not None:
        for grant in grants.grants_of_institution(session, bank.institution_id):
            if "report" in grant.scope and grants.status_of(grant) == "live":
                code = subjects.get(session, grant.subject_id).uscc
                if code:
                    service.issue(session, bank, code, grant_number=grant.number)
                    summary["institution"] += 1
                break
    return dict(summary)
