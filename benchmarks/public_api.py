"""Public API throughput and search latency on a registry of realistic size, against a bare baseline.

    python benchmarks/public_api.py                                  # 1,000,000 subjects, 5,000,000 records, both DBs
    python benchmarks/public_api.py --subjects 20000 --records 100000 --db sqlite

For each database (SQLite file; PostgreSQL in a throwaway cluster, initdb --locale=C.UTF-8):
  1. load: migrate to head, seed policy and catalogue, then write N organisations (valid 统一社会信用代码,
     unique Chinese company names in Nanjing's districts) and M records (行政许可, 行政处罚, 经营异常名录,
     信用承诺, 表彰奖励, 合同履约; payloads valid for the seeded catalogue, decisions over the last four
     years) straight into the real tables with ``db.bulk_insert`` (executemany / COPY), in chunks.
     Every derived column comes from the app's own functions (name forms and search pairs:
     ``subjects.service.name_columns``; publication window: ``records.service.publication_fields``).
     Secondary indexes are dropped during the load and rebuilt after it, then statistics refreshed.
  2. throughput: the real app (uvicorn, one worker) serving ``GET /api/v1/public/subjects/{uscc}``
     with wrk on loopback, and in the same run a bare Starlette endpoint (``baseline_app`` below, same
     uvicorn settings) returning a fixed JSON of the size of a typical (median) subject-page response,
     in alternating rounds. The app caches rendered pages, so it is measured twice: cold (every request
     a subject not requested before: a page rendered from the database) and hot (1,000 subjects
     requested again and again). Prints requests/s and the ratio to the baseline (target >= 0.5).
  3. search latency: sequential httpx requests to ``GET /api/v1/public/search?q=`` with 2-, 4- and
     8-character queries taken from the generated names (字号, first 4 and first 8 characters of a
     name; one in ten matches nothing), p50/p95/max per length (target p95 < 50 ms), and a few broad
     queries (南京, 科技 …) shown apart.
The public API's rate limit is switched off for the server under test (XINYONG_PUBLIC_RATE_LIMIT=0).
Needs ``wrk`` (Debian package ``wrk``; installed with apt-get when missing and running as root).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from benchmarks._common import (  # noqa: E402
    BACKENDS,
    Server,
    app_server,
    bench_database,
    machine,
    percentile,
    quiet_arguments,
    wait_for_quiet,
)
from sqlalchemy import Engine, event, func, select, text  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from xinyong import clock, migrate  # noqa: E402
from xinyong.access import service as access  # noqa: E402
from xinyong.actor import Actor  # noqa: E402
from xinyong.catalogue import service as catalogue  # noqa: E402
from xinyong.catalogue.validation import check_payload  # noqa: E402
from xinyong.config import Settings, use_settings  # noqa: E402
from xinyong.db import RawJSON, allocate_ids, bulk_insert, dispose_engines, get_engine, session_scope  # noqa: E402
from xinyong.demo import DISTRICTS, GIVEN_FEMALE, GIVEN_MALE, INDUSTRY_WORDS, SURNAMES, District  # noqa: E402
from xinyong.policy import service as policy  # noqa: E402
from xinyong.records import service as records  # noqa: E402
from xinyong.records.models import Record  # noqa: E402
from xinyong.subjects import search as subject_search  # noqa: E402
from xinyong.subjects import service as subjects  # noqa: E402
from xinyong.subjects import uscc  # noqa: E402
from xinyong.subjects.models import Subject  # noqa: E402

SUBJECT_URL = "/api/v1/public/subjects/{}"
SEARCH_URL = "/api/v1/public/search"
BODY_ENV = "XINYONG_BENCH_BODY"  # the baseline's fixed response, as a JSON file
SUBJECT_CHUNK = 20_000
RECORD_CHUNK = 50_000
PG_TUNING = ("-c shared_buffers=2GB -c effective_cache_size=12GB -c maintenance_work_mem=1GB -c work_mem=16MB "
             "-c max_wal_size=8GB -c checkpoint_timeout=30min")

# --- names ------------------------------------------------------------------------------------------
# A name is one of FORMS filled with a 2-character 字号 (ZIHAO_FIRST x ZIHAO_SECOND) and an industry
# word; subject n takes combination (n * STRIDE + OFFSET) mod (all combinations), so names are unique
# without remembering them. No 字号 starts with a district's or a form's first character, which keeps
# the forms from producing one another's names.
ZIHAO_FIRST = ("金银华恒鑫宏博瑞嘉德盛天中润锦永诚联新海东明凯安泰和信远星宝富龙聚优同君弘卓众世启开晨源鼎广长昌兴"
               "隆达通顺祥福万佳美雅智航腾正百千禾蓝青云峰川悦昊睿朗晟辰弈昱璞泓沐铭皓翔立汇合创荣越锐")
ZIHAO_SECOND = "盛达源通泰丰华瑞科创诚信和安宇鑫发隆顺辉昌兴祥茂晟越恒远航业成邦润胜泽峰岳璟骏拓驰域洲晖耀凯美嘉合元森"
FORMS = ("南京{z}{w}有限公司", "江苏{z}{w}有限公司", "{z}（南京）{w}有限公司", "南京{z}{w}有限责任公司",
         "南京{d}{z}{w}有限公司")
WORDS = tuple((word, industry) for industry, words in INDUSTRY_WORDS.items() for word in words)
ZIHAO = tuple(a + b for a in dict.fromkeys(ZIHAO_FIRST) for b in dict.fromkeys(ZIHAO_SECOND) if a != b)
NO_MATCH = "猫狐鲸鳄蜥蝶蛙鹦鹉熊猴豹狮麋鸵獭蟹蚌鳗鲶"  # characters no generated name contains
BROAD_QUERIES = ("南京", "有限", "科技", "江苏", "江宁", "建邺", "有限公司", "信息技术", "建设工程", "南京江宁")
DISTRICT_WEIGHTS = [d.weight for d in DISTRICTS]
PLAN_FROM_MS = 5.0  # diagnostics show SQL and plan of statements at least this slow
ORG_BODY_SPACE = 31 ** 6  # "MA" + six characters of the code alphabet


def _stride(space: int, near: int) -> int:
    stride = near
    while math.gcd(stride, space) != 1:
        stride += 1
    return stride


NAME_SPACE = len(ZIHAO) * len(WORDS) * len(FORMS)
NAME_STRIDE = _stride(NAME_SPACE, 1_000_003)
CODE_STRIDE = _stride(ORG_BODY_SPACE, 7_919_111)


def _check_pools() -> None:
    first_chars = {z[0] for z in ZIHAO}
    reserved = {d.name[0] for d in DISTRICTS} | {"南", "江"}
    assert not first_chars & reserved, first_chars & reserved
    used = set(ZIHAO_FIRST + ZIHAO_SECOND + "".join(FORMS) + "".join(w for w, _ in WORDS)
               + "".join(d.name for d in DISTRICTS))
    assert not used & set(NO_MATCH), used & set(NO_MATCH)


def company_name(n: int, district: District) -> tuple[str, str]:
    """Subject n's name (unique for n < NAME_SPACE) and its industry (GB/T 4754 门类)."""
    c = (n * NAME_STRIDE + 12_345) % NAME_SPACE
    c, form = divmod(c, len(FORMS))
    c, word = divmod(c, len(WORDS))
    text_, industry = WORDS[word]
    return FORMS[form].format(z=ZIHAO[c], w=text_, d=district.name[:-1]), industry


