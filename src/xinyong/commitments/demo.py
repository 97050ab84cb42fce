"""Demo activity for credit commitments, through the real service (deterministic for a seed).

Market regulation (``scjg``) registers 审批替代型 commitments made at its licensing window over the
last three months (most of the older ones found kept), and 容缺受理型 ones from companies whose
credit allows it: some with materials still due, two overdue (on its to-do list), two kept and one
broken — which becomes a 信用承诺未履行 dishonesty record. The development and reform commission
(``fgw``) registers 主动型 and 行业自律型 commitments; the showcase company (``qiye``) has made two
itself online. Runs after the demo records and grades exist (the grades decide who may have 容缺受理).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.calendar import WorkingCalendar
from xinyong.commitments import service
from xinyong.commitments.schemas import CommitmentIn, RegistrationIn
from xinyong.policy.calendar_service import working_calendar
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

LICENCES = ("食品经营许可", "公共场所卫生许可", "药品零售企业许可", "户外广告设施设置许可", "特种设备使用登记",
            "医疗器械经营许可", "营业执照变更登记")
APPROVAL_TEXT = "申请{matter}时，对证明事项实行告知承诺：所提交材料真实有效、符合法定条件，如有不实，愿承担相应法律责任并接受信用惩戒。"
TOLERANCE_TEXT = ("申请{matter}时，{missing}暂缺，承诺于补齐材料期限内提交；逾期未补齐的，自愿撤回申请，"
                  "并同意将未履行承诺情况记入信用记录。")
MISSING = ("消防安全检查合格证明", "场所平面布局图", "从业人员健康证明", "经营场所产权证明", "法定代表人身份证明复印件")
VOLUNTARY = (("主动型", "依法诚信经营承诺", "承诺依法依规诚信经营，遵守社会公德和商业道德，自愿接受政府、行业和社会监督，违背承诺自愿接受惩戒。"),
             ("行业自律型", "行业协会会员诚信自律承诺", "作为行业协会会员单位，承诺不制售假冒伪劣商品，不进行虚假宣传，"
              "自觉接受行业自律和社会监督。"))


def _actor(session: Session, username: str) -> Actor | None:
    user = session.scalar(select(User).where(User.username == username))
    return access.actor_for(user) if user is not None else None


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), clock.SHANGHAI)


def _on_or_before(calendar: WorkingCalendar, day: date) -> date:
    """The working day ``day`` or the last one before it (windows are closed on rest days)."""
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def _licence_holders(session: Session) -> list[tuple[int, str]]:
    """(id, code) of organisations holding licences, in id order."""
    rows = session.execute(select(Subject.id, Subject.uscc).join(Record, Record.subject_id == Subject.id)
                           .where(Record.item_code == "ADM_LICENSE", Subject.uscc.is_not(None),
                                  Subject.kind.in_(("enterprise", "individual_business"))).distinct())
    return sorted((subject_id, code) for subject_id, code in rows if code)


def _register(session: Session, actor: Actor, day: date, code: str, kind: str, matter: str, content: str,
              due: date | None = None) -> int:
    with clock.pinned(_at(day)):
        return service.register(session, actor, RegistrationIn(subject_code=code, kind=kind, matter=matter,  # type: ignore[arg-type]
                                                               content=content, materials_due_on=due)).id


def activity(session: Session, *, seed: int = 20261127) -> dict[str, int]:
    """Commitments over the last three months with their findings; returns counts by outcome."""
    rng = random.Random(seed)
    summary: Counter[str] = Counter()
    market, commission = _actor(session, "scjg"), _actor(session, "fgw")
    holders = _licence_holders(session)
    if market is None or not holders:
        return dict(summary)
    today, calendar = clock.today(), working_calendar(session)
    picked = rng.sample(holders, len(holders))

    for _subject_id, code in picked[:10]:  # 审批替代型 at the licensing window
        made = _on_or_before(calendar, today - timedelta(days=rng.randint(3, 90)))
        matter = f"{rng.choice(LICENCES)}申请"
        commitment_id = _register(session, market, made, code, "审批替代型", matter, APPROVAL_TEXT.format(matter=matter))
        summary["审批替代型"] += 1
        if (today - made).days > 30 and rng.random() < 0.7:
            with clock.pinned(_at(_on_or_before(calendar, made + timedelta(days=rng.randint(15, 30))))):
                service.fulfil(session, market, commitment_id, "经事后核查，承诺内容属实")
            summary["fulfilled"] += 1

    # 容缺受理型: (days ago made, working days allowed, outcome)
    plans = [(2, 8, None), (3, 10, None), (1, 5, None), (20, 5, None), (24, 4, None),
             (40, 5, "fulfilled"), (35, 6, "fulfilled"), (45, 5, "breached")]
    eligible = (s for s in picked[10:] if service.tolerance_allowed(session, s[0])[0])
    for (ago, allowed_days, outcome), (_subject_id, code) in zip(plans, eligible, strict=False):
        made = _on_or_before(calendar, today - timedelta(days=ago))
        due = calendar.add_working_days(made, allowed_days)
        matter, missing = f"{rng.choice(LICENCES)}申请", rng.choice(MISSING)
        commitment_id = _register(session, market, made, code, "容缺受理型", matter,
                                  TOLERANCE_TEXT.format(matter=matter, missing=missing), due)
        summary["容缺受理型"] += 1
        if outcome == "fulfilled":
            with clock.pinned(_at(due)):
                service.fulfil(session, market, commitment_id, f"已于期限内补齐{missing}，经核验属实")
            summary["fulfilled"] += 1
        elif outcome == "breached":
            with clock.pinned(_at(calendar.next_working_day(due))):
                service.breach(session, market, commitment_id, f"逾期未补齐{missing}，经催告仍未提交")
            summary["breached"] += 1
        elif due < today:
            summary["overdue"] += 1

    if commission is not None:
        for (kind, matter, content), (_subject_id, code) in zip(VOLUNTARY * 2, picked[20:24], strict=False):
            made = _on_or_before(calendar, today - timedelta(days=rng.randint(10, 80)))
            _register(session, commission, made, code, kind, matter, content)
            summary[kind] += 1

    showcase = _actor(session, "qiye")
    if showcase is not None and showcase.subject_id is not None:
        department_id = market.department_id or 0
        with clock.pinned(_at(_on_or_before(calendar, today - timedelta(days=6)))):
            service.make(session, showcase, CommitmentIn(kind="审批替代型", department_id=department_id,  # type: ignore[arg-type]
                                                         matter="食品经营许可变更申请",
                                                         content=APPROVAL_TEXT.format(matter="食品经营许可变更")))
        summary["审批替代型"] += 1
        if service.tolerance_allowed(session, showcase.subject_id)[0]:
            made = _on_or_before(calendar, today - timedelta(days=1))
            with clock.pinned(_at(made)):
                service.make(session, showcase, CommitmentIn(
                    kind="容缺受理型", department_id=department_id, matter="公共场所卫生许可申请",  # type: ignore[arg-type]
                    content=TOLERANCE_TEXT.format(matter="公共场所卫生许可", missing="场所平面布局图"),
                    materials_due_on=calendar.add_working_days(made, 5)))
            summary["容缺受理型"] += 1
    session.commit()
    return dict(summary)
