"""What a report says, independent of how it is laid out or signed (the renderer's input)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Section:
    """One titled part of a report: a table (columns × rows of text), or ``empty_text`` when it has no rows."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    empty_text: str = "无"
    note: str = ""


@dataclass(frozen=True)
class ReportDocument:
    """Everything printed in one report."""

    number: str  # 报告编号, e.g. XYBG3201002026000001
    kind: str  # general / special
    title: str  # 公共信用信息报告（企业版） / 专项信用报告（替代有无违法违规记录证明）
    platform_name: str  # 出具平台
    issued_at: datetime  # 出具时间 (Asia/Shanghai)
    data_as_of: datetime  # 数据截止时间
    subject_name: str
    subject_code: str  # 统一社会信用代码 (or masked ID)
    basics: list[tuple[str, str]]  # 基础信息: label, value
    sections: list[Section]
    conclusion: str = ""  # for special reports: the finding, e.g. 未发现违法违规记录
    period: tuple[date, date] | None = None  # special reports: the period checked
    fields: list[str] = field(default_factory=list)  # special reports: the fields (领域) checked
    verify_url: str = ""  # printed and in the QR code
    check_code: str = ""  # 核验码: printed and in the verify URL; the register shows who the report is about only with it
    notes: list[str] = field(default_factory=list)  # 说明
