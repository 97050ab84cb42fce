"""The web layer of credit repair and objections: the subject's pages, the staff pages, the dashboard,
materials and the API.

Stage: the world (its subject_user owns the world's company, which has one 一般 ADM_PENALTY record by
market regulation, decided 2026-01-05; scjg is that department's account) built with the clock frozen on
2026-01-10, plus the sanctions configuration and the rewards-and-punishments cast (a court department
``u_01500001``, a 发展改革 department). Sessions last 8 hours, so every move of the clock is followed by new
clients (``client_for`` logs in again).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.sanctions.test_routes import login
from tests.support.sanctions import ADMIN, Cast, build_cast, company, penalty
from tests.support.world import SUBJECT_CODE, World
from xinyong import clock
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.records import service as records
from xinyong.repair import routes
from xinyong.repair.models import CaseMaterial, Objection, RepairApplication

Clients = Callable[[str], TestClient]
PDF = b"%PDF-1.7\n% commitment letter\n"
RECEIPT = b"%PDF-1.4\n% fine receipt\n"
PNG = b"\x89PNG\r\n\x1a\n evidence"
NUMBER = "宁玄市监处罚〔2026〕1号"  # the world's penalty
COURT = "u_01500001"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=clock.SHANGHAI)


@pytest.fixture
def early() -> Iterator[None]:
    """Listed before ``world``: the world's records are received on 2026-01-10, after their decision."""
    clock.freeze(at(date(2026, 1, 10)))
    yield


@dataclass
class Stage:
    session: Session
    world: World
    cast: Cast


@pytest.fixture
def stage(early: None, world: World, sanctioned: Session) -> Stage:
    cast = build_cast(sanctioned, world)
    sanctioned.commit()  # SQLite: a transaction left open would hold the write lock the app needs
    return Stage(sanctioned, world, cast)


def read(session: Session, query: Any) -> Any:
    """A value now, in a transaction of its own (sees what the app committed, leaves no lock behind)."""
    session.commit()
    found = session.scalar(query)
    session.commit()
    return found


def count(session: Session, model: type[Any]) -> int:
    return read(session, select(func.count()).select_from(model)) or 0


def actions(session: Session, name: str) -> int:
    return read(session, select(func.count()).select_from(AuditEntry).where(AuditEntry.action == name)) or 0


def application(session: Session) -> RepairApplication:
    session.commit()
    session.expire_all()  # the factory keeps objects after commit: read them again
    found = session.scalars(select(RepairApplication).order_by(RepairApplication.id.desc())).first()
    assert found is not None
    session.commit()
    return found


def materials(letter: bytes = PDF) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("commitment_letter", ("信用修复承诺书.pdf", letter, "application/pdf")),
            ("fulfilment_proof", ("罚款缴纳凭证.pdf", RECEIPT, "application/pdf"))]


def apply(client: TestClient, record_id: int, files: Any = None, **fields: str) -> Any:
    data = {"record_id": str(record_id), "reasons": "已足额缴纳罚款，下架违规宣传并建立广告审核制度", "obligations_fulfilled": "on",
            **fields}
    return client.post("/me/repairs", data=data, files=materials() if files is None else files, follow_redirects=False)


def penalty_shown(public: TestClient, code: str = SUBJECT_CODE, number: str = NUMBER) -> tuple[bool, bool]:
    """Whether the penalty is on the public page and in the public API."""
    page = public.get(f"/credit/{code}")
    api = public.get(f"/api/v1/public/subjects/{code}")
    assert page.status_code == 200 and api.status_code == 200, (page.status_code, api.text[:200])
    in_api = any(r["item_code"] == "ADM_PENALTY" for s in api.json()["sections"] for r in s["records"])
    return number in page.text, in_api


def bidding_measures(client: TestClient, code: str = SUBJECT_CODE) -> set[str]:
    answer = client.post("/api/v1/sanctions/checks", json={"matter_type": "BIDDING", "subjects": [code]})
    assert answer.status_code == 201, answer.text
    return {h["measure"]["code"] for h in answer.json()["results"][0]["punishments"]}


def flash_of(response: Any) -> str:
    return response.headers["location"]


