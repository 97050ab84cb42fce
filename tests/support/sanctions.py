"""A cast for rewards-and-punishments tests: departments of the sectors that keep lists, their
accounts, and helpers that put subjects on lists the way departments really do (by records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from tests.support.world import World
from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import Department, User
from xinyong.actor import Actor
from xinyong.errors import DomainError
from xinyong.evaluation import service as evaluation
from xinyong.evaluation.models import EvaluationResult, EvaluationRun
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import identity, uscc

SYSTEM = Actor.system()
ADMIN = Actor(user_id=None, username="admin", role="authority_admin")


def company(index: int, region: str = "320102") -> str:
    return uscc.build("9", "1", region, f"MA2T{index:04d}")


def citizen_id(index: int) -> str:
    first17 = f"32010219900101{index:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")  # the function ignores the last character


@dataclass
class Cast:
    market: Actor  # 市场监管 (world's scjg)
    market_department: Department
    court: Actor
    court_department: Department
    development: Actor  # 发展改革: keeps the red list RED_HONOUR
    applier: Actor  # 公共资源交易中心 (world's applying_department account)
    other_applier: Actor  # 财政局, another applying department


def _department_user(session: Session, sector: str, name: str, code_body: str, role: str = "department_submitter",
                     *, applies: bool = False) -> tuple[Actor, Department]:
    department = access.create_department(session, code=uscc.build("1", "1", "320100", code_body), name=name,
                                          short_name=name, region_code="320100", sector=sector,
                                          provides_data=not applies, applies_data=applies)
    user = access.create_user(session, SYSTEM, access.NewUser(f"u_{code_body}", "Xinyong2026", role, name,
                                                              department_id=department.id))
    return access.actor_for(user), department


def build_cast(session: Session, world: World) -> Cast:
    market_user = session.scalar(select(User).where(User.username == world.usernames["department_submitter"]))
    applier_user = session.scalar(select(User).where(User.username == world.usernames["applying_department"]))
    assert market_user is not None and applier_user is not None
    court, court_department = _department_user(session, "法院", "南京市中级人民法院", "01500001")
    development, _ = _department_user(session, "发展改革", "南京市发展和改革委员会", "01500002")
    other, _ = _department_user(session, "财政", "南京市财政局", "01500003", "applying_department", applies=True)
    session.commit()
    market_department = session.get(Department, world.department_id)
    assert market_department is not None
    return Cast(access.actor_for(market_user), market_department, court, court_department, development,
                access.actor_for(applier_user), other)


def _submit(session: Session, actor: Actor, department: Department, item: str, ref: SubjectRef,
            payload: dict[str, Any]) -> records.Submission:
    return records.submit(session, actor, item, ref, payload, department_id=department.id, department_code=department.code)


def abnormal(session: Session, cast: Cast, code: str, *, number: str = "宁玄市监企异字〔2026〕第1号",
             on: date = date(2026, 3, 2), name: str | None = None) -> records.Submission:
    """经营异常名录 (一般) by market regulation."""
    return _submit(session, cast.market, cast.market_department, "LIST_ABNORMAL",
                   SubjectRef(uscc=code, name=name or f"南京{code[-6:]}科技有限公司"),
                   {"LRWH": number, "LRYY": "未按规定报送年度报告", "LRRQ": on.isoformat(),
                    "ZCJG": "南京市玄武区市场监督管理局"})


def serious(session: Session, cast: Cast, code: str, list_name: str = "严重违法失信名单", *,
            number: str = "宁市监严列〔2026〕1号", on: date = date(2026, 2, 2), until: date | None = None,
            name: str | None = None) -> records.Submission:
    """严重失信主体名单 record (LIST_SERIOUS), of the named list type (名单类型 field)."""
    payload = {"MDLX": list_name, "RDWH": number, "RDYY": "拒不履行行政处罚决定，情节严重", "RDRQ": on.isoformat(),
               "RDJG": "南京市市场监督管理局"}
    if until is not None:
        payload["YXQZ"] = until.isoformat()
    return _submit(session, cast.market, cast.market_department, "LIST_SERIOUS",
                   SubjectRef(uscc=code, name=name or f"南京{code[-6:]}科技有限公司"), payload)


def judgment_debtor(session: Session, cast: Cast, ref: SubjectRef, *, case: str = "（2026）苏01执123号",
                    on: date = date(2026, 4, 1)) -> records.Submission:
    """失信被执行人 by the court (JUD_EXECUTION)."""
    return _submit(session, cast.court, cast.court_department, "JUD_EXECUTION", ref,
                   {"AH": case, "ZXFY": "南京市中级人民法院", "ZXYJWH": "（2025）苏01民初1号", "LXQK": "全部未履行",
                    "SXXW": "有履行能力而拒不履行生效法律文书确定义务", "FBRQ": on.isoformat(), "SXJE": "35.5"})


def penalty(session: Session, cast: Cast, code: str, *, number: str, amount: str = "2", on: date = date(2026, 1, 5),
            category: str = "罚款", severity: str | None = None) -> records.Submission:
    """An administrative penalty (一般 by the catalogue unless ``severity`` is forced afterwards)."""
    payload = {"CF_WSH": number, "CF_WFXW": "虚假宣传", "CF_SY": "在网店发布虚假的产品功效宣传",
               "CF_YJ": "《中华人民共和国反不正当竞争法》第二十条", "CF_CFLB": category, "CF_NR": f"罚款{amount}万元",
               "CF_NR_FK": amount, "CF_JDRQ": on.isoformat(), "CF_CFJG": "南京市玄武区市场监督管理局",
               "CF_CFJGDM": cast.market_department.code, "CF_SJLY": "南京市玄武区市场监督管理局",
               "CF_SJLYDM": cast.market_department.code}
    submission = _submit(session, cast.market, cast.market_department, "ADM_PENALTY",
                         SubjectRef(uscc=code, name=f"南京{code[-6:]}科技有限公司"), payload)
    if severity is not None:
        submission.record.severity = severity  # as a sector rule refining the class would store it
        session.flush()
    return submission


def grade_run(session: Session, model: str, grades: dict[int, str], *, at: datetime | None = None) -> int:
    """A succeeded evaluation run of ``model`` giving ``grades`` (subject id -> grade), as the engine stores it."""
    version_id = evaluation.get_model(session, model).version.id
    now = at or clock.now()
    run = EvaluationRun(model_version_id=version_id, as_of=clock.local(now).date(), data_cutoff=now, status="succeeded",
                        population=len(grades), facts=0, grade_counts={}, started_at=now, finished_at=now,
                        duration_ms=1, started_by="test")
    session.add(run)
    session.flush()
    session.add_all([EvaluationResult(run_id=run.id, subject_id=s, score=0.0, grade=g, indicator_values={})
                     for s, g in grades.items()])
    session.flush()
    return run.id


def count(session: Session, table: Any) -> int:
    return session.scalar(select(func.count()).select_from(table)) or 0


def person_ref(index: int, name: str = "张三") -> SubjectRef:
    return SubjectRef(citizen_id=citizen_id(index), name=name)


def masked(index: int) -> str:
    return identity.mask_id(citizen_id(index))


def refused(code: str, call: Any, *args: Any, **kwargs: Any) -> DomainError:
    """Call ``call`` expecting a refusal with ``code``; return the error for more checks."""
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value
