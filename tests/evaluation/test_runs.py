"""Batch runs: every subject in scope scored, explained, reproducible, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.support.world import DEPARTMENT_CODE, SUBJECT_CODE, World, penalty_payload
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.config import Settings
from xinyong.db import session_factory
from xinyong.errors import Invalid
from xinyong.evaluation import engine, service
from xinyong.evaluation.models import EvaluationResult
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.schemas import OrganisationIn

SYSTEM = Actor.system()


@pytest.fixture
def factory(settings: Settings, world: World, seeded: Session) -> sessionmaker[Session]:
    """The world (one penalised company) plus a clean company, an honoured one and a person.

    Real time, not a frozen clock: the world's records were received now, and a run reads only
    facts received by its cut-off.
    """
    service.seed(seeded, SYSTEM)
    submitter = access.actor_for(next(u for u in access.users(seeded) if u.username == "scjg"))
    for index, name in enumerate(["南京清白科技有限公司", "南京荣誉制造有限公司"]):
        subjects.register_organisation(seeded, SYSTEM, OrganisationIn(
            uscc=uscc.build("9", "1", "320102", f"MA1X{index:04d}"), name=name))
    honoured = SubjectRef(uscc=uscc.build("9", "1", "320102", "MA1X0001"), name="南京荣誉制造有限公司")
    for year in (2023, 2024, 2025, 2026):
        records.submit(seeded, submitter, "HONOUR", honoured, {"RYMC": f"{year}年度守合同重信用企业", "SYJG": "南京市人民政府",
                                                                "SYRQ": f"{year}-03-01", "RYJB": "市级"},
                       department_id=world.department_id, department_code=DEPARTMENT_CODE)
    records.submit(seeded, submitter, "HONOUR", SubjectRef(citizen_id="11010519491231002X", name="王小明"),
                   {"RYMC": "见义勇为先进个人", "SYJG": "南京市人民政府", "SYRQ": "2026-02-02", "RYJB": "市级"},
                   department_id=world.department_id, department_code=DEPARTMENT_CODE)
    seeded.commit()
    return session_factory(settings)


def by_name(factory: sessionmaker[Session], run_id: int) -> dict[str, tuple[float, str]]:
    with factory() as session:
        rows, _ = service.results(session, run_id, limit=1000)
        names = {s.id: s.name for s in subjects.by_ids(session, [r.subject_id for r in rows])}
        return {names[r.subject_id]: (r.score, r.grade) for r in rows}


def test_a_run_scores_every_subject_in_scope_and_explains_it(factory: sessionmaker[Session], world: World) -> None:
    run = service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today())
    assert run.status == "succeeded" and run.population == 3 and run.duration_ms is not None
    scores = by_name(factory, run.id)
    assert scores["南京清白科技有限公司"] == (700.0, "B")
    assert scores["南京荣誉制造有限公司"] == (760.0, "A")  # three honours count (cap 3) at +20 each
    penalised, grade = scores["南京示范科技有限公司"]
    assert penalised < 690 and grade == "C"  # a penalty in the last year: below 良
    assert "王小明" not in scores  # persons are outside the organisations' model
    assert sum(run.grade_counts.values()) == 3
    with factory() as session:
        explanation = service.explain(session, run.id, world.subject_id)
        stored = service.result(session, run.id, world.subject_id)
        assert stored is not None
        assert (explanation.score, explanation.values) == (stored.score, stored.indicator_values)
        assert explanation.records["penalties"] == [world.record_id]
        assert explanation.records["fines"] == [world.record_id]
        assert explanation.values["fines"] == 2.0  # the penalty's 罚款金额（万元）


def test_natural_persons_get_only_the_incentive_model(factory: sessionmaker[Session]) -> None:
    run = service.run_model(factory, SYSTEM, "PERSON_INCENTIVE", clock.today())
    assert by_name(factory, run.id) == {"王小明": (20.0, "B")}


def test_runs_are_reproducible_from_version_as_of_and_cutoff(factory: sessionmaker[Session], world: World) -> None:
    first = service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today())
    again = service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today(), cutoff=first.data_cutoff)
    assert by_name(factory, first.id) == by_name(factory, again.id)
    clock.advance(timedelta(hours=1))
    with factory() as session, session.begin():
        submitter = access.actor_for(next(u for u in access.users(session) if u.username == "scjg"))
        records.submit(session, submitter, "ADM_PENALTY", SubjectRef(uscc=SUBJECT_CODE, name="南京示范科技有限公司"),
                       penalty_payload("宁玄市监处罚〔2026〕2号", amount="20"), department_id=world.department_id,
                       department_code=DEPARTMENT_CODE)
    same_cutoff = service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today(), cutoff=first.data_cutoff)
    assert by_name(factory, same_cutoff.id) == by_name(factory, first.id)  # later facts do not leak in
    later = service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today())
    assert by_name(factory, later.id)["南京示范科技有限公司"] < by_name(factory, first.id)["南京示范科技有限公司"]


def test_an_as_of_date_in_the_future_is_refused(factory: sessionmaker[Session]) -> None:
    with pytest.raises(Invalid) as error:
        service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today() + timedelta(days=1))
    assert error.value.code == "EVAL_AS_OF_FUTURE"


def test_a_failed_run_leaves_the_previous_results_in_place(factory: sessionmaker[Session],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    good = service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today())

    def store_then_crash(session: Session, run_id: int, table: object) -> None:
        service.bulk_insert(session, EvaluationResult.__table__, [
            {"run_id": run_id, "subject_id": 1, "score": 1.0, "grade": "D", "indicator_values": {}}])
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(service, "_store", store_then_crash)
    with pytest.raises(RuntimeError):
        service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today())
    with factory() as session:
        failed = service.runs(session, code="PUBLIC_CREDIT_ORG")[0]
        assert failed.status == "failed" and "磁盘已满" in failed.error
        assert session.scalar(select(func.count()).select_from(EvaluationResult)
                              .where(EvaluationResult.run_id == failed.id)) == 0
        latest = service.latest_run(session, "PUBLIC_CREDIT_ORG")
        assert latest is not None and latest.id == good.id


def test_an_empty_population_is_refused_and_recorded(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        data = service.seed_specs()[0] | {"code": "GOVERNMENT_ONLY", "subject_kinds": ["government"]}
        service.create_model(session, SYSTEM, service.parse_spec(data))
    with pytest.raises(Invalid) as error:
        service.run_model(factory, SYSTEM, "GOVERNMENT_ONLY", clock.today())
    assert error.value.code == "EVAL_POPULATION_EMPTY"
    with factory() as session:
        assert service.runs(session, code="GOVERNMENT_ONLY")[0].status == "failed"


def test_the_engine_and_the_reference_agree_on_demo_data(seeded: Session, settings: Settings) -> None:
    """Realistic data from the demo generator: every subject's stored values equal the Python reference."""
    from xinyong import demo

    demo.generate(seeded, subjects=150)
    service.seed(seeded, SYSTEM)
    seeded.commit()
    factory = session_factory(settings)
    run = service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today())
    assert run.population > 100 and run.facts > 50
    with factory() as session:
        rows, _ = service.results(session, run.id, limit=1000)
        for row in rows:
            explanation = service.explain(session, run.id, row.subject_id)
            assert (explanation.score, explanation.grade, explanation.values) == (
                row.score, row.grade, row.indicator_values), row.subject_id
    assert len({r.grade for r in rows}) >= 3  # the demo spreads subjects over grades


