"""Demo activity for authorised operation: the commission's contract with the demo operator
(南京金陵征信服务有限公司, account ``yunying``) and a couple of releases under it, back-dated.

Runs after the demo registry, records and evaluation runs exist.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.errors import DomainError
from xinyong.operation import service
from xinyong.operation.products import PRODUCTS
from xinyong.operation.schemas import ContractIn

CONTRACT = "宁信用运营〔2026〕1号"
OPERATOR_USER = "yunying"


def _actor(session: Session, username: str) -> Actor | None:
    user = session.scalar(select(User).where(User.username == username))
    return access.actor_for(user) if user is not None else None


def activity(session: Session, *, seed: int = 20261127) -> dict[str, int]:
    """The contract and its releases; returns counts (nothing if the demo has no operator account)."""
    del seed  # deterministic without randomness
    operator, admin = _actor(session, OPERATOR_USER), _actor(session, "admin")
    institution = next((i for i in service.operators(session)), None)
    if operator is None or admin is None or institution is None or operator.institution_id != institution.id:
        return {"contracts": 0, "releases": 0}
    today = clock.today()
    signed = today - timedelta(days=45)
    if not any(c.number == CONTRACT for c in service.contracts(session)):
        with clock.pinned(datetime.combine(signed, time(10), clock.SHANGHAI)):
            service.register_contract(
                session,
                admin,
                ContractIn(
                    number=CONTRACT,
                    institution_code=institution.code,
                    products=list(PRODUCTS),
                    purpose="编制南京市营商环境与市场主体信用状况分析报告（汇总统计，不涉及具体主体）",
                    starts_on=signed,
                    ends_on=signed + timedelta(days=364),
                    k=None,
                ),
            )
    requests = [
        (30, "subjects_by_industry_region", {"region": "3201"}),
        (12, "grade_distribution", {"model": "PUBLIC_CREDIT_ORG", "region": "3201"}),
        (3, "dishonesty_by_item_month", {"region": "3201"}),
    ]
    released = 0
    for days_ago, product, params in requests:
        with clock.pinned(datetime.combine(today - timedelta(days=days_ago), time(15), clock.SHANGHAI)):
            try:
                service.release(session, operator, product, CONTRACT, params)
                released += 1
            except DomainError:
                continue  # e.g. no evaluation run in a trimmed demo
    session.commit()
    return {"contracts": 1, "releases": released}
