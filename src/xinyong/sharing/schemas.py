"""Shapes of share requests, shared records and the subject's read log as users send and read them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from xinyong.records.schemas import RecordOut

UNCONDITIONAL, CONDITIONAL, NEVER = "无条件共享", "有条件共享", "不予共享"
PUBLIC = "社会公开"
REQUEST_STATUS = {"pending": "待审核", "approved": "已批准", "scheduled": "已批准（未到开始日期）", "expired": "已到期",
                  "rejected": "未批准", "withdrawn": "已撤回"}
BASIS_LABELS = {"own": "本部门提供", "unconditional": "无条件共享", "approved": "有条件共享（已批准）",
                "authority": "信用主管部门", "request_required": "需申请共享", "not_shared": "不予共享"}


class ShareRequestIn(BaseModel):
    """共享申请: one 有条件共享 item, for one purpose, for a term in months."""

    item: str = Field(min_length=1, max_length=40, description="目录信息项代码，如 TAX_CREDIT")
    purpose: str = Field(min_length=1, max_length=40, description="用途（政策参数 sharing_purposes 之一）")
    basis: str = Field(min_length=5, max_length=1000, description="履职依据：职责及其法律、法规或政策依据")
    term_months: int = Field(ge=1, le=120, description="申请期限（月），不超过政策参数规定的上限")


class DecisionIn(BaseModel):
    """The credit authority's decision: approve (with the term) or reject (with the reason)."""

    decision: Literal["approve", "reject"]
    note: str = Field(default="", max_length=1000, description="审核意见；不予批准须说明理由")
    starts_on: date | None = Field(default=None, description="共享开始日期，默认今天")
    term_months: int | None = Field(default=None, ge=1, le=120, description="批准期限（月），默认按申请")


class WithdrawalIn(BaseModel):
    note: str = Field(default="", max_length=1000)


class ShareRequestOut(BaseModel):
    number: str = Field(description="申请编号")
    department_id: int
    department: str
    item: str
    item_name: str
    purpose: str
    basis: str
    term_months: int
    status: str = Field(description="pending / approved / scheduled / expired / rejected / withdrawn（到期在读取时判断）")
    status_label: str
    in_force: bool = Field(description="今天是否在批准的共享期限内")
    requested_at: datetime
    requested_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str
    starts_on: date | None
    ends_on: date | None = Field(description="共享截止日期（含当日）")


class SharedRecordOut(RecordOut):
    department: str = Field(description="提供部门")
    basis: str = Field(description="own / unconditional / approved / authority：凭什么可以查看")
    request_number: str | None = Field(default=None, description="有条件共享所依据的共享申请编号")


class SharedItemOut(BaseModel):
    item: str
    name: str
    sharing_class: str
    disclosure_class: str
    status: str = Field(description="shared / request_required / not_shared")
    note: str
    request_number: str | None = None
    records: list[SharedRecordOut]


class SharedRecordsOut(BaseModel):
    subject_code: str
    subject_name: str
    purpose: str
    read_id: int = Field(description="本次查询在共享查询记录中的编号")
    items: list[SharedItemOut]


class ReadItemOut(BaseModel):
    item: str
    name: str
    public: bool = Field(description="该信息项本次提供的记录是否都是向社会公开的信息")


class ReadOut(BaseModel):
    """One read of the subject's non-public information by a department (谁查看了我的信用信息)."""

    at: datetime
    department: str
    purpose: str
    items: list[ReadItemOut]
    channel: str = Field(description="api：接口；page：页面")