def company_code(n: int, region: str) -> str:
    body_number = (n * CODE_STRIDE + 4_242) % ORG_BODY_SPACE
    body = ""
    for _ in range(6):
        body_number, digit = divmod(body_number, 31)
        body = uscc.ALPHABET[digit] + body
    return uscc.build("9", "1", region, "MA" + body)


DISTRICT_SHORT = tuple(d.name[:-1] for d in DISTRICTS)  # 玄武, 雨花台 … as in 南京玄武华盛科技有限公司


def zihao_of(name: str) -> str:
    """The 2-character 字号 of a generated name (after the district in the form that has one)."""
    if name[2] == "（":
        return name[:2]
    rest = name[2:]
    district = next((d for d in DISTRICT_SHORT if rest.startswith(d)), "")
    return rest[len(district):len(district) + 2]


# --- departments and record templates --------------------------------------------------------------


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


DEPARTMENTS = (
    Dept("市场监管", "南京市市场监督管理局", "市场监管局", "宁市监", 1001),
    Dept("税务", "国家税务总局南京市税务局", "税务局", "宁税", 1002),
    Dept("生态环境", "南京市生态环境局", "生态环境局", "宁环", 1003),
    Dept("住建", "南京市城乡建设委员会", "城乡建设委", "宁建", 1004),
    Dept("交通运输", "南京市交通运输局", "交通运输局", "宁交", 1005),
    Dept("发展改革", "南京市发展和改革委员会", "发展改革委", "宁发改", 1006),
    Dept("财政", "南京市财政局", "财政局", "宁财", 1007),
    Dept("公共资源交易", "南京市公共资源交易中心", "公共资源交易中心", "宁公管", 1008),
)
ITEM_SHARES = {"ADM_LICENSE": 30, "ADM_PENALTY": 22, "COMMITMENT": 20, "CONTRACT": 12, "LIST_ABNORMAL": 10,
               "HONOUR": 6}
LICENSES = (  # sector, 文书名称, 证书名称, 许可类别, 许可内容
    ("市场监管", "食品经营许可决定书", "食品经营许可证", "普通", "预包装食品销售（含冷藏冷冻食品），散装食品销售，热食类食品制售"),
    ("市场监管", "特种设备使用登记决定书", "特种设备使用登记证", "登记", "电梯使用登记，共{n}台"),
    ("交通运输", "道路运输经营许可决定书", "道路运输经营许可证", "普通", "道路普通货物运输，货物专用运输（集装箱）"),
    ("生态环境", "排污许可决定书", "排污许可证", "普通", "排放大气污染物：颗粒物、二氧化硫、氮氧化物；排放水污染物：化学需氧量、氨氮"),
    ("住建", "建筑业企业资质许可决定书", "建筑业企业资质证书", "认可", "建筑工程施工总承包三级；市政公用工程施工总承包三级"),
)
PENALTIES = (  # sector, 违法行为类型, 违法事实, 处罚依据, fine range (万元)
    ("市场监管", "销售不符合食品安全标准的食品",
     "{d}，执法人员对当事人经营场所进行监督抽检，当事人销售的散装熟食经检验，菌落总数项目不符合食品安全国家标准，检验结论为不合格。",
     "《中华人民共和国食品安全法》第一百二十四条第一款第（一）项", (0.5, 10)),
    ("市场监管", "发布虚假广告",
     "当事人在其网店页面发布的广告中宣传“全网销量第一”等内容，经查当事人无法提供相关证明材料，广告内容与实际情况不符，欺骗、误导消费者。",
     "《中华人民共和国广告法》第五十五条第一款", (1, 20)),
    ("市场监管", "不按规定明码标价", "{d}，执法人员检查发现当事人在经营场所销售的{n}种商品未按规定明码标价。",
     "《中华人民共和国价格法》第四十二条", (0.1, 0.5)),
    ("税务", "未按照规定期限办理纳税申报和报送纳税资料",
     "当事人未按照规定期限办理{y}年第{n}季度增值税的纳税申报和报送纳税资料。", "《中华人民共和国税收征收管理法》第六十二条",
     (0.02, 0.2)),
    ("生态环境", "超过大气污染物排放标准排放大气污染物",
     "{d}，执法人员对当事人进行现场检查，经监测，当事人{n}号排气筒排放的颗粒物浓度超过《大气污染物综合排放标准》（DB32/4041-2021）规定的排放限值。",
     "《中华人民共和国大气污染防治法》第九十九条第（二）项", (10, 100)),
    ("住建", "施工工地扬尘污染防治措施落实不到位",
     "{d}，执法人员检查发现当事人承建的项目施工现场裸土未覆盖、出场车辆未冲洗，扬尘污染防治措施落实不到位。",
     "《中华人民共和国大气污染防治法》第一百一十五条第一款第（一）项", (1, 10)),
    ("交通运输", "车辆超限运输", "{d}，当事人所属车辆车货总质量超过限定标准{n}吨，擅自在公路上行驶。",
     "《公路安全保护条例》第六十四条", (0.05, 3)),
)
PENALTY_KINDS = {"罚款": 60, "警告": 14, "没收违法所得": 10, "通报批评": 4, "责令停产停业": 6, "暂扣许可证件": 6}
ABNORMAL_REASONS = ("未按规定报送年度报告", "未按责令期限公示有关企业信息", "公示企业信息隐瞒真实情况弄虚作假",
                    "通过登记的住所或者经营场所无法联系")
