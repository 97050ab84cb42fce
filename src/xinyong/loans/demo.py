"""Demo activity for 信易贷, through the real services (deterministic for a seed).

The demo bank (``yinhang``, 金陵商业银行) publishes three products; over the last five months about
thirty demo enterprises and individual businesses apply — each application authorising the bank
through a grant — and the bank decides most of them (about three in four approved, a good share of
them first-time borrowers 首贷户, most paid out a few days later); a few are still waiting, two were
withdrawn. The showcase company (``qiye``) has one application waiting, so its page shows something.
Runs after the demo subjects and the evaluation models exist.
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
from xinyong.loans import service
from xinyong.loans.models import LoanProduct
from xinyong.loans.schemas import ApplicationIn, DecisionIn, ProductIn
from xinyong.subjects.models import Subject

PRODUCTS = (
    ProductIn(name="金陵信易贷·小微信用贷", description="纯信用、随借随还，依据纳税信用和公共信用综合评价授信",
              max_amount=300, term_months=36, rate_min=3.45, rate_max=5.8, unsecured=True,
              target_kinds=["enterprise", "individual_business"]),
    ProductIn(name="金陵信易贷·首贷通", description="面向首次申请银行贷款的小微企业和个体工商户",
              max_amount=100, term_months=12, rate_min=3.3, rate_max=4.8, unsecured=True,
              target_kinds=["enterprise", "individual_business"]),
    ProductIn(name="金陵信易贷·科创担保贷", description="政府性融资担保机构担保，支持科技型中小企业",
              max_amount=1000, term_months=60, rate_min=3.2, rate_max=4.6, unsecured=False, target_kinds=["enterprise"]),
)
PURPOSES = ("采购原材料", "补充流动资金", "购置生产设备", "支付员工工资和房租", "扩大门店经营", "研发投入")
REJECTIONS = ("经营流水不足，暂不符合授信条件", "存在未结清的行政处罚，建议整改后再申请", "纳税信用等级不符合产品准入要求",
              "申请金额超出核定的还款能力")


def _actor(session: Session, username: str) -> Actor | None:
    user = session.scalar(select(User).where(User.username == username))
    return access.actor_for(user) if user is not None else None


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), clock.SHANGHAI)


def _applicants(session: Session, kinds: list[str], exclude: int | None, count: int,
                rng: random.Random) -> list[tuple[int, str, str]]:
    """(id, kind, name) of organisations that may apply, picked reproducibly."""
    rows = session.execute(select(Subject.id, Subject.kind, Subject.name)
                           .where(Subject.kind.in_(kinds), Subject.uscc.is_not(None), Subject.status == "存续")
                           .order_by(Subject.id).limit(2000)).all()
    pool = [(i, k, n) for i, k, n in rows if i != exclude]
    return rng.sample(pool, min(count, len(pool)))


def activity(session: Session, *, seed: int = 20261127, applications: int = 32) -> dict[str, int]:
    """Products and applications over the last five months with their outcomes; returns counts."""
    rng = random.Random(seed)
    summary: Counter[str] = Counter()
    bank = _actor(session, "yinhang")
    if bank is None or bank.institution_id is None:
        return dict(summary)
    if session.scalar(select(LoanProduct.id).where(LoanProduct.institution_id == bank.institution_id).limit(1)):
        return dict(summary)  # already there
    today = clock.today()
    published: list[LoanProduct] = []
    with clock.pinned(_at(today - timedelta(days=160), 9)):
        for spec in PRODUCTS:
            published.append(service.publish_product(session, bank, spec))
            summary["products"] += 1
    showcase = _actor(session, "qiye")
    for subject_id, kind, name in _applicants(session, service.eligible_kinds(session),
                                              showcase.subject_id if showcase else None, applications, rng):
        fits = [p for p in published if kind in p.target_kinds]
        product = rng.choice(fits)
        applicant = Actor(user_id=None, username=name[:64], role="subject_user", subject_id=subject_id)
        ago = rng.randint(1, 150)
        applied = today - timedelta(days=ago)
        amount = round(rng.uniform(0.1, 0.9) * product.max_amount / 5) * 5 or 5.0
        term = rng.choice([t for t in (6, 12, 24, 36, 60) if t <= product.term_months])
        with clock.pinned(_at(applied, rng.randint(9, 16))):
            made = service.apply(session, applicant, ApplicationIn(product=product.number, amount=amount, term_months=term,
                                                                   purpose=rng.choice(PURPOSES)))
        summary["applications"] += 1
        waited = rng.randint(2, 12)
        if ago <= waited or (ago < 20 and rng.random() < 0.3):
            summary["pending"] += 1
            continue
        decided = applied + timedelta(days=waited)
        if summary["withdrawn"] < 2 and rng.random() < 0.08:
            with clock.pinned(_at(applied + timedelta(days=1), 11)):
                service.withdraw(session, applicant, made.number, "已通过其他渠道解决资金需求")
            summary["withdrawn"] += 1
            continue
        with clock.pinned(_at(decided, 15)):
            service.profile(session, bank, made.number)  # the credit check, under the application's grant
            summary["profiles"] += 1
            if rng.random() < 0.75:
                granted = max(5.0, round(amount * rng.choice((1, 1, 1, 0.8, 0.6)) / 5) * 5)
                rate = round(rng.uniform(product.rate_min, product.rate_max), 2)
                service.decide(session, bank, made.number, DecisionIn(
                    outcome="approved", granted_amount=min(granted, product.max_amount), rate=rate, term_months=term,
                    unsecured=product.unsecured, first_loan=rng.random() < (0.7 if "首贷" in product.name else 0.3)))
                summary["approved"] += 1
            else:
                service.decide(session, bank, made.number, DecisionIn(outcome="rejected", reason=rng.choice(REJECTIONS)))
                summary["rejected"] += 1
                continue
        paid = decided + timedelta(days=rng.randint(1, 5))
        if paid <= today:
            with clock.pinned(_at(paid, 16)):
                service.disburse(session, bank, made.number, paid)
            summary["disbursed"] += 1
    if showcase is not None and showcase.subject_id is not None:
        with clock.pinned(_at(today - timedelta(days=1))):
            service.apply(session, showcase, ApplicationIn(product=published[0].number, amount=150, term_months=24,
                                                           purpose="采购智能制造产线零部件，补充流动资金"))
        summary["applications"] += 1
        summary["pending"] += 1
    session.commit()
    return dict(summary)
