"""The stage for 信易贷 tests (clock frozen on Monday 2026-06-15).

The world (its company has a 一般 penalty and a subject account; its bank has an institution account),
the seeded evaluation models and sanctions configuration (the grade scope needs the public model), a
second company and a natural person with accounts, a second bank with its account, and two products
of the world's bank: an unsecured one up to 300万元 / 36 months, and a secured one up to 1000万元.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support.world import World
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.config import get_settings
from xinyong.loans import service
from xinyong.loans.schemas import ProductIn
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.schemas import OrganisationIn

SYSTEM = Actor.system()
PASSWORD = "Xinyong2026"
OTHER_CODE = uscc.build("9", "1", "320102", "MA1LN002")
OTHER_NAME = "南京小微制造有限公司"
OTHER_BANK_CODE = uscc.build("9", "1", "320100", "13488023")
OTHER_BANK_NAME = "南京另一银行股份有限公司"
PERSON_ID = "11010519491231002X"
SCOPE = ["registration", "item:TAX_CREDIT", "item:SOCIAL_INSURANCE", "item:ADM_PENALTY", "lists",
         "grade:PUBLIC_CREDIT_ORG"]


@dataclass
class Stage:
    session: Session
    world: World
    subject: Actor  # the world's company account
    other: Actor  # the second company's account
    other_id: int
    person: Actor  # a natural person's account
    bank: Actor  # the world's bank
    other_bank: Actor
    unsecured: str  # product number: 300万元, 36 months, 3.5–6%, enterprises and individual businesses
    secured: str  # product number: 1000万元, 60 months, 3–5%, enterprises only


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def build_stage(world: World, session: Session) -> Stage:
    other = subjects.register_organisation(session, SYSTEM, OrganisationIn(uscc=OTHER_CODE, name=OTHER_NAME))
    other_user = access.create_user(session, SYSTEM, access.NewUser("u_small", PASSWORD, "subject_user", OTHER_NAME,
                                                                     subject_id=other.id))
    person = subjects.register_person(session, SYSTEM, PERSON_ID, "王小明", get_settings().person_id_secret)
    person_user = access.create_user(session, SYSTEM, access.NewUser("u_person", PASSWORD, "subject_user", "王小明",
                                                                      subject_id=person.id))
    bank2 = access.create_institution(session, code=OTHER_BANK_CODE, name=OTHER_BANK_NAME, kind="bank")
    bank2_user = access.create_user(session, SYSTEM, access.NewUser("u_bank2", PASSWORD, "authorised_institution",
                                                                     OTHER_BANK_NAME, institution_id=bank2.id))
    bank = access.actor_for(_user(session, world.usernames["authorised_institution"]))
    unsecured = service.publish_product(session, bank, ProductIn(
        name="小微信用贷", max_amount=300, term_months=36, rate_min=3.5, rate_max=6, unsecured=True,
        target_kinds=["enterprise", "individual_business"]))
    secured = service.publish_product(session, bank, ProductIn(
        name="科技担保贷", max_amount=1000, term_months=60, rate_min=3, rate_max=5, unsecured=False,
        target_kinds=["enterprise"]))
    stage = Stage(session, world, access.actor_for(_user(session, world.usernames["subject_user"])),
                  access.actor_for(other_user), other.id, access.actor_for(person_user), bank,
                  access.actor_for(bank2_user), unsecured.number, secured.number)
    session.commit()  # SQLite takes its write lock on BEGIN: leave no transaction open for the app
    return stage


def application(product: str, amount: float = 100, term: int = 12, **overrides: Any) -> dict[str, Any]:
    return {"product": product, "amount": amount, "term_months": term, "purpose": "采购原材料、补充流动资金", **overrides}


def approval(amount: float = 100, rate: float = 4.2, term: int = 12, *, unsecured: bool = True,
             first_loan: bool = True) -> dict[str, Any]:
    return {"outcome": "approved", "granted_amount": amount, "rate": rate, "term_months": term, "unsecured": unsecured,
            "first_loan": first_loan}


def count(session: Session, model: type[Any]) -> int:
    """Rows now, in a transaction of its own (sees what the app committed, leaves no lock behind)."""
    found = session.scalar(select(func.count()).select_from(model)) or 0
    session.commit()
    return found