def test_fields_read_are_only_those_the_model_names() -> None:
    spec = service.parse_spec(service.seed_specs()[0])
    assert engine.fields_read(spec)["ADM_PENALTY"] == ["CF_NR_FK"]
    assert engine.fields_read(spec)["COMMITMENT"] == ["LYZT"]


# --- web --------------------------------------------------------------------------------------------------

def test_pages_for_the_authority_departments_and_the_subject(factory: sessionmaker[Session], world: World,
                                                             client_for: Callable[[str], TestClient]) -> None:
    admin = client_for("authority_admin")
    assert "公共信用综合评价" in admin.get("/evaluation").text
    page = admin.get("/evaluation/models/PUBLIC_CREDIT_ORG")
    assert page.status_code == 200 and "行政处罚次数" in page.text
    response = admin.post("/evaluation/models/PUBLIC_CREDIT_ORG/run", data={"as_of": clock.today().isoformat()},
                          follow_redirects=False)
    assert response.status_code == 303
    run_page = admin.get(response.headers["location"])
    assert "完成" in run_page.text and "南京示范科技有限公司" in run_page.text
    run_id = int(response.headers["location"].rsplit("/", 1)[1])
    explanation = admin.get(f"/evaluation/runs/{run_id}/subjects/{world.subject_id}")
    assert explanation.status_code == 200 and f"#{world.record_id}" in explanation.text

    department = client_for("applying_department")
    grades = department.get(f"/api/v1/evaluation/subjects/{SUBJECT_CODE}").json()
    assert [g["model_code"] for g in grades] == ["PUBLIC_CREDIT_ORG"] and grades[0]["indicators"] is None

    own = client_for("subject_user")
    mine = own.get("/api/v1/me/evaluation").json()
    assert mine[0]["grade"] == grades[0]["grade"]
    penalties = next(i for i in mine[0]["indicators"] if i["code"] == "penalties")
    assert penalties["record_ids"] == [world.record_id]
    assert "我的评价" in own.get("/me/evaluation").text
    assert own.get("/evaluation").status_code == 403
    assert client_for("public").get(f"/api/v1/evaluation/subjects/{SUBJECT_CODE}").status_code == 401


