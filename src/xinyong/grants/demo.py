"""Demo activity for subject authorisation, through the real service (deterministic for a seed).

Enterprises authorise the demo bank (``yinhang``) for credit checks: the showcase company (``qiye``)
and a handful of others — most grants live, one revoked, one expired, one starting next week. The
bank has queried some of them (and once a revoked grant, refused), so the institution portal and
the authority's oversight page show real traffic. A foreign bank is registered with an approved
cross-border review for registration information only. Runs after the demo records and grades exist.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.errors import DomainError
from xinyong.grants import service
from xinyong.subjects import uscc
from xinyong.subjects.models import Subject

ON_BEHALF = Actor.system("信用主体在线授权")
AUTHORITY = Actor(user_id=None, username="信用处出境评估登记", role="authority_admin")
PURPOSES = ("流动资金贷款授信审查", "信易贷授信审批", "贷后管理信用监测", "供应链融资准入审查")
SCOPES = (["registration", "item:TAX_CREDIT", "item:SOCIAL_INSURANCE", "item:ADM_PENALTY", "lists",
           "grade:PUBLIC_CREDIT_ORG"],
          ["registration", "item:ADM_PENALTY", "lists", "grade:PUBLIC_CREDIT_ORG"],
          ["registration", "item:TAX_CREDIT", "report"])
FOREIGN_BANK_NAME = "环太平洋商业银行（香港）有限公司"
FOREIGN_BANK_CODE = uscc.build("9", "1", "320100", "717800A1")


def _actor(session: Session, username: str) -> Actor | None:
    user = session.scalar(select(User).where(User.username == username))
    return access.actor_for(user) if user is not None else None


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), clock.SHANGHAI)


def _enterprises(session: Session, limit: int) -> list[int]:
    return list(session.scalars(select(Subject.id).where(Subject.kind == "enterprise", Subject.uscc.is_not(None))
                                .order_by(Subject.id).limit(limit)))


def activity(session: Session, *, seed: int = 20261127) -> dict[str, int]:
    """Grants to the demo bank with a few queries; returns counts by status."""
    rng = random.Random(seed)
    summary: Counter[str] = Counter()
    bank, owner = _actor(session, "yinhang"), _actor(session, "qiye")
    if bank is None or bank.institution_id is None:
        return dict(summary)
    code = service.get_institution(session, bank.institution_id).code
    today = clock.today()
    subject_ids = [s for s in _enterprises(session, 200) if owner is None or s != owner.subject_id]
    picked = rng.sample(subject_ids, min(8, len(subject_ids)))
    made = []
    if owner is not None:  # the showcase company authorised the bank itself, a month ago
        with clock.pinned(_at(today - timedelta(days=30))):
            made.append(service.create_grant(session, owner, institution_code=code, scope=SCOPES[0],
                                             purpose=PURPOSES[1], ends_on=today + timedelta(days=150)))
    for index, subject_id in enumerate(picked):
        scope, purpose = SCOPES[index % len(SCOPES)], PURPOSES[index % len(PURPOSES)]
        if index == len(picked) - 1:  # an old grant, expired
            with clock.pinned(_at(today - timedelta(days=150))):
                service.create_grant(session, ON_BEHALF, institution_code=code, scope=scope, purpose=purpose,
                                     ends_on=today - timedelta(days=60), subject_id=subject_id)
            summary["expired"] += 1
            continue
        starts = today + timedelta(days=7) if index == len(picked) - 2 else None
        with clock.pinned(_at(today - timedelta(days=rng.randint(1, 40)) if starts is None else today)):
            made.append(service.create_grant(session, ON_BEHALF, institution_code=code, scope=scope, purpose=purpose,
                                             ends_on=today + timedelta(days=rng.randint(60, 180)),
                                             starts_on=starts, subject_id=subject_id))
    revoked = made[-3] if len(made) >= 3 else None
    if revoked is not None:
        service.revoke_grant(session, ON_BEHALF if owner is None or revoked.subject_id != owner.subject_id else owner,
                             revoked.number, "贷款已结清，不再授权查询")
    for grant in made:
        summary[service.status_of(grant)] += 1
    for grant in made[:4]:  # the bank's credit checks
        if service.status_of(grant) != "live":
            continue
        subject = session.get(Subject, grant.subject_id)
        assert subject is not None and subject.uscc
        service.authorised_profile(session, bank, subject.uscc, grant.number)
        summary["queries"] += 1
    if revoked is not None:  # a query under the revoked grant: refused and audited
        subject = session.get(Subject, revoked.subject_id)
        try:
            service.authorised_profile(session, bank, subject.uscc if subject else "", revoked.number)
        except DomainError:
            summary["refused"] += 1
    foreign = access.create_institution(session, code=FOREIGN_BANK_CODE, name=FOREIGN_BANK_NAME, kind="bank",
                                        foreign=True)
    service.record_review(session, AUTHORITY, institution_code=foreign.code, scope_item="registration", approved=True,
                          reference="苏网信出境评〔2026〕3号", valid_until=today + timedelta(days=365),
                          note="仅限登记信息，用于跨境贸易融资主体核验")
    summary["cross_border_reviews"] += 1
    session.commit()
    return dict(summary)
