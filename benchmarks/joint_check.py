"""Joint check (联合奖惩核查, issue 7) at scale: the real batch check vs a hand-written join, in the same run.

    python benchmarks/joint_check.py                      # 1,000,000 subjects, 50,000 list entries, 200 measures, SQLite
    python benchmarks/joint_check.py --subjects 20000 --records 20000 --entries 1000 --batch 5000
    python benchmarks/joint_check.py --keep               # keep the SQLite file under var/bench/, reuse it next time
    python benchmarks/joint_check.py --db postgresql      # throwaway cluster (initdb --locale=C.UTF-8)

1. generation (timed apart, not against the targets). ``benchmarks/evaluation.py``'s generator: schema at
   head, policy, catalogue and evaluation models; N subjects (organisations of every kind with valid
   统一社会信用代码, 3 % natural persons with valid 居民身份证号码 stored as keyed hash and masked form) and M
   records over the items PUBLIC_CREDIT_ORG reads (行政处罚 18 %, 经营异常名录 5 %, 行政强制 2 % are 一般
   dishonesty records, 失信被执行人 0.7 % and 严重失信主体名单 0.3 % are 严重; publication windows from the
   app's own rules). Before any subject exists it also seeds the sanctions context
   (``sanctions.service.seed``: the legal-basis library, list types and measure list), adds measures up to
   ``--measures`` through ``service.create_measure`` (so ``check_measure`` accepts every one: basis level,
   proportionality, natural persons only by list) and the applying department's user (公共资源交易中心).
   Then, bulk-written: ``--entries`` list entries over the seeded list types (decision numbers, dates
   over four years, expiry from the list's period; 3 % taken off by a ``list_exits`` row, and entries
   past their period expired), and one succeeded run of PUBLIC_CREDIT_ORG with a result (score, grade;
   indicator values zero — the check reads only the grade) for every subject in the model's scope.
   Lists that follow catalogue items are not re-derived from the generated records: their entries are
   written like the others (no ``source_record_id``), which changes nothing the check does.
2. ours (timed, in a fresh process): ``checks.check_codes(session, actor, matter, codes, channel="api")``
   for ``--batch`` codes in one transaction, plus the commit. The codes: 5 % subjects on a list in force,
   2 % natural persons by citizen id, 1 % well-formed codes of no registered subject, 0.3 % unregistered
   citizen ids, 0.7 % invalid codes, the rest organisations at random (one in fifty typed lower-case,
   padded, full-width or hyphenated). Phases are timed by wrapping ``checks.resolve``,
   ``checks.triggers_of``, ``checks.decide`` and ``checks.record`` from outside ("decide" is ``decide``
   without ``triggers_of``).
3. baseline (timed, in another fresh process): the same work written by hand on the bare driver
   (sqlite3 / psycopg, the app's connection settings) — codes normalised into a temporary table and
   joined to ``subjects``; the ones not registered as a USCC diagnosed with the app's validators (an
   unregistered code, a citizen ID looked up by its keyed hash, or invalid), as the app does; the found
   subjects kept in subject order (ours sorts its ids too); one INSERT … SELECT joins them to the list
   entries in force (no effective exit), the in-window dishonesty records and the grades of the models'
   latest runs, against the matter's measures (expanded into trigger tables), and writes
   ``joint_check_hits`` with the same trigger labels; a second writes ``joint_check_subjects`` with the
   outcomes; then the ``joint_checks`` counts and the commit. The feedback deadline (one date from the
   working calendar) is read before the clock starts; the baseline writes no audit entry (ours writes one).
4. check: both checks' hits as (position, subject, measure) with their triggers, the outcome and given code
   of every position, and the check's counts — must be 0 mismatches.
5. single-check API: the real app (uvicorn, one worker) on the same database, ``POST
   /api/v1/sanctions/checks`` with one code (30 % subjects on a list in force, the rest at random),
   ``--api-requests`` sequential requests with an API token of the applying user (scope ``sanctions:check``);
   p50/p95/p99. The server runs on the real clock (the batch runs at the generator's frozen cut-off).
   When the route is not there yet, the script waits for it (``--api-wait``) after the batch figures.
Targets (issue 7): ours >= 100,000 subjects/s, ratio ours/baseline >= 0.5, single check p95 < 20 ms.
``--rounds`` alternating runs of ours and the baseline (medians shown), each after waiting for a quiet
machine (``--quiet-load``); ``--profile`` adds a cProfile'd run of ours and prints its hotspots. To measure
a commit rather than the working tree: ``git archive HEAD src | tar -x -C /tmp/snap`` and run with
``PYTHONPATH=/tmp/snap/src`` (the app server inherits it); the report names the code it ran.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from benchmarks import evaluation as generator  # noqa: E402
from benchmarks._common import (  # noqa: E402
    BACKENDS,
    app_server,
    bench_database,
    child_arguments,
    hotspots,
    machine,
    peak_rss_mb,
    percentile,
    phase_timer,
    print_result,
    quiet_arguments,
    run_child,
    wait_for_quiet,
)
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from xinyong import clock, migrate  # noqa: E402
from xinyong.access import service as access  # noqa: E402
from xinyong.access.models import User  # noqa: E402
from xinyong.actor import Actor  # noqa: E402
from xinyong.config import use_settings  # noqa: E402
from xinyong.db import dispose_engines, session_factory, session_scope, utcnow  # noqa: E402
from xinyong.disclosure.publication import add_months  # noqa: E402
from xinyong.errors import DomainError  # noqa: E402
from xinyong.evaluation import service as evaluation  # noqa: E402
from xinyong.evaluation.models import EvaluationRun  # noqa: E402
from xinyong.policy import service as policy  # noqa: E402
from xinyong.sanctions import checks, service  # noqa: E402
from xinyong.sanctions.schemas import ORGANISATIONS, MeasureSpec  # noqa: E402
from xinyong.subjects import identity, uscc  # noqa: E402

MATTER = "BIDDING"
NOW = generator.NOW  # the generator's frozen clock: the batch checks run at the data's cut-off
TODAY = generator.TODAY
MODEL = generator.MODEL
APPLYING_SECTOR = "公共资源交易"  # 南京市公共资源交易中心 applies the checks (one of the generator's departments)
USERNAME = "bench_bidding"
PASSWORD = "Bench-Joint-Check-2026"
KEEP_DIR = ROOT / "var" / "bench"
ENTRY_YEARS = 4  # decisions over the four years before the cut-off
EXIT_SHARE = 0.03
GRADE_SHARES = {"A": 0.12, "B": 0.55, "C": 0.23, "D": 0.10}
BATCH_MIX = {"listed": 0.05, "person": 0.02, "unknown": 0.01, "unknown person": 0.003, "invalid": 0.007}
API_LISTED_SHARE = 0.3

# --- generated measures ----------------------------------------------------------------------------------
# How common each seeded list is among the entries (others: 1).
LIST_SHARES = {"DISHONEST_JUDGMENT_DEBTOR": 30, "BUSINESS_ABNORMAL": 28, "RED_TAX_A": 12, "RED_HONOUR": 4,
               "SAMR_SERIOUS_VIOLATION": 6, "MAJOR_TAX_VIOLATION": 5, "WAGE_ARREARS": 3, "CONSTRUCTION_SERIOUS": 3,
               "GOV_PROCUREMENT_SERIOUS": 2, "WORK_SAFETY_SERIOUS": 2, "STATISTICS_SERIOUS": 2, "CUSTOMS_DISHONEST": 1}
DECISION_NUMBERS = {  # {y}: year, {n}: serial, {c}: court
    "DISHONEST_JUDGMENT_DEBTOR": "（{y}）苏01{c:02d}执{n}号", "MAJOR_TAX_VIOLATION": "宁税稽罚〔{y}〕{n}号",
    "SAMR_SERIOUS_VIOLATION": "宁市监严列〔{y}〕{n}号", "GOV_PROCUREMENT_SERIOUS": "宁财购处〔{y}〕{n}号",
    "WORK_SAFETY_SERIOUS": "宁应急失信〔{y}〕{n}号", "WAGE_ARREARS": "宁人社失信〔{y}〕{n}号",
    "CUSTOMS_DISHONEST": "金陵关信认〔{y}〕{n}号", "CONSTRUCTION_SERIOUS": "宁建信用〔{y}〕{n}号",
    "STATISTICS_SERIOUS": "宁统失信〔{y}〕{n}号", "BUSINESS_ABNORMAL": "宁市监异列〔{y}〕{n}号",
    "RED_TAX_A": "宁税信评〔{y}〕{n}号", "RED_HONOUR": "宁信用办〔{y}〕{n}号"}
REASONS = {
    "DISHONEST_JUDGMENT_DEBTOR": ("有履行能力而拒不履行生效法律文书确定义务", "违反财产报告制度", "违反限制消费令"),
    "BUSINESS_ABNORMAL": ("未按规定报送年度报告", "通过登记的住所或者经营场所无法联系", "未按责令期限公示有关企业信息"),
    "MAJOR_TAX_VIOLATION": ("虚开增值税专用发票", "逃避缴纳税款，数额较大"),
    "SAMR_SERIOUS_VIOLATION": ("提交虚假材料骗取市场主体登记，情节严重", "生产销售不合格产品，情节严重"),
    "RED_TAX_A": ("年度纳税信用评价为A级",), "RED_HONOUR": ("获评诚信建设示范单位",)}
DEFAULT_REASONS = ("经依法认定存在严重失信行为",)
EXIT_REASONS = (("repair", "信用修复申请经审核通过"), ("fulfilled", "已履行全部义务"), ("revocation", "认定决定已被依法撤销"))
MATTER_SECTORS = {"GOV_PROCUREMENT": ("财政", "公共资源交易"), "BIDDING": ("公共资源交易", "发展改革", "住建"),
                  "FISCAL_FUNDS": ("财政", "发展改革", "工业和信息化"), "AWARDS": ("发展改革", "人力资源社会保障", "民政"),
                  "ADMIN_APPROVAL": ("行政审批", "政务服务"), "LAND_TRANSFER": ("自然资源", "公共资源交易"),
                  "FINANCING": ("人民银行", "金融监管"), "MARKET_ACCESS": ("市场监管", "商务"),
                  "HIGH_CONSUMPTION": ("法院", "交通运输", "文化和旅游"), "SUPERVISION": ("市场监管", "应急管理", "税务"),
                  "PUBLIC_SERVICE": ("文化和旅游", "交通运输", "卫生健康")}
PUNISHMENTS = {
    "减损权益或增加义务": ("在{m}中依法予以限制或者禁入", "依法限制参与{m}", "在{m}中依法取消已享受的便利和优惠",
                   "在{m}中依法不予受理其作为申请人的申请", "在{m}中依法从严审核并不适用告知承诺制"),
    "市场性": ("在{m}评审中将失信信息作为信用评价扣分因素", "在{m}中依法提高履约保证金比例", "在{m}中审慎评估合作风险"),
    "行业性": ("在{m}中实施行业内通报批评", "在{m}中列为行业重点关注对象", "在{m}中取消行业评优评先资格")}
INCENTIVES = ("在{m}中开辟绿色通道、优先办理", "在{m}中依法减免投标保证金和履约保证金", "在{m}中适用告知承诺、容缺受理",
              "在{m}中同等条件下优先考虑", "在{m}中减少检查频次")
SEVERE_ITEMS = ("JUD_EXECUTION", "LIST_SERIOUS")
DISHONESTY_ITEMS = ("ADM_PENALTY", "ADM_COERCION", "LIST_ABNORMAL", "JUD_EXECUTION", "LIST_SERIOUS")
CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..199 in Chinese numerals, as article numbers are written (第一百零五条)."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    text = ("一百" if hundreds else "")
    if tens:
        text += ("" if tens == 1 and not hundreds else CN_DIGITS[tens]) + "十"
    elif hundreds and units:
        text += "零"
    return text + (CN_DIGITS[units] if units else "")


def measure_specs(session: Session, count: int, rng: random.Random) -> list[MeasureSpec]:
    """``count`` realistic measures over the seeded lists, legal bases, matters and PUBLIC_CREDIT_ORG."""
    levels = policy.get(session, "sanction_basis_levels")["measures"]
    bases = service.legal_bases(session)
    kinds = {t.code: t for t in service.list_types(session)}
    dishonest = [code for code, t in kinds.items() if t.nature == "失信"]
    honest = [code for code, t in kinds.items() if t.nature == "守信"]
    matters = service.matter_types(session)
    codes = list(matters)
    specs = []
    for i in range(1, count + 1):
        reward = rng.random() < 0.22
        lists: list[str] = []
        severities: list[str] = []
        items: list[str] = []
        grades: list[dict[str, Any]] = []
        subject_kinds: list[str] = list(ORGANISATIONS)
        if reward:
            measure_type, nature = "激励", "激励"
            if rng.random() < 0.7:
                lists = rng.sample(honest, rng.randint(1, len(honest)))
            if not lists or rng.random() < 0.6:
                grades = [{"model": MODEL, "grades": ["A"]}]
        else:
            measure_type, nature = rng.choices(list(PUNISHMENTS), (50, 25, 25))[0], "惩戒"
            if rng.random() < 0.8:
                lists = rng.sample(dishonest, rng.randint(1, 4))
            if rng.random() < 0.25:
                severities = rng.choice((["严重"], ["一般", "严重"]))
                if rng.random() < 0.5:
                    pool = SEVERE_ITEMS if severities == ["严重"] else DISHONESTY_ITEMS
                    items = rng.sample(pool, rng.randint(1, 2))
            if rng.random() < 0.12:
                grades = [{"model": MODEL, "grades": ["D"]}]
            if not (lists or severities or grades):
                lists = [rng.choice(dishonest)]
            if "DISHONEST_JUDGMENT_DEBTOR" in lists and not (severities or grades) and rng.random() < 0.6:
                subject_kinds = [*ORGANISATIONS, "natural_person"]
        if rng.random() < 0.15:
            subject_kinds = [k for k in subject_kinds if k in ("enterprise", "individual_business", "cooperative",
                                                                "natural_person")]
        chosen = rng.sample(codes, rng.choices((1, 2, 3, 4), (50, 30, 15, 5))[0])
        allowed = [b for b in bases if b.level in levels[measure_type]]
        basis = rng.choice(allowed)
        who = ("被列入" + "、".join(kinds[c].name for c in lists) if lists else "") or (
            f"有{'或'.join(severities)}失信记录" if severities else f"公共信用综合评价为{'、'.join(grades[0]['grades'])}级")
        action = rng.choice(INCENTIVES if reward else PUNISHMENTS[measure_type]).format(
            m="、".join(matters[c] for c in chosen))
        sectors = sorted({s for c in chosen for s in MATTER_SECTORS.get(c, ("发展改革",))})
        article = f"第{cn_number(rng.randint(5, 130))}条"
        name = f"对{who}的主体{action}"
        if len(name) > 120:
            name = f"对{who[:60]}等主体{action}"[:200]
        specs.append(MeasureSpec.model_validate({
            "code": f"{'I' if reward else 'M'}_GEN_{i:03d}", "name": name,
            "content": f"{name}。依据{basis.title}{article}，由{'、'.join(sectors)}部门在办理"
                       f"{'、'.join(matters[c] for c in chosen)}事项时实施，实施情况按规定反馈。",
            "nature": nature, "measure_type": measure_type, "basis": basis.code, "basis_article": article,
            "list_types": lists,
            "record_severities": severities, "record_items": items, "grade_triggers": grades, "matter_types": chosen,
            "implementing_sectors": sectors, "subject_kinds": subject_kinds}))
    return specs


def seeds(n_measures: int, seed: int) -> Callable[[Session], None]:
    """The sanctions seed, measures up to ``n_measures`` and the applying user (before any subject exists)."""
    def run(session: Session) -> None:
        system = Actor.system("初始化")
        service.seed(session, system)
        for spec in measure_specs(session, n_measures - len(service.measures(session)), random.Random(seed)):
            service.check_measure(session, spec)  # the domain accepts it (create_measure checks it again)
            service.create_measure(session, system, spec)
        department = next(d for d in access.departments(session) if d.sector == APPLYING_SECTOR)
        access.create_user(session, system, access.NewUser(
            username=USERNAME, password=PASSWORD, role="applying_department", display_name="招投标联合奖惩核查员",
            department_id=department.id))
    return run


# --- list entries and the evaluation run -------------------------------------------------------------------

def subject_table(url: str) -> dict[str, np.ndarray]:
    """id, kind, region and code of every subject (bare driver); ids are 1..N, subject n+1 is the generator's n."""
    rows = query(url, "SELECT id, kind, region_code, uscc FROM subjects ORDER BY id")
    table = {"id": np.array([r[0] for r in rows], dtype=np.int64), "kind": np.array([r[1] for r in rows]),
             "region": np.array([r[2] for r in rows]), "uscc": np.array([r[3] for r in rows], dtype=object)}
    assert (table["id"] == np.arange(1, len(rows) + 1)).all(), "subject ids are not 1..N"
    return table


