"""信易贷 through the web layer: a small firm applies (and so authorises the bank), the bank reads the
agreed credit profile through that grant and decides, the authority's statistics count it — and every
refusal the issue lists, with nothing changed and the attempt audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.loans.support import SCOPE, Stage, application, approval, count
from tests.support.world import BANK_CODE, SUBJECT_CODE
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.audit import service as audit
from xinyong.grants import service as grants
from xinyong.grants.models import Grant
from xinyong.loans.models import LoanApplication
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef

Clients = Callable[[str], TestClient]


def login(client_for: Clients, username: str) -> TestClient:
    client = client_for("public")
    response = client.post("/login", data={"username": username, "password": "Xinyong2026"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def refused(session: Any, action: str = "loan.refused") -> list[str]:
    codes = [str(e.detail.get("code")) for e in audit.recent(session, action=action, limit=200)]
    session.commit()
    return codes


def error(response: Any) -> str:
    return str(response.json()["error"]["code"])


def tax_credit(stage: Stage) -> None:
    """A 纳税信用 A rating for the world's company (reported by the world's department)."""
    submitter = stage.session.scalar(select(User).where(User.username == "scjg"))
    assert submitter is not None
    department = access.get_department(stage.session, stage.world.department_id)
    records.submit(stage.session, access.actor_for(submitter), "TAX_CREDIT",
                   SubjectRef(uscc=SUBJECT_CODE, name="南京示范科技有限公司"),
                   {"PJND": 2025, "NSXYDJ": "A", "PDRQ": "2026-04-20"}, department_id=department.id,
                   department_code=department.code)
    stage.session.commit()


# --- the whole flow ----------------------------------------------------------------------------------------------

def test_apply_authorise_profile_decide_disburse_and_count(stage: Stage, client_for: Clients) -> None:
    tax_credit(stage)
    firm, bank, admin = client_for("subject_user"), client_for("authorised_institution"), client_for("authority_admin")

    applied = firm.post("/api/v1/me/loans", json=application(stage.unsecured, 120, 24))
    assert applied.status_code == 201, applied.text
    body = applied.json()
    number, grant_number = body["number"], body["grant_number"]
    assert number == "XYD2026000001" and body["status"] == "submitted" and body["bank_code"] == BANK_CODE

    grant = grants.get_grant(stage.session, grant_number)  # the subject authorised exactly the agreed profile
    assert grant is not None and grant.subject_id == stage.world.subject_id and grant.revoked_at is None
    assert sorted(grant.scope) == sorted(SCOPE) and (grant.ends_on - grant.starts_on).days == 90
    assert number in grant.purpose
    stage.session.commit()

    listed = bank.get("/api/v1/loans/applications").json()
    assert listed["total"] == 1 and listed["items"][0]["number"] == number
    assert number in bank.get("/institution/loans").text

    pulled = bank.get(f"/api/v1/loans/applications/{number}/profile")
    assert pulled.status_code == 200, pulled.text
    profile = pulled.json()["profile"]
    assert set(profile) == {"registration", "items", "lists", "grades"}
    assert set(profile["items"]) == {"TAX_CREDIT", "SOCIAL_INSURANCE", "ADM_PENALTY"}
    assert len(profile["items"]["ADM_PENALTY"]) == 1 and len(profile["items"]["TAX_CREDIT"]) == 1
    assert profile["items"]["SOCIAL_INSURANCE"] == [] and set(profile["grades"]) == {"PUBLIC_CREDIT_ORG"}
    assert profile["registration"]["code"] == SUBJECT_CODE
    page = bank.get(f"/institution/loans/{number}/profile")
    assert page.status_code == 200 and "宁玄市监处罚〔2026〕1号" in page.text

    decided = bank.post(f"/api/v1/loans/applications/{number}/decision", json=approval(100, 4.35, 24, first_loan=True))
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved" and decided.json()["granted_amount"] == 100
    paid = bank.post(f"/api/v1/loans/applications/{number}/disbursement", json={"disbursed_on": "2026-06-15"})
    assert paid.status_code == 200 and paid.json()["status_label"] == "已放款"

    mine = firm.get("/api/v1/me/loans").json()
    assert [(a["number"], a["status"], a["first_loan"]) for a in mine] == [(number, "approved", True)]
    assert "已放款" in firm.get("/me/loans").text

    stats = admin.get("/api/v1/loans/statistics").json()
    total = stats["total"]
    assert (total["applications"], total["approved"], total["decided"], total["first_loans"]) == (1, 1, 1, 1)
    assert total["amount_granted"] == 100 and total["amount_applied"] == 120 and total["approval_rate"] == 1
    assert total["unsecured_share"] == 1 and total["disbursed"] == 1
    assert [(b["key"], b["approved"]) for b in stats["by_bank"]] == [(BANK_CODE, 1)]
    assert [(m["key"], m["applications"]) for m in stats["by_month"]] == [("2026-06", 1)]
    dashboard = admin.get("/loans/dashboard")
    assert dashboard.status_code == 200 and "南京示范银行股份有限公司" in dashboard.text and "echarts" in dashboard.text
    export = admin.get("/loans/dashboard.xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"


def test_the_firm_applies_and_withdraws_by_the_forms_and_the_bank_decides_by_its_form(stage: Stage,
                                                                                       client_for: Clients) -> None:
    firm, bank = client_for("subject_user"), client_for("authorised_institution")
    page = firm.get(f"/me/loans?product={stage.unsecured}")
    assert page.status_code == 200 and "小微信用贷" in page.text and "item:TAX_CREDIT" in page.text
    form = {"product": stage.unsecured, "amount": "50", "term_months": "12", "purpose": "购买设备"}
    made = firm.post("/me/loans", data=form, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].startswith("/me/loans?applied=XYD2026000001")
    assert "已提交融资申请 XYD2026000001" in firm.get(made.headers["location"]).text

    too_much = firm.post("/me/loans", data={**form, "product": stage.secured, "amount": "5000"})
    assert too_much.status_code == 422 and "LOAN_AMOUNT_TOO_HIGH" in too_much.text and "超过产品最高额度" in too_much.text
    assert "LOAN_AMOUNT_TOO_HIGH" in refused(stage.session)

    detail = bank.get("/institution/loans/XYD2026000001")
    assert detail.status_code == 200 and "登记审批结果" in detail.text
    incomplete = bank.post("/institution/loans/XYD2026000001/decision", data={"outcome": "approved", "granted_amount": "40"})
    assert incomplete.status_code == 422 and "LOAN_DECISION_INCOMPLETE" in incomplete.text
    rejected = bank.post("/institution/loans/XYD2026000001/decision",
                         data={"outcome": "rejected", "reason": "经营流水不足"}, follow_redirects=False)
    assert rejected.status_code == 303
    assert "经营流水不足" in bank.get(rejected.headers["location"]).text
    assert "经营流水不足" in firm.get("/me/loans").text

    second = firm.post("/me/loans", data=form, follow_redirects=False)  # rejected: not open, may apply again
    assert second.status_code == 303
    withdrawn = firm.post("/me/loans/XYD2026000002/withdraw", data={"reason": ""}, follow_redirects=False)
    assert withdrawn.status_code == 303 and "withdrawn=XYD2026000002" in withdrawn.headers["location"]


def test_products_are_public_and_a_bank_publishes_and_withdraws_its_own(stage: Stage, client_for: Clients) -> None:
    public = client_for("public")
    listed = public.get("/api/v1/loans/products").json()
    assert {p["number"] for p in listed} == {stage.unsecured, stage.secured}
    assert "小微信用贷" in public.get("/loans/products").text

    bank, other = client_for("authorised_institution"), login(client_for, "u_bank2")
    product = {"name": "首贷快贷", "max_amount": 100, "term_months": 12, "rate_min": 3.8, "rate_max": 5.5,
               "unsecured": True, "target_kinds": ["individual_business"]}
    made = other.post("/api/v1/loans/products", json=product)
    assert made.status_code == 201 and made.json()["bank"] == "南京另一银行股份有限公司"
    assert other.post("/api/v1/loans/products", json=product).json()["error"]["code"] == "LOAN_PRODUCT_DUPLICATE"
    assert error(other.post("/api/v1/loans/products", json={**product, "name": "反了", "rate_min": 6})) == "LOAN_RATE_RANGE"
    assert error(bank.post(f"/api/v1/loans/products/{made.json()['number']}/withdraw")) == "LOAN_NOT_YOURS"
    form = {"name": "网页发布的产品", "max_amount": "80", "term_months": "12", "rate_min": "4", "rate_max": "6",
            "unsecured": "on", "target_kinds": ["enterprise"]}
    assert bank.post("/institution/loans/products", data=form, follow_redirects=False).status_code == 303
    gone = bank.post(f"/institution/loans/products/{stage.secured}/withdraw", follow_redirects=False)
    assert gone.status_code == 303
    numbers = {p["name"] for p in public.get("/api/v1/loans/products").json()}
    assert numbers == {"小微信用贷", "首贷快贷", "网页发布的产品"}


# --- refusals ------------------------------------------------------------------------------------------------------

def test_only_the_bank_the_application_went_to_reads_the_profile_and_decides(stage: Stage, client_for: Clients) -> None:
    number = client_for("subject_user").post("/api/v1/me/loans", json=application(stage.unsecured)).json()["number"]
    other = login(client_for, "u_bank2")
    assert other.get("/api/v1/loans/applications").json()["total"] == 0
    for response in (other.get(f"/api/v1/loans/applications/{number}/profile"),
                     other.post(f"/api/v1/loans/applications/{number}/decision", json=approval()),
                     other.get(f"/api/v1/loans/applications/{number}")):
        assert response.status_code == 403 and error(response) == "LOAN_NOT_YOURS"
    assert other.get(f"/institution/loans/{number}/profile").status_code == 403
    assert stage.session.scalar(select(LoanApplication.status)) == "submitted"
    stage.session.commit()
    assert client_for("authorised_institution").get(f"/api/v1/loans/applications/{number}").status_code == 200


def test_a_decision_is_recorded_once(stage: Stage, client_for: Clients) -> None:
    number = client_for("subject_user").post("/api/v1/me/loans", json=application(stage.unsecured)).json()["number"]
    bank = client_for("authorised_institution")
    assert bank.post(f"/api/v1/loans/applications/{number}/decision", json=approval()).status_code == 200
    again = bank.post(f"/api/v1/loans/applications/{number}/decision", json={"outcome": "rejected", "reason": "重新考虑"})
    assert again.status_code == 409 and error(again) == "LOAN_DECIDED"
    assert error(client_for("subject_user").post(f"/api/v1/me/loans/{number}/withdraw", json={})) == "LOAN_DECIDED"
    row = stage.session.scalar(select(LoanApplication))
    assert row is not None and row.status == "approved" and row.reject_reason == ""
    stage.session.commit()
    assert "LOAN_DECIDED" in refused(stage.session)


def test_decisions_outside_the_product_and_incomplete_ones_are_refused(stage: Stage, client_for: Clients) -> None:
    number = client_for("subject_user").post("/api/v1/me/loans", json=application(stage.unsecured)).json()["number"]
    bank = client_for("authorised_institution")
    url = f"/api/v1/loans/applications/{number}/decision"
    assert error(bank.post(url, json=approval(amount=301))) == "LOAN_AMOUNT_TOO_HIGH"
    assert error(bank.post(url, json=approval(rate=7))) == "LOAN_RATE_OUT_OF_RANGE"
    assert error(bank.post(url, json=approval(term=48))) == "LOAN_TERM_TOO_LONG"
    assert error(bank.post(url, json={**approval(), "first_loan": None})) == "LOAN_DECISION_INCOMPLETE"
    assert error(bank.post(url, json={"outcome": "rejected"})) == "LOAN_REASON_REQUIRED"
    paid = bank.post(f"/api/v1/loans/applications/{number}/disbursement", json={"disbursed_on": "2026-06-15"})
    assert error(paid) == "LOAN_NOT_APPROVED"
    assert bank.post(url, json=approval()).status_code == 200
    assert error(bank.post(f"/api/v1/loans/applications/{number}/disbursement",
                           json={"disbursed_on": "2026-06-16"})) == "LOAN_DATE_FUTURE"
    assert error(bank.post(f"/api/v1/loans/applications/{number}/disbursement",
                           json={"disbursed_on": "2026-06-01"})) == "LOAN_DATE_BEFORE_DECISION"


def test_withdrawing_revokes_the_grant_and_stops_the_bank(stage: Stage, client_for: Clients) -> None:
    firm, bank = client_for("subject_user"), client_for("authorised_institution")
    body = firm.post("/api/v1/me/loans", json=application(stage.unsecured)).json()
    number = body["number"]
    withdrawn = firm.post(f"/api/v1/me/loans/{number}/withdraw", json={"reason": "已从其他渠道融资"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    grant = grants.get_grant(stage.session, body["grant_number"])
    assert grant is not None and grant.revoked_at is not None
    stage.session.commit()

    profile = bank.get(f"/api/v1/loans/applications/{number}/profile")
    assert profile.status_code == 403 and error(profile) == "GRANT_REVOKED"
    decision = bank.post(f"/api/v1/loans/applications/{number}/decision", json=approval())
    assert decision.status_code == 409 and error(decision) == "LOAN_WITHDRAWN"
    assert error(firm.post(f"/api/v1/me/loans/{number}/withdraw", json={})) == "LOAN_WITHDRAWN"
    assert error(login(client_for, "u_small").post(f"/api/v1/me/loans/{number}/withdraw", json={})) == "LOAN_NOT_FOUND"


def test_the_profile_is_refused_once_the_subject_revokes_the_grant(stage: Stage, client_for: Clients) -> None:
    body = client_for("subject_user").post("/api/v1/me/loans", json=application(stage.unsecured)).json()
    bank = client_for("authorised_institution")
    assert bank.get(f"/api/v1/loans/applications/{body['number']}/profile").status_code == 200
    grants.revoke_grant(stage.session, stage.subject, body["grant_number"], "不再授权")
    stage.session.commit()
    after = bank.get(f"/api/v1/loans/applications/{body['number']}/profile")
    assert after.status_code == 403 and error(after) == "GRANT_REVOKED"
    assert "GRANT_REVOKED" in refused(stage.session, "grants.refused")
    # the application itself goes on: the bank may still record its outcome, and withdrawing works
    assert client_for("subject_user").post(f"/api/v1/me/loans/{body['number']}/withdraw", json={}).status_code == 200


def test_who_may_apply_and_for_what(stage: Stage, client_for: Clients) -> None:
    firm = client_for("subject_user")
    person = login(client_for, "u_person")
    refusals = {
        "LOAN_PERSON_NOT_ELIGIBLE": person.post("/api/v1/me/loans", json=application(stage.unsecured)),
        "LOAN_AMOUNT_TOO_HIGH": firm.post("/api/v1/me/loans", json=application(stage.unsecured, 300.01)),
        "LOAN_TERM_TOO_LONG": firm.post("/api/v1/me/loans", json=application(stage.unsecured, 100, 37)),
        "LOAN_PRODUCT_UNKNOWN": firm.post("/api/v1/me/loans", json=application("XYDCP999999")),
    }
    for code, response in refusals.items():
        assert response.status_code == 422 and error(response) == code, (code, response.text)
    assert "不适用" in person.get("/me/loans").text
    assert count(stage.session, LoanApplication) == 0 and count(stage.session, Grant) == 0

    assert firm.post("/api/v1/me/loans", json=application(stage.unsecured)).status_code == 201
    duplicate = firm.post("/api/v1/me/loans", json=application(stage.unsecured, 20))
    assert duplicate.status_code == 409 and error(duplicate) == "LOAN_DUPLICATE"
    assert firm.post("/api/v1/me/loans", json=application(stage.secured, 500, 36)).status_code == 201  # another product

    client_for("authorised_institution").post(f"/api/v1/loans/products/{stage.unsecured}/withdraw")
    small = login(client_for, "u_small")
    gone = small.post("/api/v1/me/loans", json=application(stage.unsecured))
    assert gone.status_code == 409 and error(gone) == "LOAN_PRODUCT_WITHDRAWN"
    assert count(stage.session, LoanApplication) == 2 and count(stage.session, Grant) == 2
    assert {"LOAN_PERSON_NOT_ELIGIBLE", "LOAN_AMOUNT_TOO_HIGH", "LOAN_DUPLICATE",
            "LOAN_PRODUCT_WITHDRAWN"} <= set(refused(stage.session))


def test_pages_open_for_the_roles_that_may(stage: Stage, client_for: Clients) -> None:
    expected = {"subject_user": {"/me/loans"}, "authorised_institution": {"/institution/loans"},
                "authority_admin": {"/loans/dashboard"}, "auditor": set(), "department_submitter": set()}
    for role, allowed in expected.items():
        client = client_for(role)
        for path in ("/me/loans", "/institution/loans", "/loans/dashboard"):
            status = client.get(path).status_code
            assert status == (200 if path in allowed else 403), (role, path, status)
    assert "我的信易贷" in client_for("subject_user").get("/").text
    assert "信易贷业务" in client_for("authorised_institution").get("/").text
    assert "信易贷统计" in client_for("authority_admin").get("/").text
