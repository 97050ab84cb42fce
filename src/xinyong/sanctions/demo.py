"""Demo activity for rewards and punishments: the red list kept by the development and reform
commission, and half a year of joint checks by the public-resource trading centre and the
commission, with the feedback departments really give (mostly on time, some late, some missing).

Runs after the demo records and the evaluation runs exist, so lists and grades are real triggers.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.records.models import Record
from xinyong.sanctions import checks, service
from xinyong.sanctions.schemas import EntryIn, FeedbackIn
from xinyong.subjects.models import Subject

RED_HONOUR_TITLE = "南京市诚信建设示范企业"
NOT_TAKEN = ("该项目非依法必须招标项目，经法律顾问审核不适用该措施", "核查后主体已完成信用修复，不再适用",
             "措施适用条件与本事项不符，已报信用主管部门备案")


def _actor(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    return access.actor_for(user)


def _red_list(session: Session) -> int:
    """诚信建设示范企业 honours granted by the commission put the companies on its red list."""
    commission = _actor(session, "fgw")
    rows = session.execute(select(Record.payload, Record.decision_date, Subject.uscc)
                           .join(Subject, Subject.id == Record.subject_id)
                           .where(Record.item_code == "HONOUR", Record.kind == "original")).all()
    added = 0
    for number, (payload, decided, code) in enumerate(sorted(rows, key=lambda r: (r[1], r[2] or "")), start=1):
        if payload.get("RYMC") != RED_HONOUR_TITLE or not code:
            continue
        with clock.pinned(datetime.combine(decided, time(10), clock.SHANGHAI)):
            service.add_entry(session, commission, EntryIn(
                list_type="RED_HONOUR", subject_code=code, decision_number=f"宁信用办〔{decided.year}〕{number}号",
                decision_date=decided, reasons=f"获评{RED_HONOUR_TITLE}，信用状况良好"))
        added += 1
    return added


def _listed_codes(session: Session) -> list[str]:
    rows = session.execute(select(Subject.uscc).join(Record, Record.subject_id == Subject.id)
                           .where(Record.item_code.in_(("LIST_ABNORMAL", "LIST_SERIOUS", "JUD_EXECUTION", "ADM_PENALTY")),
                                  Subject.uscc.is_not(None)).distinct())
    return sorted(code for (code,) in rows)


def _feedback(session: Session, rng: random.Random, check_id: int, username: str, at: datetime) -> None:
    check = session.get(checks.JointCheck, check_id)
    assert check is not None
    hits = session.scalars(select(checks.CheckHit.id).where(checks.CheckHit.check_id == check_id)).all()
    if not hits or rng.random() < 0.15:  # some departments never answer: overdue on the dashboard
        return
    items = []
    for hit_id in hits:
        taken = rng.random() < 0.85
        items.append(FeedbackIn(hit_id=hit_id, taken=taken, note="已按措施办理" if taken else rng.choice(NOT_TAKEN)))
    with clock.pinned(at):
        checks.give_feedback(session, _actor(session, username), check_id, items)


def activity(session: Session, *, seed: int = 20261127, tenders: int = 14) -> dict[str, int]:
    """The red list, then joint checks over the last six months with their feedback (deterministic)."""
    rng = random.Random(seed)
    summary = {"red_list": _red_list(session), "checks": 0}
    listed = _listed_codes(session)
    everyone = sorted(c for (c,) in session.execute(select(Subject.uscc).where(Subject.uscc.is_not(None))))
    if not everyone:
        return summary
    today = clock.today()
    plans = [("ggzy", rng.choice(("BIDDING", "GOV_PROCUREMENT")), "宁公交招") for _ in range(tenders)]
    plans += [("fgw", "AWARDS", "宁发改评优"), ("fgw", "FISCAL_FUNDS", "宁发改资金"), ("fgw", "ADMIN_APPROVAL", "宁发改审批")]
    for index, (username, matter, prefix) in enumerate(plans, start=1):
        day = today - timedelta(days=rng.randint(1, 180))
        bidders = rng.sample(everyone, min(len(everyone), rng.randint(5, 14)))
        bidders += rng.sample(listed, min(len(listed), rng.randint(0, 2)))
        at = datetime.combine(day, time(9, 30), clock.SHANGHAI)
        with clock.pinned(at):
            check = checks.check_codes(session, _actor(session, username), matter, bidders,
                                       matter_reference=f"{prefix}〔{day.year}〕{index:03d}号", channel="api")
        summary["checks"] += 1
        answered = at + timedelta(days=rng.randint(1, 20))
        if answered.date() < today:
            _feedback(session, rng, check.id, username, answered)
    session.commit()
    return summary