# --- the proof: a 一般 penalty repaired through the web -----------------------------------------------------

def test_a_penalty_is_refused_too_early_then_repaired_and_gone_everywhere_at_once(stage: Stage, client_for: Clients) -> None:
    record_id = stage.world.record_id
    clock.freeze(at(date(2026, 3, 2)))
    subject = client_for("subject_user")
    credit = subject.get("/me/credit").text
    assert f"/me/repairs/new?record_id={record_id}" in credit and f"/me/objections/new?record_id={record_id}" in credit

    # Before the minimum period (一般: 3 months): the page says why not, and from when; no form.
    form = subject.get(f"/me/repairs/new?record_id={record_id}")
    assert form.status_code == 200
    assert "最短公示期（3个月）未满" in form.text and "2026年04月05日" in form.text and "2026-04-05" in form.text
    assert 'action="/me/repairs"' not in form.text and NUMBER in form.text
    verdict = subject.get(f"/api/v1/repairs/eligibility?record_id={record_id}").json()
    assert (verdict["eligible"], verdict["code"], verdict["earliest"][:10]) == (False, "REPAIR_TOO_EARLY", "2026-04-05")
    refused = apply(subject, record_id)
    assert refused.status_code == 422 and "REPAIR_TOO_EARLY" in refused.text and "2026年04月05日" in refused.text
    assert (count(stage.session, RepairApplication), count(stage.session, CaseMaterial)) == (0, 0)
    assert actions(stage.session, "repair.refused") == 1

    # After it: applied with both materials, kept and downloadable.
    clock.freeze(at(date(2026, 4, 10)))  # a Friday
    subject, admin, market = client_for("subject_user"), client_for("authority_admin"), client_for("department_submitter")
    applier, public = client_for("applying_department"), client_for("public")
    assert "可以申请" in subject.get(f"/me/repairs/new?record_id={record_id}").text
    created = apply(subject, record_id)
    assert created.status_code == 303, created.text
    case = application(stage.session)
    assert flash_of(created) == f"/me/repairs/{case.id}?done=submitted"
    mine = subject.get(flash_of(created)).text
    assert "已提交，待受理" in mine and "申请已提交" in mine and "受理期限 2026-04-15" in mine
    assert "信用修复承诺书.pdf" in mine and "罚款缴纳凭证.pdf" in mine
    letter = stage.session.scalars(select(CaseMaterial).where(CaseMaterial.kind == "commitment_letter")).one()
    stage.session.commit()
    download = subject.get(f"/materials/{letter.id}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in download.headers["content-disposition"]
    court = login(client_for("public"), COURT)
    assert court.get(f"/materials/{letter.id}").status_code == 403  # not its case

    # A second application while the first is open: 409, audited, nothing stored.
    again = apply(subject, record_id)
    assert again.status_code == 409 and "REPAIR_DUPLICATE" in again.text and "请勿重复申请" in again.text
    api_again = subject.post("/api/v1/repairs", data={"record_id": str(record_id), "reasons": "再次申请信用修复",
                                                      "obligations_fulfilled": "true"}, files=materials())
    assert api_again.status_code == 409 and api_again.json()["error"]["code"] == "REPAIR_DUPLICATE"
    assert count(stage.session, RepairApplication) == 1 and actions(stage.session, "repair.refused") == 3

    # 受理 by the authority; the department cannot decide before, nor another department after.
    assert case.number in admin.get("/repairs").text
    assert f'action="/repairs/{case.id}/accept"' in admin.get(f"/repairs/{case.id}").text
    early_decision = market.post(f"/repairs/{case.id}/approve", data={"note": ""}, follow_redirects=False)
    assert early_decision.status_code == 409 and "REPAIR_WRONG_STATE" in early_decision.text
    assert admin.post(f"/repairs/{case.id}/accept", data={"note": "材料齐全"}, follow_redirects=False).status_code == 303
    assert application(stage.session).status == "accepted"
    denied_before = actions(stage.session, "access.denied")
    wrong = court.post(f"/repairs/{case.id}/approve", data={"note": "同意"}, follow_redirects=False)
    assert wrong.status_code == 403 and "谁认定、谁修复" in wrong.text
    wrong_api = court.post(f"/api/v1/repairs/{case.id}/approve", json={"note": "同意"})
    assert wrong_api.status_code == 403 and wrong_api.json()["error"]["code"] == "REPAIR_WRONG_DEPARTMENT"
    assert actions(stage.session, "access.denied") == denied_before + 2
    assert application(stage.session).status == "accepted"
    assert court.get(f"/repairs/{case.id}").status_code == 403  # not its case to see either

    # Until the decision the penalty is public and BIDDING applies its measure.
    assert penalty_shown(public) == (True, True)
    assert "M_BID_CREDIT_REFERENCE" in bidding_measures(applier)
    decision_page = market.get(f"/repairs/{case.id}").text
    assert "同意修复" in decision_page and "决定期限 2026-04-21" in decision_page  # 市场监管: 7 working days
    approved = market.post(f"/repairs/{case.id}/approve", data={"note": "整改到位，同意修复"}, follow_redirects=False)
    assert approved.status_code == 303 and flash_of(approved) == f"/repairs/{case.id}?done=approve"

    # The same instant: gone from the public page and the public API, and no measure in a joint check.
    assert penalty_shown(public) == (False, False)
    assert bidding_measures(applier) == set()
    detail = subject.get(f"/me/repairs/{case.id}").text
    assert "同意修复" in detail and "整改到位，同意修复" in detail and "停止公示" in detail
    assert "无需另行送达" in detail  # no platform reads this one's feed
    assert "公示状态</dt><dd>已信用修复，停止公示" in detail
    body = subject.get(f"/api/v1/repairs/{case.id}").json()
    assert [s["step"] for s in body["steps"]] == ["submit", "accept", "approve"]
    assert body["status_label"] == "同意修复" and body["repair_record_id"] and body["notice_deliveries"] == []
    assert "已信用修复，停止公示" in subject.get("/me/credit").text  # history kept, the subject sees what happened
    assert audit.verify(stage.session).ok
    stage.session.commit()


def test_intake_and_decisions_need_reasons_and_the_auditor_only_reads(stage: Stage, client_for: Clients) -> None:
    clock.freeze(at(date(2026, 4, 20)))
    subject, admin, auditor = client_for("subject_user"), client_for("authority_admin"), client_for("auditor")
    assert apply(subject, stage.world.record_id).status_code == 303
    case = application(stage.session)

    refused = admin.post(f"/repairs/{case.id}/not-accept", data={"note": " "}, follow_redirects=False)
    assert refused.status_code == 422 and "请填写不予受理的理由" in refused.text
    assert application(stage.session).status == "submitted" and actions(stage.session, "repair.refused") == 1

    seen = auditor.get(f"/repairs/{case.id}")
    assert seen.status_code == 200 and case.number in seen.text and "<form" not in seen.text.split("</header>")[1]
    assert case.number in auditor.get("/repairs").text and case.number in auditor.get("/api/v1/repairs").text
    assert auditor.post(f"/repairs/{case.id}/accept", data={}, follow_redirects=False).status_code == 403
    assert subject.get("/repairs").status_code == 403 and subject.get(f"/me/repairs/{case.id}").status_code == 200
    assert auditor.get(f"/me/repairs/{case.id}").status_code == 403

    assert admin.post(f"/repairs/{case.id}/not-accept", data={"note": "承诺书未签章"},
                      follow_redirects=False).status_code == 303
    page = subject.get(f"/me/repairs/{case.id}").text
    assert "不予受理" in page and "承诺书未签章" in page and "撤回申请" not in page

    # A new application after a refusal; the subject withdraws it.
    assert apply(subject, stage.world.record_id).status_code == 303
    second = application(stage.session)
    assert "撤回申请" in subject.get(f"/me/repairs/{second.id}").text
    withdrawn = subject.post(f"/me/repairs/{second.id}/withdraw", follow_redirects=False)
    assert withdrawn.status_code == 303 and application(stage.session).status == "withdrawn"
    again = subject.post(f"/me/repairs/{second.id}/withdraw", follow_redirects=False)
    assert again.status_code == 409 and "REPAIR_WRONG_STATE" in again.text
    mine = subject.get("/me/repairs").text
    assert "不予受理" in mine and "已撤回" in mine


def test_the_form_checks_materials_and_the_declaration(stage: Stage, client_for: Clients) -> None:
    clock.freeze(at(date(2026, 4, 20)))
    subject = client_for("subject_user")
    record_id = stage.world.record_id
    missing = apply(subject, record_id, files=materials()[:1])
    assert missing.status_code == 422 and "请上传：履行法定义务证明" in missing.text
    assert 'name="reasons"' in missing.text and "已足额缴纳罚款" in missing.text  # the form keeps what was typed
    exe = apply(subject, record_id, files=[("commitment_letter", ("a.exe", b"MZ\x90\x00", "application/octet-stream")),
                                           materials()[1]])
    assert exe.status_code == 422 and "MATERIAL_TYPE" in exe.text
    undeclared = apply(subject, record_id, obligations_fulfilled="")
    assert undeclared.status_code == 422 and "REPAIR_OBLIGATIONS" in undeclared.text
    short = apply(subject, record_id, reasons="太短")
    assert short.status_code == 422 and "理由：太短" in short.text
    too_many = apply(subject, record_id, files=materials() + [("others", (f"{n}.pdf", PDF, "application/pdf"))
                                                               for n in range(routes.MAX_OTHER_FILES + 1)])
    assert too_many.status_code == 422 and "MATERIAL_TOO_MANY" in too_many.text
    assert (count(stage.session, RepairApplication), count(stage.session, CaseMaterial)) == (0, 0)
    assert actions(stage.session, "repair.refused") == 5

    other = penalty(stage.session, stage.cast, company(1), number="宁玄市监处罚〔2026〕301号").record
    stage.session.commit()
    assert subject.get(f"/me/repairs/new?record_id={other.id}").status_code == 403
    assert apply(subject, other.id).status_code == 403
    assert subject.get(f"/api/v1/repairs/eligibility?record_id={other.id}").status_code == 403
    assert subject.get("/me/repairs/new").status_code == 422  # neither a record nor a list entry


def test_the_api_runs_the_whole_workflow(stage: Stage, client_for: Clients) -> None:
    clock.freeze(at(date(2026, 4, 20)))
    subject, admin, market = client_for("subject_user"), client_for("authority_admin"), client_for("department_submitter")
    data = {"record_id": str(stage.world.record_id), "reasons": "已缴清罚款，整改完成", "obligations_fulfilled": "true"}
    created = subject.post("/api/v1/repairs", data=data,
                           files=[*materials(), ("others", ("整改报告.png", PNG, "image/png"))])
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["deciding_department"], body["target"]) == ("submitted", "南京市玄武区市场监督管理局", "record")
    assert [m["kind"] for m in body["materials"]] == ["commitment_letter", "fulfilment_proof", "other"]
    assert body["target_label"] == "行政处罚信息（宁玄市监处罚〔2026〕1号）"
    case = body["id"]
    assert market.post(f"/api/v1/repairs/{case}/accept", json={}).json()["error"]["code"] == "REPAIR_INTAKE_BY_AUTHORITY"
    assert admin.post(f"/api/v1/repairs/{case}/accept", json={"note": "受理"}).json()["status"] == "accepted"
    refused = market.post(f"/api/v1/repairs/{case}/refuse", json={"note": ""})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "REPAIR_NOTE_REQUIRED"
    assert actions(stage.session, "repair.refused") == 1
    decided = market.post(f"/api/v1/repairs/{case}/refuse", json={"note": "罚款尚未缴清"}).json()
    assert (decided["status"], decided["outcome_note"]) == ("refused", "罚款尚未缴清")
    assert [r["id"] for r in market.get("/api/v1/repairs?status=refused").json()] == [case]
    assert market.get("/api/v1/repairs?status=approved").json() == []
    assert client_for("applying_department").get("/api/v1/repairs").status_code == 403
    openapi = client_for("public").get("/openapi.json").json()["paths"]
    assert "/api/v1/repairs" in openapi and "/api/v1/objections/{objection_id}/answer" in openapi
    assert "multipart/form-data" in openapi["/api/v1/repairs"]["post"]["requestBody"]["content"]