COMMITMENTS = (("发展改革", "信用修复型", "申请信用修复，承诺已纠正失信行为、消除不良影响，今后依法诚信经营"),
               ("市场监管", "审批替代型", "申请食品经营许可，承诺符合审批条件，在规定期限内补齐相关材料"),
               ("市场监管", "容缺受理型", "申请办理变更登记，承诺在二十个工作日内补正所缺材料"),
               ("发展改革", "主动型", "主动向社会作出信用承诺，遵守法律法规，履行社会责任"))
HONOURS = (("市场监管", "江苏省守合同重信用企业", "江苏省市场监督管理局", "省级"),
           ("市场监管", "南京市守合同重信用企业", "南京市市场监督管理局", "市级"),
           ("发展改革", "南京市诚信建设示范企业", "南京市社会信用体系建设领导小组办公室", "市级"),
           ("税务", "南京市纳税信用示范企业", "国家税务总局南京市税务局", "市级"))
CORRECTIONS: dict[str, Any] = {  # what a department's correction changes, per item
    "ADM_LICENSE": lambda p: {"BZ": "更正：许可内容录入有误"},
    "ADM_PENALTY": lambda p: {"BZ": "更正：违法事实表述有误"},
    "LIST_ABNORMAL": lambda p: {"LRYY": "通过登记的住所或者经营场所无法联系"},
    "COMMITMENT": lambda p: {"LYZT": "已履约"},
    "HONOUR": lambda p: {"SYJG": p["SYJG"] + "（更正）"},
    "CONTRACT": lambda p: {"LYQK": "逾期履约"},
}
# Chance that a record following another of the same subject corrects or revokes it (about 3 % of all
# records end up corrections or revocations, as in a registry that has run for a few years).
FOLLOW_UP_CHANCE = 0.04
CONTRACTS = ("办公设备", "物业管理服务", "信息化系统运维", "道路养护工程", "食堂食材配送", "绿化养护服务")


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def amount(rng: random.Random, low: float, high: float) -> str:
    value = rng.uniform(low, high)
    return f"{value:.2f}" if value < 1 else f"{value:.1f}" if value < 10 else f"{round(value)}"


class RecordMaker:
    """Payloads (already in the canonical form validation produces) and the other record columns."""

    def __init__(self, rng: random.Random, depts: dict[str, tuple[int, Dept]], items: dict[str, Any],
                 periods: dict[str, Any]) -> None:
        self.rng, self.depts, self.items, self.periods = rng, depts, items, periods
        self.today = clock.today()
        self.item_codes, self.item_weights = list(ITEM_SHARES), list(ITEM_SHARES.values())
        self.penalty_kinds, self.penalty_weights = list(PENALTY_KINDS), list(PENALTY_KINDS.values())

    def decision(self) -> date:
        return self.today - timedelta(days=self.rng.randint(0, 4 * 365))

    def person(self) -> str:
        rng = self.rng
        pool = GIVEN_MALE if rng.random() < 0.6 else GIVEN_FEMALE
        return rng.choice(SURNAMES) + rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")

    def payload(self, item: str, serial: int, day: date) -> tuple[Dept, dict[str, Any]]:
        rng, y = self.rng, day.year
        if item == "ADM_LICENSE":
            sector, document, certificate, kind, content = rng.choice(LICENSES)
            dept = self.depts[sector][1]
            return dept, {"XK_FDDB": self.person(), "XK_XKWS": document, "XK_WSH": f"{dept.prefix}许准〔{y}〕{serial}号",
                          "XK_XKLB": kind, "XK_XKZS": certificate, "XK_XKBH": f"JY{y}{serial:09d}",
                          "XK_NR": content.format(n=rng.randint(1, 12)), "XK_JDRQ": day.isoformat(),
                          "XK_YXQZ": day.isoformat(), "XK_YXQZI": day.replace(year=y + 5, day=min(day.day, 28)).isoformat(),
                          "XK_XKJG": dept.name, "XK_XKJGDM": dept.code, "XK_ZT": "有效", "XK_LYDW": dept.name,
                          "XK_LYDWDM": dept.code}
        if item == "ADM_PENALTY":
            sector, behaviour, facts, basis, (low, high) = rng.choice(PENALTIES)
            dept = self.depts[sector][1]
            kind = rng.choices(self.penalty_kinds, self.penalty_weights)[0]
            payload = {"CF_FDDB": self.person(), "CF_WSH": f"{dept.prefix}罚决〔{y}〕{serial}号", "CF_WFXW": behaviour,
                       "CF_SY": facts.format(d=cn_date(day), n=rng.randint(2, 30), y=y - 1), "CF_YJ": basis,
                       "CF_CFLB": kind, "CF_JDRQ": day.isoformat(), "CF_CFJG": dept.name, "CF_CFJGDM": dept.code,
                       "CF_SJLY": dept.name, "CF_SJLYDM": dept.code, "CF_JYCX": rng.random() < 0.08}
            if kind == "罚款":
                fine = amount(rng, low, high)
                payload.update(CF_NR=f"罚款{fine}万元", CF_NR_FK=fine)
            elif kind == "没收违法所得":
                gains = amount(rng, low / 2, high / 2)
                payload.update(CF_NR=f"没收违法所得{gains}万元", CF_NR_WFFF=gains)
            else:
                payload["CF_NR"] = f"{kind}（{behaviour}）"
            return dept, payload
        if item == "LIST_ABNORMAL":
            dept = self.depts["市场监管"][1]
            return dept, {"LRWH": f"{dept.prefix}异列〔{y}〕{serial}号", "LRYY": rng.choice(ABNORMAL_REASONS),
                          "LRRQ": day.isoformat(), "ZCJG": dept.name}
        if item == "COMMITMENT":
            sector, kind, matter = rng.choice(COMMITMENTS)
            dept = self.depts[sector][1]
            return dept, {"CNBH": f"CN{y}{serial:09d}", "CNLX": kind, "CNSX": matter, "CNRQ": day.isoformat(),
                          "LYZT": rng.choices(("履约中", "已履约", "未履约"), (30, 65, 5))[0]}
        if item == "HONOUR":
            sector, title, grantor, level = rng.choice(HONOURS)
            dept = self.depts[sector][1]
            return dept, {"RYMC": title, "SYJG": grantor, "SYRQ": day.isoformat(), "RYJB": level}
        if item == "CONTRACT":
            dept = self.depts[rng.choice(("财政", "公共资源交易"))][1]
            return dept, {"HTBH": f"NJZC{y}-{serial:08d}", "HTMC": f"{y}年度{rng.choice(CONTRACTS)}采购项目合同",
                          "HTJE": amount(rng, 5, 900), "LYQK": rng.choices(("按期履约", "逾期履约", "违约"), (90, 8, 2))[0],
                          "QDRQ": day.isoformat()}
        raise ValueError(item)

    def follow_up(self, record_id: int, original: dict[str, Any]) -> dict[str, Any]:
        """A correction (更正) or revocation (撤销) of ``original``, as ``records.service`` would store it."""
        subject_id, item, version = original["subject_id"], original["item_code"], self.items[original["item_code"]]
        row = {**original, "id": record_id, "supersedes_id": original["id"],
               "received_at": min(original["received_at"] + timedelta(days=self.rng.randint(1, 30)), clock.now())}
        if self.rng.random() < 0.2:
            row.update(kind="revocation", payload=RawJSON("{}"), reason="原决定已被依法撤销",
                       content_hash=records.content_hash(subject_id, {"revoked": original["id"]}),
                       published=False, publication_starts_at=None, publication_ends_at=None)
            return row
        payload = json.loads(original["payload"])
        payload.update(CORRECTIONS[item](payload))
        canonical = records.payload_json(payload)
        row.update(kind="correction", payload=RawJSON(canonical), content_hash=records.content_hash_of(subject_id, canonical),
                   **records.publication_fields(version, severity=version.severity, decision_date=original["decision_date"],
                                                payload=payload, subject_kind="enterprise", periods=self.periods))
        return row

    def row(self, record_id: int, subject_id: int, serial: int) -> dict[str, Any]:
        item = self.rng.choices(self.item_codes, self.item_weights)[0]
        day = self.decision()
        dept, payload = self.payload(item, serial, day)
        version = self.items[item]
        canonical = records.payload_json(payload)
        received = clock.start_of(day) + timedelta(days=self.rng.randint(1, 20), hours=9, minutes=self.rng.randint(0, 480))
        return {"id": record_id, "subject_id": subject_id, "item_code": item, "item_version_id": version.id,
                "department_id": self.depts[dept.sector][0], "kind": "original", "supersedes_id": None,
                "natural_key": "|".join(str(payload.get(k, "")) for k in version.natural_key),
                "content_hash": records.content_hash_of(subject_id, canonical), "payload": RawJSON(canonical),
                "severity": version.severity, "decision_date": day, "reason": "", "submitted_by": None,
                "received_at": min(received, clock.now()), "batch_id": None, "source_row": None,
                **records.publication_fields(version, severity=version.severity, decision_date=day, payload=payload,
                                             subject_kind="enterprise", periods=self.periods)}


