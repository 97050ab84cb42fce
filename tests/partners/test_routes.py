"""The platform's feed API with its bearer token, and the authority's page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.partners.conftest import PLATFORM_CODE, Setting, register
from tests.support.sanctions import company, serious
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.audit.models import AuditEntry


def _api(session: Session, client_for: Callable[[str], TestClient], username: str, scopes: list[str]) -> TestClient:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    _row, raw = access.issue_token(session, Actor.system(), user, "平台令牌", scopes, None)
    session.commit()
    client = client_for("public")
    client.headers["Authorization"] = f"Bearer {raw}"
    return client


def test_the_platform_pulls_acknowledges_and_reconciles(
    sanctioned: Session, setting: Setting, client_for: Callable[[str], TestClient]
) -> None:
    register(sanctioned)
    serious(sanctioned, setting.cast, company(1), on=date(2025, 3, 3))
    sanctioned.commit()
    api = _api(sanctioned, client_for, "pingtai", ["partners:feed"])
    page = api.get("/api/v1/partners/lists", params={"cursor": 0})
    assert page.status_code == 200, page.text
    [item] = page.json()["items"]
    assert item["subject_code"] == company(1) and item["ends_on"] == "2028-03-02" and item["event"] == "entered"
    cursor = page.json()["next_cursor"]
    beyond = api.post("/api/v1/partners/acknowledge", json={"cursor": cursor + 10})
    assert (beyond.status_code, beyond.json()["error"]["code"]) == (422, "PARTNER_ACK_BEYOND_DELIVERED")
    ack = api.post("/api/v1/partners/acknowledge", json={"cursor": cursor})
    assert ack.status_code == 200 and ack.json() == {"acknowledged_through": cursor, "delivered_through": cursor}
    current = api.get("/api/v1/partners/lists/current")
    assert current.status_code == 200 and [e["subject_code"] for e in current.json()["entries"]] == [company(1)]
    outside = api.get("/api/v1/partners/lists", params={"list_type": "MAJOR_TAX_VIOLATION"})
    assert (outside.status_code, outside.json()["error"]["code"]) == (403, "PARTNER_LIST_TYPE_NOT_AGREED")

    other = _api(sanctioned, client_for, "pingtai2", ["partners:feed"])
    refused = other.get("/api/v1/partners/lists")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "PARTNER_NOT_REGISTERED")
    sanctioned.expire_all()
    audited = [(e.action, e.detail.get("code")) for e in sanctioned.scalars(select(AuditEntry))]
    assert ("access.denied", "PARTNER_NOT_REGISTERED") in audited
    assert ("partners.refused", "PARTNER_ACK_BEYOND_DELIVERED") in audited
    sanctioned.commit()  # release SQLite's write lock before the next requests

    admin = client_for("authority_admin")
    overview = admin.get("/api/v1/partners").json()
    assert overview[0]["acknowledged_through"] == cursor and overview[0]["institution_code"] == PLATFORM_CODE
    page_html = admin.get("/partners")
    assert page_html.status_code == 200 and "HZXY-2026-001" in page_html.text


def test_the_authority_registers_and_terminates_on_its_page(
    sanctioned: Session, setting: Setting, client_for: Callable[[str], TestClient]
) -> None:
    admin = client_for("authority_admin")
    form = {
        "number": "HZXY-WEB-1",
        "institution_code": PLATFORM_CODE,
        "list_types": ["SAMR_SERIOUS_VIOLATION"],
        "starts_on": "2026-06-15",
        "ends_on": "2027-06-14",
    }
    assert admin.post("/partners", data=form, follow_redirects=False).status_code == 303
    bad = admin.post("/partners", data={**form, "number": "HZXY-WEB-2", "list_types": ["RED_HONOUR"]})
    assert bad.status_code == 422 and "PARTNER_LIST_TYPE_NOT_ALLOWED" in bad.text
    assert (
        admin.post("/partners/HZXY-WEB-1/terminate", data={"reason": "协议解除"}, follow_redirects=False).status_code
        == 303
    )
    api = _api(sanctioned, client_for, "pingtai", ["partners:feed"])
    ended = api.get("/api/v1/partners/lists")
    assert ended.json()["error"]["code"] == "PARTNER_AGREEMENT_ENDED"
    client = client_for("public")
    client.post("/login", data={"username": "pingtai", "password": "Xinyong2026"})
    assert client.get("/institution/partner").status_code == 403  # agreement ended
