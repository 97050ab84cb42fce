"""Evaluation at scale: the realistic model end to end vs a hand-written DuckDB SQL, in the same run.

    python benchmarks/evaluation.py                                   # 1,000,000 subjects, 10,000,000 records, SQLite
    python benchmarks/evaluation.py --subjects 20000 --records 200000
    python benchmarks/evaluation.py --db postgresql                   # throwaway cluster (initdb --locale=C.UTF-8)

1. generation (not timed against the targets; its time is printed apart): migrate to head, seed policy,
   catalogue and evaluation models, then write N subjects (organisations of every kind with valid
   统一社会信用代码, a few natural persons) and M records straight into the real tables, vectorised
   (numpy for the draws, DuckDB for payload text and SHA-256 content hashes) and bulk-inserted in chunks
   (SQLite ``executemany`` with secondary indexes dropped and rebuilt; PostgreSQL ``COPY``). The records
   cover every item PUBLIC_CREDIT_ORG reads, in realistic shares, decided over the five years before the
   as-of date, received 1–20 days after the decision, with 2 % corrections (更正) and revocations (撤销)
   of earlier records. Payloads are exactly what validation stores (a sample goes through
   ``catalogue.validation.check_payload``, the content hash, natural key and publication window are
   checked against the app's own functions); publication columns come from
   ``records.service.publication_fields``, name columns from ``subjects.service.name_columns``.
2. ours (timed, in a fresh child process): ``evaluation.service.run_model(factory, Actor.system(),
   "PUBLIC_CREDIT_ORG", as_of)`` — start, export to Parquet, DuckDB compute, store 1 result row per
   subject in one transaction. Phases are timed from the outside by wrapping ``engine.export``,
   ``engine.run_duckdb`` and ``service._store``; "other" is the rest (start, commit, clean-up).
3. baseline (timed, in another fresh child): a hand-written job for the same model on the same data.
   DuckDB 2.0 has no SQLite/PostgreSQL scanner offline, so it has two parts, both timed and included:
   (a) export: one hand-written SQL per table run by the bare driver (sqlite3 ``fetchmany`` → Arrow →
       Parquet; PostgreSQL ``COPY … TO STDOUT`` → CSV): current facts of the model's items inside the
       widest window with the one payload field each item needs, the ids superseded by the cut-off,
       and the population;
   (b) compute: one hand-written DuckDB SQL (``BASELINE_SQL``) producing score, grade and the 15
       indicator values per subject.
   It does not store its results in the application database (ours does, in "store").
4. check: scores, grades and every indicator value of both, subject by subject (must be 0 mismatches).
Prints the generation time, ours (total and per phase), the baseline, the ratio baseline/ours, and
the peak RSS of each process (``getrusage`` ``ru_maxrss``). Targets (issue 6): ours < 60 s,
ratio >= 0.5, peak memory < 4 GiB. ``--profile`` adds a cProfile'd run of ours and prints its hotspots.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from benchmarks._common import (  # noqa: E402
    BACKENDS,
    bench_database,
    child_arguments,
    hotspots,
    machine,
    peak_rss_mb,
    phase_timer,
    print_result,
    quiet_arguments,
    run_child,
    wait_for_quiet,
)
from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from xinyong import clock, migrate  # noqa: E402
from xinyong.access import service as access  # noqa: E402
from xinyong.actor import Actor  # noqa: E402
from xinyong.catalogue import service as catalogue  # noqa: E402
from xinyong.catalogue.validation import check_payload, decision_date_of  # noqa: E402
from xinyong.config import Settings, use_settings  # noqa: E402
from xinyong.db import dispose_engines, get_engine, session_factory, session_scope  # noqa: E402
from xinyong.demo import DISTRICTS, GIVEN_FEMALE, GIVEN_MALE, INDUSTRY_WORDS, SURNAMES  # noqa: E402
from xinyong.disclosure.publication import add_months  # noqa: E402
from xinyong.evaluation import engine as evaluation_engine  # noqa: E402
from xinyong.evaluation import service as evaluation  # noqa: E402
from xinyong.policy import service as policy  # noqa: E402
from xinyong.records import service as records  # noqa: E402
from xinyong.subjects import identity, uscc  # noqa: E402
from xinyong.subjects import service as subjects  # noqa: E402

MODEL = "PUBLIC_CREDIT_ORG"
TODAY = date(2026, 1, 20)
NOW = datetime(2026, 1, 20, 10, 0, tzinfo=clock.SHANGHAI)  # the frozen clock: data cut-off of the run
AS_OF = TODAY
YEARS = 5  # decisions over the five years before the as-of date
FOLLOW_UP_SHARE = 0.02  # records that correct (80 %) or revoke (20 %) an earlier record
SUBJECT_CHUNK = 50_000
RECORD_CHUNK = 250_000
FETCH_ROWS = 200_000
PERSON_ID_KEY = "bench"  # settings.person_id_key: natural persons are keyed by HMAC with it
PERSON_SECRET = PERSON_ID_KEY.encode()
DUCKDB = f"DuckDB {duckdb.__version__}"
PG_TUNING = ("-c shared_buffers=2GB -c effective_cache_size=12GB -c maintenance_work_mem=1GB -c work_mem=64MB "
             "-c max_wal_size=16GB -c checkpoint_timeout=30min")

# --- subjects ----------------------------------------------------------------------------------------
# kind, 登记管理部门码, 机构类别码, share (%), record weight (how many records such a subject gets)
KINDS = (("enterprise", "9", "1", 78.0, 1.0), ("individual_business", "9", "2", 12.0, 0.4),
         ("social_org", "5", "1", 1.5, 0.3), ("social_org", "5", "2", 1.0, 0.3), ("cooperative", "9", "3", 2.0, 0.5),
         ("public_institution", "1", "2", 1.5, 0.5), ("government", "1", "1", 0.5, 0.3),
         ("other_org", "Y", "1", 0.5, 0.3), ("natural_person", "", "", 3.0, 0.0))
FORMS = {"enterprise": ("南京{z}{w}有限公司", "江苏{z}{w}有限公司", "南京{d}{z}{w}有限公司", "{z}（南京）{w}有限公司",
                        "南京{z}{w}股份有限公司"),
         "individual_business": ("南京市{d}{z}{w}经营部", "{d}{z}{w}店"),
         "social_org": ("南京市{w}{z}协会", "南京{d}{z}{w}服务中心"),
         "cooperative": ("南京{d}{z}{w}专业合作社",),
         "public_institution": ("南京市{d}{z}{w}中心",),
         "government": ("南京市{d}{z}{w}管理办公室",),
         "other_org": ("南京{z}{w}联合会",)}
ZIHAO_FIRST = "金银华恒鑫宏博瑞嘉德盛天中润锦永诚联新海东明凯安泰和信远星宝富龙聚优同君弘卓众世启开晨源鼎广长昌兴隆达通顺祥福万佳美雅智航腾正"
ZIHAO_SECOND = "盛达源通泰丰华瑞科创诚信和安宇鑫发隆顺辉昌兴祥茂晟越恒远航业成邦润胜泽峰岳璟骏"
ZIHAO = tuple(a + b for a in dict.fromkeys(ZIHAO_FIRST) for b in dict.fromkeys(ZIHAO_SECOND) if a != b)
WORDS = tuple((word, industry) for industry, words in INDUSTRY_WORDS.items() for word in words)
ORG_BODY_SPACE = 31 ** 6  # "MA" + six characters of the code alphabet
CODE_STRIDE = 7_919_111  # coprime with 31: subject n gets a distinct body for every n < 31**6

# --- records -----------------------------------------------------------------------------------------
ITEM_SHARES = {"ADM_LICENSE": 30.0, "ADM_PENALTY": 18.0, "COMMITMENT": 15.0, "SOCIAL_INSURANCE": 10.0,
               "CONTRACT": 8.0, "TAX_CREDIT": 8.0, "LIST_ABNORMAL": 5.0, "HONOUR": 3.0, "ADM_COERCION": 2.0,
               "JUD_EXECUTION": 0.7, "LIST_SERIOUS": 0.3, "COMMITMENT_BREACH": 1.2}
ITEMS = tuple(ITEM_SHARES)


@dataclass(frozen=True)
class Dept:
    sector: str
    name: str
    short: str
    prefix: str  # of its document numbers: 宁市监罚决〔2025〕123号
    serial: int

    @property
    def code(self) -> str:
        return uscc.build("1", "1", "320100", f"0{self.serial:07d}")


DEPARTMENTS = (Dept("市场监管", "南京市市场监督管理局", "市场监管局", "宁市监", 2001),
               Dept("税务", "国家税务总局南京市税务局", "税务局", "宁税", 2002),
               Dept("生态环境", "南京市生态环境局", "生态环境局", "宁环", 2003),
               Dept("住建", "南京市城乡建设局", "城乡建设局", "宁建", 2004),
               Dept("交通运输", "南京市交通运输局", "交通运输局", "宁交", 2005),
               Dept("发展改革", "南京市发展和改革委员会", "发展改革委", "宁发改", 2006),
               Dept("财政", "南京市财政局", "财政局", "宁财", 2007),
               Dept("公共资源交易", "南京市公共资源交易中心", "公共资源交易中心", "宁公管", 2008),
               Dept("人力资源社会保障", "南京市人力资源和社会保障局", "人社局", "宁人社", 2009),
               Dept("法院", "南京市中级人民法院", "中级法院", "宁法", 2010),
               Dept("应急管理", "南京市应急管理局", "应急管理局", "宁应急", 2011))
SECTOR_INDEX = {d.sector: i for i, d in enumerate(DEPARTMENTS)}
ITEM_SECTORS = {  # who sends an item's records (repeated: a larger share)
    "ADM_PENALTY": ("市场监管", "市场监管", "市场监管", "税务", "税务", "生态环境", "住建", "交通运输", "应急管理"),
    "ADM_LICENSE": ("市场监管", "市场监管", "交通运输", "生态环境", "住建"), "LIST_ABNORMAL": ("市场监管",),
    "COMMITMENT": ("发展改革", "市场监管"), "CONTRACT": ("财政", "公共资源交易"), "TAX_CREDIT": ("税务",),
    "SOCIAL_INSURANCE": ("人力资源社会保障",), "HONOUR": ("发展改革", "市场监管", "税务"), "JUD_EXECUTION": ("法院",),
    "LIST_SERIOUS": ("市场监管", "税务", "应急管理"), "ADM_COERCION": ("市场监管", "税务", "生态环境"),
    "COMMITMENT_BREACH": ("发展改革", "市场监管")}
# The enumerated field each item varies (v), with weights; corrections re-draw it.
CHOICES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "ADM_PENALTY": (("罚款", "警告", "没收违法所得", "通报批评", "责令停产停业", "暂扣许可证件"), (60, 14, 10, 4, 6, 6)),
    "LIST_ABNORMAL": (("未按规定报送年度报告", "未按责令期限公示有关企业信息", "公示企业信息隐瞒真实情况弄虚作假",
                       "通过登记的住所或者经营场所无法联系"), (70, 15, 5, 10)),
    "COMMITMENT": (("履约中", "已履约", "未履约"), (28, 64, 8)),
    "CONTRACT": (("按期履约", "逾期履约", "违约"), (88, 8, 4)),
    "TAX_CREDIT": (("A", "B", "M", "C", "D"), (18, 50, 22, 6, 4)),
    "SOCIAL_INSURANCE": (("无欠费", "欠费"), (88, 12)),
    "JUD_EXECUTION": (("全部未履行", "部分未履行"), (70, 30)),
    "ADM_COERCION": (("查封场所设施财物", "扣押财物", "冻结存款汇款", "加处罚款或滞纳金", "划拨存款汇款",
                      "拍卖依法处理查封扣押的场所设施财物", "排除妨碍恢复原状", "代履行", "其他"),
                     (25, 20, 20, 15, 10, 2, 3, 2, 3)),
}
AMOUNTS = {"ADM_PENALTY": (0.8, 1.4, 500.0), "SOCIAL_INSURANCE": (3.0, 1.0, 300.0), "JUD_EXECUTION": (20.0, 1.2, 5000.0),
           "CONTRACT": (50.0, 1.0, 9000.0)}  # lognormal median (万元), sigma, maximum
PENALTIES = (("销售不符合食品安全标准的食品",
              "执法人员对当事人经营场所进行监督抽检，当事人销售的散装熟食经检验菌落总数项目不符合食品安全国家标准，检验结论为不合格。",
              "《中华人民共和国食品安全法》第一百二十四条第一款第（一）项"),
             ("发布虚假广告", "当事人在其网店页面发布的广告中宣传“全网销量第一”等内容，无法提供证明材料，欺骗、误导消费者。",
              "《中华人民共和国广告法》第五十五条第一款"),
             ("不按规定明码标价", "执法人员检查发现当事人在经营场所销售的商品未按规定明码标价。", "《中华人民共和国价格法》第四十二条"),
             ("未按照规定期限办理纳税申报和报送纳税资料", "当事人未按照规定期限办理增值税的纳税申报和报送纳税资料。",
              "《中华人民共和国税收征收管理法》第六十二条"),
             ("超过大气污染物排放标准排放大气污染物", "经监测，当事人排气筒排放的颗粒物浓度超过规定的排放限值。",
              "《中华人民共和国大气污染防治法》第九十九条第（二）项"),
             ("施工工地扬尘污染防治措施落实不到位", "当事人承建的项目施工现场裸土未覆盖、出场车辆未冲洗，扬尘污染防治措施落实不到位。",
              "《中华人民共和国大气污染防治法》第一百一十五条第一款第（一）项"),
             ("车辆超限运输", "当事人所属车辆车货总质量超过限定标准，擅自在公路上行驶。", "《公路安全保护条例》第六十四条"),
             ("未按规定开展安全生产教育和培训", "当事人未如实记录安全生产教育和培训情况。",
              "《中华人民共和国安全生产法》第九十七条第（三）项"))
LICENCES = (("食品经营许可决定书", "食品经营许可证", "普通", "预包装食品销售（含冷藏冷冻食品），散装食品销售，热食类食品制售"),
            ("特种设备使用登记决定书", "特种设备使用登记证", "登记", "电梯使用登记"),
            ("道路运输经营许可决定书", "道路运输经营许可证", "普通", "道路普通货物运输，货物专用运输（集装箱）"),
            ("排污许可决定书", "排污许可证", "普通", "排放大气污染物：颗粒物、二氧化硫、氮氧化物"),
            ("建筑业企业资质许可决定书", "建筑业企业资质证书", "认可", "建筑工程施工总承包三级；市政公用工程施工总承包三级"))
COMMITMENTS = (("信用修复型", "申请信用修复，承诺已纠正失信行为、消除不良影响，今后依法诚信经营"),
               ("审批替代型", "申请食品经营许可，承诺符合审批条件，在规定期限内补齐相关材料"),
               ("容缺受理型", "申请办理变更登记，承诺在二十个工作日内补正所缺材料"),
               ("主动型", "主动向社会作出信用承诺，遵守法律法规，履行社会责任"))
CONTRACTS = ("办公设备", "物业管理服务", "信息化系统运维", "道路养护工程", "食堂食材配送", "绿化养护服务")
HONOURS = (("江苏省守合同重信用企业", "江苏省市场监督管理局", "省级"), ("南京市守合同重信用企业", "南京市市场监督管理局", "市级"),
           ("南京市诚信建设示范企业", "南京市社会信用体系建设领导小组办公室", "市级"),
           ("南京市纳税信用示范企业", "国家税务总局南京市税务局", "市级"), ("全国守合同重信用企业", "国家市场监督管理总局", "国家级"))
SERIOUS = (("严重违法失信名单", "提交虚假材料骗取市场主体登记，情节严重"), ("重大税收违法失信主体", "虚开增值税专用发票，涉案金额较大"),
           ("安全生产严重失信主体", "发生生产安全责任事故，造成人员死亡"), ("拖欠农民工工资失信联合惩戒对象", "拖欠农民工工资数额较大，经责令仍不支付"),
           ("政府采购严重违法失信行为记录", "提供虚假材料谋取中标"))
COURTS = ("南京市玄武区人民法院", "南京市秦淮区人民法院", "南京市建邺区人民法院", "南京市鼓楼区人民法院", "南京市江宁区人民法院",
          "南京市中级人民法院")
COERCION_CAUSES = ("逾期不缴纳罚款，依法加处罚款", "涉嫌生产销售不合格产品，依法扣押相关产品", "逾期不缴纳税款，依法冻结存款")
DEFAULTS = ("有履行能力而拒不履行生效法律文书确定义务", "以伪造证据、暴力、威胁等方法妨碍、抗拒执行", "违反财产报告制度")


# --- databases ---------------------------------------------------------------------------------------

def settings_for(url: str, work: Path) -> Settings:
    return Settings(database_url=url, data_dir=work / "data", secret_key="bench", person_id_key=PERSON_ID_KEY)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


class Writer:
    """Bulk writes on a bare driver connection: SQLite executemany, PostgreSQL COPY. No FK checks (the
    generator's rows are consistent by construction), no journal on SQLite during the load."""

    def __init__(self, url: str) -> None:
        self.sqlite = is_sqlite(url)
        if self.sqlite:
            self.connection: Any = sqlite3.connect(sqlite_path(url), isolation_level=None)
            for pragma in ("journal_mode=DELETE", "synchronous=OFF", "foreign_keys=OFF", "cache_size=-1048576",
                           "temp_store=MEMORY"):
                self.connection.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            self.connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
            self.connection.execute("SET session_replication_role = replica")  # no FK triggers during the load
            self.connection.execute("SET maintenance_work_mem = '1GB'")

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def rows(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            self.connection.execute("BEGIN")
            self.connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            self.connection.execute("COMMIT")
            return
        with self.connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def csv_file(self, table: str, columns: list[str], path: Path) -> None:
        with self.connection.cursor() as cursor, \
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy, path.open("rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)

    def secondary_indexes(self, tables: tuple[str, ...]) -> list[tuple[str, str]]:
        names = ", ".join(f"'{t}'" for t in tables)
        if self.sqlite:
            sql = (f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({names}) "
                   f"AND sql IS NOT NULL")
        else:
            sql = ("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                   f"JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname IN ({names}) AND NOT x.indisprimary "
                   "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)")
        return [(name, sql) for name, sql in self.connection.execute(sql).fetchall()]

    def close(self) -> None:
        self.connection.close()


# --- generation ----------------------------------------------------------------------------------------

@dataclass
class Context:
    versions: dict[str, Any]
    periods: dict[str, Any]
    dept_ids: list[int]


@dataclass
class Generation:
    subjects: int = 0
    records: int = 0
    follow_ups: int = 0
    published: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    size_mb: float = 0.0
    peak_mb: float = 0.0
    reused: bool = False


def prepare(settings: Settings, seeds: Callable[[Session], None] | None = None, covers_model: bool = True) -> Context:
    """Schema at head; policy, catalogue and evaluation models seeded (as ``xinyong init``); departments;
    then ``seeds`` (another benchmark's own seeding, before any subject or record exists). ``covers_model``:
    insist that the records cover every item the model reads (this benchmark's own run does)."""
    use_settings(settings)
    migrate.upgrade(settings, "head")
    with session_scope(settings) as session:
        policy.seed(session)
        catalogue.seed(session, Actor.system("初始化"))
        evaluation.seed(session, Actor.system("初始化"))
        dept_ids = [access.create_department(session, code=d.code, name=d.name, short_name=d.short,
                                             region_code="320100", sector=d.sector).id for d in DEPARTMENTS]
        versions = {code: catalogue.get_item(session, code).version for code in ITEMS}
        periods = records.publication_periods(session)
        spec = evaluation.get_model(session, MODEL).spec
        if seeds is not None:
            seeds(session)
    read = set(evaluation_engine.fields_read(spec))
    assert read == set(ITEMS) or not covers_model, f"the generator covers {sorted(ITEMS)}, the model reads {sorted(read)}"
    dispose_engines()
    return Context(versions, periods, dept_ids)


def utc_text(at: datetime | None, sqlite: bool) -> str | None:
    """A timestamp as the driver path stores it (``db.bulk_insert``): naive UTC text on SQLite."""
    if at is None:
        return None
    text_ = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return text_ if sqlite else text_ + "+00"


def org_code(n: int, kind_row: tuple[str, str, str, float, float], region: str) -> str:
    body_number = (n * CODE_STRIDE + 4_242) % ORG_BODY_SPACE
    body = ""
    for _ in range(6):
        body_number, digit = divmod(body_number, 31)
        body = uscc.ALPHABET[digit] + body
    return uscc.build(kind_row[1], kind_row[2], region, "MA" + body)


SUBJECT_COLUMNS = ["id", "kind", "uscc", "person_key", "masked_id", "name", "normalised_name", "name_initials",
                   "search_pairs", "region_code", "industry", "legal_representative", "registration_authority",
                   "registered_on", "registered_capital", "address", "status", "created_at"]


def citizen_id(n: int, region: str) -> str:
    """Subject n's 居民身份证号码 when it is a natural person: valid (GB 11643 check digit) and unique per n
    (birth date and sequence number from n); the registry keeps only its keyed hash and masked form."""
    born = date(1950, 1, 1) + timedelta(days=(n // 1000) * 373 % 20_000)  # 373 is coprime with 20,000
    first17 = f"{region}{born:%Y%m%d}{n % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")  # stdnum takes the number with a check digit slot


def person_name(rng: random.Random) -> str:
    pool = GIVEN_MALE if rng.random() < 0.6 else GIVEN_FEMALE
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def generate_subjects(writer: Writer, n_subjects: int, rng: np.random.Generator) -> np.ndarray:
    """Write the subjects (ids 1..N); returns each subject's index into KINDS."""
    shares = np.array([k[3] for k in KINDS])
    kinds = rng.choice(len(KINDS), size=n_subjects, p=shares / shares.sum()).astype(np.int8)
    district_weights = np.array([d.weight for d in DISTRICTS], dtype=float)
    districts = rng.choice(len(DISTRICTS), size=n_subjects, p=district_weights / district_weights.sum())
    combos = rng.permutation(len(ZIHAO) * len(WORDS))
    registered = rng.integers(0, (TODAY - date(2000, 1, 1)).days - 30, size=n_subjects)
    capitals = rng.choice(np.array([3.0, 10, 50, 100, 200, 300, 500, 1000, 5000]), size=n_subjects)
    created = utc_text(NOW, writer.sqlite)
    people = random.Random(int(rng.integers(1 << 30)))
    for start in range(0, n_subjects, SUBJECT_CHUNK):
        rows = []
        for n in range(start, min(n_subjects, start + SUBJECT_CHUNK)):
            kind_row = KINDS[kinds[n]]
            kind = kind_row[0]
            district = DISTRICTS[districts[n]]
            subject_id = n + 1
            if kind == "natural_person":
                name = person_name(people)
                columns = subjects.name_columns(name, searchable=False)
                number = citizen_id(n, district.code)
                rows.append((subject_id, kind, None, identity.person_key(number, PERSON_SECRET), identity.mask_id(number),
                             *columns.values(),
                             district.code, None, None, None, None, None, None, "存续", created))
                continue
            c = combos[n % len(combos)]
            zihao, (word, industry) = ZIHAO[c // len(WORDS)], WORDS[c % len(WORDS)]
            forms = FORMS[kind]
            name = forms[(n // len(combos)) % len(forms)].format(z=zihao, w=word, d=district.name)
            columns = subjects.name_columns(name)
            day = date(2000, 1, 1) + timedelta(days=int(registered[n]))
            rows.append((subject_id, kind, org_code(n, kind_row, district.code), None, None, *columns.values(),
                         district.code, industry, person_name(people), f"南京市{district.name}市场监督管理局",
                         day.isoformat(), float(capitals[n]),
                         f"南京市{district.name}{district.roads[n % len(district.roads)]}{n % 399 + 1}号", "存续", created))
        writer.rows("subjects", SUBJECT_COLUMNS, rows)
    return kinds


@dataclass
class Draws:
    """Every record's random draws, in id order (ids 1..M); follow-ups point at earlier rows."""

    subject: np.ndarray
    item: np.ndarray
    day: np.ndarray  # days before the as-of date
    received_us: np.ndarray  # UTC microseconds since the epoch
    r1: np.ndarray
    r2: np.ndarray
    v: np.ndarray
    amount: np.ndarray
    simple: np.ndarray  # 简易程序 (penalties)
    kind: np.ndarray  # 0 original, 1 correction, 2 revocation
    supersedes: np.ndarray  # id, 0 for none
    serial: np.ndarray
    dept: np.ndarray
    pub_key: np.ndarray


def _choose(rng: np.random.Generator, item: np.ndarray) -> np.ndarray:
    v = np.zeros(item.size, dtype=np.int8)
    for code, (_, weights) in CHOICES.items():
        mask = item == ITEMS.index(code)
        cumulative = np.cumsum(weights) / np.sum(weights)
        v[mask] = np.minimum(np.searchsorted(cumulative, rng.random(int(mask.sum()))), len(weights) - 1)
    return v


def _amounts(rng: np.random.Generator, item: np.ndarray) -> np.ndarray:
    amount = np.zeros(item.size)
    for code, (median, sigma, high) in AMOUNTS.items():
        mask = item == ITEMS.index(code)
        amount[mask] = np.clip(rng.lognormal(np.log(median), sigma, int(mask.sum())), 0.01, high)
    return amount


def draw_records(n_records: int, kinds: np.ndarray, rng: np.random.Generator) -> Draws:
    n_follow = int(n_records * FOLLOW_UP_SHARE)
    n_orig = n_records - n_follow
    weights = rng.gamma(1.0, 1.0, kinds.size) * np.array([k[4] for k in KINDS])[kinds]
    subject = (rng.choice(kinds.size, size=n_orig, p=weights / weights.sum()) + 1).astype(np.int32)
    shares = np.array(list(ITEM_SHARES.values()))
    item = rng.choice(len(ITEMS), size=n_orig, p=shares / shares.sum()).astype(np.int8)
    day = rng.integers(0, YEARS * 365 + 1, size=n_orig).astype(np.int16)
    as_of_us = int(clock.start_of(AS_OF).timestamp()) * 1_000_000
    now_us = int(NOW.timestamp()) * 1_000_000
    day_us = 86_400 * 1_000_000
    received = (as_of_us - day.astype(np.int64) * day_us + rng.integers(1, 21, n_orig) * day_us
                + 9 * 3_600_000_000 + rng.integers(0, 8 * 3_600_000_000, n_orig))
    late = received >= now_us
    received[late] = now_us - rng.integers(60_000_000, 3_600_000_000, int(late.sum()))
    r1 = rng.integers(0, 1 << 30, n_orig, dtype=np.int32)
    r2 = rng.integers(0, 1 << 30, n_orig, dtype=np.int32)
    v = _choose(rng, item)
    amount = _amounts(rng, item)
    simple = (rng.random(n_orig) < 0.08) & (item == ITEMS.index("ADM_PENALTY"))

    # corrections and revocations of records received at least two days before the cut-off
    eligible = np.flatnonzero(received < now_us - 2 * day_us)
    target = np.sort(rng.choice(eligible, size=min(n_follow, eligible.size), replace=False))
    n_follow = target.size
    f_received = np.minimum(received[target] + rng.integers(1, 61, n_follow) * day_us
                            + rng.integers(0, day_us, n_follow), now_us - 60_000_000)
    f_kind = np.where(rng.random(n_follow) < 0.2, 2, 1).astype(np.int8)
    f_v = _choose(rng, item[target])
    f_amount = np.round(amount[target] * rng.uniform(0.5, 1.0, n_follow), 2).clip(0.01)

    cat = np.concatenate
    all_received = cat([received, f_received])
    order = np.argsort(all_received, kind="stable")  # ids in order of receipt, as the store assigns them
    new_id = np.empty(order.size, dtype=np.int64)
    new_id[order] = np.arange(1, order.size + 1)
    source = cat([np.arange(n_orig), target])  # the original row each row derives from
    supersedes = cat([np.zeros(n_orig, dtype=np.int64), new_id[target]])
    item_all = cat([item, item[target]])
    v_all = cat([v, f_v])
    simple_all = cat([simple, simple[target]])
    r2_all = cat([r2, r2[target]])
    day_all = cat([day, day[target]])
    dept_of = np.zeros(item_all.size, dtype=np.int16)
    for code, sectors in ITEM_SECTORS.items():
        mask = item_all == ITEMS.index(code)
        choices = np.array([SECTOR_INDEX[s] for s in sectors], dtype=np.int16)
        dept_of[mask] = choices[r2_all[mask] % len(sectors)]
    penalty = item_all == ITEMS.index("ADM_PENALTY")
    pub_key = ((item_all.astype(np.int64) * 4000 + day_all) * 16 + np.where(penalty, v_all, 0)) * 2 + simple_all
    draws = Draws(subject=cat([subject, subject[target]]), item=item_all, day=day_all, received_us=all_received,
                  r1=cat([r1, r1[target]]), r2=r2_all, v=v_all, amount=cat([amount, f_amount]), simple=simple_all,
                  kind=cat([np.zeros(n_orig, dtype=np.int8), f_kind]), supersedes=supersedes,
                  serial=(source + 1).astype(np.int64), dept=dept_of, pub_key=pub_key)
    return Draws(**{name: value[order] for name, value in draws.__dict__.items()})


def publication_table(keys: np.ndarray, context: Context, sqlite: bool) -> pa.Table:
    """The publication columns for every (item, decision date, penalty category, 简易程序) drawn."""
    unique = np.unique(keys)
    published, starts, ends = [], [], []
    categories = CHOICES["ADM_PENALTY"][0]
    for key in unique.tolist():
        rest, simple = divmod(key, 2)
        rest, category = divmod(rest, 16)
        item_index, day = divmod(rest, 4000)
        code = ITEMS[item_index]
        payload = {"CF_CFLB": categories[category], "CF_JYCX": bool(simple)} if code == "ADM_PENALTY" else {}
        version = context.versions[code]
        shown = records.publication_fields(version, severity=version.severity, decision_date=AS_OF - timedelta(days=day),
                                           payload=payload, subject_kind="enterprise", periods=context.periods)
        published.append(shown["published"])
        starts.append(utc_text(shown["publication_starts_at"], sqlite))
        ends.append(utc_text(shown["publication_ends_at"], sqlite))
    return pa.table({"pub_key": pa.array(unique, pa.int64()), "published": pa.array(published, pa.bool_()),
                     "starts": pa.array(starts, pa.string()), "ends": pa.array(ends, pa.string())})


def _pool(values: tuple[str, ...] | list[str]) -> str:
    assert all("'" not in v and '"' not in v and "\\" not in v for v in values)
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _pick(values: tuple[str, ...] | list[str], by: str) -> str:
    return f"{_pool(values)}[1 + {by} % {len(values)}]"


NAMES_SQL = (f"{_pool(list(SURNAMES))}[1 + r2 % {len(SURNAMES)}] || {_pool(list(GIVEN_MALE))}[1 + (r2 // 64) % {len(GIVEN_MALE)}]"
             f" || {_pool(list(GIVEN_FEMALE))}[1 + (r2 // 4096) % {len(GIVEN_FEMALE)}]")


def _fields() -> dict[str, list[tuple[str, str, str, str | None]]]:
    """Per item: (field, SQL of its text, JSON type s/n/b, condition for an optional field)."""
    def doc(word: str) -> str:
        return f"dprefix || '{word}〔' || y || '〕' || sn || '号'"

    pen = [p[0] for p in PENALTIES], [p[1] for p in PENALTIES], [p[2] for p in PENALTIES]
    kinds = CHOICES["ADM_PENALTY"][0]
    lic = [[row[i] for row in LICENCES] for i in range(4)]
    return {
        "ADM_PENALTY": [
            ("CF_FDDB", NAMES_SQL, "s", None), ("CF_WSH", doc("罚决"), "s", None),
            ("CF_WFXW", _pick(pen[0], "r1"), "s", None), ("CF_SY", f"cn || '，' || {_pick(pen[1], 'r1')}", "s", None),
            ("CF_YJ", _pick(pen[2], "r1"), "s", None), ("CF_CFLB", f"{_pool(kinds)}[1 + v]", "s", None),
            ("CF_NR", f"CASE v WHEN 0 THEN '罚款' || a || '万元' WHEN 2 THEN '没收违法所得' || a || '万元' "
                      f"ELSE {_pool(kinds)}[1 + v] || '（' || {_pick(pen[0], 'r1')} || '）' END", "s", None),
            ("CF_NR_FK", "a", "s", "v = 0"), ("CF_NR_WFFF", "a", "s", "v = 2"), ("CF_JDRQ", "t", "s", None),
            ("CF_CFJG", "dname", "s", None), ("CF_CFJGDM", "dcode", "s", None), ("CF_SJLY", "dname", "s", None),
            ("CF_SJLYDM", "dcode", "s", None), ("CF_JYCX", "simple", "b", None)],
        "ADM_LICENSE": [
            ("XK_FDDB", NAMES_SQL, "s", None), ("XK_XKWS", _pick(lic[0], "r1"), "s", None),
            ("XK_WSH", doc("许准"), "s", None), ("XK_XKLB", _pick(lic[2], "r1"), "s", None),
            ("XK_XKZS", _pick(lic[1], "r1"), "s", None), ("XK_XKBH", "'JY' || y || lpad(sn, 9, '0')", "s", None),
            ("XK_NR", _pick(lic[3], "r1"), "s", None), ("XK_JDRQ", "t", "s", None), ("XK_YXQZ", "t", "s", None),
            ("XK_YXQZI", "strftime(dd + INTERVAL 5 YEAR - INTERVAL 1 DAY, '%Y-%m-%d')", "s", None),
            ("XK_XKJG", "dname", "s", None), ("XK_XKJGDM", "dcode", "s", None), ("XK_ZT", "'有效'", "s", None),
            ("XK_LYDW", "dname", "s", None), ("XK_LYDWDM", "dcode", "s", None)],
        "LIST_ABNORMAL": [
            ("LRWH", doc("异列"), "s", None), ("LRYY", f"{_pool(CHOICES['LIST_ABNORMAL'][0])}[1 + v]", "s", None),
            ("LRRQ", "t", "s", None), ("ZCJG", "dname", "s", None)],
        "COMMITMENT": [
            ("CNBH", "'CN' || y || lpad(sn, 9, '0')", "s", None), ("CNLX", _pick([c[0] for c in COMMITMENTS], "r1"), "s", None),
            ("CNSX", _pick([c[1] for c in COMMITMENTS], "r1"), "s", None), ("CNRQ", "t", "s", None),
            ("LYZT", f"{_pool(CHOICES['COMMITMENT'][0])}[1 + v]", "s", None)],
        "COMMITMENT_BREACH": [
            ("CNBH", "'CNW' || y || lpad(sn, 9, '0')", "s", None), ("CNLX", _pick([c[0] for c in COMMITMENTS], "r1"), "s", None),
            ("CNSX", _pick([c[1] for c in COMMITMENTS], "r1"), "s", None),
            ("WLYQK", "'未按承诺期限和内容履行'", "s", None), ("RDRQ", "t", "s", None), ("RDJG", "dname", "s", None)],
        "CONTRACT": [
            ("HTBH", "'NJZC' || y || '-' || lpad(sn, 8, '0')", "s", None),
            ("HTMC", f"y || '年度' || {_pick(CONTRACTS, 'r1')} || '采购项目合同'", "s", None), ("HTJE", "a", "s", None),
            ("LYQK", f"{_pool(CHOICES['CONTRACT'][0])}[1 + v]", "s", None), ("QDRQ", "t", "s", None)],
        "TAX_CREDIT": [
            ("PJND", "CAST(year(dd) - 1 AS VARCHAR)", "n", None),
            ("NSXYDJ", f"{_pool(CHOICES['TAX_CREDIT'][0])}[1 + v]", "s", None), ("PDRQ", "t", "s", None)],
        "SOCIAL_INSURANCE": [
            ("TJYF", "strftime(dd, '%Y-%m')", "s", None), ("CBRS", "CAST(1 + r1 % 300 AS VARCHAR)", "n", None),
            ("QFJE", "a", "s", "v = 1"), ("TJRQ", "t", "s", None)],
        "HONOUR": [
            ("RYMC", _pick([h[0] for h in HONOURS], "r1"), "s", None), ("SYJG", _pick([h[1] for h in HONOURS], "r1"), "s", None),
            ("SYRQ", "t", "s", None), ("RYJB", _pick([h[2] for h in HONOURS], "r1"), "s", None)],
        "JUD_EXECUTION": [
            ("AH", "'（' || y || '）苏01' || lpad(CAST(r1 % 20 AS VARCHAR), 2, '0') || '执' || sn || '号'", "s", None),
            ("ZXFY", _pick(COURTS, "r1"), "s", None),
            ("ZXYJWH", "'（' || CAST(year(dd) - 1 AS VARCHAR) || '）苏01民初' || CAST(r2 % 90000 AS VARCHAR) || '号'", "s", None),
            ("LXQK", f"{_pool(CHOICES['JUD_EXECUTION'][0])}[1 + v]", "s", None), ("SXXW", _pick(DEFAULTS, "r1"), "s", None),
            ("FBRQ", "t", "s", None), ("SXJE", "a", "s", None)],
        "LIST_SERIOUS": [
            ("MDLX", _pick([s[0] for s in SERIOUS], "r1"), "s", None), ("RDWH", doc("严失认"), "s", None),
            ("RDYY", _pick([s[1] for s in SERIOUS], "r1"), "s", None), ("RDRQ", "t", "s", None),
            ("RDJG", "dname", "s", None)],
        "ADM_COERCION": [
            ("QZ_WSH", doc("强制"), "s", None), ("QZ_LB", f"{_pool(CHOICES['ADM_COERCION'][0])}[1 + v]", "s", None),
            ("QZ_SY", _pick(COERCION_CAUSES, "r1"), "s", None), ("QZ_JDRQ", "t", "s", None), ("QZ_JG", "dname", "s", None)],
    }


def _payload_sql(fields: list[tuple[str, str, str, str | None]]) -> str:
    """Canonical JSON as ``records.payload_json`` writes it: keys sorted, ``", "`` and ``": "``."""
    parts = []
    for key, expr, kind, condition in sorted(fields, key=lambda f: f[0]):
        value = {"s": f"'\"' || ({expr}) || '\"'", "n": f"({expr})",
                 "b": f"CASE WHEN {expr} THEN 'true' ELSE 'false' END"}[kind]
        piece = f"'\"{key}\": ' || {value}"
        parts.append(f"CASE WHEN {condition} THEN {piece} END" if condition else piece)
    return "'{' || concat_ws(', ', " + ", ".join(parts) + ") || '}'"


RECORD_COLUMNS = ["id", "subject_id", "item_code", "item_version_id", "department_id", "kind", "supersedes_id",
                  "natural_key", "content_hash", "payload", "severity", "decision_date", "received_at", "reason",
                  "submitted_by", "batch_id", "source_row", "published", "publication_starts_at", "publication_ends_at"]


def record_sql(context: Context, sqlite: bool) -> str:
    fields = _fields()
    payload = "CASE item " + " ".join(f"WHEN '{code}' THEN {_payload_sql(fields[code])}" for code in ITEMS) + " END"
    by_name = {code: {f[0]: f for f in fields[code]} for code in ITEMS}
    natural = []
    for code in ITEMS:
        parts = [by_name[code][name][1] for name in context.versions[code].natural_key]
        natural.append(f"WHEN '{code}' THEN " + " || '|' || ".join(f"({p})" for p in parts))
    natural_key = "CASE item " + " ".join(natural) + " END"
    amount = ("CASE WHEN amount < 1 THEN printf('%.2f', amount) WHEN amount < 10 THEN printf('%.1f', amount) "
              "ELSE CAST(CAST(round(amount) AS BIGINT) AS VARCHAR) END")
    received = "strftime(make_timestamp(received_us), '%Y-%m-%d %H:%M:%S.%f')" + ("" if sqlite else " || '+00'")
    published = "CAST(pub.published AS INTEGER)" if sqlite else "pub.published"
    revoked = "0" if sqlite else "false"
    return f"""
    WITH b AS (
        SELECT c.*, d.dept_id, d.dname, d.dcode, d.dprefix, DATE '{AS_OF.isoformat()}' - CAST(c.day AS INTEGER) AS dd
        FROM c JOIN depts d ON d.idx = c.dept
    ), e AS (
        SELECT *, strftime(dd, '%Y-%m-%d') AS t, CAST(year(dd) AS VARCHAR) AS y, CAST(serial AS VARCHAR) AS sn,
               CAST(year(dd) AS VARCHAR) || '年' || CAST(month(dd) AS VARCHAR) || '月' || CAST(day(dd) AS VARCHAR) || '日' AS cn,
               {amount} AS a
        FROM b
    ), p AS (
        SELECT *, {payload} AS full_payload, {natural_key} AS nk FROM e
    )
    SELECT p.id, p.subject_id, p.item, iv.version_id, p.dept_id,
           ['original', 'correction', 'revocation'][1 + p.kind], NULLIF(p.supersedes, 0), p.nk,
           sha256('{{"payload": ' || CASE WHEN p.kind = 2 THEN '{{"revoked": ' || CAST(p.supersedes AS VARCHAR) || '}}'
                                          ELSE p.full_payload END || ', "subject": ' || CAST(p.subject_id AS VARCHAR) || '}}'),
           CASE WHEN p.kind = 2 THEN '{{}}' ELSE p.full_payload END, iv.severity, p.t, {received},
           CASE WHEN p.kind = 2 THEN '原决定已被依法撤销' ELSE '' END, NULL, NULL, NULL,
           CASE WHEN p.kind = 2 THEN {revoked} ELSE {published} END,
           CASE WHEN p.kind = 2 THEN NULL ELSE pub.starts END, CASE WHEN p.kind = 2 THEN NULL ELSE pub.ends END
    FROM p JOIN iv ON iv.item = p.item JOIN pub ON pub.pub_key = p.pub_key
    ORDER BY p.id
    """


def check_sample(rows: list[tuple[Any, ...]], context: Context, rules: uscc.UsccRules, kinds: dict[int, str]) -> int:
    """Generated rows are exactly what the app's validation, hashing and publication rules produce."""
    checked = 0
    by_item: dict[str, int] = {}
    for row in rows:
        record = dict(zip(RECORD_COLUMNS, row, strict=True))
        item, kind = record["item_code"], record["kind"]
        if by_item.get(item + kind, 0) >= 200:
            continue
        by_item[item + kind] = by_item.get(item + kind, 0) + 1
        version = context.versions[item]
        payload = json.loads(record["payload"])
        if kind == "revocation":
            assert payload == {} and record["content_hash"] == records.content_hash(
                record["subject_id"], {"revoked": record["supersedes_id"]}), record
            continue
        clean, problems = check_payload(version.fields, payload, check_uscc=lambda raw: uscc.validate(raw, rules),
                                        today=TODAY)
        assert not problems, (item, payload, problems)
        assert clean == payload, (item, payload, clean)
        assert record["payload"] == records.payload_json(clean), record["payload"]
        assert record["content_hash"] == records.content_hash(record["subject_id"], clean), record
        assert record["natural_key"] == "|".join(str(clean.get(k, "")) for k in version.natural_key), record
        decided = decision_date_of(version.fields, clean)
        assert decided is not None and record["decision_date"] == decided.isoformat(), record
        shown = records.publication_fields(version, severity=version.severity, decision_date=decided, payload=clean,
                                           subject_kind=kinds[record["subject_id"]], periods=context.periods)
        assert bool(record["published"]) == shown["published"], (record, shown)
        assert record["publication_starts_at"] == utc_text(shown["publication_starts_at"], True), (record, shown)
        assert record["publication_ends_at"] == utc_text(shown["publication_ends_at"], True), (record, shown)
        checked += 1
    return checked


class RecordBuilder:
    """Chunks of finished record rows from the draws (DuckDB; runs in a worker thread, releasing the GIL)."""

    def __init__(self, draws: Draws, context: Context, sqlite: bool, work: Path) -> None:
        self.draws, self.sqlite, self.work = draws, sqlite, work
        self.con = duckdb.connect()
        self.con.register("depts", pa.table({"idx": list(range(len(DEPARTMENTS))), "dept_id": context.dept_ids,
                                             "dname": [d.name for d in DEPARTMENTS],
                                             "dcode": [d.code for d in DEPARTMENTS],
                                             "dprefix": [d.prefix for d in DEPARTMENTS]}))
        self.con.register("iv", pa.table({"item": list(ITEMS), "version_id": [context.versions[c].id for c in ITEMS],
                                          "severity": [context.versions[c].severity for c in ITEMS]}))
        self.con.register("pub", publication_table(draws.pub_key, context, sqlite))
        self.sql = record_sql(context, sqlite)
        self.item_names = pa.array(list(ITEMS))

    def build(self, start: int) -> Any:
        """Rows (SQLite) or a CSV file (PostgreSQL COPY) of the records with ids start+1 .. start+RECORD_CHUNK."""
        draws = self.draws
        end = min(draws.item.size, start + RECORD_CHUNK)
        part = slice(start, end)
        chunk = pa.table({"id": pa.array(np.arange(start + 1, end + 1, dtype=np.int64)),
                          "subject_id": pa.array(draws.subject[part].astype(np.int64)),
                          "item": self.item_names.take(pa.array(draws.item[part].astype(np.int32))),
                          "day": pa.array(draws.day[part]), "received_us": pa.array(draws.received_us[part]),
                          "r1": pa.array(draws.r1[part]), "r2": pa.array(draws.r2[part]), "v": pa.array(draws.v[part]),
                          "amount": pa.array(draws.amount[part]), "simple": pa.array(draws.simple[part]),
                          "kind": pa.array(draws.kind[part]), "supersedes": pa.array(draws.supersedes[part]),
                          "serial": pa.array(draws.serial[part]), "dept": pa.array(draws.dept[part]),
                          "pub_key": pa.array(draws.pub_key[part])})
        self.con.register("c", chunk)
        if self.sqlite:
            return self.con.execute(self.sql).fetchall()
        path = self.work / f"records-{start}.csv"
        self.con.execute(f"COPY ({self.sql}) TO '{path}' (HEADER false)")
        return path

    def close(self) -> None:
        self.con.close()


def generate(url: str, work: Path, n_subjects: int, n_records: int, seed: int,
             seeds: Callable[[Session], None] | None = None, covers_model: bool = True) -> Generation:
    stats = Generation(subjects=n_subjects, records=n_records)
    settings = settings_for(url, work)
    started = time.perf_counter()
    context = prepare(settings, seeds, covers_model)
    with session_scope(settings) as session:
        rules = subjects.rules(session)
    dispose_engines()
    stats.seconds["schema and seeds"] = time.perf_counter() - started

    writer = Writer(url)
    indexes = writer.secondary_indexes(("subjects", "records"))
    for name, _ in indexes:
        writer.execute(f"DROP INDEX {name}")
    if writer.sqlite:
        trigger = writer.connection.execute("SELECT sql FROM sqlite_master WHERE name = 'subject_search_ai'").fetchone()[0]
        writer.execute("DROP TRIGGER subject_search_ai")  # the FTS table is filled in one statement afterwards
    rng = np.random.default_rng(seed)

    started = time.perf_counter()
    kinds = generate_subjects(writer, n_subjects, rng)
    stats.seconds["subjects"] = time.perf_counter() - started
    print(f"  subjects: {n_subjects:,} in {stats.seconds['subjects']:.1f} s", flush=True)

    started = time.perf_counter()
    draws = draw_records(n_records, kinds, rng)
    stats.follow_ups = int((draws.kind > 0).sum())
    stats.records = draws.item.size
    stats.seconds["draws"] = time.perf_counter() - started
    started = time.perf_counter()
    kind_of = {n + 1: KINDS[k][0] for n, k in enumerate(kinds.tolist())} if writer.sqlite else {}
    builder = RecordBuilder(draws, context, writer.sqlite, work)
    starts = list(range(0, stats.records, RECORD_CHUNK))
    with ThreadPoolExecutor(max_workers=1) as pool:  # DuckDB builds chunk i+1 while chunk i is written
        pending = pool.submit(builder.build, starts[0])
        for index, start in enumerate(starts):
            built = pending.result()
            if index + 1 < len(starts):
                pending = pool.submit(builder.build, starts[index + 1])
            if writer.sqlite:
                if index == 0:
                    print(f"  checked {check_sample(built, context, rules, kind_of)} generated records against the "
                          "app's validation, hashing and publication rules", flush=True)
                stats.published += sum(1 for r in built if r[17])
                writer.rows("records", RECORD_COLUMNS, built)
            else:
                writer.csv_file("records", RECORD_COLUMNS, built)
                built.unlink()
            done = min(stats.records, start + RECORD_CHUNK)
            if index % 8 == 7 or done == stats.records:
                print(f"  records: {done:>12,} / {stats.records:,}  "
                      f"({done / (time.perf_counter() - started):,.0f} rows/s)", flush=True)
    builder.close()
    stats.seconds["records"] = time.perf_counter() - started
    if not writer.sqlite:
        stats.published = -1
    del draws

    started = time.perf_counter()
    for _, create in indexes:
        writer.execute(create)
    stats.seconds["index rebuild"] = time.perf_counter() - started
    started = time.perf_counter()
    if writer.sqlite:
        writer.execute("INSERT INTO subject_search(rowid, normalised_name, search_pairs) "
                       "SELECT id, normalised_name, search_pairs FROM subjects WHERE kind != 'natural_person'")
        writer.execute(trigger)
        stats.seconds["search index (FTS5)"] = time.perf_counter() - started
        started = time.perf_counter()
        writer.execute("ANALYZE")
        writer.execute("PRAGMA journal_mode=WAL")
        stats.size_mb = Path(sqlite_path(url)).stat().st_size / 1e6
    else:
        writer.connection.execute("SET session_replication_role = origin")
        for table in ("subjects", "records"):  # ids were given explicitly: move the sequences past them
            writer.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        writer.execute("VACUUM ANALYZE")
        stats.size_mb = writer.connection.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6
    stats.seconds["statistics"] = time.perf_counter() - started
    writer.close()
    stats.peak_mb = peak_rss_mb()
    return stats


def existing_counts(url: str) -> tuple[int, int]:
    if not Path(sqlite_path(url)).exists():
        return 0, 0
    connection = sqlite3.connect(sqlite_path(url))
    try:
        return (connection.execute("SELECT count(*) FROM subjects").fetchone()[0],
                connection.execute("SELECT count(*) FROM records").fetchone()[0])
    except sqlite3.OperationalError:
        return 0, 0
    finally:
        connection.close()


# --- ours ----------------------------------------------------------------------------------------------

def run_ours(url: str, work: Path, profile: bool) -> dict[str, Any]:
    """``run_model`` end to end; phases timed by wrapping the engine's and the service's steps."""
    settings = settings_for(url, work)
    use_settings(settings)
    clock.freeze(NOW)
    phases: dict[str, float] = {}
    timed = phase_timer(phases)
    evaluation_engine.export = timed("export", evaluation_engine.export)
    evaluation_engine.run_duckdb = timed("compute", evaluation_engine.run_duckdb)
    evaluation._store = timed("store", evaluation._store)  # type: ignore[attr-defined]
    factory = session_factory(settings)
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    run = evaluation.run_model(factory, Actor.system("基准测试"), MODEL, AS_OF)
    if profiler:
        profiler.disable()
    total = time.perf_counter() - started
    assert run.status == "succeeded", run.error
    return {"total": total, "phases": phases, "run_id": run.id, "population": run.population, "facts": run.facts,
            "grades": run.grade_counts, "duration_ms": run.duration_ms, "peak_mb": peak_rss_mb(),
            "hotspots": hotspots(profiler)}


# --- the hand-written baseline --------------------------------------------------------------------------

# What BASELINE_SQL is written for: indicator -> (kind, item, summed field, field filters, composite inputs).
# The parameters (windows, half-lives, caps, weights, grade floors) are read from the model version in force,
# so re-tuning the model does not break the benchmark; a change of shape stops it with a message.
BASELINE_SHAPE: dict[str, tuple[Any, ...]] = {
    "penalties": ("count", "ADM_PENALTY", None, (), ()), "coercions": ("count", "ADM_COERCION", None, (), ()),
    "administrative": ("composite", None, None, (), ("penalties", "coercions")),
    "fines": ("sum", "ADM_PENALTY", "CF_NR_FK", (), ()), "licences": ("count", "ADM_LICENSE", None, (), ()),
    "judgment_debtor": ("exists", "JUD_EXECUTION", None, (), ()), "serious_list": ("exists", "LIST_SERIOUS", None, (), ()),
    "abnormal": ("count", "LIST_ABNORMAL", None, (), ()),
    "commitments_kept": ("count", "COMMITMENT", None, (("LYZT", ("已履约",)),), ()),
    "commitments_broken": ("count", "COMMITMENT_BREACH", None, (), ()),
    "contract_breaches": ("count", "CONTRACT", None, (("LYQK", ("违约",)),), ()),
    "tax_grade_a": ("exists", "TAX_CREDIT", None, (("NSXYDJ", ("A",)),), ()),
    "tax_grade_d": ("exists", "TAX_CREDIT", None, (("NSXYDJ", ("D",)),), ()),
    "insurance_arrears": ("sum", "SOCIAL_INSURANCE", "QFJE", (), ()), "honours": ("count", "HONOUR", None, (), ())}
SCORED = ("administrative", "fines", "licences", "judgment_debtor", "serious_list", "abnormal", "commitments_kept",
          "commitments_broken", "contract_breaches", "tax_grade_a", "tax_grade_d", "insurance_arrears", "honours")
INDICATORS = tuple(BASELINE_SHAPE)
VALUE_FIELD = {"ADM_PENALTY": "CF_NR_FK", "COMMITMENT": "LYZT", "CONTRACT": "LYQK", "TAX_CREDIT": "NSXYDJ",
               "SOCIAL_INSURANCE": "QFJE"}  # the one payload field each item needs

BASELINE_SQL = """
CREATE MACRO r6(x) AS floor(x * 1000000.0 + 0.5) / 1000000.0;
CREATE MACRO r2(x) AS floor(x * 100.0 + 0.5) / 100.0;
WITH facts AS (
    SELECT f.subject_id, f.item_code, f.decision_date, f.v, DATE '{as_of}' - f.decision_date AS age
    FROM facts_raw f ANTI JOIN superseded s ON s.supersedes_id = f.id
    WHERE f.decision_date <= DATE '{as_of}'
), agg AS (
    SELECT subject_id,
        sum({penalties_w}) FILTER (WHERE item_code = 'ADM_PENALTY' AND decision_date > {penalties_since}) AS penalties,
        sum({coercions_w}) FILTER (WHERE item_code = 'ADM_COERCION' AND decision_date > {coercions_since}) AS coercions,
        sum({fines_w} * coalesce(TRY_CAST(v AS DOUBLE), 0.0))
            FILTER (WHERE item_code = 'ADM_PENALTY' AND decision_date > {fines_since}) AS fines,
        sum({licences_w}) FILTER (WHERE item_code = 'ADM_LICENSE' AND decision_date > {licences_since}) AS licences,
        count(*) FILTER (WHERE item_code = 'JUD_EXECUTION' AND decision_date > {judgment_debtor_since}) AS judgments,
        count(*) FILTER (WHERE item_code = 'LIST_SERIOUS' AND decision_date > {serious_list_since}) AS serious,
        sum({abnormal_w}) FILTER (WHERE item_code = 'LIST_ABNORMAL' AND decision_date > {abnormal_since}) AS abnormal,
        sum({commitments_kept_w})
            FILTER (WHERE item_code = 'COMMITMENT' AND v = '已履约' AND decision_date > {commitments_kept_since}) AS kept,
        sum({commitments_broken_w})
            FILTER (WHERE item_code = 'COMMITMENT_BREACH' AND decision_date > {commitments_broken_since}) AS broken,
        sum({contract_breaches_w})
            FILTER (WHERE item_code = 'CONTRACT' AND v = '违约' AND decision_date > {contract_breaches_since}) AS breaches,
        count(*) FILTER (WHERE item_code = 'TAX_CREDIT' AND v = 'A' AND decision_date > {tax_grade_a_since}) AS tax_a,
        count(*) FILTER (WHERE item_code = 'TAX_CREDIT' AND v = 'D' AND decision_date > {tax_grade_d_since}) AS tax_d,
        sum({insurance_arrears_w} * coalesce(TRY_CAST(v AS DOUBLE), 0.0))
            FILTER (WHERE item_code = 'SOCIAL_INSURANCE' AND decision_date > {insurance_arrears_since}) AS arrears,
        sum({honours_w}) FILTER (WHERE item_code = 'HONOUR' AND decision_date > {honours_since}) AS honours
    FROM facts GROUP BY subject_id
), leaves AS (
    SELECT p.subject_id,
        r6(least(coalesce(penalties, 0.0), {penalties_cap})) AS penalties,
        r6(least(coalesce(coercions, 0.0), {coercions_cap})) AS coercions,
        r6(least(coalesce(fines, 0.0), {fines_cap})) AS fines,
        r6(least(coalesce(licences, 0.0), {licences_cap})) AS licences,
        r6(least(if(judgments > 0, 1.0, 0.0)::DOUBLE, {judgment_debtor_cap})) AS judgment_debtor,
        r6(least(if(serious > 0, 1.0, 0.0)::DOUBLE, {serious_list_cap})) AS serious_list,
        r6(least(coalesce(abnormal, 0.0), {abnormal_cap})) AS abnormal,
        r6(least(coalesce(kept, 0.0), {commitments_kept_cap})) AS commitments_kept,
        r6(least(coalesce(broken, 0.0), {commitments_broken_cap})) AS commitments_broken,
        r6(least(coalesce(breaches, 0.0), {contract_breaches_cap})) AS contract_breaches,
        r6(least(if(tax_a > 0, 1.0, 0.0)::DOUBLE, {tax_grade_a_cap})) AS tax_grade_a,
        r6(least(if(tax_d > 0, 1.0, 0.0)::DOUBLE, {tax_grade_d_cap})) AS tax_grade_d,
        r6(least(coalesce(arrears, 0.0), {insurance_arrears_cap})) AS insurance_arrears,
        r6(least(coalesce(honours, 0.0), {honours_cap})) AS honours
    FROM population p LEFT JOIN agg USING (subject_id)
), composite AS (
    SELECT *, r6(least(0.0 + penalties * {administrative_in_penalties} + coercions * {administrative_in_coercions},
                       {administrative_cap})) AS administrative
    FROM leaves
), final AS (
    SELECT *, r2(greatest(least({base} + administrative * {administrative_weight} + fines * {fines_weight}
                                + licences * {licences_weight} + judgment_debtor * {judgment_debtor_weight}
                                + serious_list * {serious_list_weight} + abnormal * {abnormal_weight}
                                + commitments_kept * {commitments_kept_weight} + commitments_broken * {commitments_broken_weight}
                                + contract_breaches * {contract_breaches_weight} + tax_grade_a * {tax_grade_a_weight}
                                + tax_grade_d * {tax_grade_d_weight} + insurance_arrears * {insurance_arrears_weight}
                                + honours * {honours_weight}, {max_score}), {min_score})) AS score
    FROM composite
)
SELECT subject_id, score,
       CASE WHEN score >= {grade_a} THEN 'A' WHEN score >= {grade_b} THEN 'B' WHEN score >= {grade_c} THEN 'C' ELSE 'D' END
           AS grade,
       penalties, coercions, administrative, fines, licences, judgment_debtor, serious_list, abnormal, commitments_kept,
       commitments_broken, contract_breaches, tax_grade_a, tax_grade_d, insurance_arrears, honours
FROM final ORDER BY subject_id
"""


def _double(value: float) -> str:
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def baseline_sql(spec: Any) -> str:
    """BASELINE_SQL with the parameters of the model version in force (its shape is checked first)."""
    shape = {i.code: (i.kind, i.item, i.field, tuple((w.field, tuple(w.values)) for w in i.where), tuple(i.inputs))
             for i in spec.indicators}
    scored = tuple(i.code for i in evaluation.definition.scored(spec))
    grades = tuple(g.code for g in spec.grades)
    if shape != BASELINE_SHAPE or scored != SCORED or grades != ("A", "B", "C", "D"):
        raise SystemExit(f"{MODEL} no longer has the shape BASELINE_SQL is written for: update the benchmark")
    values: dict[str, str] = {"as_of": AS_OF.isoformat(), "base": _double(spec.base_score),
                              "min_score": _double(spec.min_score), "max_score": _double(spec.max_score)}
    for indicator in spec.indicators:
        code = indicator.code
        since = add_months(AS_OF, -indicator.window_months) if indicator.window_months else date(1, 1, 1)
        values[f"{code}_since"] = f"DATE '{since.isoformat()}'"
        half_life = indicator.half_life_months
        rate = -math.log(2) / (half_life * evaluation_engine.DAYS_PER_MONTH) if half_life else None
        values[f"{code}_w"] = f"exp(age * {_double(rate)})" if rate else "1.0::DOUBLE"  # recency weight
        values[f"{code}_cap"] = _double(indicator.cap) if indicator.cap is not None else "'Infinity'::DOUBLE"
        values[f"{code}_weight"] = _double(indicator.weight)
        for name, weight in zip(indicator.inputs, indicator.input_weights, strict=True):
            values[f"{code}_in_{name}"] = _double(weight)
    for grade in spec.grades[:-1]:
        values[f"grade_{grade.code.lower()}"] = _double(grade.min_score)
    return BASELINE_SQL.format(**values)


def _export_sql(spec: Any, sqlite: bool, cutoff: str) -> tuple[str, str, str]:
    """The baseline's export: current facts of the model's items inside its widest window, the one field each
    item needs; the ids superseded by the cut-off; the population."""
    items = ", ".join(f"'{c}'" for c in sorted(evaluation_engine.fields_read(spec)))
    extract = (lambda f: f"json_extract(payload, '$.{f}')") if sqlite else (lambda f: f"payload ->> '{f}'")
    value = "CASE item_code " + " ".join(f"WHEN '{i}' THEN {extract(f)}" for i, f in VALUE_FIELD.items()) + " END"
    windows = [i.window_months for i in spec.indicators if i.item]
    since = f"AND decision_date > '{add_months(AS_OF, -max(windows)).isoformat()}' " if all(windows) else ""
    table = "records NOT INDEXED" if sqlite else "records"  # a bulk read: scan, don't walk an index
    facts = (f"SELECT id, subject_id, item_code, decision_date, {value} AS v FROM {table} "
             f"WHERE item_code IN ({items}) AND kind != 'revocation' AND received_at <= '{cutoff}' "
             f"{since}AND decision_date <= '{AS_OF.isoformat()}'")
    superseded = f"SELECT supersedes_id FROM records WHERE supersedes_id IS NOT NULL AND received_at <= '{cutoff}'"
    kinds = ", ".join(f"'{k}'" for k in spec.subject_kinds)
    population = f"SELECT id AS subject_id FROM subjects WHERE kind IN ({kinds})"
    return facts, superseded, population


def _sqlite_to_parquet(connection: sqlite3.Connection, sql: str, schema: pa.Schema, path: Path) -> int:
    cursor = connection.execute(sql)
    written = 0
    with pq.ParquetWriter(path, schema) as writer:
        while rows := cursor.fetchmany(FETCH_ROWS):
            columns = list(zip(*rows, strict=True))
            arrays = []
            for values, column in zip(columns, schema, strict=True):
                if pa.types.is_date32(column.type):
                    arrays.append(pa.array(values, pa.string()).cast(pa.date32()))
                else:
                    arrays.append(pa.array(values, column.type))
            writer.write_batch(pa.record_batch(arrays, schema=schema))
            written += len(rows)
    return written


FACT_SCHEMA = pa.schema([("id", pa.int64()), ("subject_id", pa.int64()), ("item_code", pa.string()),
                         ("decision_date", pa.date32()), ("v", pa.string())])


def run_baseline(url: str, work: Path) -> dict[str, Any]:
    folder = work / "baseline"
    folder.mkdir(parents=True, exist_ok=True)
    sqlite = is_sqlite(url)
    settings = settings_for(url, work)
    use_settings(settings)
    with session_scope(settings) as session:
        spec = evaluation.get_model(session, MODEL).spec
    dispose_engines()
    cutoff = utc_text(NOW, True) if sqlite else NOW.isoformat()
    facts_sql, superseded_sql, population_sql = _export_sql(spec, sqlite, cutoff or "")
    compute_sql = baseline_sql(spec)
    started = time.perf_counter()
    if sqlite:
        connection = sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True)
        facts = _sqlite_to_parquet(connection, facts_sql, FACT_SCHEMA, folder / "facts.parquet")
        _sqlite_to_parquet(connection, superseded_sql, pa.schema([("supersedes_id", pa.int64())]),
                           folder / "superseded.parquet")
        population = _sqlite_to_parquet(connection, population_sql, pa.schema([("subject_id", pa.int64())]),
                                        folder / "population.parquet")
        connection.close()
        sources = {name: f"read_parquet('{folder / name}.parquet')" for name in ("facts", "superseded", "population")}
    else:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
            for name, sql in (("facts", facts_sql), ("superseded", superseded_sql), ("population", population_sql)):
                with connection.cursor() as cursor, (folder / f"{name}.csv").open("wb") as out, \
                        cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
                    for block in copy:
                        out.write(block)
        columns = {"facts": "{'id': 'BIGINT', 'subject_id': 'BIGINT', 'item_code': 'VARCHAR', "
                            "'decision_date': 'DATE', 'v': 'VARCHAR'}",
                   "superseded": "{'supersedes_id': 'BIGINT'}", "population": "{'subject_id': 'BIGINT'}"}
        sources = {name: f"read_csv('{folder / name}.csv', header = false, columns = {columns[name]})"
                   for name in columns}
        facts = population = -1
    exported = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"CREATE VIEW facts_raw AS SELECT * FROM {sources['facts']}")
    con.execute(f"CREATE VIEW superseded AS SELECT * FROM {sources['superseded']}")
    con.execute(f"CREATE VIEW population AS SELECT * FROM {sources['population']}")
    statements = [s for s in compute_sql.split(";") if s.strip()]
    for statement in statements[:-1]:
        con.execute(statement)
    result = con.execute(statements[-1]).to_arrow_table()
    computed = time.perf_counter()
    peak = peak_rss_mb()
    pq.write_table(result, work / "baseline-results.parquet")
    con.close()
    return {"export": exported - started, "compute": computed - exported, "total": computed - started,
            "facts": facts, "population": population, "rows": result.num_rows, "peak_mb": peak}


# --- comparison -----------------------------------------------------------------------------------------

def compare(url: str, work: Path, run_id: int) -> dict[str, int]:
    """Both results subject by subject: score, grade and each indicator value."""
    sql = f"SELECT subject_id, score, grade, CAST(indicator_values AS TEXT) FROM evaluation_results WHERE run_id = {run_id}"
    if is_sqlite(url):
        connection = sqlite3.connect(sqlite_path(url))
        rows = connection.execute(sql).fetchall()
        connection.close()
    else:
        engine = get_engine(settings_for(url, work))
        with engine.connect() as connection:
            rows = [tuple(r) for r in connection.execute(text(sql)).all()]
    columns = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
    ours = pa.table({"subject_id": pa.array(columns[0], pa.int64()), "score": pa.array(columns[1], pa.float64()),
                     "grade": pa.array(columns[2], pa.string()), "vals": pa.array(columns[3], pa.string())})
    con = duckdb.connect()
    con.register("ours", ours)
    base = f"read_parquet('{work / 'baseline-results.parquet'}')"
    values = " OR ".join(f"CAST(json_extract(o.vals, '$.{c}') AS DOUBLE) IS DISTINCT FROM b.{c}" for c in INDICATORS)
    missing, score, grade, value = con.execute(f"""
        SELECT count(*) FILTER (WHERE o.subject_id IS NULL OR b.subject_id IS NULL),
               count(*) FILTER (WHERE o.score IS DISTINCT FROM b.score), count(*) FILTER (WHERE o.grade IS DISTINCT FROM b.grade),
               count(*) FILTER (WHERE {values})
        FROM ours o FULL JOIN {base} b ON o.subject_id = b.subject_id""").fetchone()
    grades = dict(con.execute(f"SELECT grade, count(*) FROM {base} GROUP BY grade ORDER BY grade").fetchall())
    con.close()
    return {"subjects": len(rows), "missing": missing, "score": score, "grade": grade, "values": value,
            "baseline_grades": grades}


# --- driver ---------------------------------------------------------------------------------------------

def child(kind: str, url: str, work: Path, profile: bool = False) -> dict[str, Any]:
    return run_child(__file__, kind, url, work, *(["--profile"] if profile else []))


def child_main(args: argparse.Namespace) -> None:
    work = Path(args.work)
    outcome = run_ours(args.url, work, args.profile) if args.child == "ours" else run_baseline(args.url, work)
    print_result(outcome)


def reset_runs(url: str) -> None:
    """A reused database: earlier runs' results out, so every run stores into the same empty table."""
    connection = sqlite3.connect(sqlite_path(url))
    with connection:
        connection.execute("DELETE FROM evaluation_results")
        connection.execute("DELETE FROM evaluation_runs")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def report(backend: str, gen: Generation, ours: dict[str, Any], base: dict[str, Any], check: dict[str, Any],
           args: argparse.Namespace) -> None:
    print(f"\n== {backend}: {gen.subjects:,} subjects, {gen.records:,} records, model {MODEL}, as of {AS_OF} ==")
    print(f"machine: {machine(DUCKDB)}")
    if gen.reused:
        print(f"generation: reused {args.sqlite_path} ({gen.size_mb:,.0f} MB)")
    else:
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in gen.seconds.items())
        published = f"{gen.published:,} published, " if gen.published >= 0 else ""
        print(f"generation: {sum(gen.seconds.values()):.1f} s ({parts}); {gen.follow_ups:,} corrections/revocations, "
              f"{published}database {gen.size_mb:,.0f} MB, generator peak RSS {gen.peak_mb:,.0f} MB")
    phases = ours["phases"]
    other = ours["total"] - sum(phases.values())
    print(f"ours     : {ours['total']:6.1f} s  run_model end to end = export {phases.get('export', 0):.1f} s + compute "
          f"{phases.get('compute', 0):.1f} s + store {phases.get('store', 0):.1f} s + other {other:.1f} s "
          f"(start, commit, clean-up); load average before {ours['load']:.1f}; {ours['facts']:,} facts, "
          f"{ours['population']:,} subjects scored; grades {ours['grades']}")
    print(f"baseline : {base['total']:6.1f} s  hand-written = export {base['export']:.1f} s (bare driver → "
          f"{'Parquet' if backend == 'SQLite' else 'CSV'}) + DuckDB SQL {base['compute']:.1f} s; no store; "
          f"load average before {base['load']:.1f}; "
          f"grades {check['baseline_grades']}")
    ratio = base["total"] / ours["total"]
    print(f"ratio baseline/ours: {ratio:.2f} (target >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'}); "
          f"ours < 60 s: {'met' if ours['total'] < 60 else 'NOT met'}")
    print(f"like for like: export {base['export'] / max(phases.get('export', 0), 1e-9):.2f}, "
          f"compute {base['compute'] / max(phases.get('compute', 0), 1e-9):.2f} (baseline/ours)")
    print(f"peak RSS : ours {ours['peak_mb']:,.0f} MB (target < 4096: {'met' if ours['peak_mb'] < 4096 else 'NOT met'}), "
          f"baseline {base['peak_mb']:,.0f} MB, generator (this process) {peak_rss_mb():,.0f} MB")
    print(f"check    : {check['subjects']:,} results; mismatches: score {check['score']}, grade {check['grade']}, "
          f"indicator values {check['values']}, subjects missing on one side {check['missing']}")


def run_backend(backend: str, args: argparse.Namespace) -> None:
    print(f"\n--- {backend} ---", flush=True)
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-eval-") as tmp:
        work = Path(tmp)
        sqlite_file = Path(args.sqlite_path) if args.sqlite_path else None
        with bench_database(backend, work, sqlite_file, PG_TUNING) as url:
            counts = existing_counts(url) if backend == "SQLite" and args.sqlite_path else (0, 0)
            if counts[0]:
                print(f"  reusing {url}: {counts[0]:,} subjects, {counts[1]:,} records", flush=True)
                gen = Generation(subjects=counts[0], records=counts[1], reused=True,
                                 size_mb=Path(sqlite_path(url)).stat().st_size / 1e6)
                reset_runs(url)
            else:
                gen = generate(url, work, args.subjects, args.records, args.seed)
            dispose_engines()
            load = wait_for_quiet(args.quiet_load, args.quiet_wait)
            print(f"  running ours (run_model; 1-min load average {load:.1f}) …", flush=True)
            ours = child("ours", url, work)
            ours["load"] = load
            load = wait_for_quiet(args.quiet_load, args.quiet_wait)
            print(f"  ours: {ours['total']:.1f} s; running the baseline (load average {load:.1f}) …", flush=True)
            base = child("baseline", url, work)
            base["load"] = load
            print(f"  baseline: {base['total']:.1f} s; comparing …", flush=True)
            check = compare(url, work, ours["run_id"])
            report(backend, gen, ours, base, check, args)
            if args.profile:
                profiled = child("ours", url, work, profile=True)
                print(f"\ncProfile of a second run of ours ({profiled['total']:.1f} s under the profiler):")
                print(profiled["hotspots"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--sqlite-path", default="",
                        help="keep the SQLite database in this file; reuse it when it already holds subjects")
    quiet_arguments(parser, wait=600)
    child_arguments(parser, ["ours", "baseline"])
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    clock.freeze(NOW)
    print(f"machine: {machine(DUCKDB)}")
    print(f"data: {args.subjects:,} subjects, {args.records:,} records; model {MODEL}, as of {AS_OF}", flush=True)
    for backend in BACKENDS[args.db]:
        run_backend(backend, args)


if __name__ == "__main__":
    main()
