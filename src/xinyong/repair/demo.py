"""Demo activity for exit and rights: repair applications at every stage (approved, refused, not
taken in, waiting for intake, waiting for a decision past its deadline) and objections (answered,
and one under review, so the public page shows 异议处理中). Back-dated with ``clock.pinned``.
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
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.repair import service
from xinyong.repair.schemas import AnswerIn, MaterialIn, ObjectionIn, RepairIn
from xinyong.subjects.models import Subject

AUTHORITY = Actor(user_id=None, username="信用修复受理窗口", role="authority_admin")
SHOWCASE_USER = "qiye"


def _pdf(title: str) -> bytes:
    """A one-page PDF naming the material (real enough for a viewer to open)."""
    text = f"BT /F1 18 Tf 72 720 Td ({title.encode('unicode_escape').decode()}) Tj ET"
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               "/Resources << /Font << /F1 5 0 R >> >> >>",
               f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n{content}\nendobj\n".encode()
    table = f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n" + "".join(f"{o:010d} 00000 n \n" for o in offsets)
    return body + table.encode() + f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{len(body)}\n%%EOF\n".encode()


MATERIALS = [MaterialIn(kind="commitment_letter", filename="信用修复承诺书.pdf", content=_pdf("Credit repair commitment")),
             MaterialIn(kind="fulfilment_proof", filename="罚款缴纳凭证.pdf", content=_pdf("Penalty paid: receipt"))]


def _department_actor(session: Session, department_id: int) -> Actor | None:
    user = session.scalar(select(User).where(User.department_id == department_id, User.role == "department_submitter"))
    return access.actor_for(user) if user is not None else None


def _candidates(session: Session, showcase_subject: int | None) -> list[Record]:
    """Organisations' published 一般 penalties whose minimum period (3 months) is served."""
    now = clock.now()
    query = (records.public_query(now).join(Subject, Subject.id == Record.subject_id)
             .where(Record.item_code == "ADM_PENALTY", Record.severity == "一般", Subject.uscc.is_not(None),
                    Record.publication_starts_at <= now - timedelta(days=130))
             .order_by(Record.id))
    return [r for r in session.scalars(query) if r.subject_id != showcase_subject]


def _owner(record: Record) -> Actor:
    return Actor(user_id=None, username="企业经办人", role="subject_user", subject_id=record.subject_id)


def _apply(session: Session, record: Record, days_ago: int) -> int | None:
    when = datetime.combine(clock.today() - timedelta(days=days_ago), time(9, 30), clock.SHANGHAI)
    with clock.pinned(when):
        if not service.eligibility(session, service.target_of(session, RepairIn(
                record_id=record.id, reasons="已缴清罚款并完成整改", obligations_fulfilled=True))).eligible:
            return None
        return service.apply(session, _owner(record), RepairIn(
            record_id=record.id, reasons="已按处罚决定足额缴纳罚款，完成整改并建立内部合规审核制度，特申请信用修复。",
            obligations_fulfilled=True), MATERIALS).id


def _later(days_ago: int) -> datetime:
    return datetime.combine(clock.today() - timedelta(days=days_ago), time(15), clock.SHANGHAI)


def activity(session: Session, *, seed: int = 20261127) -> dict[str, int]:
    """Six repair cases and three objections on demo penalties (deterministic for a seed)."""
    rng = random.Random(seed)
    showcase = session.scalar(select(User.subject_id).where(User.username == SHOWCASE_USER))
    pool = _candidates(session, showcase)
    rng.shuffle(pool)
    plans = [("approve", 30), ("approve", 20), ("refuse", 25), ("not_accept", 15), ("decide", 12), ("intake", 1)]
    summary = {"repairs": 0, "objections": 0}
    for (plan, days_ago), record in zip(plans, pool, strict=False):
        department = _department_actor(session, record.department_id)
        application_id = _apply(session, record, days_ago) if department else None
        if application_id is None or department is None:
            continue
        summary["repairs"] += 1
        if plan == "intake":
            continue
        with clock.pinned(_later(days_ago - 1)):
            if plan == "not_accept":
                service.not_accept(session, AUTHORITY, application_id, "未提交罚款缴纳凭证原件扫描件，请补充后重新申请")
                continue
            service.accept(session, AUTHORITY, application_id, "材料齐全，予以受理")
        if plan == "decide":
            continue
        with clock.pinned(_later(days_ago - 3)):
            if plan == "approve":
                service.approve(session, department, application_id, "已履行处罚决定，整改到位，同意修复")
            else:
                service.refuse(session, department, application_id, "经核查，罚款尚未全部缴纳，不予修复")
    for index, record in enumerate(pool[len(plans):len(plans) + 3]):
        department = _department_actor(session, record.department_id)
        if department is None:
            continue
        with clock.pinned(_later(6 - index * 2)):
            objection = service.object_to(session, _owner(record), ObjectionIn(
                record_id=record.id, reasons="处罚决定书已被行政复议机关变更，公示内容与变更后的决定不一致"), [])
        summary["objections"] += 1
        if index == 0:
            with clock.pinned(_later(3)):
                service.answer(session, department, objection.id, AnswerIn(
                    outcome="upheld", note="经核实，复议决定维持原处罚，公示内容无误"))
    session.commit()
    return summary
