"""Demo activity for platform data partners: an internet platform (南京优选电子商务平台有限公司,
account ``pingtai``, created here: the demo jurisdiction has no platform otherwise) registered for
the 严重失信主体名单, one pull of the whole feed and its acknowledgement.

Runs after the demo records (and so the lists that follow them) exist.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.partners import service
from xinyong.partners.schemas import PartnerIn
from xinyong.sanctions import service as sanctions
from xinyong.subjects import uscc

PLATFORM_NAME = "南京优选电子商务平台有限公司"
PLATFORM_CODE = uscc.build("9", "1", "320100", "MA27PT0K")
PLATFORM_USER = "pingtai"
PASSWORD = "Xinyong2026"
AGREEMENT = "宁信用合作〔2026〕1号"
SERIOUS = "严重失信主体名单"


def activity(session: Session, *, seed: int = 20261127) -> dict[str, int]:
    """The partner, its agreement, one full pull and its acknowledgement; returns counts."""
    del seed
    admin_user = session.scalar(select(User).where(User.username == "admin"))
    if admin_user is None:
        return {"partners": 0, "delivered": 0}
    admin = access.actor_for(admin_user)
    institution = access.create_institution(session, code=PLATFORM_CODE, name=PLATFORM_NAME, kind="platform")
    user = session.scalar(select(User).where(User.username == PLATFORM_USER))
    if user is None:
        user = access.create_user(
            session,
            Actor.system("演示数据初始化"),
            access.NewUser(
                PLATFORM_USER, PASSWORD, "authorised_institution", "优选电商平台风控部", institution_id=institution.id
            ),
        )
    platform = access.actor_for(user)
    if not any(p.number == AGREEMENT for p in service.partners(session)):
        types = [t.code for t in sanctions.list_types(session) if t.category == SERIOUS and t.nature == "失信"]
        today = clock.today()
        service.register(
            session,
            admin,
            PartnerIn(
                number=AGREEMENT,
                institution_code=PLATFORM_CODE,
                list_types=types,
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=335),
            ),
        )
    cursor, delivered = 0, 0
    while True:
        page = service.pull(session, platform, cursor, limit=1000)
        delivered += len(page.items)
        cursor = page.next_cursor
        if not page.has_more:
            break
    service.acknowledge(session, platform, cursor)
    session.commit()
    return {"partners": 1, "delivered": delivered, "acknowledged_through": cursor}