def test_models_are_edited_as_yaml_in_the_browser_form(factory: sessionmaker[Session],
                                                        client_for: Callable[[str], TestClient]) -> None:
    admin = client_for("authority_admin")
    text = admin.get("/api/v1/evaluation/models/PUBLIC_CREDIT_ORG/yaml").text
    bad = admin.post("/evaluation/models/PUBLIC_CREDIT_ORG/edit",
                     data={"yaml_text": text.replace("item: HONOUR", "item: IP_PLEDGE"), "note": "试图读取不可用信息项"})
    assert bad.status_code == 422 and "MODEL_ITEM_NOT_USABLE" in bad.text
    good = admin.post("/evaluation/models/PUBLIC_CREDIT_ORG/edit",
                      data={"yaml_text": text.replace("base_score: 700", "base_score: 710"), "note": "调整基础分"},
                      follow_redirects=False)
    assert good.status_code == 303
    assert "第 2 版" in admin.get("/evaluation/models/PUBLIC_CREDIT_ORG").text


def test_dashboards_group_grades_and_show_movement(factory: sessionmaker[Session], world: World,
                                                   client_for: Callable[[str], TestClient]) -> None:
    first = service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today())
    with factory() as session:
        assert service.distribution(session, first.id, "kind") == {"企业法人": {"A": 1, "B": 1, "C": 1}}
        assert sum(sum(c.values()) for c in service.distribution(session, first.id, "region").values()) == 3
        assert service.movement(session, first.id).previous_run_id is None
    with factory() as session, session.begin():
        submitter = access.actor_for(next(u for u in access.users(session) if u.username == "scjg"))
        records.submit(session, submitter, "LIST_SERIOUS", SubjectRef(uscc=SUBJECT_CODE, name="南京示范科技有限公司"),
                       {"MDLX": "严重违法失信名单", "RDWH": "宁市监严〔2026〕3号", "RDYY": "提交虚假材料取得许可",
                        "RDRQ": clock.today().isoformat(), "RDJG": "南京市市场监督管理局"},
                       department_id=world.department_id, department_code=DEPARTMENT_CODE)
    second = service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today())
    with factory() as session:
        moved = service.movement(session, second.id)
    assert moved.previous_run_id == first.id
    assert moved.matrix == {"A": {"A": 1}, "B": {"B": 1}, "C": {"D": 1}} and (moved.entered, moved.left) == (0, 0)
    page = client_for("authority_admin").get(f"/evaluation/runs/{second.id}")
    assert "等级变动" in page.text and 'id="chart-region"' in page.text


def test_an_industry_models_results_flow_back_as_the_departments_records(factory: sessionmaker[Session],
                                                                          world: World) -> None:
    with factory() as session, session.begin():
        submitter = access.actor_for(next(u for u in access.users(session) if u.username == "scjg"))
        data = service.seed_specs()[0] | {"code": "MARKET_INDUSTRY", "name": "市场监管行业信用评价", "owner": "玄武区市场监管局"}
        service.create_model(session, submitter, service.parse_spec(data))
    run = service.run_model(factory, submitter, "MARKET_INDUSTRY", clock.today())
    with factory() as session, session.begin():
        assert service.publish_as_records(session, submitter, run.id) == 3
    with factory() as session, session.begin():
        assert service.publish_as_records(session, submitter, run.id) == 3  # again: recognised, not duplicated
        rows = [r for r in records.current_for_subject(session, world.subject_id) if r.item_code == "EVAL_RESULT"]
        assert len(rows) == 1 and rows[0].department_id == world.department_id
        assert rows[0].payload["PJLX"] == "市场监管行业信用评价" and rows[0].payload["PJDJ"] == "C（中）"
    public = service.run_model(factory, SYSTEM, "PUBLIC_CREDIT_ORG", clock.today())
    with factory() as session, pytest.raises(Invalid) as error:
        service.publish_as_records(session, SYSTEM, public.id)
    assert error.value.code == "EVAL_NOT_INDUSTRY_MODEL"
