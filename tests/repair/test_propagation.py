"""A repair reaches every platform the record was sent to: the province pulling this district's
feed stops publishing its copy too, and the district sees the notice acknowledged (送达确认)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.feed.test_feed import Province, district_url, peer_token, province  # noqa: F401  (fixtures)
from tests.support.world import SUBJECT_CODE, World
from xinyong.actor import Actor
from xinyong.disclosure import service as disclosure
from xinyong.feed import service as feed
from xinyong.records.models import Record
from xinyong.repair import service
from xinyong.repair.schemas import MaterialIn, RepairIn

ADMIN = Actor(user_id=None, username="admin", role="authority_admin")
MATERIALS = [MaterialIn(kind="commitment_letter", filename="承诺书.pdf", content=b"%PDF-1.7 letter"),
             MaterialIn(kind="fulfilment_proof", filename="缴款凭证.pdf", content=b"%PDF-1.7 receipt")]


def penalties_shown(factory_session: Session) -> list[int]:
    page = disclosure.subject_page(factory_session, SUBJECT_CODE)
    return [r.id for s in page.sections for r in s.records if r.item_code == "ADM_PENALTY"]


def test_the_repair_notice_reaches_the_province_and_its_receipt_is_tracked(
        sanctioned: Session, world: World, district_url: str, province: Province) -> None:  # noqa: F811
    token = peer_token(sanctioned)
    assert feed.pull(province.factory, district_url, token).applied == 1
    with province.factory() as session:
        assert len(penalties_shown(session)) == 1  # the province publishes its copy

    owner = Actor(user_id=None, username="企业经办人", role="subject_user", subject_id=world.subject_id)
    application = service.apply(sanctioned, owner, RepairIn(record_id=world.record_id, reasons="罚款已缴清，整改完成，申请修复",
                                                            obligations_fulfilled=True), MATERIALS)
    service.accept(sanctioned, ADMIN, application.id)
    market = Actor(user_id=None, username="scjg", role="department_submitter", department_id=world.department_id)
    service.approve(sanctioned, market, application.id, "同意修复")
    sanctioned.commit()
    [delivery] = service.notice_deliveries(sanctioned, application)
    assert not delivery.acknowledged  # sent (in the feed), not yet taken in
    sanctioned.commit()  # release SQLite's write lock: the district server writes while serving the feed

    second = feed.pull(province.factory, district_url, token)
    assert (second.received, second.applied, second.failed) == (1, 1, 0)
    with province.factory() as session:
        assert penalties_shown(session) == []  # the province stopped publishing at once too
        kinds = [r.kind for r in session.scalars(select(Record).order_by(Record.id))]
        assert kinds == ["original", "repair"]
    sanctioned.expire_all()
    [delivery] = service.notice_deliveries(sanctioned, application)
    assert delivery.acknowledged and delivery.acknowledged_through >= (application.repair_record_id or 0)
    sanctioned.commit()
    assert feed.pull(province.factory, district_url, token).received == 0  # nothing applied twice
