"""Departmental sharing on the web and the API: requests, decisions, purpose-bound reads, the records
API and pages filtered for departments, the subject's read log, the overview; bad input is never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.sharing.conftest import TAX_USER, Stage
from tests.support.world import PASSWORD, SUBJECT_CODE
from xinyong.audit.models import AuditEntry
from xinyong.sharing.models import ShareRead, ShareRequest

Clients = Callable[[str], TestClient]
BASIS = "《中华人民共和国招标投标法实施条例》：对投标人开展信用核查"
REQUEST = {"item": "TAX_CREDIT", "purpose": "公共资源交易", "basis": BASIS, "term_months": 6}


def tax_client(client_for: Clients) -> TestClient:
    client = client_for("public")
    assert client.post("/login", data={"username": TAX_USER, "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    return client


def file_and_approve(client_for: Clients) -> str:
    filed = client_for("applying_department").post("/api/v1/sharing/requests", json=REQUEST)
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]
    decided = client_for("authority_admin").post(f"/api/v1/sharing/requests/{number}/decision",
                                                 json={"decision": "approve", "note": "同意"})
    assert decided.status_code == 200, decided.text
    return number


def actions(stage: Stage) -> list[str]:
    found = [e.action for e in stage.session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    stage.session.commit()  # end the read: SQLite readers here take the write lock (BEGIN IMMEDIATE)
    return found


def rows(stage: Stage, model: type) -> list:  # type: ignore[type-arg]
    found = list(stage.session.scalars(select(model)))
    stage.session.commit()
    return found


def test_requests_over_the_api(stage: Stage, client_for: Clients) -> None:
    department, authority = client_for("applying_department"), client_for("authority_admin")
    filed = department.post("/api/v1/sharing/requests", json=REQUEST)
    assert filed.status_code == 201
    body = filed.json()
    assert body["status"] == "pending" and body["item_name"] == "纳税信用等级" and body["department"] == "南京市公共资源交易中心"
    number = body["number"]
    again = department.post("/api/v1/sharing/requests", json=REQUEST)
    assert again.status_code == 409 and again.json()["error"]["code"] == "SHARING_REQUEST_DUPLICATE"
    denied = department.post(f"/api/v1/sharing/requests/{number}/decision", json={"decision": "approve"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "PERMISSION_DENIED"
    approved = authority.post(f"/api/v1/sharing/requests/{number}/decision",
                              json={"decision": "approve", "term_months": 3, "note": "同意"})
    assert approved.json()["status"] == "approved" and approved.json()["ends_on"] == "2026-09-14"
    assert [r["number"] for r in department.get("/api/v1/sharing/requests").json()] == [number]
    assert [r["number"] for r in authority.get("/api/v1/sharing/requests?status=approved").json()] == [number]
    assert tax_client(client_for).get("/api/v1/sharing/requests").json() == []  # another department's
    withdrawn = department.post(f"/api/v1/sharing/requests/{number}/withdrawal", json={"note": "不再需要"})
    assert withdrawn.json()["status"] == "withdrawn"
    done = actions(stage)
    assert {"sharing.request", "sharing.approve", "sharing.withdraw", "access.denied"} <= set(done)
    assert "sharing.refused" in done  # the duplicate was an audited attempt


def test_a_department_reads_a_subject_by_purpose(stage: Stage, client_for: Clients) -> None:
    department = client_for("applying_department")
    path = f"/api/v1/sharing/subjects/{SUBJECT_CODE}/records"
    missing = department.get(path)
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "SHARING_PURPOSE_REQUIRED"
    unknown = department.get(path, params={"purpose": "好奇"})
    assert unknown.json()["error"]["code"] == "SHARING_PURPOSE_UNKNOWN"
    before = department.get(path, params={"purpose": "公共资源交易"}).json()
    items = {i["item"]: i for i in before["items"]}
    assert [r["id"] for r in items["ADM_PENALTY"]["records"]] == [stage.penalty_id]
    assert items["TAX_CREDIT"]["status"] == "request_required" and items["TAX_CREDIT"]["records"] == []
    assert items["SOCIAL_INSURANCE"]["status"] == "not_shared" and items["SOCIAL_INSURANCE"]["records"] == []
    number = file_and_approve(client_for)
    after = department.get(path, params={"purpose": "公共资源交易"}).json()
    tax = {i["item"]: i for i in after["items"]}["TAX_CREDIT"]
    assert [(r["id"], r["basis"], r["request_number"]) for r in tax["records"]] == [(stage.tax_credit_id, "approved", number)]
    [read] = [r for r in rows(stage, ShareRead) if r.id == after["read_id"]]
    assert read.purpose == "公共资源交易" and read.channel == "api"


def test_records_api_and_pages_follow_the_sharing_class(stage: Stage, client_for: Clients) -> None:
    department, authority = client_for("applying_department"), client_for("authority_admin")
    shared = department.get(f"/api/v1/subjects/{SUBJECT_CODE}/records").json()
    assert [r["id"] for r in shared] == [stage.penalty_id]
    everything = authority.get(f"/api/v1/subjects/{SUBJECT_CODE}/records").json()
    assert {r["id"] for r in everything} == {stage.penalty_id, stage.tax_credit_id, stage.never_id}
    refused = department.get(f"/api/v1/records/{stage.tax_credit_id}", params={"purpose": "公共资源交易"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "SHARING_REQUEST_REQUIRED" and "纳税信用等级" in refused.json()["error"]["message"]
    never = department.get(f"/records/{stage.never_id}")
    assert never.status_code == 403 and "SHARING_NOT_ALLOWED" in never.text and "社会保险缴纳及欠费信息" in never.text
    assert "access.denied" in actions(stage)
    page = department.get(f"/subjects/{stage.world.subject_id}").text
    assert "行政处罚信息" in page and "纳税信用等级" not in page and "社会保险缴纳及欠费信息" not in page
    assert f'href="/sharing/subjects/{SUBJECT_CODE}"' in page  # where conditional items are read, by purpose
    assert department.get(f"/records/{stage.penalty_id}").status_code == 200
    file_and_approve(client_for)
    assert department.get(f"/api/v1/records/{stage.tax_credit_id}").status_code == 403  # no purpose stated
    assert department.get(f"/api/v1/records/{stage.tax_credit_id}?purpose=公共资源交易").status_code == 200
    assert department.get(f"/records/{stage.tax_credit_id}?purpose=公共资源交易").status_code == 200
    own = tax_client(client_for).get(f"/api/v1/subjects/{SUBJECT_CODE}/records").json()
    assert {r["id"] for r in own} == {stage.penalty_id, stage.tax_credit_id, stage.never_id}


def test_request_pages(stage: Stage, client_for: Clients) -> None:
    department, authority = client_for("applying_department"), client_for("authority_admin")
    page = department.get("/sharing/requests").text
    assert "申请共享" in page and 'value="TAX_CREDIT"' in page and 'value="ADM_PENALTY"' not in page
    bad = department.post("/sharing/requests", data={**REQUEST, "term_months": "99"})
    assert bad.status_code == 422 and "SHARING_TERM_INVALID" in bad.text
    empty = department.post("/sharing/requests", data={})
    assert empty.status_code == 422 and "SHARING_FORM_INVALID" in empty.text
    assert "sharing.refused" in actions(stage)
    assert rows(stage, ShareRequest) == []
    done = department.post("/sharing/requests", data=REQUEST, follow_redirects=False)
    assert done.status_code == 303
    [request] = rows(stage, ShareRequest)
    number = request.number
    listing = authority.get("/sharing/requests").text
    assert number in listing and "批准" in listing and "南京市公共资源交易中心" in listing
    rejected = authority.post(f"/sharing/requests/{number}/decision", data={"decision": "reject", "note": ""})
    assert rejected.status_code == 422 and "SHARING_REASON_REQUIRED" in rejected.text
    approved = authority.post(f"/sharing/requests/{number}/decision", data={"decision": "approve", "note": "同意",
                                                                          "term_months": "6"}, follow_redirects=False)
    assert approved.status_code == 303
    assert "已批准" in department.get("/sharing/requests").text
    assert department.post(f"/sharing/requests/{number}/decision", data={"decision": "approve"}).status_code == 403
    overview = authority.get("/sharing").text
    assert "纳税信用等级" in overview and "南京市公共资源交易中心" in overview
    assert department.get("/sharing").status_code == 403
    withdrawn = department.post(f"/sharing/requests/{number}/withdraw", follow_redirects=False)
    assert withdrawn.status_code == 303
    assert department.post(f"/sharing/requests/{number}/withdraw").status_code == 409


def test_subject_page_for_a_department(stage: Stage, client_for: Clients) -> None:
    department = client_for("applying_department")
    form = department.get(f"/sharing/subjects/{SUBJECT_CODE}").text
    assert "请选择查询用途" in form
    assert rows(stage, ShareRead) == []  # nothing read yet
    lookup = department.get("/sharing/subjects", params={"code": SUBJECT_CODE, "purpose": "公共资源交易"},
                            follow_redirects=False)
    assert lookup.status_code == 303
    page = department.get(lookup.headers["location"]).text
    assert "需申请共享" in page and "/sharing/requests?item=TAX_CREDIT" in page
    assert "行政处罚信息" in page and "不予共享" in page
    file_and_approve(client_for)
    page = department.get(f"/sharing/subjects/{SUBJECT_CODE}?purpose=公共资源交易").text
    assert "有条件共享（已批准）" in page


def test_the_subject_sees_who_read_its_non_public_information(stage: Stage, client_for: Clients) -> None:
    owner = client_for("subject_user")
    assert "暂无部门查询" in owner.get("/me/reads").text
    department = client_for("applying_department")
    department.get(f"/api/v1/sharing/subjects/{SUBJECT_CODE}/records?purpose=政府采购")  # public only
    assert owner.get("/api/v1/me/reads").json() == []
    file_and_approve(client_for)
    department.get(f"/api/v1/sharing/subjects/{SUBJECT_CODE}/records?purpose=公共资源交易")
    reads = owner.get("/api/v1/me/reads").json()
    assert [(r["department"], r["purpose"], r["channel"]) for r in reads] == [("南京市公共资源交易中心", "公共资源交易", "api")]
    assert {i["item"]: i["public"] for i in reads[0]["items"]} == {"ADM_PENALTY": True, "TAX_CREDIT": False}
    page = owner.get("/me/reads").text
    assert "南京市公共资源交易中心" in page and "公共资源交易" in page and "纳税信用等级" in page
    assert 'href="/me/reads"' in owner.get("/me/credit").text
    assert department.get("/me/reads").status_code == 403
    assert department.get("/api/v1/me/reads").status_code == 403


def test_navigation(stage: Stage, client_for: Clients) -> None:
    assert 'href="/sharing/requests"' in client_for("applying_department").get("/sharing/requests").text
    assert 'href="/sharing"' in client_for("authority_admin").get("/sharing/requests").text
    assert 'href="/me/reads"' in client_for("subject_user").get("/me/reads").text


@pytest.mark.parametrize("role, method, path, body", [
    ("applying_department", "POST", "/api/v1/sharing/requests", {"item": "TAX_CREDIT"}),
    ("applying_department", "POST", "/api/v1/sharing/requests", {**REQUEST, "term_months": "十二"}),
    ("applying_department", "POST", "/api/v1/sharing/requests", {**REQUEST, "term_months": 0}),
    ("applying_department", "POST", "/api/v1/sharing/requests", {**REQUEST, "item": "x" * 500}),
    ("applying_department", "POST", "/api/v1/sharing/requests", {**REQUEST, "item": "ADM_PENALTY"}),
    ("applying_department", "POST", "/api/v1/sharing/requests", [1, 2]),
    ("authority_admin", "POST", "/api/v1/sharing/requests/GXSQ2026000001/decision", {"decision": "maybe"}),
    ("authority_admin", "POST", "/api/v1/sharing/requests/%00%ff/decision", {"decision": "approve"}),
    ("authority_admin", "POST", "/api/v1/sharing/requests/x/decision", {"decision": "approve", "starts_on": "明天"}),
    ("applying_department", "POST", "/api/v1/sharing/requests/nope/withdrawal", {}),
    ("applying_department", "GET", "/api/v1/sharing/requests?status=weird", None),
    ("applying_department", "GET", "/api/v1/sharing/requests?limit=0", None),
    ("applying_department", "GET", "/api/v1/sharing/subjects/%E4%B8%AD/records?purpose=日常监管", None),
    ("applying_department", "GET", f"/api/v1/sharing/subjects/{SUBJECT_CODE}/records?purpose={'x' * 100}", None),
    ("applying_department", "GET", "/api/v1/records/abc", None),
    ("applying_department", "GET", "/api/v1/records/99999999999999999999", None),
    ("applying_department", "GET", "/records/0?purpose=不知道", None),
    ("applying_department", "GET", "/sharing/subjects/00000000000000000X?purpose=日常监管", None),
    ("applying_department", "GET", "/sharing/requests?page=0", None),
    ("subject_user", "GET", "/me/reads?page=-1", None),
    ("authority_admin", "POST", "/sharing/requests/none/decision", {"decision": "approve"}),
    ("applying_department", "POST", "/sharing/requests/none/withdraw", {}),
])
def test_bad_input_is_refused_never_a_500(stage: Stage, client_for: Clients, role: str, method: str, path: str,
                                           body: object) -> None:
    client = client_for(role)
    if method == "GET":
        response = client.get(path)
    elif path.startswith("/api/"):
        response = client.post(path, json=body)
    else:
        response = client.post(path, data=body)  # type: ignore[arg-type]
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
