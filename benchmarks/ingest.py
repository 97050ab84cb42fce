"""Collection throughput: validated import vs the raw insert floor, in the same run.

    python benchmarks/ingest.py                      # 1,000,000 rows on SQLite
    python benchmarks/ingest.py --rows 200000 --backend postgresql

Generates a 行政处罚 CSV in GBK as a department would send it (Chinese headers, ~5 penalties per
enterprise), then measures
  (a) ours:  `submit_file` + `run_batch` — detection of encoding, streaming, validation of every
             row against the catalogue, subject resolution, idempotence checks, records, audit;
  (b) floor: the same rows, already parsed (read back from the table), bulk-inserted into the
             same table: SQLite `executemany` in one transaction, PostgreSQL `COPY`.
Prints rows/s of both, the ratio (a)/(b), and peak memory growth during (a).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from xinyong import clock  # noqa: E402
from xinyong.access import service as access  # noqa: E402
from xinyong.actor import Actor  # noqa: E402
from xinyong.catalogue import service as catalogue  # noqa: E402
from xinyong.config import Settings, use_settings  # noqa: E402
from xinyong.db import Base, get_engine, import_all_models, session_factory, session_scope  # noqa: E402
from xinyong.ingest import service as ingest  # noqa: E402
from xinyong.policy import service as policy  # noqa: E402
from xinyong.subjects import uscc  # noqa: E402

HEADER = ["行政相对人名称", "统一社会信用代码", "法定代表人", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据",
          "处罚类别", "处罚内容", "罚款金额（万元）", "处罚决定日期", "处罚机关", "处罚机关统一社会信用代码",
          "数据来源单位", "数据来源单位统一社会信用代码", "备注"]
DEPARTMENT = uscc.build("1", "1", "320102", "01400001")
OFFENCES = [("虚假宣传", "在网店发布虚假的产品功效宣传，误导消费者", "《中华人民共和国反不正当竞争法》第二十条"),
            ("未按规定公示年度报告", "未在规定期限内报送并公示年度报告", "《企业信息公示暂行条例》第十八条"),
            ("销售不合格产品", "销售经抽检判定为不合格的电线电缆产品", "《中华人民共和国产品质量法》第四十九条"),
            ("无照经营", "未取得营业执照从事餐饮经营活动", "《无证无照经营查处办法》第十三条")]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗"
WORDS = ["钟山", "金陵", "秦淮", "玄武", "栖霞", "江宁", "紫金", "鼓楼", "建邺", "雨花", "浦口", "六合"]
TODAY = date(2026, 1, 20)
TRADES = ["科技", "贸易", "建设工程", "餐饮管理", "电子", "物流", "文化传媒", "医药", "机械制造", "信息技术"]


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    subjects = max(1, rows // 5)
    with path.open("w", encoding="gbk", newline="") as handle:
        handle.write(",".join(HEADER) + "\r\n")
        for i in range(rows):
            n = i % subjects
            code = uscc.build("9", "1", "320102", f"MA{n:06d}")
            name = f"南京{WORDS[n % len(WORDS)]}{TRADES[(n // 12) % len(TRADES)]}{n}有限公司"
            offence, fact, basis = OFFENCES[i % len(OFFENCES)]
            amount = rng.randint(1, 500) / 10
            day = (TODAY - timedelta(days=1 + i % 30)).isoformat()  # the last month: some late, most on time
            handle.write(f"{name},{code},{SURNAMES[n % 20]}{WORDS[i % 12][0]}明,宁玄市监处罚〔2025〕{i}号,{offence},"
                         f"\"{fact}，情节较轻\",{basis},罚款,罚款{amount}万元,{amount},{day},南京市玄武区市场监督管理局,"
                         f"{DEPARTMENT},南京市玄武区市场监督管理局,{DEPARTMENT},\r\n")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(settings: Settings) -> Actor:
    use_settings(settings)
    import_all_models()
    Base.metadata.create_all(get_engine(settings))
    with session_scope(settings) as session:
        policy.seed(session)
        catalogue.seed(session, Actor.system())
        department = access.create_department(session, code=DEPARTMENT, name="南京市玄武区市场监督管理局",
                                              short_name="玄武区市场监管局", region_code="320102", sector="市场监管")
        return Actor(user_id=None, username="benchmark", role="department_submitter", department_id=department.id)


def ours(settings: Settings, actor: Actor, path: Path) -> tuple[float, int, float]:
    before = rss_mb()
    start = time.perf_counter()
    with session_scope(settings) as session:
        batch_id = ingest.submit_file(session, actor, "ADM_PENALTY", path, path.name, channel="cli").id
    batch = ingest.run_batch(session_factory(settings), batch_id)
    elapsed = time.perf_counter() - start
    assert batch.status == "done", (batch.error_code, batch.error_message)
    stored = batch.accepted + batch.corrected + batch.flagged
    return elapsed, stored, rss_mb() - before


def floor(settings: Settings) -> tuple[float, int]:
    """Re-insert the rows just stored, already parsed, with the database's own bulk path."""
    engine = get_engine(settings)
    with engine.connect() as connection:
        columns = [c.name for c in Base.metadata.tables["records"].columns]
        rows = connection.execute(text(f"SELECT {', '.join(columns)} FROM records ORDER BY id")).all()
    with engine.begin() as connection:  # ingest_rows reference records: remove them together
        if engine.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE ingest_rows, records"))
        else:
            connection.execute(text("DELETE FROM ingest_rows"))
            connection.execute(text("DELETE FROM records"))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        start = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY records ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for v in row])
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO records ({', '.join(columns)}) VALUES ({marks})",
                               [tuple(json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for v in row)
                                for row in rows])
        raw.commit()
        return time.perf_counter() - start, len(rows)
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    clock.freeze(datetime.combine(TODAY, datetime.min.time()).replace(hour=10))
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-") as tmp:
        work = Path(tmp)
        cluster = None
        if args.backend == "postgresql":
            from tests.support import pg

            cluster = pg.PgCluster().start()
            url = pg.create_database(cluster.admin_url, "bench")
        else:
            url = f"sqlite:///{work / 'bench.db'}"
        try:
            settings = Settings(database_url=url, data_dir=work / "data", secret_key="b", person_id_key="b")
            actor = prepare(settings)
            path = work / "penalties.csv"
            started = time.perf_counter()
            write_csv(path, args.rows)
            print(f"generated {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB GBK in {time.perf_counter() - started:.1f} s")
            elapsed, stored, grown = ours(settings, actor, path)
            floor_elapsed, floor_rows = floor(settings)
        finally:
            if cluster is not None:
                cluster.stop()
    ours_rate, floor_rate = args.rows / elapsed, floor_rows / floor_elapsed
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {args.backend}")
    print(f"ours : {args.rows:,} rows validated and stored ({stored:,} records) in {elapsed:.1f} s = {ours_rate:,.0f} rows/s")
    print(f"floor: {floor_rows:,} parsed rows bulk-inserted in {floor_elapsed:.1f} s = {floor_rate:,.0f} rows/s")
    print(f"ratio ours/floor: {ours_rate / floor_rate:.2f}   memory growth during import: {grown:.0f} MB")


if __name__ == "__main__":
    main()