def test_a_list_entry_is_repaired_from_the_subjects_list_section(stage: Stage, client_for: Clients) -> None:
    from xinyong.sanctions import service as sanctions
    from xinyong.sanctions.schemas import EntryIn, ListTypeSpec

    clock.freeze(at(date(2026, 6, 1)))
    kind = sanctions.create_list_type(stage.session, ADMIN, ListTypeSpec(
        code="CITY_SERIOUS", name="市级严重失信名单", category="严重失信主体名单", severity="严重",
        issuing_authority="南京市发展和改革委员会", maintaining_sectors=["发展改革"], basis="LOCAL_JS_CREDIT",
        exit_conditions="期满或修复", period_months=36))
    entry = sanctions.add_entry(stage.session, stage.cast.development, EntryIn(
        list_type=kind.code, subject_code=SUBJECT_CODE, decision_number="宁发改信〔2025〕1号",
        decision_date=date(2025, 5, 1), reasons="严重失信"))
    stage.session.commit()
    subject = client_for("subject_user")
    assert f"/me/repairs/new?entry_id={entry.id}" in subject.get("/me/credit").text
    form = subject.get(f"/me/repairs/new?entry_id={entry.id}")
    assert form.status_code == 200 and "市级严重失信名单" in form.text and "可以申请" in form.text
    created = subject.post("/me/repairs", data={"entry_id": str(entry.id), "reasons": "已纠正失信行为并消除不良影响",
                                                "obligations_fulfilled": "on"}, files=materials(), follow_redirects=False)
    assert created.status_code == 303, created.text
    case = application(stage.session)
    assert case.target == "entry" and case.deciding_department_id == entry.department_id