# --- load -------------------------------------------------------------------------------------------


@dataclass
class LoadStats:
    subjects: int = 0
    records: int = 0
    subject_seconds: float = 0.0
    record_seconds: float = 0.0
    index_seconds: float = 0.0
    analyze_seconds: float = 0.0
    size_mb: float = 0.0
    reused: bool = False
    published: int = 0
    follow_ups: int = 0


def _progress(label: str, done: int, total: int, started: float, last: list[float]) -> None:
    now = time.perf_counter()
    if done < total and now - last[0] < 10:
        return
    last[0] = now
    rate = done / max(now - started, 1e-9)
    print(f"  {label:8} {done:>12,} / {total:,} ({100 * done / total:5.1f}%)  {rate:>9,.0f} rows/s", flush=True)


def _secondary_indexes(engine: Engine, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes on ``tables`` that back no constraint."""
    names = ", ".join(f"'{t}'" for t in tables)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                              f"AND tbl_name IN ({names}) AND sql IS NOT NULL").all()
        else:
            rows = connection.exec_driver_sql(
                f"SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                f"JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname IN ({names}) AND NOT x.indisprimary "
                f"AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)").all()
    return [(name, sql) for name, sql in rows]


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(total, start + size)


def prepare(settings: Settings) -> tuple[dict[str, tuple[int, Dept]], dict[str, Any], dict[str, Any]]:
    """Schema at head, policy and catalogue seeded, the departments that send the records."""
    use_settings(settings)
    migrate.upgrade(settings, "head")
    with session_scope(settings) as session:
        policy.seed(session)
        catalogue.seed(session, Actor.system("基准测试"))
        depts = {}
        for dept in DEPARTMENTS:
            row = access.create_department(session, code=dept.code, name=dept.name, short_name=dept.short,
                                           region_code="320100", sector=dept.sector,
                                           applies_data=dept.sector in ("公共资源交易", "发展改革"))
            depts[dept.sector] = (row.id, dept)
        items = {code: catalogue.get_item(session, code).version for code in ITEM_SHARES}
        periods = records.publication_periods(session)
    return depts, items, periods


def check_sample(settings: Settings, maker: RecordMaker, rows: int = 3000) -> None:
    """The generator's payloads are exactly what validation would store, and its codes are valid."""
    with session_scope(settings) as session:
        rules = subjects.rules(session)
        for n in range(0, 200):
            uscc.validate(company_code(n, "320102"), rules)
            uscc.validate(company_code(n * 4999 + 17, "320115"), rules)
        for dept in DEPARTMENTS:
            uscc.validate(dept.code, rules)
        saved = maker.rng.getstate()
        for serial in range(rows):
            item = maker.item_codes[serial % len(maker.item_codes)]
            _, payload = maker.payload(item, serial, maker.decision())
            clean, problems = check_payload(maker.items[item].fields, payload,
                                            check_uscc=lambda raw: uscc.validate(raw, rules), today=maker.today)
            assert not problems, (item, payload, problems)
            assert clean == payload, (item, payload, clean)
        maker.rng.setstate(saved)


def load(settings: Settings, n_subjects: int, n_records: int, seed: int) -> LoadStats:
    assert n_subjects <= NAME_SPACE, f"at most {NAME_SPACE:,} unique names"
    stats = LoadStats(subjects=n_subjects, records=n_records)
    depts, items, periods = prepare(settings)
    rng = random.Random(seed)
    maker = RecordMaker(rng, depts, items, periods)
    check_sample(settings, maker)
    engine = get_engine(settings)
    indexes = _secondary_indexes(engine, ("subjects", "records"))
    with engine.begin() as connection:
        for name, _ in indexes:
            connection.exec_driver_sql(f"DROP INDEX {name}")
    print(f"  dropped {len(indexes)} secondary indexes for the load: {', '.join(n for n, _ in indexes)}")

    started, last = time.perf_counter(), [0.0]
    first_id = None
    today, created = clock.today(), datetime.now(UTC)
    oldest_registration = date(2015, 10, 1)
    registration_days = (today - timedelta(days=4 * 365 + 30) - oldest_registration).days
    for start, end in _chunks(n_subjects, SUBJECT_CHUNK):
        with session_scope(settings) as session:
            ids = allocate_ids(session, Subject.__table__, end - start)
            first_id = ids[0] if first_id is None else first_id
            assert ids == list(range(first_id + start, first_id + end)), "subject ids are not contiguous"
            rows = []
            for n, subject_id in zip(range(start, end), ids, strict=True):
                district = rng.choices(DISTRICTS, DISTRICT_WEIGHTS)[0]
                name, industry = company_name(n, district)
                rows.append({"id": subject_id, "kind": "enterprise", "uscc": company_code(n, district.code),
                             **subjects.name_columns(name), "region_code": district.code, "industry": industry,
                             "legal_representative": maker.person(),
                             "registration_authority": f"南京市{district.name}市场监督管理局",
                             "registered_on": oldest_registration + timedelta(days=rng.randint(0, registration_days)),
                             "registered_capital": float(rng.choice((10, 50, 100, 200, 300, 500, 1000, 5000))),
                             "address": f"南京市{district.name}{rng.choice(district.roads)}{rng.randint(1, 399)}号",
                             "status": "存续", "created_at": created})
            bulk_insert(session, Subject.__table__, rows)
        _progress("subjects", end, n_subjects, started, last)
    stats.subject_seconds = time.perf_counter() - started
    assert first_id is not None

    # Records go subject by subject (the subject index grows at its end); within a chunk of subjects
    # the records are spread unevenly: most subjects have a few, some have dozens, some none.
    started, last = time.perf_counter(), [0.0]
    serial = 0
    subjects_per_chunk = max(1, RECORD_CHUNK * n_subjects // max(n_records, 1))
    for start, end in _chunks(n_subjects, subjects_per_chunk):
        count = end * n_records // n_subjects - start * n_records // n_subjects
        if count == 0:
            continue
        weights = [rng.gammavariate(2.0, 1.0) for _ in range(end - start)]
        owners = sorted(rng.choices(range(first_id + start, first_id + end), weights, k=count))
        with session_scope(settings) as session:
            ids = allocate_ids(session, Record.__table__, count)
            rows: list[dict[str, Any]] = []
            for record_id, subject_id in zip(ids, owners, strict=True):
                serial += 1
                previous = rows[-1] if rows else None
                if (previous is not None and previous["subject_id"] == subject_id and previous["kind"] == "original"
                        and rng.random() < FOLLOW_UP_CHANCE):
                    rows.append(maker.follow_up(record_id, previous))
                    stats.follow_ups += 1
                else:
                    rows.append(maker.row(record_id, subject_id, serial))
            stats.published += sum(1 for row in rows if row["published"])
            bulk_insert(session, Record.__table__, rows)
        _progress("records", serial, n_records, started, last)
    stats.record_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with engine.begin() as connection:
        for _, sql in indexes:
            connection.exec_driver_sql(sql)
    stats.index_seconds = time.perf_counter() - started
    print(f"  rebuilt {len(indexes)} indexes in {stats.index_seconds:.1f} s", flush=True)
    started = time.perf_counter()
    analyse(engine)
    stats.analyze_seconds = time.perf_counter() - started
    stats.size_mb = database_mb(engine, settings)
    print(f"  statistics refreshed in {stats.analyze_seconds:.1f} s; database {stats.size_mb:,.0f} MB", flush=True)
    return stats


def analyse(engine: Engine) -> None:
    """Planner statistics after the bulk load (and the FTS5 segments merged on SQLite)."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            has_fts = connection.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'subject_search'").first() is not None
            if has_fts:
                connection.exec_driver_sql("INSERT INTO subject_search(subject_search) VALUES ('optimize')")
            connection.exec_driver_sql("ANALYZE")
        raw = engine.raw_connection()  # outside any transaction (the engine begins them IMMEDIATE)
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")


def database_mb(engine: Engine, settings: Settings) -> float:
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database or "")
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT pg_database_size(current_database())").scalar() / 1e6


def existing_counts(settings: Settings) -> tuple[int, int]:
    engine = get_engine(settings)
    with engine.connect() as connection:
        return (connection.execute(select(func.count()).select_from(Subject)).scalar() or 0,
                connection.execute(select(func.count()).select_from(Record)).scalar() or 0)


# --- servers ----------------------------------------------------------------------------------------


def _baseline_body() -> Any:
    path = os.environ.get(BODY_ENV)
    return json.loads(Path(path).read_text(encoding="utf-8")) if path else {"ok": True}


_BODY = _baseline_body()


async def _fixed(request: Request) -> JSONResponse:
    return JSONResponse(_BODY)


baseline_app = Starlette(routes=[Route(SUBJECT_URL.format("{uscc}"), _fixed)])


def app_server_for(settings: Settings, work: Path) -> Server:
    return app_server(settings.sqlalchemy_url, settings.data_dir, work, XINYONG_PUBLIC_RATE_LIMIT="0")


def baseline_server(body: Path, work: Path) -> Server:
    return Server(["public_api:baseline_app", "--app-dir", str(Path(__file__).resolve().parent)],
                  {BODY_ENV: str(body)}, work, work / "baseline.log")


# --- wrk --------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install wrk) …", flush=True)
        result = subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, check=False)
            subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, check=True)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk not found: install the Debian package `wrk` (apt-get install wrk)")
    return found


@dataclass
class WrkResult:
    requests_per_s: float
    requests: int
    non_2xx: int
    errors: str
    latency: dict[str, str]


def wrk_script(paths: list[str], work: Path, name: str, start: int = 0) -> Path:
    """A wrk Lua script cycling through ``paths`` from index ``start`` (paths read from a file: a
    table literal of 100,000+ strings is too much for LuaJIT)."""
    listing = work / f"{name}.paths"
    listing.write_text("\n".join(paths) + "\n")
    script = work / f"{name}.lua"
    script.write_text(f'local paths = {{}}\nfor line in io.lines("{listing}") do paths[#paths + 1] = line end\n'
                      f"local i = {start % max(len(paths), 1)}\n"
                      'request = function()\n  i = i % #paths + 1\n  return wrk.format("GET", paths[i])\nend\n')
    return script


def run_wrk(wrk: str, url: str, script: Path, threads: int, connections: int, seconds: int) -> WrkResult:
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rate is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    latency = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    return WrkResult(float(rate.group(1)), int(total.group(1)), int(non_2xx.group(1)) if non_2xx else 0,
                     errors.group(1) if errors else "", latency)


# --- measurements -----------------------------------------------------------------------------------


def sample_subjects(settings: Settings, count: int, seed: int) -> list[tuple[str, str]]:
    """(code, name) of ``count`` subjects picked at random."""
    engine = get_engine(settings)
    with engine.connect() as connection:
        low, high = connection.execute(select(func.min(Subject.id), func.max(Subject.id))).one()
        ids = random.Random(seed).sample(range(low, high + 1), min(count, high - low + 1))
        rows = []
        for start in range(0, len(ids), 900):
            rows += connection.execute(select(Subject.uscc, Subject.name)
                                       .where(Subject.id.in_(ids[start:start + 900]))).all()
    random.Random(seed).shuffle(rows)
    return [(code, name) for code, name in rows]


def typical_body(client: httpx.Client, codes: list[str]) -> tuple[Any, list[int]] | None:
    """The median-sized subject-page response over ``codes`` (None when the endpoint is missing)."""
    sized = []
    for code in codes:
        response = client.get(SUBJECT_URL.format(code))
        if response.status_code != 200:
            if response.status_code == 404 and response.json().get("error", {}).get("code") == "NOT_FOUND":
                return None  # no such route yet
            raise RuntimeError(f"GET {SUBJECT_URL.format(code)}: {response.status_code} {response.text[:300]}")
        sized.append((len(response.content), response.content))
    sized.sort(key=lambda s: s[0])
    return json.loads(sized[len(sized) // 2][1]), [s for s, _ in sized]


def search_queries(names: list[str], per_length: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    queries: dict[str, list[str]] = {}
    for length in (2, 4, 8):
        chosen = []
        for i in range(per_length):
            if i % 10 == 9:  # one in ten matches nothing
                chosen.append("".join(rng.choice(NO_MATCH) for _ in range(length)))
            else:
                name = names[rng.randrange(len(names))]
                chosen.append(zihao_of(name) if length == 2 else name[:length])
        queries[f"{length} chars"] = chosen
    queries["broad"] = [q for q in BROAD_QUERIES for _ in range(5)]
    return queries


@dataclass
class Latency:
    label: str
    times_ms: list[float]
    hits: list[int]
    failures: int
    slowest: list[tuple[float, str]] = field(default_factory=list)

    def line(self) -> str:
        hits = f"median hits {statistics.median(self.hits):,.0f}" if self.hits else "hits n/a"
        return (f"  {self.label:8}: n={len(self.times_ms):4}  p50 {percentile(self.times_ms, 50):6.1f} ms  "
                f"p95 {percentile(self.times_ms, 95):6.1f} ms  max {max(self.times_ms):7.1f} ms  ({hits}"
                f"{f', {self.failures} non-200' if self.failures else ''})")


def _hit_count(body: Any) -> int | None:
    if isinstance(body, dict):
        for key in ("total", "count"):
            if isinstance(body.get(key), int):
                return int(body[key])
        for key in ("results", "items", "subjects", "data"):
            if isinstance(body.get(key), list):
                return len(body[key])
    return len(body) if isinstance(body, list) else None


def measure_search(client: httpx.Client, queries: dict[str, list[str]]) -> list[Latency] | None:
    probe = client.get(SEARCH_URL, params={"q": "南京"})
    if probe.status_code == 404 and probe.json().get("error", {}).get("code") == "NOT_FOUND":
        return None
    for query in queries["4 chars"][:20]:  # warm-up
        client.get(SEARCH_URL, params={"q": query})
    results = []
    for label, items in queries.items():
        latency = Latency(label, [], [], 0)
        for query in items:
            started = time.perf_counter()
            response = client.get(SEARCH_URL, params={"q": query})
            latency.times_ms.append((time.perf_counter() - started) * 1000)
            latency.slowest = sorted([*latency.slowest, (latency.times_ms[-1], query)], reverse=True)[:3]
            if response.status_code != 200:
                latency.failures += 1
                continue
            hits = _hit_count(response.json())
            if hits is not None:
                latency.hits.append(hits)
        results.append(latency)
    return results


@dataclass
class Outcome:
    backend: str
    load: LoadStats
    app_cold: list[WrkResult] = field(default_factory=list)  # subjects not requested before: cache misses
    app_hot: list[WrkResult] = field(default_factory=list)  # a small set requested again and again
    baseline: list[WrkResult] = field(default_factory=list)
    cold_paths: int = 0
    hot_paths: int = 0
    load_average: float = 0.0
    body_bytes: int = 0
    body_sizes: list[int] = field(default_factory=list)
    search: list[Latency] | None = None
    diagnostics: list[str] = field(default_factory=list)


def measure(settings: Settings, work: Path, args: argparse.Namespace, wrk: str, outcome: Outcome) -> None:
    """Throughput of the subject page, cold and hot, against the bare endpoint; then search latency.

    The app caches rendered subject pages, so two loads are measured. Cold: subjects never requested
    before in the run (each round starts elsewhere in a list far longer than it gets through, and
    longer than the cache), so every request renders a page. Hot: ``--hot-paths`` subjects, all
    fetched once beforehand, requested again and again.
    """
    sample = sample_subjects(settings, args.paths + args.hot_paths, args.seed)
    dispose_engines()  # the server is another process: no connection (nor SQLite lock) of ours stays open
    codes = [code for code, _ in sample]
    hot, cold = codes[:args.hot_paths], codes[args.hot_paths:]
    outcome.hot_paths, outcome.cold_paths = len(hot), len(cold)
    hot_script = wrk_script([SUBJECT_URL.format(quote(c)) for c in hot], work, "hot")
    cold_paths = [SUBJECT_URL.format(quote(c)) for c in cold]
    cold_runs = iter(range(args.rounds + 1))  # the warm-up, then one per round: disjoint stretches

    def cold_script() -> Path:
        return wrk_script(cold_paths, work, "cold", next(cold_runs) * len(cold_paths) // (args.rounds + 1))

    body_file = work / "body.json"
    with app_server_for(settings, work) as app, httpx.Client(base_url=app.url, timeout=60) as client:
        typical = typical_body(client, hot)  # also puts the hot subjects in the app's cache
        if typical is None:
            print("  the app has no GET /api/v1/public/subjects/{uscc} yet: baseline only")
            body: Any = {"padding": "x" * max(0, args.body_bytes - 15)}
        else:
            body, outcome.body_sizes = typical
            sizes = outcome.body_sizes
            print(f"  subject-page responses over {len(sizes)} subjects: median {sizes[len(sizes) // 2]:,} bytes "
                  f"(min {sizes[0]:,}, max {sizes[-1]:,}); cold runs over {len(cold):,} other subjects", flush=True)
        body_file.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        with baseline_server(body_file, work) as baseline:
            outcome.body_bytes = len(httpx.get(baseline.url + SUBJECT_URL.format(codes[0])).content)
            outcome.load_average = wait_for_quiet(args.quiet_load, args.quiet_wait)
            runs: list[tuple[str, Server, Callable[[], Path], list[WrkResult]]] = [
                ("baseline", baseline, lambda: hot_script, outcome.baseline)]
            if typical is not None:
                runs += [("app cold", app, cold_script, outcome.app_cold), ("app hot", app, lambda: hot_script,
                                                                           outcome.app_hot)]
            for _, server, script, _ in runs:
                run_wrk(wrk, server.url, script(), args.threads, args.connections, args.warmup)
            for round_ in range(1, args.rounds + 1):  # alternate, so a disturbance hits all sides alike
                for label, server, script, results in runs:
                    result = run_wrk(wrk, server.url, script(), args.threads, args.connections, args.duration)
                    results.append(result)
                    print(f"  round {round_} {label:8}: {result.requests_per_s:>8,.0f} req/s  "
                          f"(load average {os.getloadavg()[0]:.1f})", flush=True)
        outcome.search = measure_search(client, search_queries([n for _, n in sample], args.search_queries, args.seed))
        if outcome.search is None:
            print("  the app has no GET /api/v1/public/search yet")
        for latency in outcome.search or []:
            print("  search" + latency.line(), flush=True)
    if args.explain and outcome.search:
        outcome.diagnostics = diagnostics(settings, outcome, sample)


def _timed_plan(session: Any, run: Callable[[], Any], label: str) -> list[str]:
    """Run one piece of the app (median of 3 runs), capturing the statements it sends; show the plan
    of the slowest when it is slow (EXPLAIN ANALYZE on PostgreSQL, with the captured SQL and bound
    parameters, outside any SET LOCAL the app wrapped around it)."""
    connection = session.connection()
    statements: list[list[Any]] = []  # [sql, parameters, ms]

    def before(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append([sql, parameters, time.perf_counter()])

    def after(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements[-1][2] = (time.perf_counter() - statements[-1][2]) * 1000

    times, count = [], 0
    event.listen(connection, "before_cursor_execute", before)
    event.listen(connection, "after_cursor_execute", after)
    try:
        for _ in range(3):
            statements.clear()
            started = time.perf_counter()
            count = len(run())
            times.append((time.perf_counter() - started) * 1000)
    finally:
        event.remove(connection, "before_cursor_execute", before)
        event.remove(connection, "after_cursor_execute", after)
    lines = [f"  {label}: {statistics.median(times):.1f} ms, {count:,} rows, {len(statements)} statement(s)"]
    selects = [st for st in statements if st[0].lstrip().upper().startswith(("SELECT", "WITH"))]
    if statistics.median(times) < PLAN_FROM_MS or not selects:
        return lines
    sql, parameters, ms = max(selects, key=lambda st: st[2])
    postgresql = connection.dialect.name == "postgresql"
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute(("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " if postgresql else "EXPLAIN QUERY PLAN ") + sql, parameters)
    plan = [row[0] if postgresql else row[3] for row in cursor.fetchall()]
    cursor.close()
    lines.append(f"    slowest statement ({ms:.1f} ms): " + " ".join(sql.split())[:400])
    return lines + ["      " + line for line in plan[:20]]


def _group_runner(session: Any, group: Any) -> Callable[[], list[Any]]:
    """One group of ``subjects.search``: a fetch(limit) callable, or (older shape) a Select."""
    limit = subject_search.RESULT_CAP + 1
    if callable(group):
        return lambda: list(group(limit))
    return lambda: list(session.scalars(group.limit(limit)))


def diagnostics(settings: Settings, outcome: Outcome, sample: list[tuple[str, str]]) -> list[str]:
    """Timings and plans of the slowest search queries and of the subject-page records query, in-process,
    through the app's own code (for whoever tunes them). Never fails the run."""
    lines: list[str] = []
    use_settings(settings)
    try:
        with session_scope(settings) as session:
            worst: dict[str, float] = {}
            for latency in outcome.search or []:
                for ms, query in latency.slowest:
                    worst[query] = max(ms, worst.get(query, 0.0))
            for query, ms in sorted(worst.items(), key=lambda item: -item[1])[:3]:
                lines.append(f"search q={query!r}: {ms:.1f} ms over HTTP; in-process, group by group (subjects.search):")
                for number, group in enumerate(subject_search._groups(session, subject_search.clean_query(query)), 1):
                    lines += _timed_plan(session, _group_runner(session, group), f"group {number}")
            codes = [code for code, _ in sample[:200]]
            subject_id, count = session.execute(
                select(Subject.id, func.count(Record.id)).join(Record, Record.subject_id == Subject.id)
                .where(Subject.uscc.in_(codes)).group_by(Subject.id).order_by(func.count(Record.id).desc()).limit(1)).one()
            lines.append(f"subject page: the sampled subject with most records ({count} records):")
            lines += _timed_plan(session, lambda: records.public_for_subject(session, subject_id),
                                 "records.public_for_subject")
    except Exception as error:  # a diagnostic: report, never fail the benchmark for it
        lines.append(f"  (diagnostics stopped: {error!r})")
    finally:
        dispose_engines()
    return lines


# --- report -----------------------------------------------------------------------------------------


def report(outcome: Outcome, args: argparse.Namespace) -> None:
    stats = outcome.load
    print(f"\n== {outcome.backend}: {stats.subjects:,} subjects, {stats.records:,} records ==")
    if stats.reused:
        print(f"load: reused the existing database ({stats.size_mb:,.0f} MB)")
    else:
        print(f"load: subjects {stats.subject_seconds:.1f} s ({stats.subjects / max(stats.subject_seconds, 1e-9):,.0f}"
              f" rows/s), records {stats.record_seconds:.1f} s ({stats.records / max(stats.record_seconds, 1e-9):,.0f}"
              f" rows/s, {stats.published:,} published, {stats.follow_ups:,} corrections/revocations), index rebuild {stats.index_seconds:.1f} s, "
              f"statistics {stats.analyze_seconds:.1f} s; database {stats.size_mb:,.0f} MB")
    connections = f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, median of {args.rounds} rounds"
    print(f"throughput ({connections}; 1-min load average before: {outcome.load_average:.1f}):")
    base = median_run(outcome.baseline)
    if base is not None:
        print(f"  bare Starlette  : {base.requests_per_s:>8,.0f} req/s  (rounds {rounds(outcome.baseline)}; fixed JSON "
              f"of {outcome.body_bytes:,} bytes; latency p50 {base.latency.get('50', '?')} p99 {base.latency.get('99', '?')})")
    for label, results, paths in (("subject page, cold", outcome.app_cold, outcome.cold_paths),
                                  ("subject page, hot ", outcome.app_hot, outcome.hot_paths)):
        app = median_run(results)
        if app is None:
            continue
        ratio = f"ratio {app.requests_per_s / base.requests_per_s:.3f}" if base is not None else ""
        print(f"  {label}: {app.requests_per_s:>8,.0f} req/s  {ratio} (target >= 0.5)  (rounds {rounds(results)}; "
              f"{paths:,} subjects; latency p50 {app.latency.get('50', '?')} p99 {app.latency.get('99', '?')}; "
              f"{sum(r.non_2xx for r in results)} non-2xx{'; socket errors ' + app.errors if app.errors else ''})")
    if outcome.search:
        print("search latency, sequential on loopback (target p95 < 50 ms; one query in ten matches nothing):")
        for latency in outcome.search:
            print(latency.line())
    if outcome.diagnostics:
        print("diagnostics (in-process, through the app's query builders):")
        print("\n".join(outcome.diagnostics))


def median_run(results: list[WrkResult]) -> WrkResult | None:
    return sorted(results, key=lambda r: r.requests_per_s)[len(results) // 2] if results else None


def rounds(results: list[WrkResult]) -> str:
    return " / ".join(f"{r.requests_per_s:,.0f}" for r in results)


def run_backend(backend: str, args: argparse.Namespace, wrk: str) -> Outcome:
    print(f"\n--- {backend} ---", flush=True)
    with tempfile.TemporaryDirectory(prefix="xinyong-bench-api-") as tmp:
        work = Path(tmp)
        sqlite_file = Path(args.sqlite_path) if args.sqlite_path else None
        with bench_database(backend, work, sqlite_file, PG_TUNING) as url:
            settings = Settings(database_url=url, data_dir=work / "data", secret_key="bench", person_id_key="bench")
            use_settings(settings)
            if backend == "PostgreSQL":
                with get_engine(settings).connect() as connection:
                    print(f"  PostgreSQL {connection.execute(text('SHOW server_version')).scalar()}", flush=True)
            path = Path(url.removeprefix("sqlite:///"))
            counts = existing_counts(settings) if backend == "SQLite" and args.sqlite_path and path.exists() else (0, 0)
            if counts[0]:
                migrate.upgrade(settings, "head")
                stats = LoadStats(subjects=counts[0], records=counts[1], reused=True,
                                  size_mb=database_mb(get_engine(settings), settings))
                print(f"  reusing {path}: {counts[0]:,} subjects, {counts[1]:,} records", flush=True)
            else:
                stats = load(settings, args.subjects, args.records, args.seed)
            outcome = Outcome(backend, stats)
            measure(settings, work, args, wrk, outcome)
            return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=int, default=20, help="seconds of each measured wrk run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of wrk before each measured run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="alternating app/baseline wrk runs; medians reported")
    quiet_arguments(parser, wait=900)
    parser.add_argument("--paths", type=int, default=200_000,
                        help="distinct subjects for the cold runs (more than a run gets through, and than the cache)")
    parser.add_argument("--hot-paths", type=int, default=1000, help="subjects the hot runs request again and again")
    parser.add_argument("--search-queries", type=int, default=300, help="queries per length")
    parser.add_argument("--body-bytes", type=int, default=6000,
                        help="baseline body size when the app has no subject-page API to copy it from")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--no-explain", dest="explain", action="store_false",
                        help="skip the plans of the slowest search queries and of the subject-page query")
    parser.add_argument("--sqlite-path", default="",
                        help="keep the SQLite database in this file; reuse it when it already holds subjects")
    args = parser.parse_args()
    _check_pools()
    wrk = ensure_wrk()
    backends = BACKENDS[args.db]
    print(f"machine: {machine()}")
    print(f"data: {args.subjects:,} subjects, {args.records:,} records; load: {connections_text(args)}", flush=True)
    outcomes = [run_backend(backend, args, wrk) for backend in backends]
    print(f"\nmachine: {machine()}")
    for outcome in outcomes:
        report(outcome, args)


def connections_text(args: argparse.Namespace) -> str:
    return (f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s x {args.rounds} rounds each of baseline, "
            f"app cold ({args.paths:,} subjects), app hot ({args.hot_paths:,}), after {args.warmup}s warm-ups")


if __name__ == "__main__":
    main()
