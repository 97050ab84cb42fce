"""The web layer of credit commitments: the subject's page and API, the department's pages and API,
refusals shown in Chinese, nothing changed and the attempt audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.commitments.support import AFTER_HOLIDAY, CLEAN_CODE, CONTENT, Stage, promise
from tests.support.world import SUBJECT_CODE
from xinyong import clock
from xinyong.audit import service as audit
from xinyong.commitments.models import Commitment
from xinyong.records.models import Record

Clients = Callable[[str], TestClient]


def count(session: Session, model: type[Any]) -> int:
    """Rows now, in a transaction of its own (sees what the app committed, leaves no lock behind)."""
    found = session.scalar(select(func.count()).select_from(model)) or 0
    session.commit()
    return found


def refusals(session: Session) -> list[Any]:
    entries = audit.recent(session, action="commitment.refused")
    session.commit()
    return entries


def form(department_id: int, **overrides: str) -> dict[str, str]:
    return {"kind": "审批替代型", "department_id": str(department_id), "matter_type": "ADMIN_APPROVAL",
            "matter": "食品经营许可申请", "content": CONTENT, "public": "on", "materials_due_on": "", **overrides}


def body(department_id: int, **overrides: Any) -> dict[str, Any]:
    return {"kind": "容缺受理型", "department_id": department_id, "matter": "建设工程消防验收备案", "content": CONTENT,
            "public": True, "materials_due_on": AFTER_HOLIDAY.isoformat(), **overrides}


# --- pages and permissions --------------------------------------------------------------------------------

def test_pages_open_for_the_roles_that_may_and_refuse_the_others(stage: Stage, client_for: Clients) -> None:
    expected = {"subject_user": ["/me/commitments"],
                "department_submitter": ["/commitments"], "applying_department": ["/commitments"],
                "authority_admin": ["/commitments"], "auditor": [], "authorised_institution": []}
    for role, allowed in expected.items():
        client = client_for(role)
        for path in ("/me/commitments", "/commitments"):
            status = client.get(path).status_code
            assert status == (200 if path in allowed else 403), (role, path, status)
    anonymous = client_for("public").get("/me/commitments", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    page = client_for("subject_user").get("/me/commitments").text
    assert "可以适用" in page and "容缺受理型" in page and "市场监督管理局" in page and 'name="public"' in page
    assert "我的承诺" in page  # navigation
    assert "登记窗口承诺" in client_for("department_submitter").get("/commitments").text
    assert "登记窗口承诺" not in client_for("authority_admin").get("/commitments").text  # oversight, no department


# --- the subject -----------------------------------------------------------------------------------------------

def test_a_subject_makes_a_commitment_by_the_form_and_sees_it(stage: Stage, client_for: Clients) -> None:
    client = client_for("subject_user")
    made = client.post("/me/commitments", data=form(stage.world.department_id), follow_redirects=False)
    assert made.status_code == 303, made.text
    assert made.headers["location"].startswith("/me/commitments?made=XYCN2026000001")
    page = client.get(made.headers["location"]).text
    assert "已作出信用承诺 XYCN2026000001" in page and "食品经营许可申请" in page and "履约中" in page
    mine = client.get("/api/v1/me/commitments").json()
    assert [(c["number"], c["kind"], c["public"], c["status_label"]) for c in mine] == [
        ("XYCN2026000001", "审批替代型", True, "履约中")]
    public = client_for("public").get(f"/credit/{SUBJECT_CODE}").text
    assert "XYCN2026000001" in public and "信用承诺" in public


def test_a_deadline_on_a_holiday_is_refused_inline_nothing_stored_and_audited(stage: Stage, client_for: Clients) -> None:
    client = client_for("subject_user")
    before = (count(stage.session, Commitment), count(stage.session, Record))
    page = client.post("/me/commitments", data=form(stage.world.department_id, kind="容缺受理型",
                                                    materials_due_on="2026-06-19"))
    assert page.status_code == 422
    assert "端午节" in page.text and "2026-06-22" in page.text and "COMMITMENT_DUE_NOT_WORKING_DAY" in page.text
    assert 'value="2026-06-19"' in page.text and "食品经营许可申请" in page.text  # the form keeps what was typed
    assert (count(stage.session, Commitment), count(stage.session, Record)) == before
    entry = refusals(stage.session)[0]
    assert (entry.actor, entry.object_id, entry.detail["code"]) == (
        "u_subject_user", "/me/commitments", "COMMITMENT_DUE_NOT_WORKING_DAY")

    missing = client.post("/me/commitments", data=form(stage.world.department_id, matter="x"))
    assert missing.status_code == 422 and "承诺事项" in missing.text


def test_an_api_refusal_is_a_chinese_error_and_an_audited_attempt(stage: Stage, client_for: Clients) -> None:
    client = client_for("subject_user")
    answer = client.post("/api/v1/me/commitments", json=body(stage.world.department_id, materials_due_on="2026-06-20"))
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "COMMITMENT_DUE_NOT_WORKING_DAY" and "2026-06-22" in error["message"]
    assert error["details"]["next_working_day"] == "2026-06-22"
    assert count(stage.session, Commitment) == 0
    entry = refusals(stage.session)[0]  # recorded by the application's error handler, in its own transaction
    assert (entry.object_id, entry.detail["code"]) == ("/api/v1/me/commitments", "COMMITMENT_DUE_NOT_WORKING_DAY")

    made = client.post("/api/v1/me/commitments", json=body(stage.world.department_id))
    assert made.status_code == 201, made.text
    assert (made.json()["materials_due_on"], made.json()["status"]) == ("2026-06-22", "in_progress")
    tolerance = client.get("/api/v1/me/commitments/tolerance").json()
    assert tolerance["allowed"] is True and "评价" in tolerance["reason"]


# --- departments ------------------------------------------------------------------------------------------------

def test_the_department_finds_it_kept_and_another_department_cannot(stage: Stage, client_for: Clients) -> None:
    made = promise(stage)
    stage.session.commit()
    other = client_for("applying_department")
    refused = other.post(f"/api/v1/commitments/{made.id}/fulfil", json={"note": "已核验"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "COMMITMENT_NOT_YOURS"
    assert other.get(f"/api/v1/commitments/{made.id}").status_code == 403
    assert client_for("authority_admin").get(f"/api/v1/commitments/{made.id}").json()["status"] == "in_progress"

    market = client_for("department_submitter")
    listing = market.get("/api/v1/commitments", params={"status": "in_progress"}).json()
    assert listing["total"] == 1 and listing["items"][0]["number"] == made.number
    detail = market.get(f"/commitments/{made.id}").text
    assert "认定已履约" in detail and "认定未履约" in detail and "南京示范科技有限公司" in detail
    kept = market.post(f"/api/v1/commitments/{made.id}/fulfil", json={"note": "已核验属实"})
    assert kept.status_code == 200 and kept.json()["status_label"] == "已履约"
    again = market.post(f"/commitments/{made.id}/breach", data={"note": "未履行"})
    assert again.status_code == 409 and "COMMITMENT_DECIDED" in again.text
    assert "认定已履约" not in market.get(f"/commitments/{made.id}").text
    assert [e.detail["code"] for e in refusals(stage.session)] == ["COMMITMENT_DECIDED"]


def test_a_breach_by_the_page_form_creates_the_dishonesty_record(stage: Stage, client_for: Clients) -> None:
    made = promise(stage, "审批替代型")
    stage.session.commit()
    market = client_for("department_submitter")
    blank = market.post(f"/commitments/{made.id}/breach", data={"note": ""})
    assert blank.status_code == 422 and "说明" in blank.text
    done = market.post(f"/commitments/{made.id}/breach", data={"note": "核查发现所作承诺与事实不符"}, follow_redirects=False)
    assert done.status_code == 303
    page = market.get(done.headers["location"]).text
    assert "已认定未履约，失信记录已生成" in page and "信用承诺未履行（失信）信息" in page
    breach = stage.session.scalar(select(Record).where(Record.item_code == "COMMITMENT_BREACH"))
    stage.session.commit()
    assert breach is not None and breach.payload["CNBH"] == made.number
    assert made.number in client_for("public").get(f"/credit/{SUBJECT_CODE}").text
    own = client_for("subject_user").get("/me/commitments").text
    assert "未履约" in own and "可依法提出异议或申请信用修复" in own


def test_a_department_registers_a_window_commitment_by_form_and_api(stage: Stage, client_for: Clients) -> None:
    market = client_for("department_submitter")
    data = {"subject_code": CLEAN_CODE, "kind": "容缺受理型", "matter_type": "", "matter": "食品经营许可申请",
            "content": CONTENT, "public": "on", "made_on": "", "materials_due_on": "2026-06-21"}
    sunday = market.post("/commitments", data=data)
    assert sunday.status_code == 422 and "2026-06-22" in sunday.text
    done = market.post("/commitments", data={**data, "materials_due_on": "2026-06-22"}, follow_redirects=False)
    assert done.status_code == 303 and "已登记" in market.get(done.headers["location"]).text
    api = market.post("/api/v1/commitments", json={"subject_code": CLEAN_CODE, "kind": "主动型", "matter": "诚信经营",
                                                   "content": CONTENT})
    assert api.status_code == 201 and api.json()["channel"] == "offline"
    assert client_for("authority_admin").post("/api/v1/commitments", json={
        "subject_code": CLEAN_CODE, "kind": "主动型", "matter": "诚信经营", "content": CONTENT}).status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/commitments/9999/fulfil", "/api/v1/commitments/9999/breach"])
def test_decisions_on_a_missing_commitment_are_not_found_and_audited(stage: Stage, client_for: Clients, path: str) -> None:
    answer = client_for("department_submitter").post(path, json={"note": "已核验"})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "COMMITMENT_NOT_FOUND"
    assert refusals(stage.session)[0].detail["code"] == "COMMITMENT_NOT_FOUND"
    assert clock.today().isoformat() == "2026-06-15"