# --- objections --------------------------------------------------------------------------------------------

def objection(session: Session) -> Objection:
    session.commit()
    session.expire_all()
    found = session.scalars(select(Objection).order_by(Objection.id.desc())).first()
    assert found is not None
    session.commit()
    return found


def test_an_objection_marks_the_record_and_a_correction_answers_it(stage: Stage, client_for: Clients) -> None:
    clock.freeze(at(date(2026, 3, 2)))
    subject, market, public = client_for("subject_user"), client_for("department_submitter"), client_for("public")
    record_id = stage.world.record_id
    assert "异议处理中" not in public.get(f"/credit/{SUBJECT_CODE}").text
    form = subject.get(f"/me/objections/new?record_id={record_id}")
    assert form.status_code == 200 and NUMBER in form.text and 'action="/me/objections"' in form.text
    created = subject.post("/me/objections", data={"record_id": str(record_id),
                                                   "reasons": "罚款金额应为1万元，公示为2万元，与处罚决定书不符"},
                           files=[("evidence", ("处罚决定书.pdf", PDF, "application/pdf")),
                                  ("evidence", ("缴款书.png", PNG, "image/png"))], follow_redirects=False)
    assert created.status_code == 303, created.text
    case = objection(stage.session)
    assert (case.status, case.department_id) == ("open", stage.world.department_id)
    assert "异议处理中" in public.get(f"/credit/{SUBJECT_CODE}").text
    mine = subject.get(flash_of(created)).text
    assert "异议已提交" in mine and "处罚决定书.pdf" in mine and "答复期限 2026-03-16" in mine
    assert case.number in subject.get("/me/objections").text
    duplicate = subject.post("/me/objections", data={"record_id": str(record_id), "reasons": "再次提出同一异议"},
                             follow_redirects=False)
    assert duplicate.status_code == 409 and "OBJECTION_DUPLICATE" in duplicate.text
    assert actions(stage.session, "objection.refused") == 1

    # The department sees the record's fields pre-filled; it changes two and answers 更正.
    page = market.get(f"/objections/{case.id}")
    assert page.status_code == 200 and 'name="field_CF_NR_FK" value="2"' in page.text
    assert case.number in market.get("/objections").text
    fields = dict(re.findall(r'name="field_(\w+)" value="([^"]*)"', page.text))
    assert fields["CF_WSH"] == NUMBER
    no_note = market.post(f"/objections/{case.id}/answer", data={"outcome": "upheld", "note": ""}, follow_redirects=False)
    assert no_note.status_code == 422 and "处理意见" in no_note.text
    unchanged = market.post(f"/objections/{case.id}/answer",
                            data={"outcome": "corrected", "note": "经核实，金额有误", **{f"field_{k}": v for k, v in fields.items()}},
                            follow_redirects=False)
    assert unchanged.status_code == 422 and "OBJECTION_PAYLOAD_REQUIRED" in unchanged.text
    court = login(client_for("public"), COURT)
    assert court.post(f"/objections/{case.id}/answer", data={"outcome": "upheld", "note": "维持"},
                      follow_redirects=False).status_code == 403
    fields.update({"CF_NR_FK": "1", "CF_NR": "罚款1万元"})
    answered = market.post(f"/objections/{case.id}/answer",
                           data={"outcome": "corrected", "note": "经核实，罚款金额录入错误，已更正",
                                 **{f"field_{k}": v for k, v in fields.items()}}, follow_redirects=False)
    assert answered.status_code == 303, answered.text
    case = objection(stage.session)
    fixed = records.get(stage.session, case.result_record_id or 0)
    assert (case.status, fixed.kind, fixed.supersedes_id) == ("corrected", "correction", record_id)
    assert (fixed.payload["CF_NR_FK"], fixed.payload["CF_WSH"]) == ("1", NUMBER)
    stage.session.commit()
    shown = public.get(f"/credit/{SUBJECT_CODE}").text
    assert "异议处理中" not in shown and "罚款1万元" in shown
    mine = subject.get(f"/me/objections/{case.id}").text
    assert f"已更正（以记录{fixed.id}为准）" in mine and "经核实，罚款金额录入错误，已更正" in mine
    assert actions(stage.session, "objection.refused") == 3 and actions(stage.session, "objection.corrected") == 1


