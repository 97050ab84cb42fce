"""The stage for credit-commitment tests (clock frozen on Monday 2026-06-15, before 端午节 2026-06-19..21).

The world (its company has a 一般 penalty and a subject account), the seeded evaluation models and
sanctions configuration, the sanctions cast (market regulation = the world's department, a
development-and-reform commission, a court), and a second, clean company with its own account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.sanctions import Cast, build_cast
from tests.support.world import World
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.commitments import service
from xinyong.commitments.models import Commitment
from xinyong.commitments.schemas import CommitmentIn
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.schemas import OrganisationIn

SYSTEM = Actor.system()
CLEAN_CODE = uscc.build("9", "1", "320102", "MA1CN001")
CLEAN_NAME = "南京守诺建设有限公司"
HOLIDAY = date(2026, 6, 19)  # 端午节, a Friday
AFTER_HOLIDAY = date(2026, 6, 22)  # the next working day, a Monday
CONTENT = "承诺所提交材料真实有效、符合法定条件，如有不实愿承担相应法律责任并接受信用惩戒。"


@dataclass
class Stage:
    session: Session
    world: World
    cast: Cast
    subject: Actor  # the world's subject account (SUBJECT_CODE)
    clean: Actor  # an account of the clean company
    clean_id: int


def build_stage(world: World, sanctioned: Session) -> Stage:
    cast = build_cast(sanctioned, world)
    clean = subjects.register_organisation(sanctioned, SYSTEM, OrganisationIn(uscc=CLEAN_CODE, name=CLEAN_NAME))
    user = sanctioned.scalar(select(User).where(User.username == world.usernames["subject_user"]))
    assert user is not None
    clean_user = access.create_user(sanctioned, SYSTEM, access.NewUser("u_clean", "Xinyong2026", "subject_user", CLEAN_NAME,
                                                                     subject_id=clean.id))
    sanctioned.commit()
    return Stage(sanctioned, world, cast, access.actor_for(user), access.actor_for(clean_user), clean.id)


def promise(stage: Stage, kind: str = "审批替代型", *, due: date | None = None, public: bool = True,
            actor: Actor | None = None, department_id: int | None = None, matter: str = "食品经营许可申请") -> Commitment:
    """A commitment made by a subject account (the world's company unless ``actor``) to market regulation."""
    return service.make(stage.session, actor or stage.subject, CommitmentIn(
        kind=kind, department_id=department_id or stage.world.department_id, matter=matter, content=CONTENT,
        public=public, materials_due_on=due))  # type: ignore[arg-type]