def code_of(people: dict[str, np.ndarray], index: int) -> str:
    """The code an applicant gives for subject ``index``: its USCC, or a natural person's citizen id."""
    if people["kind"][index] == "natural_person":
        return generator.citizen_id(index, str(people["region"][index]))
    return str(people["uscc"][index])


def pg_params(sql: str) -> str:
    """``:name`` parameters (sqlite3 style) as psycopg's ``%(name)s``; ``::type`` casts are left alone."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)


def query(url: str, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    if generator.is_sqlite(url):
        connection = sqlite3.connect(generator.sqlite_path(url))
        try:
            return connection.execute(sql, parameters or {}).fetchall()
        finally:
            connection.close()
    import psycopg

    with psycopg.connect(pg_dsn(url)) as connection:
        return connection.execute(pg_params(sql), parameters or {}).fetchall()  # type: ignore[arg-type]


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def at_param(url: str, at: datetime) -> Any:
    """A timestamp as a bound parameter: naive UTC text on SQLite (as the app stores it), aware on PostgreSQL."""
    return generator.utc_text(at, True) if generator.is_sqlite(url) else at


IN_FORCE = ("e.listed_at <= :at AND (e.expires_at IS NULL OR e.expires_at > :at) AND NOT EXISTS "
            "(SELECT 1 FROM list_exits x WHERE x.entry_id = e.id AND x.effective_at <= :at)")


ENTRY_COLUMNS = ["id", "list_type_id", "subject_id", "department_id", "decision_number", "decision_date", "reasons",
                 "listed_at", "expires_at", "exit_conditions", "source_record_id", "created_at", "created_by"]
EXIT_COLUMNS = ["entry_id", "reason", "decision_number", "note", "effective_at", "department_id", "created_at",
                "created_by"]


def generate_entries(url: str, n_entries: int, people: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, int]:
    """``n_entries`` list entries over the seeded list types, 3 % taken off early; returns counts."""
    settings = generator.settings_for(url, Path(tempfile.gettempdir()))
    with session_scope(settings) as session:
        kinds = service.list_types(session)
        by_sector = {d.sector: d.id for d in access.departments(session)}
    dispose_engines()
    fallback = by_sector["发展改革"]
    weights = np.array([LIST_SHARES.get(k.code, 1) for k in kinds], dtype=float)
    counts = rng.multinomial(n_entries, weights / weights.sum())
    sqlite = generator.is_sqlite(url)
    now = NOW
    entries, exits = [], []
    stats: Counter[str] = Counter()
    entry_id = 0
    for kind, count in zip(kinds, counts.tolist(), strict=True):
        eligible = np.flatnonzero(np.isin(people["kind"], kind.subject_kinds))
        chosen = rng.choice(eligible, size=min(count, eligible.size), replace=False)
        department = next((by_sector[s] for s in kind.maintaining_sectors if s in by_sector), fallback)
        reasons = REASONS.get(kind.code, DEFAULT_REASONS)
        for index in chosen.tolist():
            entry_id += 1
            decided = TODAY - timedelta(days=int(rng.integers(0, ENTRY_YEARS * 365)))
            number = DECISION_NUMBERS.get(kind.code, "宁信用〔{y}〕{n}号").format(y=decided.year, n=entry_id,
                                                                              c=int(rng.integers(2, 18)))
            listed = clock.start_of(decided)
            expires = clock.start_of(add_months(decided, kind.period_months)) if kind.period_months else None
            created = listed + timedelta(hours=int(rng.integers(9, 18)))
            entries.append((entry_id, kind.id, int(people["id"][index]), department, number, decided.isoformat(),
                            reasons[entry_id % len(reasons)], generator.utc_text(listed, sqlite),
                            generator.utc_text(expires, sqlite), kind.exit_conditions, None,
                            generator.utc_text(created, sqlite), "基准测试"))
            stats["entries"] += 1
            ends = min(expires, now) if expires else now
            if rng.random() < EXIT_SHARE and ends > created:
                reason, note = EXIT_REASONS[entry_id % len(EXIT_REASONS)]
                left = created + (ends - created) * float(rng.uniform(0.05, 0.95))
                exits.append((entry_id, reason, f"宁信用修复〔{left.year}〕{entry_id}号" if reason == "repair" else "",
                              note, generator.utc_text(left, sqlite), department, generator.utc_text(left, sqlite),
                              "基准测试"))
                stats["exits"] += 1
            elif expires is not None and expires <= now:
                stats["expired"] += 1
            else:
                stats["in force"] += 1
    writer = generator.Writer(url)
    writer.rows("list_entries", ENTRY_COLUMNS, entries)
    writer.rows("list_exits", EXIT_COLUMNS, exits)
    if not writer.sqlite:
        writer.execute("SELECT setval('list_entries_id_seq', (SELECT max(id) FROM list_entries))")
    writer.close()
    return dict(stats)


RESULT_COLUMNS = ["run_id", "subject_id", "score", "grade", "indicator_values"]


def generate_grades(url: str, people: dict[str, np.ndarray], n_records: int, rng: np.random.Generator) -> dict[str, int]:
    """One succeeded run of PUBLIC_CREDIT_ORG with a result per subject in scope, as ``evaluation.service`` stores it."""
    settings = generator.settings_for(url, Path(tempfile.gettempdir()))
    with session_scope(settings) as session:
        model = evaluation.get_model(session, MODEL)
        spec = model.spec
        population = np.flatnonzero(np.isin(people["kind"], list(spec.subject_kinds)))
        codes = [g.code for g in spec.grades]
        shares = np.array([GRADE_SHARES[c] for c in codes])
        drawn = rng.choice(len(codes), size=population.size, p=shares / shares.sum())
        grade_counts = {c: int((drawn == i).sum()) for i, c in enumerate(codes)}
        run = EvaluationRun(model_version_id=model.version.id, as_of=generator.AS_OF, data_cutoff=NOW,
                            status="succeeded", population=int(population.size), facts=n_records,
                            grade_counts=grade_counts, error="", started_at=utcnow(), finished_at=utcnow(),
                            duration_ms=0, started_by="基准测试")
        session.add(run)
        session.flush()
        run_id = run.id
    dispose_engines()
    # scores inside each grade's band: [its floor, the next grade's floor)
    floors = [g.min_score for g in spec.grades[:-1]] + [spec.min_score]
    ceilings = [spec.max_score, *floors[:-1]]
    low, high = np.array(floors)[drawn], np.array(ceilings)[drawn]
    scores = np.floor((low + (high - low) * rng.random(population.size) * 0.999) * 100) / 100
    values = json.dumps({i.code: 0.0 for i in spec.indicators})
    writer = generator.Writer(url)
    indexes = writer.secondary_indexes(("evaluation_results",))
    for name, _ in indexes:
        writer.execute(f"DROP INDEX {name}")
    ids = people["id"][population].tolist()
    for start in range(0, len(ids), 200_000):
        part = slice(start, start + 200_000)
        writer.rows("evaluation_results", RESULT_COLUMNS,
                    [(run_id, s, sc, codes[g], values) for s, sc, g in
                     zip(ids[part], scores[part].tolist(), drawn[part].tolist(), strict=True)])
    for _, create in indexes:
        writer.execute(create)
    writer.close()
    return {"run": run_id, **grade_counts}


def finish(url: str) -> None:
    """Planner statistics after the bulk writes; WAL back on for SQLite (as the app runs it)."""
    if generator.is_sqlite(url):
        connection = sqlite3.connect(generator.sqlite_path(url), isolation_level=None)
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.close()
        return
    import psycopg

    with psycopg.connect(pg_dsn(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


@dataclass
class World:
    subjects: int = 0
    records: int = 0
    measures: int = 0
    matter_measures: int = 0
    entries: dict[str, int] = field(default_factory=dict)
    grades: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    size_mb: float = 0.0
    reused: bool = False


def generate(url: str, work: Path, args: argparse.Namespace) -> World:
    world = World()
    started = time.perf_counter()
    gen = generator.generate(url, work, args.subjects, args.records, args.seed, seeds(args.measures, args.seed),
                             covers_model=False)  # the check reads grades, not the model's items
    world.seconds["subjects, records (benchmarks/evaluation.py)"] = time.perf_counter() - started
    world.records = gen.records
    rng = np.random.default_rng(args.seed + 7)
    people = subject_table(url)
    started = time.perf_counter()
    world.entries = generate_entries(url, args.entries, people, rng)
    world.seconds["list entries"] = time.perf_counter() - started
    started = time.perf_counter()
    world.grades = generate_grades(url, people, gen.records, rng)
    world.seconds["evaluation results"] = time.perf_counter() - started
    started = time.perf_counter()
    finish(url)
    world.seconds["statistics"] = time.perf_counter() - started
    return describe(url, world)


def describe(url: str, world: World) -> World:
    """Counts of what the database holds (generated now or reused)."""
    world.subjects = query(url, "SELECT count(*) FROM subjects")[0][0]
    world.records = query(url, "SELECT count(*) FROM records")[0][0]
    matters = query(url, "SELECT matter_types FROM measures WHERE retired_at IS NULL")
    world.measures = len(matters)
    world.matter_measures = sum(MATTER in (json.loads(m) if isinstance(m, str) else m) for (m,) in matters)
    if not world.entries:
        world.entries = {"entries": query(url, "SELECT count(*) FROM list_entries")[0][0],
                         "exits": query(url, "SELECT count(*) FROM list_exits")[0][0],
                         "in force": query(url, f"SELECT count(*) FROM list_entries e WHERE {IN_FORCE}",
                                           {"at": at_param(url, NOW)})[0][0]}
        grades = query(url, "SELECT grade, count(*) FROM evaluation_results GROUP BY grade ORDER BY grade")
        world.grades = {g: n for g, n in grades}
    if generator.is_sqlite(url):
        path = Path(generator.sqlite_path(url))
        world.size_mb = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
    else:
        world.size_mb = query(url, "SELECT pg_database_size(current_database())")[0][0] / 1e6
    return world


def is_complete(url: str, subjects: int) -> bool:
    """A kept database that finished generating (its evaluation run is written last) at this size."""
    try:
        done = query(url, "SELECT count(*) FROM evaluation_runs WHERE started_by = '基准测试'")[0][0]
        return bool(done) and query(url, "SELECT count(*) FROM subjects")[0][0] == subjects
    except sqlite3.DatabaseError:
        return False


def reset_checks(url: str) -> None:
    """A reused SQLite database: earlier runs' checks out (their audit entries stay)."""
    connection = sqlite3.connect(generator.sqlite_path(url), isolation_level=None)
    for table in ("joint_check_feedback", "joint_check_hits", "joint_check_subjects", "joint_checks"):
        connection.execute(f"DELETE FROM {table}")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