def test_objections_to_another_subjects_record_are_refused_and_the_authority_registers_for_others(
        stage: Stage, client_for: Clients) -> None:
    clock.freeze(at(date(2026, 3, 2)))
    theirs = penalty(stage.session, stage.cast, company(5), number="宁玄市监处罚〔2026〕205号", on=date(2026, 2, 2)).record
    stage.session.commit()
    subject, admin, market = client_for("subject_user"), client_for("authority_admin"), client_for("department_submitter")
    denied = actions(stage.session, "access.denied")
    assert subject.get(f"/me/objections/new?record_id={theirs.id}").status_code == 403
    refused = subject.post("/me/objections", data={"record_id": str(theirs.id), "reasons": "不是我的记录但我有异议"},
                           follow_redirects=False)
    assert refused.status_code == 403 and "只能对本主体的信用记录提出异议" in refused.text
    api = subject.post("/api/v1/objections", data={"record_id": str(theirs.id), "reasons": "不是我的记录但我有异议"})
    assert api.status_code == 403 and api.json()["error"]["code"] == "OBJECTION_NOT_YOURS"
    assert count(stage.session, Objection) == 0 and actions(stage.session, "access.denied") == denied + 3

    assert market.get("/objections/new").status_code == 403  # the authority registers, not a department
    form = admin.get(f"/objections/new?record_id={theirs.id}")
    assert form.status_code == 200 and "宁玄市监处罚〔2026〕205号" in form.text
    no_objector = admin.post("/objections/new", data={"record_id": str(theirs.id), "reasons": "窗口代为登记的异议"},
                             follow_redirects=False)
    assert no_objector.status_code == 422 and "代为登记异议时须填写异议人" in no_objector.text
    registered = admin.post("/objections/new", data={"record_id": str(theirs.id), "reasons": "法定代表人姓名有误",
                                                     "objector": "张三（记录中载明的法定代表人）"}, follow_redirects=False)
    assert registered.status_code == 303, registered.text
    case = objection(stage.session)
    assert case.objector.startswith("张三") and flash_of(registered) == f"/objections/{case.id}?done=registered"
    upheld = market.post(f"/api/v1/objections/{case.id}/answer", json={"outcome": "upheld", "note": "处罚决定合法有效，依规公示"})
    assert upheld.status_code == 200 and upheld.json()["status_label"] == "维持原记录"
    assert [o["id"] for o in client_for("auditor").get("/api/v1/objections").json()] == [case.id]
    assert subject.get("/api/v1/objections").json() == []  # not the subject's record


