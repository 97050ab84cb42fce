"""A platform partner and the departments that put subjects on lists (by records, as they really do)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from tests.support.sanctions import Cast, build_cast
from tests.support.world import World
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.partners import service
from xinyong.partners.schemas import PartnerIn
from xinyong.subjects import uscc

ADMIN = Actor(user_id=None, username="admin", role="authority_admin")
PLATFORM_CODE = uscc.build("9", "1", "320100", "MA0PLT01")
OTHER_PLATFORM_CODE = uscc.build("9", "1", "320100", "MA0PLT02")
AGREED = ["SAMR_SERIOUS_VIOLATION", "DISHONEST_JUDGMENT_DEBTOR"]


@dataclass
class Setting:
    world: World
    cast: Cast
    platform: Actor
    other_platform: Actor  # a platform without an agreement


def _platform(session: Session, code: str, name: str, username: str) -> Actor:
    institution = access.create_institution(session, code=code, name=name, kind="platform")
    user = access.create_user(
        session,
        Actor.system(),
        access.NewUser(username, "Xinyong2026", "authorised_institution", name, institution_id=institution.id),
    )
    return access.actor_for(user)


def register(
    session: Session,
    number: str = "HZXY-2026-001",
    list_types: list[str] | None = None,
    *,
    starts_on: date | None = None,
    ends_on: date | None = None,
    code: str = PLATFORM_CODE,
) -> str:
    service.register(
        session,
        ADMIN,
        PartnerIn(
            number=number,
            institution_code=code,
            list_types=list_types or AGREED,
            starts_on=starts_on or clock.today(),
            ends_on=ends_on or clock.today() + timedelta(days=365),
        ),
    )
    session.commit()
    return number


@pytest.fixture
def setting(sanctioned: Session, world: World, frozen_clock: object) -> Setting:
    cast = build_cast(sanctioned, world)
    platform = _platform(sanctioned, PLATFORM_CODE, "南京优选电商平台有限公司", "pingtai")
    other = _platform(sanctioned, OTHER_PLATFORM_CODE, "南京另一网络平台有限公司", "pingtai2")
    sanctioned.commit()
    return Setting(world, cast, platform, other)
