"""A small registry for the data products: organisations by industry and district, an operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.operation import service
from xinyong.operation.schemas import ContractIn
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.schemas import OrganisationIn

ADMIN = Actor(user_id=None, username="admin", role="authority_admin")
OPERATOR_CODE = uscc.build("9", "1", "320100", "MA0PER01")
BANK_CODE = uscc.build("9", "1", "320100", "13488099")
# (industry, district, how many): C·320102 is large, F·320104 small (2), C·320104 small (1)
LAYOUT = [
    ("C", "320102", 7),
    ("F", "320102", 6),
    ("C", "320104", 1),
    ("F", "320104", 2),
    ("I", "320102", 5),
    ("I", "320104", 9),
]


@dataclass
class Registry:
    operator: Actor
    bank: Actor
    subject_ids: dict[tuple[str, str], list[int]]


def build_registry(session: Session) -> Registry:
    system = Actor.system()
    found: dict[tuple[str, str], list[int]] = {}
    index = 0
    for industry, district, count in LAYOUT:
        for _ in range(count):
            index += 1
            code = uscc.build("9", "1", district, f"MA4T{index:04d}")
            subject = subjects.register_organisation(
                session, system, OrganisationIn(uscc=code, name=f"南京{industry}{index:03d}有限公司", industry=industry)
            )
            found.setdefault((industry, district), []).append(subject.id)
    operator = access.create_institution(session, code=OPERATOR_CODE, name="南京信用数据运营有限公司", kind="operator")
    bank = access.create_institution(session, code=BANK_CODE, name="南京测试银行", kind="bank")
    op_user = access.create_user(
        session,
        system,
        access.NewUser("yunying", "Xinyong2026", "authorised_institution", "运营机构", institution_id=operator.id),
    )
    bank_user = access.create_user(
        session,
        system,
        access.NewUser("yinhang2", "Xinyong2026", "authorised_institution", "银行", institution_id=bank.id),
    )
    session.commit()
    return Registry(access.actor_for(op_user), access.actor_for(bank_user), found)


def contract(
    session: Session,
    number: str = "SQYY-2026-001",
    products: list[str] | None = None,
    *,
    k: int | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> str:
    today = clock.today()
    service.register_contract(
        session,
        ADMIN,
        ContractIn(
            number=number,
            institution_code=OPERATOR_CODE,
            purpose="区域营商环境分析报告",
            products=products or ["subjects_by_industry_region", "grade_distribution", "dishonesty_by_item_month"],
            starts_on=starts_on or today,
            ends_on=ends_on or date(today.year + 1, 12, 31),
            k=k,
        ),
    )
    session.commit()
    return number


@pytest.fixture
def registry(seeded: Session, frozen_clock: object) -> Registry:
    return build_registry(seeded)
