"""A small, complete cast for web tests: one account per role, a department, a subject, a record."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.records import service as records
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import uscc

PASSWORD = "Xinyong2026"
DEPARTMENT_CODE = uscc.build("1", "1", "320102", "01400001")
APPLYING_CODE = uscc.build("1", "2", "320100", "01400002")
SUBJECT_CODE = uscc.build("9", "1", "320102", "MA1XY0Q0")
BANK_CODE = uscc.build("9", "1", "320100", "13488007")


def penalty_payload(number: str = "宁玄市监处罚〔2026〕1号", amount: str = "2") -> dict[str, str]:
    return {"CF_WSH": number, "CF_WFXW": "虚假宣传", "CF_SY": "在网店发布虚假的产品功效宣传",
            "CF_YJ": "《中华人民共和国反不正当竞争法》第二十条", "CF_CFLB": "罚款", "CF_NR": f"罚款{amount}万元",
            "CF_NR_FK": amount, "CF_JDRQ": "2026-01-05", "CF_CFJG": "南京市玄武区市场监督管理局",
            "CF_CFJGDM": DEPARTMENT_CODE, "CF_SJLY": "南京市玄武区市场监督管理局", "CF_SJLYDM": DEPARTMENT_CODE}


@dataclass
class World:
    usernames: dict[str, str] = field(default_factory=dict)  # role -> username
    department_id: int = 0
    subject_id: int = 0
    record_id: int = 0


def build_world(session: Session) -> World:
    world = World()
    system = Actor.system()
    provider = access.create_department(session, code=DEPARTMENT_CODE, name="南京市玄武区市场监督管理局",
                                        short_name="玄武区市场监管局", region_code="320102", sector="市场监管")
    applier = access.create_department(session, code=APPLYING_CODE, name="南京市公共资源交易中心",
                                       short_name="公共资源交易中心", region_code="320100", sector="公共资源交易",
                                       provides_data=False, applies_data=True)
    bank = access.create_institution(session, code=BANK_CODE, name="南京示范银行股份有限公司", kind="bank")
    submitter = access.create_user(session, system, access.NewUser(
        "scjg", PASSWORD, "department_submitter", "玄武区市场监管局", department_id=provider.id))
    submission = records.submit(session, access.actor_for(submitter), "ADM_PENALTY",
                                SubjectRef(uscc=SUBJECT_CODE, name="南京示范科技有限公司"), penalty_payload(),
                                department_id=provider.id, department_code=provider.code)
    links = {
        "authority_admin": {}, "department_submitter": None, "applying_department": {"department_id": applier.id},
        "subject_user": {"subject_id": submission.record.subject_id},
        "authorised_institution": {"institution_id": bank.id}, "auditor": {},
        "peer_platform": {},
    }
    for role, link in links.items():
        if link is None:
            world.usernames[role] = "scjg"
            continue
        user = access.create_user(session, system, access.NewUser(f"u_{role}", PASSWORD, role, role, **link))
        world.usernames[role] = user.username
    world.department_id, world.subject_id, world.record_id = provider.id, submission.record.subject_id, submission.record.id
    session.commit()
    return world
