"""A joint check's results as a file (XLSX, or CSV in UTF-8 with BOM): one row per measure applied.

A subject with nothing applied (or not found) still gets one row, so the file lists every subject
the department asked about, in the order it asked. Cells a spreadsheet would run as formulas are
neutralised (the given codes come from the department's own file). Every export is audited.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import xlsxwriter
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.errors import Invalid
from xinyong.ingest.report import as_csv, neutralise
from xinyong.sanctions import checks, rules, service
from xinyong.sanctions.models import CheckFeedback, JointCheck, LegalBasisDocument

COLUMNS = ["行号", "所填代码", "主体名称", "统一社会信用代码/证件号码", "核查结果", "措施性质", "措施代码", "措施名称",
           "措施类型", "法律依据", "依据层级", "依据条款", "适用原因", "反馈状态", "反馈说明"]
FEEDBACK_LABELS = {"pending": "待反馈", "taken": "已采取", "not_taken": "未采取"}
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8"}
PAGE = 1000  # subjects read per query while writing the file


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    content: bytes


def feedback_state(feedback: CheckFeedback | None) -> str:
    """pending / taken / not_taken: the newest feedback of a hit counts."""
    if feedback is None:
        return "pending"
    return "taken" if feedback.taken else "not_taken"


def _hit_cells(hit: checks.HitView, bases: dict[int, LegalBasisDocument]) -> list[str]:
    measure, basis = hit.measure, bases[hit.measure.basis_id]
    state = feedback_state(hit.feedback)
    return [measure.nature, measure.code, measure.name, measure.measure_type, basis.title, basis.level,
            measure.basis_article, "；".join(t["label"] for t in hit.hit.triggers), FEEDBACK_LABELS[state],
            hit.feedback.note if hit.feedback else ""]


def result_rows(session: Session, check: JointCheck) -> Iterator[list[str]]:
    """Every subject of the check in file order, one row per measure applied (or one empty row)."""
    bases = service.bases_by_id(session)
    offset = 0
    while True:
        _total, views = checks.subject_rows(session, check, limit=PAGE, offset=offset)
        for view in views:
            subject = [str(view.row.position), view.row.given_code, view.name or "", view.code or "",
                       rules.OUTCOME_LABELS[view.row.outcome]]
            for hit in view.hits or [None]:
                cells = _hit_cells(hit, bases) if hit else [""] * (len(COLUMNS) - len(subject))
                yield [neutralise(value) for value in subject + cells]
        if len(views) < PAGE:
            return
        offset += PAGE


def summary(session: Session, check: JointCheck) -> list[tuple[str, str]]:
    due = clock.local(check.feedback_due_at).strftime("%Y-%m-%d %H:%M") if check.feedback_due_at else "无需反馈"
    return [("核查编号", str(check.id)), ("核查部门", access.get_department(session, check.department_id).name),
            ("核查事项", f"{service.matter_types(session).get(check.matter_type, check.matter_type)}（{check.matter_type}）"),
            ("事项名称或编号", check.matter_reference), ("核查时间", clock.local(check.checked_at).strftime("%Y-%m-%d %H:%M:%S")),
            ("核查人", check.checked_by), ("核查文件", check.filename or ""),
            ("核查主体", str(check.subjects)), ("未找到或代码无效", str(check.unknown)),
            ("适用惩戒措施的主体", str(check.punished)), ("适用激励措施的主体", str(check.rewarded)),
            ("适用措施（项）", str(check.hits)), ("反馈截止", due)]


def _xlsx(facts: list[tuple[str, str]], rows: Iterator[list[str]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_numbers": False, "strings_to_urls": False})
    head = workbook.add_format({"bold": True, "bg_color": "#EEF1F5"})
    results = workbook.add_worksheet("核查结果")
    for col, name in enumerate(COLUMNS):
        results.write_string(0, col, name, head)
        results.set_column(col, col, 40 if name in ("措施名称", "法律依据", "适用原因") else 16)
    for r, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            results.write_string(r, col, value)
    results.freeze_panes(1, 0)
    about = workbook.add_worksheet("核查概况")
    about.set_column(0, 0, 20)
    about.set_column(1, 1, 50)
    for r, (name, value) in enumerate(facts):
        about.write_string(r, 0, name, head)
        about.write_string(r, 1, neutralise(value))
    workbook.close()
    return buffer.getvalue()


def export_check(session: Session, actor: Actor, check_id: int, file_format: str) -> Export:
    """The check's results as ``xlsx`` or ``csv``; only for its department or the credit authority."""
    if file_format not in MEDIA_TYPES:
        raise Invalid("EXPORT_FORMAT_UNKNOWN", "导出格式只能是 xlsx 或 csv", field="format")
    check = checks.get_check(session, actor, check_id)
    rows = result_rows(session, check)
    content = as_csv(COLUMNS, list(rows)) if file_format == "csv" else _xlsx(summary(session, check), rows)
    audit.append(session, actor, "sanctions.check.export", object_type="joint_check", object_id=check.id,
                 detail={"format": file_format, "subjects": check.subjects})
    return Export(f"联合奖惩核查-{check.id}.{file_format}", MEDIA_TYPES[file_format], content)
