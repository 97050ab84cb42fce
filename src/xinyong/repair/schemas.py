"""Shapes of repair applications and objections as users send and read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

MaterialKind = Literal["commitment_letter", "fulfilment_proof", "evidence", "other"]
MATERIAL_LABELS = {"commitment_letter": "信用修复承诺书", "fulfilment_proof": "履行法定义务证明", "evidence": "证据材料",
                   "other": "其他材料"}
REPAIR_STATUS = {"submitted": "已提交，待受理", "accepted": "已受理，审核中", "not_accepted": "不予受理",
                 "approved": "同意修复", "refused": "不予修复", "withdrawn": "已撤回"}
OBJECTION_STATUS = {"open": "异议处理中", "corrected": "已更正", "revoked": "已撤销", "upheld": "维持原记录"}


class MaterialIn(BaseModel):
    kind: MaterialKind
    filename: str = Field(min_length=1, max_length=200)
    media_type: str = Field(default="application/octet-stream", max_length=100)
    content: bytes


class RepairIn(BaseModel):
    """An application for credit repair (信用修复申请) of one record or one list entry."""

    record_id: int | None = None
    entry_id: int | None = None
    reasons: str = Field(min_length=5, max_length=2000, description="整改情况及申请理由")
    obligations_fulfilled: bool = Field(description="已履行行政处罚等法定责任和义务")


class DecisionIn(BaseModel):
    note: str = Field(default="", max_length=1000)


class ObjectionIn(BaseModel):
    record_id: int
    reasons: str = Field(min_length=5, max_length=2000, description="异议理由")
    objector: str = Field(default="", max_length=100, description="异议人（代为登记时填写）")


class AnswerIn(BaseModel):
    """The providing department's answer to an objection."""

    outcome: Literal["corrected", "revoked", "upheld"]
    note: str = Field(min_length=2, max_length=1000, description="处理意见")
    payload: dict[str, Any] | None = Field(default=None, description="更正后的记录内容（outcome=corrected）")


class Eligibility(BaseModel):
    eligible: bool
    code: str = ""
    reason: str = ""
    earliest: datetime | None = None  # when the minimum period is served (申请最早可提交时间)
