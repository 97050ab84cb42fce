"""The web layer of rewards and punishments: pages and API for lists, measures, joint checks and feedback.

Stage (per test, clock frozen on 2026-06-15): the world plus the evaluation models and the seeded
sanctions configuration; market regulation (scjg) puts the world's company on 经营异常名录 by
submitting a LIST_ABNORMAL record, so a 招标投标 check finds a punishment for it; a second company has
nothing; a 发展改革 department keeps the red list.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import pytest
import xlsxwriter
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support.world import DEPARTMENT_CODE, PASSWORD, SUBJECT_CODE, World
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.config import Settings
from xinyong.evaluation import service as evaluation
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.sanctions import service
from xinyong.sanctions.models import CheckFeedback, JointCheck, ListEntry, ListExit, Measure
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.schemas import OrganisationIn

SYSTEM = Actor.system()
CLEAN_CODE = uscc.build("9", "1", "320102", "MA1CLN01")
UNKNOWN_CODE = uscc.build("9", "1", "320102", "MA1UNK01")  # valid, never registered
INVALID_CODE = "91320102ABCDEFGH99"
RESTRICT = "在政府采购、工程招投标、国有土地出让、授予荣誉称号等工作中依法予以限制或者禁入"  # M_ENTERPRISE_INFO_RESTRICT
BASIS = "《企业信息公示暂行条例》"
Clients = Callable[[str], TestClient]


@dataclass
class Stage:
    session: Session
    world: World
    abnormal_entry_id: int


@pytest.fixture
def stage(frozen_clock: datetime, world: World, seeded: Session) -> Stage:
    evaluation.seed(seeded, SYSTEM)
    service.seed(seeded, SYSTEM)
    users = {u.username: u for u in access.users(seeded)}
    records.submit(seeded, access.actor_for(users["scjg"]), "LIST_ABNORMAL",
                   SubjectRef(uscc=SUBJECT_CODE, name="南京示范科技有限公司"),
                   {"LRWH": "宁玄市监异〔2026〕3号", "LRYY": "未按规定报送年度报告", "LRRQ": "2026-03-10",
                    "ZCJG": "南京市玄武区市场监督管理局"}, department_id=world.department_id, department_code=DEPARTMENT_CODE)
    subjects.register_organisation(seeded, SYSTEM, OrganisationIn(uscc=CLEAN_CODE, name="南京清白建设有限公司"))
    development = access.create_department(seeded, code=uscc.build("1", "1", "320100", "01500002"),
                                           name="南京市发展和改革委员会", short_name="市发展改革委", region_code="320100",
                                           sector="发展改革")
    access.create_user(seeded, SYSTEM, access.NewUser("fgw", PASSWORD, "department_submitter", "市发展改革委",
                                                      department_id=development.id))
    entry = seeded.scalar(select(ListEntry.id))
    seeded.commit()  # SQLite: a transaction left open would hold the write lock the app needs
    assert entry is not None
    return Stage(seeded, world, entry)


def count(session: Session, model: type[Any]) -> int:
    """Rows now, in a transaction of its own (sees what the app committed, leaves no lock behind)."""
    found = session.scalar(select(func.count()).select_from(model)) or 0
    session.commit()
    return found


def login(client: TestClient, username: str) -> TestClient:
    assert client.post("/login", data={"username": username, "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    return client


def xlsx(rows: list[list[str]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("投标人")
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            sheet.write_string(r, c, value)
    workbook.close()
    return buffer.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    return "".join(",".join(row) + "\r\n" for row in rows).encode(encoding)


BIDDERS = [["序号", "投标人名称", "统一社会信用代码"], ["1", "南京示范科技有限公司", SUBJECT_CODE],
           ["2", "南京清白建设有限公司", CLEAN_CODE], ["3", "南京无名有限公司", UNKNOWN_CODE],
           ["4", "写错代码的公司", INVALID_CODE]]


def check_page_post(client: TestClient, matter: str = "BIDDING", *, code: str = "",
                    file: tuple[str, bytes, str] | None = None) -> Any:
    files = {"file": file} if file else None
    return client.post("/sanctions/check", data={"matter_type": matter, "matter_reference": "宁招〔2026〕8号", "code": code},
                       files=files, follow_redirects=False)


def api_check(client: TestClient, codes: list[str], matter: str = "BIDDING") -> Any:
    return client.post("/api/v1/sanctions/checks", json={"matter_type": matter, "subjects": codes})


# --- pages and permissions ------------------------------------------------------------------------------------

STAFF_PAGES = ["/sanctions", "/sanctions/lists/BUSINESS_ABNORMAL", "/sanctions/measures", "/sanctions/bases"]
CHECK_PAGES = ["/sanctions/check", "/sanctions/checks"]
AUTHORITY_PAGES = ["/sanctions/feedback", "/sanctions/list-types/new", "/sanctions/measures/new",
                   "/sanctions/measures/M_PROCUREMENT_BAN/edit"]


def test_pages_open_for_the_roles_that_may_and_refuse_the_others(stage: Stage, client_for: Clients) -> None:
    expected = {"authority_admin": STAFF_PAGES + CHECK_PAGES + AUTHORITY_PAGES,
                "department_submitter": STAFF_PAGES + CHECK_PAGES, "applying_department": STAFF_PAGES + CHECK_PAGES,
                "subject_user": [], "auditor": []}
    every = STAFF_PAGES + CHECK_PAGES + AUTHORITY_PAGES
    for role, allowed in expected.items():
        client = client_for(role)
        for path in every:
            status = client.get(path).status_code
            assert status == (200 if path in allowed else 403), (role, path, status)
    anonymous = client_for("public").get("/sanctions", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    overview = client_for("applying_department").get("/sanctions").text
    assert "经营异常名录" in overview and "失信被执行人名单" in overview and "设立名单类型" not in overview
    admin_check = client_for("authority_admin").get("/sanctions/check").text
    assert "须以部门身份发起" in admin_check


def test_the_measure_list_is_public_with_its_legal_basis(stage: Stage, client_for: Clients) -> None:
    public = client_for("public")
    page = public.get("/measures")
    assert page.status_code == 200
    assert "依法限制参加政府采购活动" in page.text and "《中华人民共和国政府采购法》" in page.text
    assert "行政法规" in page.text and "党中央国务院政策文件" in page.text and "失信被执行人名单" in page.text
    api = public.get("/api/v1/public/measures")
    assert api.status_code == 200 and api.headers["etag"]
    body = api.json()
    ban = next(m for m in body["measures"] if m["code"] == "M_PROCUREMENT_BAN")
    assert (ban["basis_title"], ban["basis_level"], ban["basis_article"]) == ("《中华人民共和国政府采购法》", "法律",
                                                                             "第二十二条、第七十七条")
    assert ban["matter_types"] == ["GOV_PROCUREMENT"] and body["matter_types"]["GOV_PROCUREMENT"] == "政府采购"
    assert {t["code"]: t["basis_level"] for t in body["list_types"]}["RED_HONOUR"] == "党中央国务院政策文件"
    assert all(t["in_force"] is None for t in body["list_types"])  # counts are for staff
    assert public.get("/api/v1/public/measures", headers={"If-None-Match": api.headers["etag"]}).status_code == 304


# --- joint checks --------------------------------------------------------------------------------------------

def test_a_single_check_by_page_and_api_gives_the_measures_with_their_basis(stage: Stage, client_for: Clients) -> None:
    client = client_for("applying_department")
    created = check_page_post(client, code=SUBJECT_CODE, file=("", b"", "application/octet-stream"))  # no file chosen
    assert created.status_code == 303 and created.headers["location"].startswith("/sanctions/checks/")
    page = client.get(created.headers["location"])
    assert page.status_code == 200
    assert RESTRICT in page.text and BASIS in page.text and "第十八条" in page.text and "行政法规" in page.text
    assert "列入经营异常名录（宁玄市监异〔2026〕3号）" in page.text and "提交反馈" in page.text

    answer = api_check(client, [SUBJECT_CODE, CLEAN_CODE])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["matter_label"], body["department"], body["subjects"], body["punished"]) == (
        "招标投标", "南京市公共资源交易中心", 2, 1)
    listed, clean = body["results"]
    assert (listed["outcome"], clean["outcome"], clean["punishments"]) == ("punish", "clean", [])
    restrict = next(h for h in listed["punishments"] if h["measure"]["code"] == "M_ENTERPRISE_INFO_RESTRICT")
    assert restrict["measure"]["basis_title"] == BASIS and restrict["measure"]["basis_level"] == "行政法规"
    assert restrict["feedback"] == "pending" and restrict["triggers"][0]["kind"] == "list"
    assert body["feedback_due_at"] is not None

    procurement = api_check(client, [SUBJECT_CODE], "GOV_PROCUREMENT").json()["results"][0]
    assert "M_PROCUREMENT_BAN" not in {h["measure"]["code"] for h in procurement["punishments"]}  # not its lists


def test_batch_files_report_every_row_and_unknown_codes_do_not_fail_the_batch(stage: Stage, client_for: Clients) -> None:
    client = client_for("applying_department")
    created = check_page_post(client, file=("投标人.xlsx", xlsx(BIDDERS), "application/octet-stream"))
    assert created.status_code == 303, created.text
    check_id = int(created.headers["location"].rsplit("/", 1)[1])
    page = client.get(created.headers["location"]).text
    assert RESTRICT in page and "主体库中无此主体" in page and "代码无效" in page and INVALID_CODE in page
    assert "投标人.xlsx" in page
    summary = client.get(f"/api/v1/sanctions/checks/{check_id}").json()
    outcomes = [(r["given_code"], r["outcome"]) for r in summary["results"]]
    assert outcomes == [(SUBJECT_CODE, "punish"), (CLEAN_CODE, "clean"), (UNKNOWN_CODE, "unknown"),
                        (INVALID_CODE, "invalid")]
    assert (summary["subjects"], summary["unknown"], summary["total"]) == (4, 2, 4)
    hits = client.get(f"/api/v1/sanctions/checks/{check_id}", params={"outcome": "hits"}).json()
    assert [r["given_code"] for r in hits["results"]] == [SUBJECT_CODE] and hits["total"] == 1

    for name, content in (("投标人-gbk.csv", csv_bytes(BIDDERS, "gbk")), ("投标人.csv", csv_bytes(BIDDERS, "utf-8")),
                          ("投标人.json", json.dumps([dict(zip(BIDDERS[0], r, strict=True)) for r in BIDDERS[1:]],
                                                  ensure_ascii=False).encode())):
        answer = client.post("/api/v1/sanctions/checks/batch", data={"matter_type": "BIDDING", "matter_reference": "宁招8"},
                             files={"file": (name, content, "application/octet-stream")})
        assert answer.status_code == 201, (name, answer.text)
        result = answer.json()
        assert (result["subjects"], result["unknown"], result["punished"], result["rewarded"]) == (4, 2, 1, 0), name
        assert result["url"] == f"/sanctions/checks/{result['id']}"


BAD_FILES = [("空文件.csv", b"", "FILE_EMPTY"),
             ("无代码列.csv", csv_bytes([["投标人名称"], ["南京示范科技有限公司"]], "utf-8"), "CHECK_FILE_NO_CODE_COLUMN"),
             ("只有列名.csv", csv_bytes([["统一社会信用代码"]], "utf-8"), "FILE_NO_ROWS"),
             ("坏的.xlsx", b"this is not a workbook", "FILE_CORRUPT")]


def test_malformed_files_are_refused_with_a_stable_code_and_nothing_is_recorded(stage: Stage, client_for: Clients,
                                                                                 settings: Settings) -> None:
    client = client_for("applying_department")
    before = count(stage.session, JointCheck)
    for name, content, code in BAD_FILES:
        api = client.post("/api/v1/sanctions/checks/batch", data={"matter_type": "BIDDING"},
                          files={"file": (name, content, "application/octet-stream")})
        assert api.status_code == 422 and api.json()["error"]["code"] == code, (name, api.text)
        page = check_page_post(client, file=(name, content, "application/octet-stream"))
        assert page.status_code == 422 and code in page.text and 'role="alert"' in page.text, name
    both = check_page_post(client, code=SUBJECT_CODE, file=("投标人.xlsx", xlsx(BIDDERS), "application/octet-stream"))
    assert both.status_code == 422 and "CHECK_ONE_SOURCE" in both.text
    nothing = check_page_post(client)
    assert nothing.status_code == 422 and "CHECK_NO_SUBJECTS" in nothing.text
    assert count(stage.session, JointCheck) == before
    assert list((settings.data_dir / "uploads").iterdir()) == []  # uploads are not kept


def test_an_unknown_matter_type_is_refused_and_nothing_is_recorded(stage: Stage, client_for: Clients) -> None:
    client = client_for("applying_department")
    api = api_check(client, [SUBJECT_CODE], "NO_SUCH_MATTER")
    assert api.status_code == 422 and api.json()["error"]["code"] == "MATTER_UNKNOWN"
    assert "招标投标" in api.json()["error"]["message"]
    page = check_page_post(client, "NO_SUCH_MATTER", code=SUBJECT_CODE)
    assert page.status_code == 422 and "MATTER_UNKNOWN" in page.text and "未知的核查事项类型" in page.text
    assert count(stage.session, JointCheck) == 0


# --- feedback and oversight ------------------------------------------------------------------------------------

def test_feedback_by_the_checking_department_and_the_authoritys_dashboard(stage: Stage, client_for: Clients) -> None:
    client = client_for("applying_department")
    body = api_check(client, [SUBJECT_CODE]).json()
    check_id, hits = body["id"], [h["hit_id"] for h in body["results"][0]["punishments"]]
    assert len(hits) >= 1

    other = client_for("department_submitter")  # 市场监管 may check too, but not answer for another department
    refused = other.post(f"/api/v1/sanctions/checks/{check_id}/feedback", json={"items": [{"hit_id": hits[0], "taken": True}]})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "CHECK_NOT_YOURS"
    assert other.post(f"/sanctions/checks/{check_id}/feedback", data={"hit_id": hits[0], "taken": "true"}).status_code == 403
    assert other.get(f"/sanctions/checks/{check_id}").status_code == 403
    no_reason = client.post(f"/api/v1/sanctions/checks/{check_id}/feedback",
                            json={"items": [{"hit_id": hits[0], "taken": False, "note": ""}]})
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "FEEDBACK_REASON_REQUIRED"
    page_no_reason = client.post(f"/sanctions/checks/{check_id}/feedback", data={"hit_id": hits[0], "taken": "false"})
    assert page_no_reason.status_code == 422 and "未采取措施的，须说明理由" in page_no_reason.text
    assert count(stage.session, CheckFeedback) == 0

    saved = client.post(f"/sanctions/checks/{check_id}/feedback", data={"hit_id": hits[0], "taken": "true", "note": "已取消其投标资格"},
                        follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith(f"#hit-{hits[0]}")
    assert "反馈已保存" in client.get(saved.headers["location"]).text
    rest = [{"hit_id": h, "taken": False, "note": "该项目不属于依法必须招标的项目"} for h in hits[1:]]
    if rest:
        assert client.post(f"/api/v1/sanctions/checks/{check_id}/feedback", json={"items": rest}).json() == {
            "recorded": len(rest)}
    states = {h["hit_id"]: h["feedback"] for h in client.get(f"/api/v1/sanctions/checks/{check_id}").json()[
        "results"][0]["punishments"]}
    assert states == {hits[0]: "taken", **{h: "not_taken" for h in hits[1:]}}

    api_check(client, [SUBJECT_CODE])  # a second check, unanswered
    admin = client_for("authority_admin")
    stats = admin.get("/api/v1/sanctions/feedback").json()
    row = next(d for d in stats["departments"] if d["department"] == "南京市公共资源交易中心")
    assert (row["checks"], row["hits"], row["answered"], row["taken"], row["overdue"]) == (2, 2 * len(hits), len(hits), 1, 0)
    assert row["rate"] == pytest.approx(0.5)
    dashboard = admin.get("/sanctions/feedback")
    assert dashboard.status_code == 200 and "南京市公共资源交易中心" in dashboard.text and "50.0%" in dashboard.text
    assert "/static/vendor/echarts.min.js" in dashboard.text
    assert client.get("/api/v1/sanctions/feedback").status_code == 403


def test_check_results_export_as_xlsx_and_csv_with_chinese_headers(stage: Stage, client_for: Clients) -> None:
    client = client_for("applying_department")
    check_id = api_check(client, [SUBJECT_CODE, CLEAN_CODE, "=HYPERLINK(1)"]).json()["id"]
    workbook = client.get(f"/api/v1/sanctions/checks/{check_id}/export", params={"format": "xlsx"})
    assert workbook.status_code == 200 and workbook.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "filename*=UTF-8''" in workbook.headers["content-disposition"]
    frame = pl.read_excel(io.BytesIO(workbook.content), sheet_name="核查结果")
    assert frame.columns[:5] == ["行号", "所填代码", "主体名称", "统一社会信用代码/证件号码", "核查结果"]
    assert "法律依据" in frame.columns and "反馈状态" in frame.columns
    rows = frame.to_dicts()
    restrict = next(r for r in rows if r["措施名称"] == RESTRICT)
    assert (restrict["所填代码"], restrict["法律依据"], restrict["依据层级"], restrict["反馈状态"]) == (
        SUBJECT_CODE, BASIS, "行政法规", "待反馈")
    assert {r["所填代码"] for r in rows} >= {CLEAN_CODE, "'=HYPERLINK(1)"}  # formulas neutralised
    exported = client.get(f"/api/v1/sanctions/checks/{check_id}/export", params={"format": "csv"})
    assert exported.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0] == frame.columns and len(table) == len(rows) + 1
    assert client.get(f"/api/v1/sanctions/checks/{check_id}/export", params={"format": "pdf"}).status_code == 422
    assert client_for("department_submitter").get(f"/api/v1/sanctions/checks/{check_id}/export").status_code == 403


# --- configuration by the authority -----------------------------------------------------------------------------

def low_basis_measure() -> dict[str, Any]:
    return {"code": "M_CITY_BAN", "name": "禁止参与本市政府投资项目", "content": "依据市级文件禁止参与本市政府投资项目",
            "nature": "惩戒", "measure_type": "减损权益或增加义务", "basis": "NORM_CITY_NOTICE",
            "list_types": ["BUSINESS_ABNORMAL"], "matter_types": ["BIDDING"], "implementing_sectors": ["公共资源交易"]}


def test_a_measure_without_a_sufficient_legal_basis_is_refused(stage: Stage, client_for: Clients) -> None:
    admin = client_for("authority_admin")
    before = count(stage.session, Measure)
    api = admin.post("/api/v1/sanctions/measures", json=low_basis_measure())
    assert api.status_code == 422 and api.json()["error"]["code"] == "MEASURE_BASIS_TOO_LOW"
    assert "规范性文件" in api.json()["error"]["message"]
    page = admin.post("/sanctions/measures/new", data={"yaml_text": json.dumps(low_basis_measure(), ensure_ascii=False)})
    assert page.status_code == 422 and "MEASURE_BASIS_TOO_LOW" in page.text and "防止泛化滥用" in page.text
    assert "M_CITY_BAN" in page.text  # the text is kept for correction
    broken = admin.post("/sanctions/measures/new", data={"yaml_text": "code: [unclosed"})
    assert broken.status_code == 422 and "SANCTIONS_YAML_INVALID" in broken.text
    assert count(stage.session, Measure) == before
    assert client_for("applying_department").post("/api/v1/sanctions/measures", json=low_basis_measure()).status_code == 403

    low_list = {"code": "CITY_BLACKLIST", "name": "市级黑名单", "category": "其他失信名单", "severity": "一般",
                "issuing_authority": "市信用办", "maintaining_sectors": ["发展改革"], "basis": "NORM_CITY_NOTICE",
                "exit_conditions": "期满移出"}
    refused = admin.post("/sanctions/list-types/new", data={"yaml_text": json.dumps(low_list, ensure_ascii=False)})
    assert refused.status_code == 422 and "LIST_BASIS_TOO_LOW" in refused.text
    assert admin.post("/api/v1/sanctions/list-types", json=low_list).json()["error"]["code"] == "LIST_BASIS_TOO_LOW"


def test_the_authority_keeps_bases_list_types_and_versioned_measures(stage: Stage, client_for: Clients) -> None:
    admin = client_for("authority_admin")
    added = admin.post("/sanctions/bases", data={"code": "LOCAL_NJ_CREDIT", "title": "《南京市社会信用条例》",
                                                 "level": "地方性法规", "issuer": "南京市人民代表大会常务委员会",
                                                 "effective_on": "2026-01-01"}, follow_redirects=False)
    assert added.status_code == 303
    assert "《南京市社会信用条例》" in admin.get("/sanctions/bases").text
    again = admin.post("/sanctions/bases", data={"code": "LOCAL_NJ_CREDIT", "title": "《重复》", "level": "法律",
                                                 "issuer": "某机关"})
    assert again.status_code == 409 and "BASIS_EXISTS" in again.text

    spec = low_basis_measure() | {"basis": "LOCAL_NJ_CREDIT", "basis_article": "第三十条"}
    created = admin.post("/api/v1/sanctions/measures", json=spec)
    assert created.status_code == 201 and created.json()["basis_level"] == "地方性法规"
    edit = admin.get("/sanctions/measures/M_CITY_BAN/edit")
    assert edit.status_code == 200 and "LOCAL_NJ_CREDIT" in edit.text
    no_note = admin.post("/sanctions/measures/M_CITY_BAN/edit", data={"yaml_text": json.dumps(spec, ensure_ascii=False)})
    assert no_note.status_code == 422 and "MEASURE_NOTE_REQUIRED" in no_note.text
    revised = admin.post("/sanctions/measures/M_CITY_BAN/edit", follow_redirects=False, data={
        "yaml_text": json.dumps(spec | {"matter_types": ["BIDDING", "GOV_PROCUREMENT"]}, ensure_ascii=False),
        "note": "扩大到政府采购"})
    assert revised.status_code == 303
    versions = admin.get("/api/v1/sanctions/measures/M_CITY_BAN/versions").json()
    assert [(v["version"], v["retired_at"] is None) for v in versions] == [(1, False), (2, True)]
    assert "扩大到政府采购" in admin.get("/sanctions/measures").text
    retired = admin.post("/sanctions/measures/M_CITY_BAN/retire", data={"note": "上位法修改"}, follow_redirects=False)
    assert retired.status_code == 303
    assert "M_CITY_BAN" not in {m["code"] for m in admin.get("/api/v1/sanctions/measures").json()}
    assert "M_CITY_BAN" not in admin.get("/measures").text

    red = {"code": "RED_CITY", "name": "市级守信激励对象名单", "category": "守信激励对象名单", "issuing_authority": "市信用办",
           "maintaining_sectors": ["发展改革"], "basis": "LOCAL_NJ_CREDIT", "exit_conditions": "期满移出", "period_months": 12}
    made = admin.post("/sanctions/list-types/new", data={"yaml_text": json.dumps(red, ensure_ascii=False)},
                      follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/sanctions/lists/RED_CITY"
    assert "由发展改革部门在平台上列入和移出" in admin.get("/sanctions/lists/RED_CITY").text


# --- lists ------------------------------------------------------------------------------------------------------

def test_a_department_puts_subjects_on_its_own_lists_and_takes_them_off(stage: Stage, client_for: Clients) -> None:
    fgw = login(client_for("public"), "fgw")
    page = fgw.get("/sanctions/lists/RED_HONOUR")
    assert page.status_code == 200 and "列入名单" in page.text
    entry = {"subject_code": CLEAN_CODE, "decision_number": "宁信用办〔2026〕12号", "decision_date": "2026-05-20",
             "reasons": "2025年度诚信建设示范企业"}
    future = fgw.post("/sanctions/lists/RED_HONOUR/entries", data=entry | {"decision_date": "2026-07-01"})
    assert future.status_code == 422 and "LIST_DECISION_FUTURE" in future.text
    added = fgw.post("/sanctions/lists/RED_HONOUR/entries", data=entry, follow_redirects=False)
    assert added.status_code == 303
    listed = fgw.get("/sanctions/lists/RED_HONOUR").text
    assert "南京清白建设有限公司" in listed and "在列" in listed and "2028-05-20" in listed  # 24 months
    duplicate = fgw.post("/sanctions/lists/RED_HONOUR/entries", data=entry)
    assert duplicate.status_code == 409 and "LIST_ENTRY_EXISTS" in duplicate.text

    applier = client_for("applying_department")
    rewarded = api_check(applier, [CLEAN_CODE], "BIDDING").json()["results"][0]
    assert rewarded["outcome"] == "reward"
    assert [h["measure"]["code"] for h in rewarded["incentives"]] == ["I_DEPOSIT_RELIEF"]

    market = client_for("department_submitter")
    assert "列入名单" not in market.get("/sanctions/lists/RED_HONOUR").text
    refused = market.post("/api/v1/sanctions/entries", json=entry | {"list_type": "RED_HONOUR", "decision_number": "X2"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "LIST_NOT_YOURS"
    follows = market.post("/sanctions/lists/BUSINESS_ABNORMAL/entries", data=entry)
    assert follows.status_code == 422 and "LIST_FOLLOWS_RECORDS" in follows.text
    assert applier.post("/api/v1/sanctions/entries", json=entry | {"list_type": "RED_HONOUR"}).status_code == 403

    entries = fgw.get("/api/v1/sanctions/lists/RED_HONOUR/entries").json()
    assert entries["total"] == 1 and entries["items"][0]["status"] == "在列"
    entry_id = entries["items"][0]["id"]
    bad = fgw.post(f"/sanctions/entries/{entry_id}/exit", data={"reason": "fulfilled", "note": ""})
    assert bad.status_code == 422 and "LIST_EXIT_INVALID" in bad.text
    left = fgw.post(f"/sanctions/entries/{entry_id}/exit", data={"reason": "fulfilled", "note": "发生失信行为，立即移出"},
                    follow_redirects=False)
    assert left.status_code == 303
    after = fgw.get("/api/v1/sanctions/lists/RED_HONOUR/entries").json()["items"][0]
    assert (after["status"], after["exit_reason"]) == ("已移出（满足移出条件）", "fulfilled")  # kept, never deleted
    assert api_check(applier, [CLEAN_CODE], "BIDDING").json()["results"][0]["outcome"] == "clean"
    again = fgw.post(f"/api/v1/sanctions/entries/{entry_id}/exit", json={"reason": "fulfilled", "note": "再次移出"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "LIST_ENTRY_NOT_IN_FORCE"

    assert applier.post(f"/sanctions/entries/{stage.abnormal_entry_id}/exit", data={"reason": "repair"}).status_code == 403
    admin = client_for("authority_admin")
    assert "信用修复" in admin.get("/sanctions/lists/BUSINESS_ABNORMAL").text  # only the authority repairs
    repaired = admin.post(f"/sanctions/entries/{stage.abnormal_entry_id}/exit", follow_redirects=False,
                          data={"reason": "repair", "decision_number": "宁信修〔2026〕2号", "note": "已补报年度报告，完成信用修复"})
    assert repaired.status_code == 303
    assert RESTRICT not in api_check(applier, [SUBJECT_CODE]).text

    lists = applier.get("/api/v1/sanctions/lists").json()
    counts = {t["code"]: t["in_force"] for t in lists}
    assert counts["BUSINESS_ABNORMAL"] == 0 and counts["RED_HONOUR"] == 0
    assert "随目录信息项" in applier.get("/sanctions/lists/BUSINESS_ABNORMAL").text
    assert count(stage.session, ListExit) == 2 and count(stage.session, ListEntry) == 2  # nothing deleted
