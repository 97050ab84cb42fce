"""Shapes of platform data partners and their list feed (API and forms)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

STATUS_LABELS = {"pending": "未生效", "active": "有效", "expired": "已到期", "terminated": "已终止"}
END_REASONS = {
    "expired": "期满",
    "repair": "信用修复",
    "revocation": "撤销认定",
    "correction": "更正",
    "fulfilled": "满足移出条件",
}


class PartnerIn(BaseModel):
    number: str = Field(min_length=4, max_length=60, pattern=r"^[^/?#%\s]+$", description="合作协议编号")
    institution_code: str = Field(min_length=15, max_length=18, description="互联网平台统一社会信用代码")
    list_types: list[str] = Field(min_length=1, description="推送的名单类型代码")
    starts_on: date
    ends_on: date


class TerminationIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class ListItem(BaseModel):
    """One list entry entering or leaving, as a partner receives it."""

    cursor: int = Field(description="该事件的游标（递增）")
    event: Literal["entered", "ended"]
    event_label: str
    entry_id: int
    list_type: str
    list_name: str
    subject_code: str = Field(description="统一社会信用代码；自然人为脱敏身份证号")
    subject_name: str = Field(description="名称；自然人仅保留姓氏")
    person: bool
    decision_number: str = Field(description="认定文书号")
    starts_on: date = Field(description="列入日期")
    ends_on: date | None = Field(description="有效期至（含当日，与公示网站一致）；空表示至满足移出条件")
    end_reason: str | None = Field(
        default=None, description="ended：expired / repair / revocation / correction / fulfilled"
    )
    end_reason_label: str | None = None
    ended_on: date | None = Field(default=None, description="ended：停止约束的日期（当日起不再约束）")
    exit_decision: str = ""


class ListPage(BaseModel):
    items: list[ListItem]
    next_cursor: int
    has_more: bool
    as_of: str


class CurrentEntry(BaseModel):
    entry_id: int
    list_type: str
    list_name: str
    subject_code: str
    subject_name: str
    person: bool
    decision_number: str
    starts_on: date
    ends_on: date | None


class CurrentPage(BaseModel):
    entries: list[CurrentEntry]
    next_after: int | None = Field(description="还有更多时，下一页的 after 参数")
    cursor: int = Field(description="与本快照对应的变动游标：对账后从此游标起拉取变动")
    as_of: str


class Acknowledgement(BaseModel):
    cursor: int = Field(ge=0, description="已处理到的游标（含）")


class AcknowledgementOut(BaseModel):
    acknowledged_through: int
    delivered_through: int


class PartnerOut(BaseModel):
    number: str
    institution_code: str
    institution_name: str
    list_types: list[str]
    starts_on: date
    ends_on: date
    status: str
    status_label: str
    delivered_through: int
    acknowledged_through: int
    undelivered: int = Field(description="尚未取走的事件数")
    unacknowledged: int = Field(description="已取走但未确认的事件数")
    unacknowledged_ends: int = Field(description="其中未确认的移出、修复和期满事件数")
    last_pulled_at: str | None
    last_acknowledged_at: str | None
    termination_reason: str = ""
