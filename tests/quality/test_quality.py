"""归集共享质效评估: a known month of real batches, and the exact metrics, scores and ranking it must give.

March 2026 (Asia/Shanghai). 行政处罚 is due within 7 working days of its decision: decided on
Monday 2 March, it is due on Wednesday 11 March.

- A (鼓楼区市场监管局): batch 1 on 10 March, 4 rows on time (3, 3, 1 and 1 of 8 optional fields
  filled); batch 2 on 20 March: row 1 again unchanged (duplicate), row 2 changed (a correction,
  late), a row with an impossible date (rejected).
- B (秦淮区生态环境局): batch 1 on 13 March, 5 rows: 2 late, 2 late with the names of A's subjects
  misspelt (code conflicts), 1 without the required 违法事实 (rejected); every record fills 2 of
  8 optional fields. Batch 2: 2 rows of 行政强制 (no time limit, no optional fields). One record
  revoked on 25 March.
- C (建邺区税务局) and D (栖霞区税务局): one record each through the single-record API on 5 March,
  on time, 4 of 8 optional fields: no batches, so only timeliness and completeness count.
- E (江宁区市场监管局): created in February, stores nothing.
- April: A sends one row on time with 3 optional fields.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import ibis
import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support.world import PASSWORD
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.config import Settings
from xinyong.db import session_factory
from xinyong.errors import Invalid
from xinyong.ingest import service as ingest
from xinyong.ingest.models import IngestBatch
from xinyong.policy import service as policy
from xinyong.quality import engine
from xinyong.quality import service as quality
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import uscc

A, B, C, D, E = "鼓楼区市场监督管理局", "秦淮区生态环境局", "建邺区税务局", "栖霞区税务局", "江宁区市场监督管理局"
CODES = {A: uscc.build("1", "1", "320106", "01400011"), B: uscc.build("1", "1", "320104", "01400012"),
         C: uscc.build("1", "1", "320105", "01400013"), D: uscc.build("1", "1", "320113", "01400014"),
         E: uscc.build("1", "1", "320115", "01400015")}
SUBJECTS = [(f"南京质效测试{i}号有限公司", uscc.build("9", "1", "320106", f"MA1QA00{i}")) for i in range(1, 8)]
PENALTY_HEADER = ["行政相对人名称", "统一社会信用代码", "CF_WSH", "CF_WFXW", "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR",
                  "CF_JDRQ", "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "CF_SJLYDM", "CF_NR_FK", "CF_FDDB", "BZ"]
COERCION_HEADER = ["行政相对人名称", "统一社会信用代码", "QZ_WSH", "QZ_LB", "QZ_SY", "QZ_JDRQ", "QZ_JG"]
MARCH, APRIL = "2026-03", "2026-04"


def at(month: int, day: int, hour: int = 10) -> None:
    clock.freeze(datetime(2026, month, day, hour, 0, tzinfo=clock.SHANGHAI))


def penalty(department: str, subject: int, number: str, *, name: str | None = None, decided: str = "2026-03-02",
            amount: str = "", legal_rep: str = "", note: str = "", facts: str = "超范围经营") -> list[str]:
    subject_name, code = SUBJECTS[subject]
    return [name or subject_name, code, number, "超范围经营", facts, "《无证无照经营查处办法》第十三条", "罚款",
            "罚款1万元", decided, department, CODES[department], department, CODES[department], amount, legal_rep, note]


def coercion(department: str, subject: int, number: str) -> list[str]:
    subject_name, code = SUBJECTS[subject]
    return [subject_name, code, number, "查封场所设施财物", "拒不整改", "2026-01-05", department]


@dataclass
class Scenario:
    session: Session
    ids: dict[str, int]


class Desk:
    """Departments, their submitters, and files imported through the real collection path."""

    def __init__(self, session: Session, settings: Settings, tmp_path: Path) -> None:
        self.session, self.settings, self.tmp_path = session, settings, tmp_path
        self.actors: dict[str, Actor] = {}
        self.ids: dict[str, int] = {}

    def department(self, name: str, sector: str) -> None:
        department = access.create_department(self.session, code=CODES[name], name=name, short_name=name[:5],
                                              region_code=CODES[name][2:8], sector=sector)
        user = access.create_user(self.session, Actor.system(), access.NewUser(
            f"q{len(self.ids)}", PASSWORD, "department_submitter", name, department_id=department.id))
        self.actors[name], self.ids[name] = access.actor_for(user), department.id
        self.session.commit()

    def send(self, department: str, item: str, header: list[str], rows: list[list[str]]) -> IngestBatch:
        path = self.tmp_path / f"{department}-{item}-{len(list(self.tmp_path.iterdir()))}.csv"
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, *rows])
        path.write_text(buffer.getvalue(), encoding="utf-8")
        batch = ingest.submit_file(self.session, self.actors[department], item, path, path.name)
        self.session.commit()
        done = ingest.run_batch(session_factory(self.settings), batch.id)
        assert done.status == "done", (done.error_code, done.error_message)
        self.session.expire_all()
        return ingest.get_batch(self.session, batch.id)

    def single(self, department: str, subject: int, number: str) -> None:
        name, code = SUBJECTS[subject]
        payload = dict(zip(PENALTY_HEADER[2:], penalty(department, subject, number, amount="1", legal_rep="张三",
                                                       note="已整改")[2:], strict=True))
        payload["CF_JYCX"] = "否"
        payload = {key: value for key, value in payload.items() if value}
        records.submit(self.session, self.actors[department], "ADM_PENALTY", SubjectRef(uscc=code, name=name), payload,
                       department_id=self.ids[department], department_code=CODES[department])
        self.session.commit()


def counts(batch: IngestBatch) -> tuple[int, int, int, int, int, int]:
    return (batch.total_rows or 0, batch.accepted, batch.corrected, batch.duplicate, batch.flagged, batch.rejected)


def _a_in_march(desk: Desk) -> None:
    at(3, 10)
    first = desk.send(A, "ADM_PENALTY", PENALTY_HEADER, [
        penalty(A, 0, "鼓市监罚〔2026〕1号", amount="1", legal_rep="李一", note="已缴纳"),
        penalty(A, 1, "鼓市监罚〔2026〕2号", amount="2", legal_rep="李二", note="已缴纳"),
        penalty(A, 2, "鼓市监罚〔2026〕3号", amount="3"),
        penalty(A, 3, "鼓市监罚〔2026〕4号", amount="4")])
    assert counts(first) == (4, 4, 0, 0, 0, 0)
    at(3, 20)
    second = desk.send(A, "ADM_PENALTY", PENALTY_HEADER, [
        penalty(A, 0, "鼓市监罚〔2026〕1号", amount="1", legal_rep="李一", note="已缴纳"),
        penalty(A, 1, "鼓市监罚〔2026〕2号", amount="2.5", legal_rep="李二", note="已缴纳"),
        penalty(A, 2, "鼓市监罚〔2026〕5号", decided="2026-02-30")])
    assert counts(second) == (3, 0, 0, 1, 1, 1)  # the late correction is flagged


def _b_in_march(desk: Desk) -> None:
    at(3, 13)
    first = desk.send(B, "ADM_PENALTY", PENALTY_HEADER, [
        penalty(B, 4, "秦环罚〔2026〕1号", amount="5", legal_rep="王五"),
        penalty(B, 5, "秦环罚〔2026〕2号", amount="6", legal_rep="王六"),
        penalty(B, 0, "秦环罚〔2026〕3号", name="南京质效测试壹号有限公司", amount="7", legal_rep="王七"),
        penalty(B, 1, "秦环罚〔2026〕4号", name="南京质效测试贰号有限公司", amount="8", legal_rep="王八"),
        penalty(B, 6, "秦环罚〔2026〕5号", amount="9", legal_rep="王九", facts="")])
    assert counts(first) == (5, 0, 0, 0, 4, 1)
    second = desk.send(B, "ADM_COERCION", COERCION_HEADER, [coercion(B, 4, "秦环强〔2026〕1号"),
                                                           coercion(B, 5, "秦环强〔2026〕2号")])
    assert counts(second) == (2, 2, 0, 0, 0, 0)
    at(3, 25)
    flagged = ingest.row_outcomes(desk.session, first, ("flagged",))[0]
    assert flagged.record_id is not None
    records.revoke(desk.session, desk.actors[B], flagged.record_id, "决定已被撤销")
    desk.session.commit()


@pytest.fixture
def scenario(seeded: Session, settings: Settings, tmp_path: Path) -> Iterator[Scenario]:
    desk = Desk(seeded, settings, tmp_path / "files")
    desk.tmp_path.mkdir()
    at(2, 1)
    for name, sector in ((A, "市场监管"), (B, "生态环境"), (C, "税务"), (D, "税务"), (E, "市场监管")):
        desk.department(name, sector)
    _a_in_march(desk)
    _b_in_march(desk)
    at(3, 5)
    desk.single(C, 4, "建税罚〔2026〕1号")
    desk.single(D, 5, "栖税罚〔2026〕1号")
    at(4, 15)
    april = desk.send(A, "ADM_PENALTY", PENALTY_HEADER, [
        penalty(A, 3, "鼓市监罚〔2026〕6号", decided="2026-04-10", amount="1", legal_rep="李四", note="已缴纳")])
    assert counts(april) == (1, 1, 0, 0, 0, 0)
    clock.reset()
    seeded.commit()  # SQLite transactions begin IMMEDIATE: leave none open for the web requests
    yield Scenario(seeded, desk.ids)


# --- the numbers -------------------------------------------------------------------------------------

EXPECTED_MARCH = [
    # name, rank, score, volume, revocations, timed, on_time, submitted, rejected, duplicates, conflicts,
    # timeliness, completeness, accuracy, duplicate rate, conflict rate
    (C, 1, 77.78, 1, 0, 1, 1, 0, 0, 0, 0, 1.0, 0.5, None, None, None),
    (D, 1, 77.78, 1, 0, 1, 1, 0, 0, 0, 0, 1.0, 0.5, None, None, None),
    (A, 3, 74.79, 5, 0, 5, 4, 7, 1, 1, 0, 0.8, 0.275, 0.8571, 0.1429, 0.0),
    (B, 4, 56.43, 6, 1, 4, 0, 7, 1, 0, 2, 0.0, 0.5, 0.8571, 0.0, 0.2857),
    (E, None, None, 0, 0, 0, 0, 0, 0, 0, 0, None, None, None, None, None),
]


def as_tuple(row: quality.DepartmentQuality) -> tuple[object, ...]:
    return (row.department_name, row.rank, row.score, row.volume, row.revocations, row.timed, row.on_time,
            row.submitted, row.rejected, row.duplicates, row.conflicts, row.timeliness, row.completeness,
            row.accuracy, row.duplicate_rate, row.conflict_rate)


def test_a_month_gives_the_exact_metrics_scores_and_ranking(scenario: Scenario) -> None:
    rows = quality.assess(scenario.session, MARCH)
    assert [as_tuple(row) for row in rows] == EXPECTED_MARCH
    assert {row.month for row in rows} == {MARCH}
    assert rows[0].department_id == scenario.ids[C] and rows[0].department_code == CODES[C]


def test_the_score_is_the_weighted_mean_of_the_defined_components(scenario: Scenario) -> None:
    a = next(row for row in quality.assess(scenario.session, MARCH) if row.department_name == A)
    assert a.timeliness is not None and a.completeness is not None and a.accuracy is not None
    expected = 25 * 0.8 + 20 * 0.275 + 30 * 6 / 7 + 10 * 6 / 7 + 15 * 1.0
    assert a.score == round(expected, 2)
    c = next(row for row in quality.assess(scenario.session, MARCH) if row.department_name == C)
    assert c.score == round(100 * (25 * 1.0 + 20 * 0.5) / 45, 2)  # no batches: two components only


def test_months_and_the_default_month(scenario: Scenario) -> None:
    assert quality.months(scenario.session) == [APRIL, MARCH]
    rows = quality.assess(scenario.session)
    assert [(r.department_name, r.rank, r.score, r.volume, r.timeliness, r.completeness) for r in rows] == [
        (A, 1, 87.5, 1, 1.0, 0.375), (B, None, None, 0, None, None), (C, None, None, 0, None, None),
        (D, None, None, 0, None, None), (E, None, None, 0, None, None)]
    may = quality.assess(scenario.session, "2026-05")  # nobody sent anything: listed by code, unranked
    assert [(r.department_name, r.score, r.rank) for r in may] == [(n, None, None) for n in (B, C, A, D, E)]


def test_the_overview_has_the_trend_of_every_department(scenario: Scenario) -> None:
    view = quality.overview(scenario.session, MARCH)
    assert view.month == MARCH and view.months == [APRIL, MARCH]
    assert [row.department_name for row in view.rows] == [C, D, A, B, E]
    assert view.trend == {A: [74.79, 87.5], B: [56.43, None], C: [77.78, None], D: [77.78, None]}


def test_the_weights_are_a_policy_parameter(scenario: Scenario) -> None:
    weights = {"timeliness": 0, "completeness": 0, "accuracy": 100, "duplicates": 0, "conflicts": 0}
    policy.change(scenario.session, Actor.system(), "quality_weights", weights)
    scenario.session.commit()
    rows = {row.department_name: row for row in quality.assess(scenario.session, MARCH)}
    assert (rows[A].score, rows[B].score, rows[A].rank, rows[B].rank) == (85.71, 85.71, 1, 1)
    assert rows[C].score is None and rows[C].rank is None  # nothing defined that carries weight


def test_a_bad_month_is_refused(scenario: Scenario) -> None:
    with pytest.raises(Invalid):
        quality.assess(scenario.session, "2026-13")


# --- export ---------------------------------------------------------------------------------------------

def test_the_xlsx_export_reads_back_with_the_same_values(scenario: Scenario) -> None:
    rows = quality.assess(scenario.session, MARCH)
    data = quality.export_xlsx(rows, quality.weights(scenario.session))
    figures = pl.read_excel(io.BytesIO(data), sheet_name="质效评估")
    assert figures.columns[:5] == ["排名", "部门", "部门统一社会信用代码", "月份", "综合得分"]
    assert figures["部门"].to_list() == [C, D, A, B, E]
    assert figures["排名"].to_list() == [1, 1, 3, 4, None]
    assert figures["综合得分"].to_list() == [77.78, 77.78, 74.79, 56.43, None]
    assert figures["归集量（条）"].to_list() == [1, 1, 5, 6, 0]
    assert figures["赋码冲突行数"].to_list() == [0, 0, 0, 2, 0]
    assert figures["准确率"].to_list() == [None, None, 0.8571, 0.8571, None]
    method = pl.read_excel(io.BytesIO(data), sheet_name="计算方法")
    text = " ".join(str(v) for v in method.to_series(1).to_list())
    assert "25×及时率" in text and "30×准确率" in text and "1、1、3" in text


# --- the engine --------------------------------------------------------------------------------------------

def test_the_expression_compiles_for_other_backends(scenario: Scenario) -> None:
    """The same Ibis expression, over unbound tables, compiles to other SQL dialects (no DuckDB in it)."""
    tables = [ibis.table(dict(schema), name=name) for name, schema in (
        ("records", engine.RECORD_SCHEMA), ("rows", engine.ROW_SCHEMA), ("batches", engine.BATCH_SCHEMA))]
    due = ibis.table({"due_item": "string", "due_decision": "date", "due_date": "date"}, name="due")
    expression = engine.quality_table(*tables, due, engine.weights_of(scenario.session))
    for dialect in ("postgres", "trino", "bigquery"):
        assert "rank" in ibis.to_sql(expression, dialect=dialect).lower()


def test_a_small_export_chunk_gives_the_same_figures(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = engine.run(scenario.session).sort(engine.KEYS)
    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    assert engine.run(scenario.session).sort(engine.KEYS).equals(whole)


def test_an_empty_database_gives_no_rows(seeded: Session) -> None:
    assert engine.run(seeded).height == 0
    assert quality.months(seeded) == []
    assert quality.assess(seeded) == []


# --- web ----------------------------------------------------------------------------------------------------

@pytest.fixture
def client_as(client_for: Callable[[str], TestClient], scenario: Scenario) -> Callable[[str], TestClient]:
    """Logged-in clients on the scenario's data."""
    return client_for


