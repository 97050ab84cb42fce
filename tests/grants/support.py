"""The stage for grant tests (clock frozen on Monday 2026-06-15).

The world (its company has a 一般 penalty and a subject account; its bank has an institution account),
the seeded evaluation models and sanctions configuration, a second company with its own account, a
second domestic bank and a foreign bank, each with an institution account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.world import BANK_CODE, World
from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.grants import service
from xinyong.grants.models import Grant
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.schemas import OrganisationIn

SYSTEM = Actor.system()
ADMIN = Actor(user_id=None, username="admin", role="authority_admin")
OTHER_CODE = uscc.build("9", "1", "320102", "MA1XQ002")
OTHER_NAME = "南京另一家科技有限公司"
OTHER_BANK_CODE = uscc.build("9", "1", "320100", "13488015")
FOREIGN_BANK_CODE = uscc.build("9", "1", "320100", "71788023")
PROFILE_SCOPE = ["registration", "item:ADM_PENALTY", "lists", "grade:PUBLIC_CREDIT_ORG"]


@dataclass
class Stage:
    session: Session
    world: World
    subject: Actor  # the world's company account
    other: Actor  # the second company's account
    other_id: int
    bank: Actor  # the world's bank
    other_bank: Actor
    foreign_bank: Actor


def _institution_actor(session: Session, code: str, name: str, username: str, *, foreign: bool = False) -> Actor:
    institution = access.create_institution(session, code=code, name=name, kind="bank", foreign=foreign)
    user = access.create_user(session, SYSTEM, access.NewUser(username, "Xinyong2026", "authorised_institution", name,
                                                               institution_id=institution.id))
    return access.actor_for(user)


def build_stage(world: World, session: Session) -> Stage:
    other = subjects.register_organisation(session, SYSTEM, OrganisationIn(uscc=OTHER_CODE, name=OTHER_NAME))
    subject_user = session.scalar(select(User).where(User.username == world.usernames["subject_user"]))
    bank_user = session.scalar(select(User).where(User.username == world.usernames["authorised_institution"]))
    assert subject_user is not None and bank_user is not None
    other_user = access.create_user(session, SYSTEM, access.NewUser("u_other", "Xinyong2026", "subject_user", OTHER_NAME,
                                                                    subject_id=other.id))
    stage = Stage(session, world, access.actor_for(subject_user), access.actor_for(other_user), other.id,
                  access.actor_for(bank_user),
                  _institution_actor(session, OTHER_BANK_CODE, "南京另一银行股份有限公司", "u_bank2"),
                  _institution_actor(session, FOREIGN_BANK_CODE, "环球银行南京分行", "u_foreign", foreign=True))
    session.commit()
    return stage


def grant(stage: Stage, scope: list[str] | None = None, *, institution: str = BANK_CODE, days: int = 90,
          starts_on: date | None = None, actor: Actor | None = None) -> Grant:
    starts = starts_on or clock.today()
    made = service.create_grant(stage.session, actor or stage.subject, institution_code=institution,
                                scope=scope or PROFILE_SCOPE, purpose="流动资金贷款授信审查",
                                ends_on=starts + timedelta(days=days), starts_on=starts_on)
    stage.session.commit()
    return made