# --- dashboard -----------------------------------------------------------------------------------------------

def test_the_dashboard_counts_overdue_work_per_department(stage: Stage, client_for: Clients) -> None:
    clock.freeze(at(date(2026, 4, 20)))
    subject = client_for("subject_user")
    assert apply(subject, stage.world.record_id).status_code == 303
    assert subject.post("/api/v1/objections", data={"record_id": str(stage.world.record_id),
                                                    "reasons": "处罚事由表述不准确"}).status_code == 201
    clock.freeze(at(date(2026, 5, 20)))  # long past every deadline
    admin = client_for("authority_admin")
    board = admin.get("/api/v1/repairs/dashboard").json()
    assert (board["overdue_intake"], board["overdue_decisions"], board["overdue_objections"]) == (1, 0, 1)
    assert board["repairs_by_status"]["submitted"] == 1 and board["objections_by_status"]["open"] == 1
    page = admin.get("/repairs/dashboard").text
    assert "逾期未受理" in page and application(stage.session).number in page and 'class="overdue"' in page
    assert 'class="overdue"' in admin.get("/repairs").text and "已逾期" in admin.get("/objections").text
    case = application(stage.session)
    assert admin.post(f"/repairs/{case.id}/accept", data={}, follow_redirects=False).status_code == 303
    clock.freeze(at(date(2026, 6, 10)))
    market, auditor = client_for("department_submitter"), client_for("auditor")
    mine = market.get("/api/v1/repairs/dashboard").json()
    [row] = mine["departments"]
    assert (row["department"], row["overdue_decisions"], row["overdue_objections"]) == ("南京市玄武区市场监督管理局", 1, 1)
    assert market.post(f"/repairs/{case.id}/refuse", data={"note": "未提交整改报告"}, follow_redirects=False).status_code == 303
    stats = auditor.get("/api/v1/repairs/dashboard").json()
    assert stats["average_working_days"] == 35.0  # (2026-04-20, 2026-06-10]: 劳动节 skipped, 5月9日 (调休) counted
    assert stats["departments"][0]["decided"] == 1


