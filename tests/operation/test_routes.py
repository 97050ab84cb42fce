"""The operator's API with its bearer token, the authority's page, the operator's portal page."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.operation.conftest import OPERATOR_CODE, build_registry, contract
from tests.support.world import PASSWORD, World
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.audit.models import AuditEntry
from xinyong.config import Settings

PRODUCT = "subjects_by_industry_region"


def _token(session: Session, username: str, scopes: list[str]) -> str:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    _token_row, raw = access.issue_token(session, Actor.system(), user, "测试令牌", scopes, None)
    session.commit()
    return raw


def _client(client_for: Callable[[str], TestClient], token: str) -> TestClient:
    client = client_for("public")
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_the_operator_api(
    seeded: Session, world: World, client_for: Callable[[str], TestClient], frozen_clock: object
) -> None:
    build_registry(seeded)
    number = contract(seeded, products=[PRODUCT])
    api = _client(client_for, _token(seeded, "yunying", ["operation:products"]))
    offers = api.get("/api/v1/operation/products")
    assert offers.status_code == 200 and [o["code"] for o in offers.json()] == [PRODUCT]

    answer = api.get(f"/api/v1/operation/products/{PRODUCT}", params={"contract": number, "region": "3201"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    cells = {(c["row"], c["column"]): c for c in body["cells"]}
    assert cells[("C", "320104")] == {"row": "C", "column": "320104", "count": None, "flag": "<5"}
    assert cells[("I", "320104")]["count"] == 9 and body["total"] == 31 and body["k"] == 5  # world's subject too
    assert all(c["count"] is None or c["count"] >= 5 for c in body["cells"])

    cases = [
        ({"contract": number, "subject_code": OPERATOR_CODE}, 403, "OPERATION_PARAMETER_IDENTIFYING"),
        ({}, 422, "OPERATION_CONTRACT_REQUIRED"),
        ({"contract": "SQYY-NONE"}, 404, "OPERATION_CONTRACT_UNKNOWN"),
        ({"contract": number, "region": "abc"}, 422, "OPERATION_PARAMETER_INVALID"),
    ]
    for params, status, code in cases:
        refused = api.get(f"/api/v1/operation/products/{PRODUCT}", params=params)
        assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), params
    not_in_contract = api.get(
        "/api/v1/operation/products/grade_distribution", params={"contract": number, "model": "PUBLIC_CREDIT_ORG"}
    )
    assert not_in_contract.json()["error"]["code"] == "OPERATION_PRODUCT_NOT_IN_CONTRACT"

    seeded.expire_all()
    audited = [(e.action, e.detail.get("code")) for e in seeded.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert ("access.denied", "OPERATION_PARAMETER_IDENTIFYING") in audited
    assert ("operation.refused", "OPERATION_CONTRACT_REQUIRED") in audited
    assert ("operation.refused", "OPERATION_CONTRACT_UNKNOWN") in audited
    assert ("access.denied", "OPERATION_PRODUCT_NOT_IN_CONTRACT") in audited
    assert sum(1 for action, _ in audited if action == "operation.release") == 1


def test_other_institutions_and_tokens_without_the_scope_are_refused(
    seeded: Session, world: World, client_for: Callable[[str], TestClient], frozen_clock: object
) -> None:
    build_registry(seeded)
    number = contract(seeded)
    bank = _client(client_for, _token(seeded, "yinhang2", ["operation:products"]))
    refused = bank.get(f"/api/v1/operation/products/{PRODUCT}", params={"contract": number})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "OPERATION_NOT_OPERATOR")
    narrow = _client(client_for, _token(seeded, "yunying", ["institution:portal"]))
    refused = narrow.get(f"/api/v1/operation/products/{PRODUCT}", params={"contract": number})
    assert refused.json()["error"]["code"] == "TOKEN_SCOPE_MISSING"
    anonymous = client_for("public").get("/api/v1/operation/products")
    assert anonymous.status_code == 401


def test_the_authority_page_registers_terminates_and_logs(
    seeded: Session, world: World, client_for: Callable[[str], TestClient], frozen_clock: object
) -> None:
    registry = build_registry(seeded)
    admin = client_for("authority_admin")
    form = {
        "number": "SQYY-WEB-1",
        "institution_code": OPERATOR_CODE,
        "products": [PRODUCT, "grade_distribution"],
        "purpose": "营商环境监测",
        "starts_on": "2026-06-15",
        "ends_on": "2027-06-14",
        "k": "",
    }
    done = admin.post("/operation/contracts", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    bad = admin.post("/operation/contracts", data={**form, "number": "SQYY-WEB-2", "k": "2"})
    assert bad.status_code == 422 and "OPERATION_K_TOO_LOW" in bad.text
    duplicate = admin.post("/operation/contracts", data=form)
    assert duplicate.status_code == 409 and "OPERATION_CONTRACT_EXISTS" in duplicate.text
    from xinyong.operation import service

    service.release(seeded, registry.operator, PRODUCT, "SQYY-WEB-1", {"region": "320102"})
    seeded.commit()
    page = admin.get("/operation")
    assert page.status_code == 200 and "SQYY-WEB-1" in page.text and "region=320102" in page.text
    ended = admin.post("/operation/contracts/SQYY-WEB-1/terminate", data={"reason": "协议解除"}, follow_redirects=False)
    assert ended.status_code == 303
    assert "已终止" in admin.get("/operation").text
    assert client_for("authorised_institution").get("/operation", follow_redirects=False).status_code == 403


def test_the_operator_portal_page(
    seeded: Session, world: World, settings: Settings, client_for: Callable[[str], TestClient], frozen_clock: object
) -> None:
    build_registry(seeded)
    number = contract(seeded)
    client = client_for("public")
    assert (
        client.post("/login", data={"username": "yunying", "password": PASSWORD}, follow_redirects=False).status_code
        == 303
    )
    portal = client.get("/institution/operation")
    assert portal.status_code == 200 and number in portal.text and "市场主体行业地区分布" in portal.text
    table = client.get(f"/institution/operation/products/{PRODUCT}", params={"contract": number, "region": "3201"})
    assert table.status_code == 200 and "&lt;5" in table.text
    assert "/institution/operation" in client.get("/institution").text