# --- the batch ---------------------------------------------------------------------------------------------

def batch_codes(url: str, people: dict[str, np.ndarray], size: int, rng: np.random.Generator) -> tuple[list[str], Counter[str]]:
    """``size`` codes as an applicant's file would give them, in random order, and what they are."""
    n = people["id"].size
    listed = np.array([r[0] for r in query(url, f"SELECT DISTINCT e.subject_id FROM list_entries e WHERE {IN_FORCE} ORDER BY 1",
                                           {"at": at_param(url, NOW)})], dtype=np.int64) - 1
    persons = np.flatnonzero(people["kind"] == "natural_person")
    organisations = np.flatnonzero(people["kind"] != "natural_person")
    wanted = {name: round(size * share) for name, share in BATCH_MIX.items()}
    wanted["listed"] = min(wanted["listed"], listed.size)
    wanted["person"] = min(wanted["person"], persons.size)
    wanted["random"] = size - sum(wanted.values())
    made: list[tuple[str, str]] = []
    for index in rng.choice(listed, wanted["listed"], replace=False).tolist():
        made.append(("listed", code_of(people, index)))
    for index in rng.choice(persons, wanted["person"], replace=False).tolist():
        made.append(("person", code_of(people, index)))
    districts = [d.code for d in generator.DISTRICTS]
    for k in range(wanted["unknown"]):  # "MB…" bodies: the generator only gives "MA…"
        body = "MB" + "".join(uscc.ALPHABET[int(d)] for d in rng.integers(0, 31, 6))
        made.append(("unknown", uscc.build("9", "1", districts[k % len(districts)], body)))
    for k in range(wanted["unknown person"]):  # numbers the generator gives subjects beyond N
        made.append(("unknown person", generator.citizen_id(n + k, districts[k % len(districts)])))
    for k in range(wanted["invalid"]):
        code = code_of(people, int(rng.choice(organisations)))
        digits = "".join(str(int(d)) for d in rng.integers(0, 10, 18))
        wrong = {0: code[:17] + ("0" if code[17] != "0" else "1"), 1: code[:15], 2: "无", 3: digits,
                 4: code.replace(code[0], "I", 1), 5: digits[:16], 6: digits[:9]}[k % 7]
        made.append(("invalid", wrong))
    for k, index in enumerate(rng.choice(organisations, wanted["random"], replace=True).tolist()):
        code = code_of(people, index)
        if k % 50 == 1:  # as people type them: lower case, padded, full-width, hyphenated
            code = (code.lower(), f" {code} ", "".join(chr(ord(c) + 0xFEE0) for c in code),
                    f"{code[:8]}-{code[8:]}")[k // 50 % 4]
        made.append(("random", code))
    order = rng.permutation(len(made))
    return [made[i][1] for i in order.tolist()], Counter(kind for kind, _ in made)


def write_codes(work: Path, codes: list[str]) -> None:
    (work / "codes.json").write_text(json.dumps(codes, ensure_ascii=False), encoding="utf-8")


def read_codes(work: Path) -> list[str]:
    return list(json.loads((work / "codes.json").read_text(encoding="utf-8")))


# --- ours --------------------------------------------------------------------------------------------------

def applying_actor(session: Session) -> Actor:
    user = session.scalar(select(User).where(User.username == USERNAME))
    assert user is not None, "the applying user is missing: regenerate the database"
    return access.actor_for(user)


def run_ours(url: str, work: Path, profile: bool) -> dict[str, Any]:
    """``checks.check_codes`` for the batch in one transaction, and the commit; phases timed from outside."""
    settings = generator.settings_for(url, work)
    use_settings(settings)
    clock.freeze(NOW)
    codes = read_codes(work)
    factory = session_factory(settings)
    with factory() as session:
        actor = applying_actor(session)
    phases: dict[str, float] = {}
    timed = phase_timer(phases)
    checks.resolve = timed("resolve", checks.resolve)
    checks.triggers_of = timed("triggers", checks.triggers_of)
    checks.decide = timed("decide", checks.decide)
    checks.record = timed("record", checks.record)
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    with factory() as session:
        check = checks.check_codes(session, actor, MATTER, codes, matter_reference="基准测试招标项目", channel="api")
        committing = time.perf_counter()
        session.commit()
        phases["commit"] = time.perf_counter() - committing
        outcome = {"check_id": check.id, "subjects": check.subjects, "unknown": check.unknown,
                   "punished": check.punished, "rewarded": check.rewarded, "hits": check.hits}
    if profiler:
        profiler.disable()
    total = time.perf_counter() - started
    phases["decide"] -= phases.get("triggers", 0.0)  # decide without the trigger queries
    phases["other"] = total - sum(phases.values())
    return {"total": total, "phases": phases, "peak_mb": peak_rss_mb(), "hotspots": hotspots(profiler), **outcome}


# --- the hand-written baseline --------------------------------------------------------------------------------

# The asked subjects drive every join (CROSS JOIN fixes that order on SQLite, whose planner has no statistics
# for the temporary tables; PostgreSQL plans it freely).
HITS_SQL = """
INSERT INTO joint_check_hits (check_id, position, subject_id, measure_id, triggers)
SELECT :check, position, subject_id, measure_id, {agg}({obj}('kind', k, 'id', tid, 'label', label)){cast}
FROM (
    SELECT q.position, q.subject_id, m.measure_id, 'list' AS k, e.id AS tid,
           '列入' || lt.name || '（' || e.decision_number || '）' AS label
    FROM q CROSS JOIN list_entries e
           JOIN m_list m ON m.list_type_id = e.list_type_id
           JOIN m_kind mk ON mk.measure_id = m.measure_id AND mk.kind = q.kind
           JOIN list_types lt ON lt.id = e.list_type_id
    WHERE e.subject_id = q.subject_id AND {in_force}
    UNION ALL
    SELECT q.position, q.subject_id, m.measure_id, 'record', r.id,
           r.severity || '失信记录：' || coalesce(i.name, r.item_code) || '（' || CAST(r.id AS TEXT) || '）'
    FROM q CROSS JOIN records r
           JOIN m_record m ON m.severity = r.severity AND (m.item IS NULL OR m.item = r.item_code)
           JOIN m_kind mk ON mk.measure_id = m.measure_id AND mk.kind = q.kind
                             AND NOT (q.kind = 'natural_person' AND mk.nature = '惩戒')
           LEFT JOIN item_names i ON i.code = r.item_code
    WHERE r.subject_id = q.subject_id AND r.severity IN (SELECT severity FROM m_record) {item_filter}
      AND r.kind != 'revocation' AND r.published = {true} AND r.publication_starts_at <= :at
      AND (r.publication_ends_at IS NULL OR r.publication_ends_at > :at)
      AND NOT EXISTS (SELECT 1 FROM records s WHERE s.supersedes_id = r.id)
    UNION ALL
    SELECT q.position, q.subject_id, m.measure_id, 'grade', m.run_id, m.model_name || '等级 ' || g.grade
    FROM q CROSS JOIN evaluation_results g
           JOIN m_grade m ON m.run_id = g.run_id AND m.grade = g.grade
           JOIN m_kind mk ON mk.measure_id = m.measure_id AND mk.kind = q.kind
                             AND NOT (q.kind = 'natural_person' AND mk.nature = '惩戒')
    WHERE g.run_id IN (SELECT run_id FROM m_grade) AND g.subject_id = q.subject_id
) t
GROUP BY position, subject_id, measure_id
"""
SUBJECTS_SQL = """
INSERT INTO joint_check_subjects (check_id, position, subject_id, given_code, outcome)
SELECT :check, q.position, q.subject_id, q.given,
       CASE WHEN q.subject_id IS NULL THEN (CASE WHEN q.invalid = 1 THEN 'invalid' ELSE 'unknown' END)
            WHEN n.p = 1 AND n.r = 1 THEN 'both' WHEN n.p = 1 THEN 'punish' WHEN n.r = 1 THEN 'reward' ELSE 'clean' END
FROM q LEFT JOIN (
    SELECT h.position, max(CASE WHEN mn.nature = '惩戒' THEN 1 ELSE 0 END) AS p,
           max(CASE WHEN mn.nature = '激励' THEN 1 ELSE 0 END) AS r
    FROM joint_check_hits h JOIN m_nature mn ON mn.measure_id = h.measure_id
    WHERE h.check_id = :check GROUP BY h.position) n ON n.position = q.position
"""
COUNTS_SQL = """
SELECT count(*), coalesce(sum(CASE WHEN subject_id IS NULL THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN outcome IN ('punish', 'both') THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN outcome IN ('reward', 'both') THEN 1 ELSE 0 END), 0)
FROM joint_check_subjects WHERE check_id = :check
"""
TEMP_TABLES = {
    "asked": "position INTEGER PRIMARY KEY, code TEXT NOT NULL",
    "diagnosed": "position INTEGER PRIMARY KEY, given TEXT NOT NULL, pkey TEXT, invalid INTEGER NOT NULL",
    "m_list": "measure_id INTEGER, list_type_id INTEGER", "m_record": "measure_id INTEGER, severity TEXT, item TEXT",
    "m_grade": "measure_id INTEGER, run_id INTEGER, model_name TEXT, grade TEXT",
    "m_kind": "measure_id INTEGER, kind TEXT, nature TEXT, PRIMARY KEY (measure_id, kind)",
    "m_nature": "measure_id INTEGER PRIMARY KEY, nature TEXT", "item_names": "code TEXT PRIMARY KEY, name TEXT"}


class Bare:
    """A bare driver connection doing the baseline's work in one transaction (sqlite3 / psycopg)."""

    def __init__(self, url: str) -> None:
        self.sqlite = generator.is_sqlite(url)
        if self.sqlite:
            self.connection: Any = sqlite3.connect(generator.sqlite_path(url), isolation_level=None)
            for pragma in ("busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL", "temp_store=MEMORY"):
                self.connection.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            self.connection = psycopg.connect(pg_dsn(url))

    def begin(self) -> None:
        if self.sqlite:
            self.connection.execute("BEGIN IMMEDIATE")

    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self.connection.execute(sql if self.sqlite else pg_params(sql), parameters or {})
        return cursor.fetchall() if cursor.description else []

    def temp(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        """A temporary table (dropped at commit on PostgreSQL) filled in bulk."""
        if self.sqlite:
            self.connection.execute(f"CREATE TEMP TABLE {name} ({TEMP_TABLES[name]})")
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                self.connection.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
            return
        self.connection.execute(f"CREATE TEMP TABLE {name} ({TEMP_TABLES[name]}) ON COMMIT DROP")
        with self.connection.cursor() as cursor, cursor.copy(f"COPY {name} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self.connection.execute("COMMIT") if self.sqlite else self.connection.commit()

    def close(self) -> None:
        if self.sqlite:
            for name in TEMP_TABLES:
                self.connection.execute(f"DROP TABLE IF EXISTS temp.{name}")
        self.connection.close()


def normalise(raw: str) -> str:
    """A code as the registry stores it: full-width folded, spaces and hyphens out, upper case."""
    text = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)
    return text.replace(" ", "").replace("-", "").strip().upper()


def diagnose(position: int, text: str, rules: uscc.UsccRules, secret: bytes) -> tuple[int, str, str | None, int]:
    """(position, given, person key, invalid) of a code the registry does not hold as a USCC, with the same
    validators as the app: a valid USCC nobody registered, a citizen ID (looked up by its key), or invalid."""
    try:
        uscc.validate(text, rules)
        return position, text[:40], None, 0
    except DomainError:
        pass
    try:
        number = identity.validate_citizen_id(text)
    except DomainError:
        return position, identity.mask_id(text) if text.isdigit() and len(text) >= 15 else text[:40], None, 1
    return position, identity.mask_id(number), identity.person_key(number, secret), 0


def as_list(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def run_baseline(url: str, work: Path) -> dict[str, Any]:
    """The same check written by hand on the bare driver (see the module docstring)."""
    settings = generator.settings_for(url, work)
    use_settings(settings)
    clock.freeze(NOW)
    codes = read_codes(work)
    with session_scope(settings) as session:
        due = checks._due(session)  # one date from the working calendar (read before the clock starts)
    dispose_engines()
    secret = settings.person_id_secret
    db = Bare(url)
    sqlite = db.sqlite
    at = at_param(url, NOW)
    started = time.perf_counter()
    db.begin()
    # what the check needs: the user, the code rules, the matter's measures, list types, item names, latest runs
    user_id, department_id = db.rows("SELECT id, department_id FROM users WHERE username = :u", {"u": USERNAME})[0]
    rules = uscc.UsccRules.from_policy(as_list(db.rows("SELECT value FROM policy_parameters WHERE key = 'uscc_categories'")[0][0]))
    types = dict(db.rows("SELECT code, id FROM list_types WHERE retired_at IS NULL"))
    measures = [m for m in db.rows("SELECT id, nature, list_types, record_severities, record_items, grade_triggers, "
                                   "subject_kinds, matter_types FROM measures WHERE retired_at IS NULL")
                if MATTER in as_list(m[7])]
    m_list, m_record, m_grade, m_kind = [], [], [], []
    runs: dict[str, tuple[int, str] | None] = {}
    for measure_id, nature, lists, severities, items, grades, kinds, _ in measures:
        m_list += [(measure_id, types[c]) for c in as_list(lists) if c in types]
        m_record += [(measure_id, s, i) for s in as_list(severities) for i in (as_list(items) or [None])]
        m_kind += [(measure_id, k, nature) for k in as_list(kinds)]
        for trigger in as_list(grades):
            model = trigger["model"]
            if model not in runs:
                found = db.rows(
                    "SELECT r.id FROM evaluation_runs r JOIN evaluation_model_versions v ON v.id = r.model_version_id "
                    "JOIN evaluation_models m ON m.id = v.model_id WHERE m.code = :model AND r.status = 'succeeded' "
                    "ORDER BY r.id DESC LIMIT 1", {"model": model})
                name = db.rows("SELECT v.spec FROM evaluation_models m JOIN evaluation_model_versions v "
                               "ON v.model_id = m.id AND v.version = m.current_version WHERE m.code = :model",
                               {"model": model})
                runs[model] = (found[0][0], as_list(name[0][0])["name"]) if found else None
            if runs[model] is not None:
                run_id, model_name = runs[model]  # type: ignore[misc]
                m_grade += [(measure_id, run_id, model_name, g) for g in trigger["grades"]]
    item_names = db.rows("SELECT i.code, v.name FROM catalogue_items i JOIN catalogue_item_versions v "
                         "ON v.item_id = i.id AND v.version = i.current_version")
    prepared = time.perf_counter()
    db.temp("asked", [(position, normalise(raw or "")) for position, raw in enumerate(codes, start=1)])
    unmatched = db.rows("SELECT a.position, a.code FROM asked a WHERE NOT EXISTS "
                        "(SELECT 1 FROM subjects s WHERE s.uscc = a.code)")
    db.temp("diagnosed", [diagnose(position, text, rules, secret) for position, text in unmatched])
    classified = time.perf_counter()
    for name, rows in (("m_list", m_list), ("m_record", m_record), ("m_grade", m_grade), ("m_kind", m_kind),
                       ("m_nature", [(m[0], m[1]) for m in measures]), ("item_names", item_names)):
        db.temp(name, rows)
    resolve = ("CREATE TEMP TABLE q {drop} AS SELECT a.position, coalesce(d.given, substr(a.code, 1, 40)) AS given, "
               "coalesce(d.invalid, 0) AS invalid, coalesce(s1.id, s2.id) AS subject_id, "
               "coalesce(s1.kind, s2.kind) AS kind FROM asked a LEFT JOIN subjects s1 ON s1.uscc = a.code "
               "LEFT JOIN diagnosed d ON d.position = a.position LEFT JOIN subjects s2 ON s2.person_key = d.pkey "
               "ORDER BY subject_id")  # the joins below then walk the indexes in order (ours sorts the ids too)
    db.rows(resolve.format(drop="" if sqlite else "ON COMMIT DROP"))
    if not sqlite:
        db.rows("ANALYZE q")
    resolved = time.perf_counter()
    check_id = db.rows(
        "INSERT INTO joint_checks (department_id, user_id, checked_by, matter_type, matter_reference, channel, "
        "checked_at, subjects, unknown, punished, rewarded, hits) VALUES (:department, :user, :name, :matter, "
        ":reference, 'api', :now, 0, 0, 0, 0, 0) RETURNING id",
        {"department": department_id, "user": user_id, "name": USERNAME, "matter": MATTER, "reference": "基准测试招标项目",
         "now": at_param(url, utcnow())})[0][0]
    wanted_items = {i for _, _, i in m_record}
    item_filter = "" if None in wanted_items or not wanted_items else \
        "AND r.item_code IN (" + ", ".join(f"'{i}'" for i in sorted(wanted_items)) + ")"
    hits_sql = HITS_SQL.format(agg="json_group_array" if sqlite else "json_agg",
                               obj="json_object" if sqlite else "json_build_object", cast="" if sqlite else "::jsonb",
                               true="1" if sqlite else "true", item_filter=item_filter, in_force=IN_FORCE)
    db.rows(hits_sql, {"check": check_id, "at": at})
    hit_rows = time.perf_counter()
    db.rows(SUBJECTS_SQL, {"check": check_id})
    subjects, unknown, punished, rewarded = db.rows(COUNTS_SQL, {"check": check_id})[0]
    hits = db.rows("SELECT count(*) FROM joint_check_hits WHERE check_id = :check", {"check": check_id})[0][0]
    db.rows("UPDATE joint_checks SET subjects = :subjects, unknown = :unknown, punished = :punished, "
            "rewarded = :rewarded, hits = :hits, feedback_due_at = :due WHERE id = :check",
            {"subjects": subjects, "unknown": unknown, "punished": punished, "rewarded": rewarded, "hits": hits,
             "due": at_param(url, due) if hits else None, "check": check_id})
    written = time.perf_counter()
    db.commit()
    total = time.perf_counter() - started
    db.close()
    phases = {"context": prepared - started, "look-up and diagnosis": classified - prepared,
              "resolve": resolved - classified,
              "hits": hit_rows - resolved, "subjects and counts": written - hit_rows,
              "commit": total - (written - started)}
    return {"total": total, "phases": phases, "check_id": check_id, "subjects": subjects, "unknown": unknown,
            "punished": punished, "rewarded": rewarded, "hits": hits, "peak_mb": peak_rss_mb()}


# --- comparison ---------------------------------------------------------------------------------------------

def compare(url: str, ours: int, base: int) -> dict[str, Any]:
    """Both checks, position by position: hits with their triggers, outcomes, given codes, counts."""
    def hits(check: int) -> dict[tuple[int, int, int], frozenset[tuple[str, int, str]]]:
        rows = query(url, "SELECT position, subject_id, measure_id, triggers FROM joint_check_hits WHERE check_id = :c",
                     {"c": check})
        return {(p, s, m): frozenset((t["kind"], t["id"], t["label"]) for t in as_list(tr)) for p, s, m, tr in rows}

    def subjects(check: int) -> dict[int, tuple[Any, ...]]:
        rows = query(url, "SELECT position, subject_id, given_code, outcome FROM joint_check_subjects WHERE check_id = :c",
                     {"c": check})
        return {r[0]: tuple(r[1:]) for r in rows}

    def counts(check: int) -> tuple[Any, ...]:
        return query(url, "SELECT subjects, unknown, punished, rewarded, hits, feedback_due_at FROM joint_checks "
                          "WHERE id = :c", {"c": check})[0]

    a, b = hits(ours), hits(base)
    sa, sb = subjects(ours), subjects(base)
    kinds = Counter(t[0] for triggers in a.values() for t in triggers)
    return {"hits": len(a), "baseline_hits": len(b), "hit_mismatches": len(a.keys() ^ b.keys()),
            "trigger_mismatches": sum(a[k] != b[k] for k in a.keys() & b.keys()),
            "subject_mismatches": sum(sa.get(p) != sb.get(p) for p in sa.keys() | sb.keys()),
            "count_mismatch": counts(ours) != counts(base), "outcomes": dict(Counter(v[2] for v in sa.values())),
            "trigger_kinds": dict(kinds), "hit_subjects": len({k[0] for k in a})}


# --- single-check API -----------------------------------------------------------------------------------------

CHECK_URL = "/api/v1/sanctions/checks"
PERMISSIONS_FILE = ROOT / "src" / "xinyong" / "access" / "permissions.py"
ROUTES_FILE = ROOT / "src" / "xinyong" / "sanctions" / "routes.py"


def route_written() -> bool:
    """The route file exists and the permission it needs is declared (another engineer is writing them)."""
    return ROUTES_FILE.exists() and '"sanctions:check"' in PERMISSIONS_FILE.read_text(encoding="utf-8")


def run_api(url: str, work: Path, requests: int, seed: int) -> dict[str, Any]:
    """``requests`` sequential single-code checks over HTTP with the applying user's API token (real clock)."""
    settings = generator.settings_for(url, work)
    use_settings(settings)
    with session_scope(settings) as session:
        user = session.scalar(select(User).where(User.username == USERNAME))
        assert user is not None
        _, token = access.issue_token(session, Actor.system("基准测试"), user, "联合奖惩核查基准测试", ["sanctions:check"],
                                      None)
    dispose_engines()
    rng = np.random.default_rng(seed)
    people = subject_table(url)
    listed = np.array([r[0] for r in query(url, f"SELECT DISTINCT e.subject_id FROM list_entries e WHERE {IN_FORCE} ORDER BY 1",
                                           {"at": at_param(url, clock.now())})], dtype=np.int64) - 1
    n_listed = min(listed.size, round(requests * API_LISTED_SHARE))
    indexes = rng.choice(listed, n_listed, replace=False).tolist() + \
        rng.choice(people["id"].size, requests - n_listed, replace=False).tolist()
    codes = [code_of(people, i) for i in rng.permutation(indexes).tolist()]
    del people
    body = {"matter_type": MATTER, "matter_reference": "基准测试招标项目", "subjects": [codes[0]]}
    times: list[float] = []
    outcomes: Counter[str] = Counter()
    failures: Counter[int] = Counter()
    with app_server(settings.sqlalchemy_url, settings.data_dir, work) as app, \
            httpx.Client(base_url=app.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        probe = client.post(CHECK_URL, json=body)
        if probe.status_code == 404 and probe.json().get("error", {}).get("code") == "NOT_FOUND":
            return {"missing": True}
        if probe.status_code >= 300:
            raise SystemExit(f"POST {CHECK_URL}: {probe.status_code} {probe.text[:1000]}")
        for code in codes[-50:]:  # warm-up
            client.post(CHECK_URL, json={**body, "subjects": [code]})
        for code in codes:
            started = time.perf_counter()
            response = client.post(CHECK_URL, json={**body, "subjects": [code]})
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 300:
                failures[response.status_code] += 1
                continue
            results = response.json().get("results") or [{}]
            outcomes[str(results[0].get("outcome"))] += 1
    return {"missing": False, "n": len(times), "p50": percentile(times, 50), "p95": percentile(times, 95),
            "p99": percentile(times, 99), "max": max(times), "mean": statistics.fmean(times),
            "outcomes": dict(outcomes), "failures": dict(failures)}


# --- driver ----------------------------------------------------------------------------------------------------

def child(kind: str, url: str, work: Path, *extra: str) -> dict[str, Any]:
    return run_child(__file__, kind, url, work, *extra)


def child_main(args: argparse.Namespace) -> None:
    work = Path(args.work)
    if args.child == "ours":
        outcome = run_ours(args.url, work, args.profile)
    elif args.child == "baseline":
        outcome = run_baseline(args.url, work)
    else:
        outcome = run_api(args.url, work, args.api_requests, args.seed)
    print_result(outcome)


def code_version() -> str:
    """Where the app's code comes from, and the repository's commit (a snapshot can be run with PYTHONPATH)."""
    import xinyong

    where = Path(xinyong.__file__).resolve().parent.parent
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip()
    dirty = where == ROOT / "src" and subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"],
                                                     capture_output=True, text=True, check=False).stdout.strip()
    return f"xinyong from {where}; repository HEAD {commit}{' (src/ has uncommitted changes)' if dirty else ''}"


def database_version(url: str) -> str:
    if generator.is_sqlite(url):
        return f"SQLite {sqlite3.sqlite_version} (WAL)"
    return f"PostgreSQL {query(url, 'SHOW server_version')[0][0]}"


def totals(results: list[dict[str, Any]]) -> str:
    return " / ".join(f"{r['total']:.2f}" for r in results)


def rate(batch: int, seconds: float) -> str:
    return f"{batch / seconds:,.0f} subjects/s"


def report(backend: str, url: str, world: World, args: argparse.Namespace, mix: Counter[str],
           ours: list[dict[str, Any]], base: list[dict[str, Any]], check: dict[str, Any],
           api: dict[str, Any] | None) -> None:
    batch = sum(mix.values())
    print(f"\n== {backend}: {world.subjects:,} subjects, {world.records:,} records, {world.entries.get('entries', 0):,} "
          f"list entries, {world.measures} measures ({world.matter_measures} for {MATTER}); batch of {batch:,} ==")
    print(f"machine: {machine(database_version(url))}")
    entries = ", ".join(f"{k} {v:,}" for k, v in world.entries.items())
    grades = ", ".join(f"{k} {v:,}" for k, v in world.grades.items() if k != "run")
    if world.reused:
        print(f"generation: reused {generator.sqlite_path(url)} ({world.size_mb:,.0f} MB); entries: {entries}; grades: {grades}")
    else:
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in world.seconds.items())
        print(f"generation: {sum(world.seconds.values()):.1f} s ({parts}); database {world.size_mb:,.0f} MB")
        print(f"  entries: {entries}; {MODEL} grades: {grades}")
    print(f"batch: {', '.join(f'{k} {v:,}' for k, v in mix.items())}; matter {MATTER}")
    o = sorted(ours, key=lambda r: r["total"])[len(ours) // 2]
    b = sorted(base, key=lambda r: r["total"])[len(base) // 2]
    phases = ", ".join(f"{k} {v:.2f} s" for k, v in o["phases"].items())
    print(f"ours     : {o['total']:6.2f} s = {rate(batch, o['total'])} (median of {len(ours)}: "
          f"{totals(ours)} s); {phases}; peak RSS {o['peak_mb']:,.0f} MB")
    phases = ", ".join(f"{k} {v:.2f} s" for k, v in b["phases"].items())
    print(f"baseline : {b['total']:6.2f} s = {rate(batch, b['total'])} (median of {len(base)}: "
          f"{totals(base)} s); {phases}")
    ratio = b["total"] / o["total"]
    print(f"ratio ours/baseline: {ratio:.3f} (target >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'}); "
          f"ours >= 100,000 subjects/s: {'met' if batch / o['total'] >= 100_000 else 'NOT met'}")
    print(f"check    : {check['hits']:,} hits on {check['hit_subjects']:,} subjects (triggers {check['trigger_kinds']}); "
          f"outcomes {check['outcomes']}; counts ours {o['subjects']:,}/{o['unknown']:,} unknown/{o['punished']:,} "
          f"punished/{o['rewarded']:,} rewarded/{o['hits']:,} hits")
    print(f"           mismatches: hits {check['hit_mismatches']} (baseline {check['baseline_hits']:,} hits), "
          f"triggers {check['trigger_mismatches']}, subjects {check['subject_mismatches']}, "
          f"check counts {'differ' if check['count_mismatch'] else '0'}")
    if api is None:
        print("API      : not measured (the route was not there in time)")
    else:
        print(f"API      : POST {CHECK_URL} x {api['n']:,} sequential, one code each: p50 {api['p50']:.1f} ms, "
              f"p95 {api['p95']:.1f} ms, p99 {api['p99']:.1f} ms, max {api['max']:.1f} ms "
              f"(target p95 < 20 ms: {'met' if api['p95'] < 20 else 'NOT met'}); outcomes {api['outcomes']}"
              f"{'; failures ' + str(api['failures']) if api['failures'] else ''}")


def measure_api(url: str, work: Path, args: argparse.Namespace) -> dict[str, Any] | None:
    deadline = time.monotonic() + args.api_wait
    while True:
        if route_written():
            load = wait_for_quiet(args.quiet_load, args.quiet_wait)
            print(f"  single-check API ({args.api_requests:,} requests; load average {load:.1f}) …", flush=True)
            api = child("api", url, work, "--api-requests", str(args.api_requests), "--seed", str(args.seed))
            if not api["missing"]:
                return api
            print("  the app answers 404 for the route (not mounted yet)", flush=True)
        if time.monotonic() >= deadline:
            return None
        print(f"  waiting for {CHECK_URL} ({ROUTES_FILE.relative_to(ROOT)} and the sanctions:check permission) …",
              flush=True)
        time.sleep(60)


def run_backend(backend: str, args: argparse.Namespace) -> None:
    print(f"\n--- {backend} ---", flush=True)
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-joint-") as tmp:
        work = Path(tmp)
        kept = KEEP_DIR / f"joint_check-{args.subjects}-{args.records}-{args.entries}-{args.measures}.db"
        with bench_database(backend, work, kept if args.keep else None, generator.PG_TUNING) as url:
            path = Path(generator.sqlite_path(url))
            if backend == "SQLite" and args.keep and path.exists() and is_complete(url, args.subjects):
                print(f"  reusing {path}", flush=True)
                migrate.upgrade(generator.settings_for(url, work), "head")  # the code may have moved on since
                world = describe(url, World(reused=True))
                reset_checks(url)
            else:
                if backend == "SQLite" and args.keep:
                    for stale in path.parent.glob(path.name + "*"):  # an earlier generation that did not finish
                        stale.unlink()
                world = generate(url, work, args)
            dispose_engines()
            people = subject_table(url)
            codes, mix = batch_codes(url, people, args.batch, np.random.default_rng(args.seed + 11))
            del people
            write_codes(work, codes)
            ours: list[dict[str, Any]] = []
            base: list[dict[str, Any]] = []
            for round_ in range(1, args.rounds + 1):
                for label, results in (("ours", ours), ("baseline", base)):
                    load = wait_for_quiet(args.quiet_load, args.quiet_wait)
                    results.append(child(label, url, work))
                    print(f"  round {round_} {label:8}: {results[-1]['total']:.2f} s = "
                          f"{rate(len(codes), results[-1]['total'])} (load average before {load:.1f})", flush=True)
            check = compare(url, ours[-1]["check_id"], base[-1]["check_id"])
            api = measure_api(url, work, args) if args.api_requests else None
            report(backend, url, world, args, mix, ours, base, check, api)
            if args.profile:
                profiled = child("ours", url, work, "--profile")
                print(f"\ncProfile of another run of ours ({profiled['total']:.2f} s under the profiler):")
                print(profiled["hotspots"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=1_000_000,
                        help="records over the items PUBLIC_CREDIT_ORG reads (18 %% of them 行政处罚)")
    parser.add_argument("--entries", type=int, default=50_000, help="list entries")
    parser.add_argument("--measures", type=int, default=200, help="measures in all (the 19 seeded ones included)")
    parser.add_argument("--batch", type=int, default=100_000, help="codes in the batch check")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--keep", action="store_true",
                        help=f"keep the SQLite database in {KEEP_DIR.relative_to(ROOT)}/ and reuse it when complete")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of ours and the baseline; medians shown")
    parser.add_argument("--api-requests", type=int, default=2000, help="single-check API requests (0: skip)")
    parser.add_argument("--api-wait", type=int, default=2400, help="seconds to wait for the API route to appear")
    parser.add_argument("--seed", type=int, default=20261128)
    quiet_arguments(parser, wait=300)
    child_arguments(parser, ["ours", "baseline", "api"])
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    clock.freeze(NOW)
    print(f"machine: {machine()}")
    print(f"code: {code_version()}")
    print(f"data: {args.subjects:,} subjects, {args.records:,} records, {args.entries:,} list entries, "
          f"{args.measures} measures; batch {args.batch:,} for {MATTER}", flush=True)
    for backend in BACKENDS[args.db]:
        run_backend(backend, args)


if __name__ == "__main__":
    main()
