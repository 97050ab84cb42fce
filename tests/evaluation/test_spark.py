"""The evaluation batch on PySpark (local mode) gives exactly the scores DuckDB gives.

Slow (marked ``spark``): one JVM for the module, then the seeded organisation model over a
realistic demo jurisdiction on both backends. SQLite only: the export is the same Parquet whatever
database it came from, and this test is about the engine, not the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from xinyong import clock, demo
from xinyong.actor import Actor
from xinyong.evaluation import definition, engine, reference, spark
from xinyong.evaluation import service as evaluation
from xinyong.evaluation.schemas import ModelSpec
from xinyong.records import service as records

MODEL = "PUBLIC_CREDIT_ORG"


# Short runs on tiny data: the JVM's quick JIT tier only roughly halves the first query's time.
QUICK_JVM = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1"}


@pytest.fixture(scope="module")
def spark_session() -> Iterator[Any]:
    session = spark.spark_session(conf=QUICK_JVM)
    yield session
    session.stop()


def explain(session: Session, spec: ModelSpec, cutoff: datetime, subject_id: int) -> reference.Explanation:
    """As ``evaluation.service.explain``, without a stored run."""
    query = records.facts_as_of(cutoff, engine.fields_read(spec), subject_id=subject_id)
    facts = [reference.Fact(row["record_id"], row["item_code"], row["decision_date"],
                            {key[2:]: value for key, value in row.items() if key.startswith("f_")})
             for row in session.execute(query).mappings()]
    return reference.explain(spec, facts, clock.today())


@pytest.mark.spark
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_spark_scores_equal_duckdb_scores(seeded: Session, frozen_clock: datetime, spark_session: Any,
                                          tmp_path: Path) -> None:
    demo.generate(seeded, subjects=300, seed=20261127)
    evaluation.seed(seeded, Actor.system())
    seeded.commit()
    spec = evaluation.get_model(seeded, MODEL).spec
    order = definition.check_order(spec)
    as_of, cutoff = clock.today(), clock.now()
    exported = engine.export(seeded, spec, as_of, cutoff, tmp_path / "export")
    assert exported.fact_count > 300 and exported.population_count > 200

    on_duckdb = engine.run_duckdb(exported, spec, as_of)
    on_spark = spark.run_spark(exported, spec, as_of, session=spark_session)

    assert on_duckdb.column_names == ["subject_id", "score", *(f"v_{code}" for code in order), "grade"]
    assert on_spark.schema.equals(on_duckdb.schema)
    assert on_spark.num_rows == on_duckdb.num_rows == exported.population_count
    for name in on_duckdb.column_names:  # identical, no tolerance: subjects, every value, score, grade
        assert on_spark[name].to_pylist() == on_duckdb[name].to_pylist(), name

    # The data exercises the model: several grades, most indicators non-zero for someone.
    rows = on_spark.to_pylist()
    assert len({row["grade"] for row in rows}) >= 2
    busy = [code for code in order if any(row[f"v_{code}"] for row in rows)]
    assert len(busy) >= 8, busy

    # Each busy indicator's top subject, the best and the worst: as the per-subject explanation says.
    chosen = {max(rows, key=lambda row: row[f"v_{code}"])["subject_id"] for code in busy}
    chosen |= {min(rows, key=lambda row: row["score"])["subject_id"], max(rows, key=lambda row: row["score"])["subject_id"]}
    by_subject = {row["subject_id"]: row for row in rows}
    for subject_id in sorted(chosen):
        row, expected = by_subject[subject_id], explain(seeded, spec, cutoff, subject_id)
        assert (row["score"], row["grade"]) == (expected.score, expected.grade), subject_id
        assert {code: row[f"v_{code}"] for code in order} == expected.values, subject_id

    # The spark-submit entry point: model YAML as the platform exports it, results written by Spark.
    model = tmp_path / "model.yaml"
    model.write_text(evaluation.spec_to_yaml(spec), encoding="utf-8")
    out = tmp_path / "results.parquet"
    argv = ["--facts", exported.facts, "--population", str(Path(exported.population).parent),
            "--model", str(model), "--as-of", as_of.isoformat(), "--out", str(out)]
    out.mkdir()  # a previous run's results: replaced only when asked
    assert spark.main([*argv, "--overwrite"], session=spark_session) == 0
    written = pq.read_table(out).sort_by("subject_id")
    assert written.column_names == on_duckdb.column_names
    assert written.to_pylist() == on_duckdb.to_pylist()


def test_cli_refuses_a_bad_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = evaluation.parse_spec(evaluation.seed_specs()[1])
    broken = spec.model_copy(update={"indicators": [*spec.indicators, spec.indicators[0].model_copy(
        update={"code": "loop", "kind": "composite", "item": None, "inputs": ["loop"], "input_weights": [1.0]})]})
    model = tmp_path / "model.yaml"
    model.write_text(evaluation.spec_to_yaml(broken), encoding="utf-8")
    argv = ["--facts", "f", "--population", "p", "--model", str(model), "--as-of", "2026-06-15", "--out", "o"]
    assert spark.main(argv) == 2  # refused before any Spark session starts
    assert "循环引用" in capsys.readouterr().err
