"""Demo activity for departmental sharing: share requests at every stage (in force, pending, rejected,
expired, withdrawn) and a month of departmental reads, some including the showcase company's
non-public information, so /sharing, /sharing/requests and qiye's /me/reads show something.
Back-dated with ``clock.pinned``; everything goes through the real services.
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
from xinyong.errors import DomainError
from xinyong.records.models import Record
from xinyong.sharing import service
from xinyong.sharing.schemas import DecisionIn, ShareRequestIn

AUTHORITY = Actor(user_id=None, username="信用处审核岗", role="authority_admin")
SHOWCASE_USER = "qiye"
BASES = {
    ("TAX_CREDIT", "公共资源交易"): "《中华人民共和国招标投标法实施条例》第七十七条及本市公共资源交易信用管理办法：对投标人开展信用核查，纳税信用等级作为评审因素",
    ("SOCIAL_INSURANCE", "公共资源交易"): "本市公共资源交易信用管理办法：核实投标人社会保险缴纳情况（投标资格条件）",
    ("SOCIAL_INSURANCE", "日常监管"): "《中华人民共和国社会保险法》及本市企业信用分级分类监管办法：日常监管中核实企业社保缴费情况",
    ("CONTRACT", "政府采购"): "《中华人民共和国政府采购法实施条例》第六十八条：对供应商合同履约情况开展评价",
    ("TAX_CREDIT", "行政审批"): "本市行政审批信用承诺制办法：审批环节核查申请人纳税信用",
    ("SOCIAL_INSURANCE", "执法检查"): "《中华人民共和国税收征收管理法》：税务稽查中核对企业参保人数与工资薪金申报",
    ("CONTRACT", "日常监管"): "《中华人民共和国民法典》合同编及本市合同行政监督管理办法：合同违法行为监管",
}
# (account, item, purpose, months, plan, filed days ago)
PLANS = [
    ("ggzy", "TAX_CREDIT", "公共资源交易", 12, "approve", 40),
    ("ggzy", "SOCIAL_INSURANCE", "公共资源交易", 12, "approve", 35),
    ("scjg", "SOCIAL_INSURANCE", "日常监管", 6, "pending", 2),
    ("ggzy", "CONTRACT", "政府采购", 24, "pending", 1),
    ("scjg", "TAX_CREDIT", "行政审批", 6, "reject", 20),
    ("swj", "SOCIAL_INSURANCE", "执法检查", 3, "expire", 150),
    ("scjg", "CONTRACT", "日常监管", 6, "withdraw", 10),
]


def _at(days_ago: int, hour: int = 10) -> datetime:
    return datetime.combine(clock.today() - timedelta(days=days_ago), time(hour), clock.SHANGHAI)


def _actor(session: Session, username: str) -> Actor | None:
    user = session.scalar(select(User).where(User.username == username))
    return access.actor_for(user) if user is not None and user.department_id is not None else None


def activity(session: Session, *, seed: int = 20261127) -> dict[str, int]:
    """Seven share requests and about forty reads (deterministic for a seed)."""
    rng = random.Random(seed)
    summary = {"requests": 0, "approved": 0, "reads": 0}
    for username, item, purpose, months, plan, days_ago in PLANS:
        actor = _actor(session, username)
        if actor is None:
            continue
        with clock.pinned(_at(days_ago, 9)):
            request = service.file_request(session, actor, ShareRequestIn(item=item, purpose=purpose,
                                                                          basis=BASES[(item, purpose)], term_months=months))
        summary["requests"] += 1
        with clock.pinned(_at(max(days_ago - 1, 0), 15)):
            if plan in ("approve", "expire", "withdraw"):
                service.decide(session, AUTHORITY, request.number,
                               DecisionIn(decision="approve", note="履职依据充分，用途明确，同意共享"))
                summary["approved"] += 1
            elif plan == "reject":
                service.decide(session, AUTHORITY, request.number, DecisionIn(
                    decision="reject", note="行政审批环节可使用无条件共享的纳税信用A级名单，无需获取全部纳税信用信息"))
        if plan == "withdraw":
            with clock.pinned(_at(days_ago - 3, 11)):
                service.withdraw(session, actor, request.number, "合同履约信息已通过公共资源交易平台获取，不再需要")
    showcase = session.scalar(select(User.subject_id).where(User.username == SHOWCASE_USER))
    subjects = list(session.scalars(select(Record.subject_id).where(Record.item_code.in_(("TAX_CREDIT", "ADM_PENALTY")))
                                    .distinct().order_by(Record.subject_id).limit(200)))
    readers = [("ggzy", "公共资源交易"), ("ggzy", "政府采购"), ("scjg", "日常监管"), ("swj", "执法检查"),
               ("scjg", "行政审批")]
    planned = [(showcase, "ggzy", "公共资源交易", 3), (showcase, "scjg", "日常监管", 12)] if showcase else []
    planned += [(rng.choice(subjects), *rng.choice(readers), rng.randint(0, 29)) for _ in range(40) if subjects]
    for subject_id, username, purpose, days_ago in planned:
        actor = _actor(session, username)
        if actor is None or subject_id is None:
            continue
        try:
            with clock.pinned(_at(days_ago, rng.randint(9, 17))):
                service.read_subject(session, actor, subject_id, purpose=purpose, channel=rng.choice(("api", "page")),
                                     require_purpose=True)
        except DomainError:
            continue
        summary["reads"] += 1
    session.commit()
    return summary
