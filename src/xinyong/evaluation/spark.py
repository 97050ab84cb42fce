"""The evaluation batch on PySpark (全国规模): the same Ibis expression as ``engine.run_duckdb``.

``engine.export`` writes the facts and the population as Parquet; ``engine.score_table`` turns a
model into one Ibis expression. Here Ibis's PySpark backend compiles that expression to Spark SQL,
so only the Spark driver needs Python and this package: the executors run plain Spark SQL (no
Python UDFs), whatever the cluster's size.

- ``run_spark`` returns the results as a pyarrow table, columns and row order as ``run_duckdb``'s
  (collected on the driver: for tests and moderate sizes).
- ``python -m xinyong.evaluation.spark`` (or this file given to ``spark-submit``) writes the
  results as Parquet with Spark itself, never collecting them; see ``docs/evaluation-spark.md``.

A session made here runs in local mode (``local[2]``) unless a master is given or ``spark-submit``
launched the process (then its ``--master`` and ``--conf`` apply). Local sessions bind to the
loopback address, have no web UI and few shuffle partitions. Every session evaluates in the
platform's time zone (Asia/Shanghai); the results have no timestamp column, so it only matters
to date arithmetic Spark might do, which the expression keeps to ``DATE`` literals.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from xinyong.evaluation import definition, engine
from xinyong.evaluation.schemas import ModelSpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOCAL_MASTER = "local[2]"
TIME_ZONE = "Asia/Shanghai"
LOCAL_SHUFFLE_PARTITIONS = 4
APP_NAME = "xinyong-evaluation"

# Set on every connection (after Ibis's own: it sets UTC on connect).
SQL_CONF = {
    "spark.sql.session.timeZone": TIME_ZONE,
}

# Only for sessions this module starts in local mode: nothing listens beyond the loopback address.
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": str(LOCAL_SHUFFLE_PARTITIONS),
    "spark.default.parallelism": "2",
    "spark.sql.session.timeZone": TIME_ZONE,
}


def launched_by_spark_submit() -> bool:
    """``spark-submit`` (and the ``pyspark`` shell) start the JVM first and hand Python its gateway."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def spark_session(master: str | None = None, *, app_name: str = APP_NAME,
                  conf: Mapping[str, str] | None = None) -> SparkSession:
    """A session for the evaluation: ``master`` if given, else spark-submit's, else ``local[2]``.

    ``conf`` adds to (or overrides) the local defaults; under spark-submit, pass ``--conf`` instead.
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master is None and launched_by_spark_submit():
        return builder.getOrCreate()
    master = master or LOCAL_MASTER
    settings = {**(LOCAL_CONF if master.startswith("local") else {}), **(conf or {})}
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # read by the JVM when it starts
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.master(master).getOrCreate()


def connect(session: SparkSession) -> Any:
    """Ibis's PySpark backend on ``session`` (batch mode), in the platform's time zone."""
    return ibis.pyspark.connect(session, **SQL_CONF)


def spark_path(pattern: str) -> str:
    """``engine.Export`` names files as ``<folder>/*.parquet``: Spark reads the folder itself.

    Spark accepts the glob too, but first looks for a metadata folder named after it and logs a
    ``FileNotFoundException`` warning; reading the folder also picks up Hive-style partition
    folders (``region=32/…``) should the files be laid out that way.
    """
    for suffix in ("/*.parquet", "/*"):
        if pattern.endswith(suffix):
            return pattern[: -len(suffix)]
    return pattern


def read_tables(connection: Any, facts: str, population: str) -> tuple[ir.Table, ir.Table]:
    return (connection.read_parquet(spark_path(facts)), connection.read_parquet(spark_path(population)))


def _drop_views(connection: Any, *tables: ir.Table) -> None:
    for table in tables:
        connection._session.catalog.dropTempView(table.get_name())


def to_arrow(connection: Any, expr: ir.Table) -> pa.Table:
    """Collect through Spark's own Arrow export, typed as the expression says.

    (Ibis's ``to_pyarrow`` goes through pandas, which costs a copy and, with pandas 3, warns.)
    """
    frame = connection.raw_sql(connection.compile(expr))
    return frame.toArrow().cast(expr.schema().to_pyarrow())


def run_spark(exported: engine.Export, spec: ModelSpec, as_of: date, *,
              session: SparkSession | None = None) -> pa.Table:
    """Compute on PySpark; the same columns and order (by subject) as ``engine.run_duckdb``.

    Without ``session``, a local one is started and stopped again; a given session is left running.
    """
    own = session is None
    session = session or spark_session()
    try:
        connection = connect(session)
        facts, population = read_tables(connection, exported.facts, exported.population)
        try:
            expr = engine.score_table(facts, population, spec, as_of).order_by("subject_id")
            return to_arrow(connection, expr)
        finally:
            _drop_views(connection, facts, population)
    finally:
        if own:
            session.stop()


def write_results(session: SparkSession, facts: str, population: str, spec: ModelSpec, as_of: date, out: str, *,
                  overwrite: bool = False) -> dict[str, int]:
    """Score with Spark and write the results as Parquet (a folder of part files); grade → subjects."""
    connection = connect(session)
    facts_table, population_table = read_tables(connection, facts, population)
    try:
        results = engine.score_table(facts_table, population_table, spec, as_of)
        connection.to_parquet(results, out, mode="overwrite" if overwrite else "errorifexists")
    finally:
        _drop_views(connection, facts_table, population_table)
    written = connection.read_parquet(out)
    try:
        counts = to_arrow(connection, written.group_by("grade").aggregate(subjects=written.count()).order_by("grade"))
    finally:
        _drop_views(connection, written)
    return dict(zip(counts["grade"].to_pylist(), counts["subjects"].to_pylist(), strict=True))


def load_spec(path: Path) -> ModelSpec:
    """A model spec as the platform exports it (``service.spec_to_yaml``), checked for running."""
    from xinyong.evaluation import service

    spec = service.spec_from_yaml(path.read_text(encoding="utf-8"))
    definition.check_order(spec)
    return spec


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m xinyong.evaluation.spark",
        description="在 Spark 上运行一个评价模型（公共信用综合评价批处理），结果写为 Parquet。")
    parser.add_argument("--facts", required=True, help="评价事实 Parquet（目录或 <目录>/*.parquet；可为 hdfs://、s3a://）")
    parser.add_argument("--population", required=True, help="评价主体 Parquet（同上）")
    parser.add_argument("--model", required=True, type=Path, help="评价模型定义 YAML（平台导出）")
    parser.add_argument("--as-of", required=True, type=date.fromisoformat, help="评价基准日，YYYY-MM-DD")
    parser.add_argument("--out", required=True, help="结果输出目录（Spark 写出多个 Parquet 分片文件）")
    parser.add_argument("--overwrite", action="store_true", help="输出目录已存在时覆盖")
    parser.add_argument("--master", default=None,
                        help=f"Spark master；不填时用 spark-submit 的设置，直接运行则为 {LOCAL_MASTER}")
    return parser


def main(argv: Sequence[str] | None = None, *, session: SparkSession | None = None) -> int:
    """The command line; a given ``session`` is used (``--master`` ignored) and left running."""
    from xinyong.errors import Invalid

    args = _parser().parse_args(argv)
    try:
        spec = load_spec(args.model)
    except Invalid as error:
        print(f"评价模型定义有误：{error.message}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"无法读取评价模型定义：{error}", file=sys.stderr)
        return 2
    own = session is None
    session = session or spark_session(args.master)
    try:
        counts = write_results(session, args.facts, args.population, spec, args.as_of, args.out,
                               overwrite=args.overwrite)
    finally:
        if own:
            session.stop()
    total = sum(counts.values())
    summary = "，".join(f"{grade} {count}" for grade, count in counts.items())
    print(f"模型 {spec.code}，评价基准日 {args.as_of.isoformat()}：{total} 个主体（{summary}），结果已写入 {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