def test_the_dashboard_is_pure_arithmetic() -> None:
    now = at(date(2026, 5, 6))

    def case(number: int, status: str, department: int, overdue: bool = False) -> routes.RepairOut:
        return routes.RepairOut(id=number, number=f"XYXF{number}", status=status, status_label=status, subject_id=1,
                                subject_name="", subject_code="", target="record", record_id=1, entry_id=None,
                                target_label="", deciding_department_id=department, deciding_department=f"部门{department}",
                                reasons="", obligations_fulfilled=True, submitted_at=at(date(2026, 4, 27)),
                                submitted_by="", intake_due_at=now, decision_due_at=now,
                                decided_at=None if status in ("submitted", "accepted") else now, overdue=overdue,
                                repair_record_id=None, url="")

    board = routes.dashboard([case(1, "submitted", 1, True), case(2, "accepted", 1, True), case(3, "approved", 2),
                              case(4, "not_accepted", 2), case(5, "withdrawn", 1)], [],
                             lambda a, b: (b.date() - a.date()).days)
    assert (board.overdue_intake, board.overdue_decisions, board.average_working_days) == (1, 1, 9.0)
    first, second = board.departments
    assert (first.department, first.overdue_decisions, first.decided) == ("部门1", 1, 0)
    assert (second.decided, second.average_working_days) == (1, 9.0)  # 不予受理 is the platform's, not department 2's
    assert routes.changed_fields({"A": "1", "B": 2.5, "C": None}, {"A": "1", "B": "2.5", "C": " x "}) == {"C": "x"}
    assert routes.last_day(at(date(2026, 4, 16), 0)) == "2026-04-15"
