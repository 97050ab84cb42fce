"""Graded supervision and 双随机 draws: versioned schemes, reproducible audited draws, lists, results as records."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import fastexcel
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.support.world import DEPARTMENT_CODE, World
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.config import Settings
from xinyong.db import session_factory
from xinyong.errors import DomainError, Forbidden, Invalid
from xinyong.evaluation import draws, service, supervision
from xinyong.evaluation.models import SupervisionDrawItem, SupervisionScheme
from xinyong.evaluation.supervision_schemas import PopulationFilter, SchemeSpec
from xinyong.ingest import service as ingest
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.schemas import OrganisationIn

SYSTEM = Actor.system()
MODEL = "PUBLIC_CREDIT_ORG"
EVERYONE = PopulationFilter()


def company(index: int, region: str = "320102") -> str:
    return uscc.build("9", "1", region, f"MA1T{index:04d}")


@dataclass
class Setting:
    factory: sessionmaker[Session]
    submitter: Actor  # scjg, 玄武区市场监管局
    admin: Actor
    applier: Actor  # an applying department's account
    department_id: int
    applying_department_id: int
    run_id: int
    grade_counts: dict[str, int]


@pytest.fixture
def setting(settings: Settings, world: World, seeded: Session) -> Setting:
    """The world plus 40 companies over two districts and industries: honoured (A), listed once as abnormal
    (lower), on the serious list (D), and the rest with no records (B); the run grades them all."""
    service.seed(seeded, SYSTEM)
    assert supervision.seed(seeded, SYSTEM) == 1
    users = {u.username: u for u in access.users(seeded)}
    submitter, admin = access.actor_for(users["scjg"]), access.actor_for(users["u_authority_admin"])
    applier = access.actor_for(users["u_applying_department"])
    for index in range(40):
        subjects.register_organisation(seeded, SYSTEM, OrganisationIn(
            uscc=company(index, "320102" if index < 25 else "320104"), name=f"南京抽查样本{index:02d}有限公司",
            industry="F" if index % 2 else "C"))

    def submit(index: int, item: str, payload: dict[str, str]) -> None:
        records.submit(seeded, submitter, item, SubjectRef(uscc=company(index, "320102"), name=f"南京抽查样本{index:02d}有限公司"),
                       payload, department_id=world.department_id, department_code=DEPARTMENT_CODE)

    for index in range(4):  # three honours: 760
        for year in (2023, 2024, 2025):
            submit(index, "HONOUR", {"RYMC": f"{year}年度诚信经营示范企业", "SYJG": "南京市人民政府",
                                     "SYRQ": f"{year}-03-01", "RYJB": "市级"})
    for index in range(4, 8):  # one abnormal-list entry: 640
        submit(index, "LIST_ABNORMAL", {"LRWH": f"宁玄市监异〔2026〕{index}号", "LRYY": "未按规定报送年度报告",
                                        "LRRQ": "2026-01-10", "ZCJG": "南京市玄武区市场监督管理局"})
    for index in range(8, 11):  # serious list: 400
        submit(index, "LIST_SERIOUS", {"MDLX": "严重违法失信名单", "RDWH": f"宁市监严〔2026〕{index}号",
                                       "RDYY": "提交虚假材料取得许可", "RDRQ": "2026-01-10", "RDJG": "南京市市场监督管理局"})
    applying = access.department_of(seeded, applier)
    seeded.commit()
    factory = session_factory(settings)
    run = service.run_model(factory, SYSTEM, MODEL, clock.today())
    assert set(run.grade_counts) == {"A", "B", "C", "D"} and run.population == 41
    return Setting(factory, submitter, admin, applier, world.department_id, applying.id, run.id, run.grade_counts)


def items_of(session: Session, draw_id: int) -> list[tuple[int, str | None, str]]:
    return [(i.subject_id, i.grade, i.tier) for i in supervision.draw_items(session, draw_id)]


# --- schemes ------------------------------------------------------------------------------------------------

def test_a_scheme_for_an_incentive_model_is_refused(setting: Setting) -> None:
    with setting.factory() as session:
        spec = SchemeSpec.model_validate({"grades": [{"grade": g, "tier": "一般监管", "ratio": 0.05, "frequency": 1}
                                                     for g in ("A", "B", "N")],
                                          "ungraded": {"tier": "一般监管", "ratio": 0.05, "frequency": 1}})
        with pytest.raises(Invalid) as error:
            supervision.save_scheme(session, setting.admin, "PERSON_INCENTIVE", spec, "试图对个人加强监管")
        assert error.value.code == "SUPERVISION_INCENTIVE_MODEL" and "守信激励" in error.value.message
        assert supervision.scheme_versions(session, "PERSON_INCENTIVE") == []
        with pytest.raises(Invalid) as error:
            supervision.draw(session, setting.admin, setting.department_id, "PERSON_INCENTIVE", EVERYONE)
        assert error.value.code == "SUPERVISION_INCENTIVE_MODEL"


def test_schemes_are_versioned_and_a_draw_keeps_its_version(setting: Setting) -> None:
    with setting.factory() as session, session.begin():
        first = supervision.scheme(session, MODEL)
        assert first is not None and first.version == 1
        drawn = supervision.draw(session, setting.submitter, None, MODEL, EVERYONE, seed=7)
        spec = SchemeSpec.model_validate(first.spec)
        stricter = spec.model_copy(update={"grades": [g.model_copy(update={"ratio": 0.5}) if g.grade == "D" else g
                                                      for g in spec.grades]})
        second = supervision.save_scheme(session, setting.admin, MODEL, stricter, "提高D级抽查比例")
        assert second.version == 2 and supervision.scheme(session, MODEL) == second
        with pytest.raises(Invalid) as error:
            supervision.save_scheme(session, setting.admin, MODEL, stricter, "再次保存")
        assert error.value.code == "SUPERVISION_SCHEME_UNCHANGED"
        missing = stricter.model_copy(update={"grades": stricter.grades[:3]})
        with pytest.raises(Invalid) as error:
            supervision.save_scheme(session, setting.admin, MODEL, missing, "漏掉D级")
        assert error.value.code == "SUPERVISION_GRADE_MISSING"
        with pytest.raises(Forbidden):
            supervision.save_scheme(session, setting.submitter, MODEL, spec, "部门不能制定方案")
    with setting.factory() as session:
        versions = supervision.scheme_versions(session, MODEL)
        assert [(v.version, v.spec["grades"][3]["ratio"]) for v in versions] == [(2, 0.5), (1, 0.3)]
        assert session.scalar(select(SupervisionScheme.spec).where(SupervisionScheme.id == first.id)) == first.spec
        assert supervision.draw_out(session, supervision.get_draw(session, SYSTEM, drawn.id)).scheme_version == 1
        assert supervision.verify(session, SYSTEM, drawn.id).reproduced  # drawn again under version 1, not 2
        assert [e.detail["version"] for e in audit.recent(session, action="supervision.scheme", limit=10)] == [2, 1]


# --- draws ---------------------------------------------------------------------------------------------------

def test_a_draw_picks_each_grades_share_and_is_reproducible_from_its_seed(setting: Setting) -> None:
    with setting.factory() as session, session.begin():
        first = supervision.draw(session, setting.submitter, None, MODEL, EVERYONE, seed=20260615)
        again = supervision.draw(session, setting.submitter, None, MODEL, EVERYONE, seed=20260615)
        other = supervision.draw(session, setting.submitter, None, MODEL, EVERYONE, seed=1)
    with setting.factory() as session:
        counts = {c["grade"]: (c["tier"], c["ratio"], c["population"], c["sample"]) for c in first.counts}
        ratios = {"A": ("信用良好", 0.03), "B": ("一般监管", 0.05), "C": ("重点关注", 0.1), "D": ("重点监管", 0.3)}
        assert counts == {**{g: (*ratios[g], n, draws.sample_size(n, ratios[g][1]))
                             for g, n in setting.grade_counts.items()}, None: ("一般监管", 0.05, 0, 0)}
        assert (first.population, first.run_id) == (41, setting.run_id)
        assert first.sample == sum(c["sample"] for c in first.counts) == len(items_of(session, first.id))
        assert items_of(session, first.id) == items_of(session, again.id)
        assert first.plan_number != again.plan_number
        assert len(items_of(session, other.id)) == first.sample
        grades = {s.grade for s in (supervision.draw_items(session, first.id))}
        assert grades == {"A", "B", "C", "D"}  # every grade with subjects and a positive ratio yields one
        verification = supervision.verify(session, SYSTEM, first.id)
        assert verification.reproduced and verification.population_unchanged and "20260615" in verification.message


def test_subjects_registered_after_a_draw_do_not_change_its_verification(setting: Setting) -> None:
    """They are ungraded (not in the run), and outside the population the draw recorded."""
    with setting.factory() as session, session.begin():
        drawn = supervision.draw(session, setting.admin, setting.department_id, MODEL, EVERYONE, seed=99)
        subjects.register_organisation(session, SYSTEM, OrganisationIn(uscc=company(77), name="南京后来登记有限公司"))
        later = supervision.draw(session, setting.admin, setting.department_id, MODEL, EVERYONE, seed=99)
    with setting.factory() as session:
        assert supervision.verify(session, SYSTEM, drawn.id).reproduced
        assert [c["population"] for c in later.counts if c["grade"] is None] == [1]  # the newcomer, ungraded
        assert items_of(session, later.id)[-1][1:] == (None, "一般监管")


def test_a_changed_list_fails_verification(setting: Setting) -> None:
    with setting.factory() as session, session.begin():
        drawn = supervision.draw(session, setting.submitter, None, MODEL, EVERYONE, seed=5)
        listed = {i.subject_id for i in supervision.draw_items(session, drawn.id)}
        favoured = next(s for s in range(1, 100) if s not in listed and subjects.by_ids(session, [s]))
        session.execute(update(SupervisionDrawItem).where(SupervisionDrawItem.draw_id == drawn.id,
                                                          SupervisionDrawItem.position == 1).values(subject_id=favoured))
    with setting.factory() as session:
        verification = supervision.verify(session, SYSTEM, drawn.id)
        assert not verification.reproduced and verification.population_unchanged and "改动" in verification.message


def test_every_draw_is_audited_with_its_seed_counts_and_run(setting: Setting) -> None:
    with setting.factory() as session, session.begin():
        drawn = supervision.draw(session, setting.submitter, None, MODEL,
                                 PopulationFilter(region_prefix="320104", industry="F"))
    with setting.factory() as session:
        (entry,) = audit.recent(session, action="supervision.draw", limit=10)
        assert (entry.actor, entry.object_id) == ("scjg", str(drawn.id))
        assert entry.detail["seed"] == drawn.seed and entry.detail["seed_generated"] is True
        assert 0 <= drawn.seed < 2**53
        assert entry.detail["run"] == setting.run_id and entry.detail["plan_number"] == drawn.plan_number
        assert entry.detail["filter"] == {"region_prefix": "320104", "industry": "F", "codes": [],
                                          "subject_kinds": ["enterprise", "individual_business", "cooperative",
                                                            "social_org", "public_institution", "other_org"]}
        # companies 25..39 are in 320104, the odd ones in F: 25, 27, … 39 → eight, with no records, all B
        assert entry.detail["population"] == 8 and entry.detail["sample"] == drawn.sample == 1
        assert [(c["grade"], c["population"], c["sample"]) for c in entry.detail["counts"] if c["population"]] == [
            ("B", 8, 1)]
        assert audit.verify(session).ok


def test_a_department_draws_only_for_itself_and_sees_only_its_draws(setting: Setting) -> None:
    with setting.factory() as session, session.begin():
        with pytest.raises(Forbidden) as error:
            supervision.draw(session, setting.submitter, setting.applying_department_id, MODEL, EVERYONE)
        assert error.value.code == "SUPERVISION_DRAW_NOT_YOURS"
        own = supervision.draw(session, setting.submitter, None, MODEL, EVERYONE)
        assert own.department_id == setting.department_id
        for_applier = supervision.draw(session, setting.admin, setting.applying_department_id, MODEL, EVERYONE)
        with pytest.raises(Invalid) as error:
            supervision.draw(session, setting.admin, None, MODEL, EVERYONE)
        assert error.value.code == "SUPERVISION_DEPARTMENT_REQUIRED"
    with setting.factory() as session:
        with pytest.raises(Forbidden) as error:
            supervision.get_draw(session, setting.applier, own.id)
        assert error.value.code == "SUPERVISION_DRAW_NOT_YOURS"
        assert [d.id for d in supervision.list_draws(session, setting.submitter)] == [own.id]
        assert [d.id for d in supervision.list_draws(session, setting.applier)] == [for_applier.id]
        assert [d.id for d in supervision.list_draws(session, setting.admin)] == [for_applier.id, own.id]


def test_an_empty_or_impossible_population_is_refused(setting: Setting) -> None:
    cases = [(PopulationFilter(region_prefix="4401"), "SUPERVISION_POPULATION_EMPTY"),
             (PopulationFilter(industry="J"), "SUPERVISION_POPULATION_EMPTY"),
             (PopulationFilter(subject_kinds=["natural_person"]), "SUPERVISION_PERSONS_EXCLUDED"),
             (PopulationFilter(subject_kinds=["government"]), "SUPERVISION_KIND_NOT_IN_MODEL"),
             (PopulationFilter(codes=[uscc.build("9", "1", "320102", "MA1YYYYY")]), "SUPERVISION_CODES_UNKNOWN")]
    with setting.factory() as session:
        for wanted, code in cases:
            with pytest.raises(DomainError) as error:
                supervision.draw(session, setting.submitter, None, MODEL, wanted)
            assert error.value.code == code and error.value.message, wanted
        assert supervision.list_draws(session, SYSTEM) == []


def test_no_draw_without_a_scheme_or_a_run(setting: Setting) -> None:
    with setting.factory() as session, session.begin():
        data = service.seed_specs()[0] | {"code": "NEW_ORG_MODEL", "name": "新的综合评价"}
        service.create_model(session, SYSTEM, service.parse_spec(data))
        with pytest.raises(Invalid) as error:
            supervision.draw(session, setting.submitter, None, "NEW_ORG_MODEL", EVERYONE)
        assert error.value.code == "SUPERVISION_SCHEME_MISSING"
        spec = SchemeSpec.model_validate(supervision.scheme(session, MODEL).spec)  # type: ignore[union-attr]
        supervision.save_scheme(session, setting.admin, "NEW_ORG_MODEL", spec, "沿用综合评价方案")
        with pytest.raises(Invalid) as error:
            supervision.draw(session, setting.submitter, None, "NEW_ORG_MODEL", EVERYONE)
        assert error.value.code == "SUPERVISION_NO_RUN"


# --- the inspection list and results -----------------------------------------------------------------------------

def sheet_rows(content: bytes) -> list[list[object]]:
    frame = fastexcel.read_excel(content).load_sheet(0, header_row=None).to_polars()
    return [list(row) for row in frame.iter_rows()]


def test_the_inspection_list_is_a_workbook_with_the_draw_and_its_subjects(setting: Setting) -> None:
    with setting.factory() as session, session.begin():
        drawn = supervision.draw(session, setting.submitter, None, MODEL, EVERYONE, seed=11)
        subjects.register_organisation(session, SYSTEM, OrganisationIn(uscc=company(88), name="=HYPERLINK(\"x\")有限公司"))
        tricky = supervision.draw(session, setting.admin, setting.department_id, MODEL,
                                  PopulationFilter(codes=[company(88)]), seed=3)  # not in the run: ungraded
    with setting.factory() as session, session.begin():
        export = supervision.inspection_list_xlsx(session, setting.submitter, drawn.id)
        listed = supervision.draw_out(session, drawn, with_items=True).items
    assert export.filename == f"{drawn.plan_number}.xlsx"
    rows = sheet_rows(export.content)
    assert rows[0][0] == "双随机抽查检查对象名单"
    block = {row[0]: row[1] for row in rows[1:11]}
    assert block["抽查计划编号"] == drawn.plan_number and block["检查部门"] == "南京市玄武区市场监督管理局"
    assert block["随机种子"] == "11" and f"#{setting.run_id}" in block["评价批次"] and block["监管方案"] == "第1版"
    header_at = next(i for i, row in enumerate(rows) if row[0] == "序号")
    assert rows[header_at][:8] == ["序号", "统一社会信用代码", "主体名称", "主体类型", "所在地区", "信用等级", "监管类别", "抽查比例"]
    body = rows[header_at + 1:]
    assert listed is not None and len(body) == len(listed) == drawn.sample
    assert [(int(r[0]), r[1], r[2], r[5], r[6]) for r in body] == [  # type: ignore[arg-type]
        (i.position, i.uscc, i.name, i.grade, i.tier) for i in listed]
    assert body[0][4].startswith("江苏省")  # type: ignore[union-attr]
    with setting.factory() as session, session.begin():
        (entry,) = audit.recent(session, action="supervision.export", limit=5)
        assert entry.object_id == str(drawn.id)
        trick = supervision.inspection_list_xlsx(session, setting.admin, tricky.id)
    assert sheet_rows(trick.content)[-1][2:7] == ["'=HYPERLINK(\"x\")有限公司", "企业法人", uscc.region_name("320102"),
                                                   "未评价", "一般监管"]  # the name shown as text, never run
    with zipfile.ZipFile(BytesIO(trick.content)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_a_result_for_a_drawn_subject_is_an_ordinary_record(setting: Setting) -> None:
    with setting.factory() as session, session.begin():
        drawn = supervision.draw(session, setting.submitter, None, MODEL, EVERYONE, seed=8)
        first = supervision.draw_items(session, drawn.id)[0]
        submission = supervision.submit_result(session, setting.submitter, drawn.id, first.subject_id,
                                               matter="食品经营许可事项检查", inspected_on="2026-02-03",
                                               outcome="发现问题已责令改正")
        outsider = next(s for s in range(1, 100) if s not in {i.subject_id for i in supervision.draw_items(session, drawn.id)}
                        and subjects.by_ids(session, [s]))
        with pytest.raises(Invalid) as error:
            supervision.submit_result(session, setting.submitter, drawn.id, outsider, matter="检查",
                                      inspected_on="2026-02-03", outcome="未发现问题")
        assert error.value.code == "SUPERVISION_SUBJECT_NOT_DRAWN"
        with pytest.raises(records.PayloadInvalid):
            supervision.submit_result(session, setting.submitter, drawn.id, first.subject_id, matter="检查",
                                      inspected_on="2026-02-03", outcome="随便写的结果")
        with pytest.raises(Forbidden):
            supervision.submit_result(session, setting.admin, drawn.id, first.subject_id, matter="检查",
                                      inspected_on="2026-02-03", outcome="未发现问题")
    with setting.factory() as session:
        record = records.get(session, submission.record.id)
        assert submission.outcome == "accepted" and records.is_current(session, record)
        assert (record.item_code, record.department_id, record.subject_id) == (
            "INSPECTION_RESULT", setting.department_id, first.subject_id)
        assert record.natural_key == drawn.plan_number and record.decision_date.isoformat() == "2026-02-03"
        assert record.payload["CC_JCJG"] == "南京市玄武区市场监督管理局" and record.published  # 一公开
        assert record in records.current_for_subject(session, first.subject_id)


def test_the_results_template_goes_back_through_collection(setting: Setting, settings: Settings,
                                                             tmp_path: Path) -> None:
    with setting.factory() as session, session.begin():
        drawn = supervision.draw(session, setting.submitter, None, MODEL, EVERYONE, seed=21)
        template = supervision.results_template_xlsx(session, setting.submitter, drawn.id)
    rows = sheet_rows(template.content)
    header, body = [str(c) for c in rows[0]], rows[1:]
    assert header[:3] == ["行政相对人名称", "统一社会信用代码", "抽查计划编号"] and len(body) == drawn.sample
    filled = []
    for row in body:
        values = dict(zip(header, ["" if v is None else str(v) for v in row], strict=True))
        assert values["抽查计划编号"] == drawn.plan_number and values["检查机关"] == "南京市玄武区市场监督管理局"
        filled.append(values | {"检查事项": "产品质量抽查", "检查日期": "2026-03-02", "检查结果": "未发现问题"})
    path = tmp_path / "检查结果.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(filled)
    with setting.factory() as session, session.begin():
        batch = ingest.submit_file(session, setting.submitter, "INSPECTION_RESULT", path, path.name)
    done = ingest.run_batch(setting.factory, batch.id)
    assert (done.status, done.accepted, done.rejected) == ("done", drawn.sample, 0)
    with setting.factory() as session:
        for item in supervision.draw_items(session, drawn.id):
            (result,) = [r for r in records.current_for_subject(session, item.subject_id)
                         if r.item_code == "INSPECTION_RESULT"]
            assert result.natural_key == drawn.plan_number and result.payload["CC_JG"] == "未发现问题"


# --- web and API --------------------------------------------------------------------------------------------

def test_pages_and_api_for_the_authority_and_a_department(setting: Setting, world: World,
                                                           client_for: Callable[[str], TestClient]) -> None:
    admin = client_for("authority_admin")
    assert "公共信用综合评价" in admin.get("/supervision").text
    page = admin.get(f"/supervision/models/{MODEL}")
    assert page.status_code == 200 and "重点监管" in page.text and "保存为新版本" in page.text
    form = {f"tier:{g}": t for g, t in zip("ABCD_", ["信用良好", "一般监管", "重点关注", "重点监管", "一般监管"], strict=True)}
    form |= {f"ratio:{g}": r for g, r in zip("ABCD_", ["2", "5", "10", "40%", "5"], strict=True)}
    form |= {f"frequency:{g}": f for g, f in zip("ABCD_", ["1", "1", "2", "4", "1"], strict=True)}
    saved = admin.post(f"/supervision/models/{MODEL}", data=form | {"note": "D级抽查比例提高到40%"}, follow_redirects=False)
    assert saved.status_code == 303
    scheme = admin.get(f"/api/v1/supervision/schemes/{MODEL}").json()
    assert scheme["version"] == 2 and [g["ratio"] for g in scheme["spec"]["grades"]] == [0.02, 0.05, 0.1, 0.4]
    bad = admin.post(f"/supervision/models/{MODEL}", data=form | {"ratio:D": "140", "note": "比例超限"})
    assert bad.status_code == 422 and "SUPERVISION_RATIO_INVALID" in bad.text
    incentive = admin.get("/supervision/models/PERSON_INCENTIVE")
    assert "不能为它制定监管方案" in incentive.text and "保存为新版本" not in incentive.text
    refused = admin.put("/api/v1/supervision/schemes/PERSON_INCENTIVE", json={"spec": scheme["spec"], "note": "试图监管个人"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "SUPERVISION_INCENTIVE_MODEL"

    department = client_for("department_submitter")
    assert "抽取" in department.get("/supervision/draws/new").text
    empty = department.post("/supervision/draws", data={"model_code": MODEL, "region_prefix": "4401"})
    assert empty.status_code == 422 and "SUPERVISION_POPULATION_EMPTY" in empty.text
    created = department.post("/supervision/draws", data={"model_code": MODEL, "seed": "42",
                                                           "subject_kinds": ["enterprise"]}, follow_redirects=False)
    assert created.status_code == 303
    detail = department.get(created.headers["location"])
    assert detail.status_code == 200 and "报送检查结果" in detail.text and "INSPECTION_RESULT" in detail.text
    draw_id = int(created.headers["location"].rsplit("/", 1)[1])
    assert "名单与记录一致" in department.get(f"/supervision/draws/{draw_id}?verify=1").text
    listed = department.get(f"/api/v1/supervision/draws/{draw_id}").json()
    assert listed["seed"] == 42 and listed["department_id"] == world.department_id and len(listed["items"]) == listed["sample"]
    download = department.get(f"/api/v1/supervision/draws/{draw_id}/inspection-list.xlsx")
    assert download.status_code == 200 and download.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert sheet_rows(download.content)[1][:2] == ["抽查计划编号", listed["plan_number"]]
    assert department.get(f"/api/v1/supervision/draws/{draw_id}/verification").json()["reproduced"] is True
    subject_id = listed["items"][0]["subject_id"]
    form_page = department.get(f"/supervision/draws/{draw_id}/subjects/{subject_id}/result")
    assert "不配合检查情节严重" in form_page.text
    reported = department.post(f"/supervision/draws/{draw_id}/subjects/{subject_id}/result",
                               data={"matter": "广告发布检查", "inspected_on": "2026-02-10", "outcome": "未发现问题"},
                               follow_redirects=False)
    assert reported.status_code == 303 and reported.headers["location"].startswith("/records/")
    assert listed["plan_number"] in department.get(reported.headers["location"]).text

    api = department.post("/api/v1/supervision/draws", json={"model_code": MODEL, "department_id": world.department_id + 1})
    assert api.status_code == 403 and api.json()["error"]["code"] == "SUPERVISION_DRAW_NOT_YOURS"
    applying = client_for("applying_department")
    assert applying.get("/supervision").status_code == 200
    assert applying.get(f"/supervision/draws/{draw_id}").status_code == 403
    assert applying.post("/api/v1/supervision/draws", json={"model_code": MODEL}).status_code == 403
    assert client_for("auditor").get("/supervision").status_code == 403