def test_the_page_shows_the_ranking_and_charts_to_the_authority(client_as: Callable[[str], TestClient]) -> None:
    response = client_as("authority_admin").get(f"/quality?month={MARCH}")
    assert response.status_code == 200
    page = response.text
    for name in (A, B, C, D, E):
        assert name in page
    assert '<script src="/static/vendor/echarts.min.js"></script>' in page
    assert 'role="img"' in page and 'id="quality-data"' in page and "74.79" in page
    assert f'href="/quality/export.xlsx?month={MARCH}"' in page
    assert client_as("authority_admin").get("/static/vendor/echarts.min.js").status_code == 200


def test_the_page_and_api_are_denied_to_a_department(client_as: Callable[[str], TestClient]) -> None:
    client = client_as("department_submitter")
    assert client.get("/quality").status_code == 403
    assert client.get("/api/v1/quality").status_code == 403
    assert client.get("/quality/export.xlsx").status_code == 403


def test_the_api_returns_the_same_numbers(client_as: Callable[[str], TestClient], scenario: Scenario) -> None:
    expected = [as_tuple(row) for row in quality.assess(scenario.session, MARCH)]
    scenario.session.commit()
    response = client_as("authority_admin").get("/api/v1/quality", params={"month": MARCH})
    assert response.status_code == 200
    body = response.json()
    keys = ("department_name", "rank", "score", "volume", "revocations", "timed", "on_time", "submitted", "rejected",
            "duplicates", "conflicts", "timeliness", "completeness", "accuracy", "duplicate_rate", "conflict_rate")
    assert [tuple(item[key] for key in keys) for item in body] == expected == EXPECTED_MARCH
    assert client_as("authority_admin").get("/api/v1/quality", params={"month": "2026-3"}).status_code == 422


def test_the_export_route_sends_the_workbook(client_as: Callable[[str], TestClient]) -> None:
    response = client_as("authority_admin").get("/quality/export.xlsx", params={"month": MARCH})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    figures = pl.read_excel(io.BytesIO(response.content), sheet_name="质效评估")
    assert figures["综合得分"].to_list() == [77.78, 77.78, 74.79, 56.43, None]

