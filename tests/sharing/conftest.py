"""The sharing cast: the world (market regulation's penalty on the world's company, an applying
department, one account per role) plus a tax department that provides the company's 纳税信用等级
(有条件共享, 授权查询) and its social-insurance record under a catalogue version made 不予共享.

The clock is frozen on 2026-06-15 10:00 (``frozen_clock`` comes before ``world``), so records are
received that day and share terms can be crossed by freezing the clock again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from tests.support.world import PASSWORD, SUBJECT_CODE, World
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.catalogue import service as catalogue
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import uscc

TAX_CODE = uscc.build("1", "1", "320100", "01400009")
TAX_USER = "u_tax"


@dataclass
class Stage:
    session: Session
    world: World
    authority: Actor
    applier: Actor  # 公共资源交易中心 (applying department)
    provider: Actor  # 玄武区市场监管局 (the world's penalty)
    tax: Actor  # 税务局: provides TAX_CREDIT and the 不予共享 SOCIAL_INSURANCE record
    penalty_id: int
    tax_credit_id: int
    never_id: int


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=clock.SHANGHAI)


def _actor(session: Session, username: str) -> Actor:
    return access.actor_for(next(u for u in access.users(session) if u.username == username))


@pytest.fixture
def stage(frozen_clock: datetime, world: World, seeded: Session) -> Stage:
    session = seeded
    department = access.create_department(session, code=TAX_CODE, name="国家税务总局南京市税务局", short_name="市税务局",
                                          region_code="320100", sector="税务")
    user = access.create_user(session, Actor.system(), access.NewUser(TAX_USER, PASSWORD, "department_submitter",
                                                                      "市税务局", department_id=department.id))
    tax = access.actor_for(user)
    ref = SubjectRef(uscc=SUBJECT_CODE, name="南京示范科技有限公司")
    credit = records.submit(session, tax, "TAX_CREDIT", ref, {"PJND": 2025, "NSXYDJ": "A", "PDRQ": "2026-04-20"},
                            department_id=department.id, department_code=department.code)
    spec = catalogue.spec_of(catalogue.get_item(session, "SOCIAL_INSURANCE"))
    catalogue.revise_item(session, Actor.system(), "SOCIAL_INSURANCE", spec.model_copy(update={"sharing_class": "不予共享"}),
                          "测试：不予共享")
    never = records.submit(session, tax, "SOCIAL_INSURANCE", ref, {"TJYF": "2026-05", "CBRS": 12, "TJRQ": "2026-05-31"},
                           department_id=department.id, department_code=department.code)
    cast = Stage(session, world, _actor(session, "u_authority_admin"), _actor(session, "u_applying_department"),
                 _actor(session, "scjg"), tax, world.record_id, credit.record.id, never.record.id)
    session.commit()  # and hold no transaction: on SQLite it would keep the web requests waiting
    return cast
