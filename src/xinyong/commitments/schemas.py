"""Shapes of credit commitments as subjects and departments send them, and as the API answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

CommitmentKind = Literal["审批替代型", "容缺受理型", "信用修复型", "行业自律型", "主动型"]
KINDS: tuple[str, ...] = ("审批替代型", "容缺受理型", "信用修复型", "行业自律型", "主动型")
TOLERANCE = "容缺受理型"
STATUS_LABELS = {"in_progress": "履约中", "fulfilled": "已履约", "breached": "未履约"}
KIND_HINTS = {
    "审批替代型": "以书面承诺替代证明材料办理审批（告知承诺制）",
    "容缺受理型": "部分非关键材料暂缺，承诺在期限内补齐，部门先行受理",
    "信用修复型": "申请信用修复时承诺已纠正失信行为、今后依法诚信经营",
    "行业自律型": "作为行业协会会员或行业从业者作出的自律承诺",
    "主动型": "主动向社会作出的信用承诺",
}


class CommitmentIn(BaseModel):
    """A commitment a subject makes for itself (信用主体在线作出承诺)."""

    kind: CommitmentKind = Field(description="承诺类型")
    department_id: int = Field(description="接受承诺的部门")
    matter_type: str | None = Field(default=None, max_length=40, description="事项类型代码（可选），如 ADMIN_APPROVAL")
    matter: str = Field(min_length=2, max_length=200, description="承诺事项，如 食品经营许可申请")
    content: str = Field(min_length=10, max_length=2000, description="承诺内容")
    public: bool = Field(default=True, description="是否向社会公开（公开的承诺作为“信用承诺及履约信息”公示）")
    materials_due_on: date | None = Field(default=None, description="容缺受理型：补齐材料期限（须为工作日）")


class RegistrationIn(BaseModel):
    """A commitment made to the department offline (窗口书面承诺), registered by the department for the subject."""

    subject_code: str = Field(min_length=15, max_length=18, description="统一社会信用代码")
    kind: CommitmentKind = Field(description="承诺类型")
    matter_type: str | None = Field(default=None, max_length=40)
    matter: str = Field(min_length=2, max_length=200)
    content: str = Field(min_length=10, max_length=2000)
    public: bool = True
    made_on: date | None = Field(default=None, description="承诺日期（不填为今天）")
    materials_due_on: date | None = None


class DecisionIn(BaseModel):
    """The department's finding on a commitment: fulfilled, or not (认定履约 / 未履约)."""

    note: str = Field(min_length=2, max_length=1000, description="履约情况或未履行情况说明")


class CommitmentOut(BaseModel):
    id: int
    number: str
    subject_code: str
    subject_name: str
    department_id: int
    department: str
    kind: str
    matter_type: str | None
    matter: str
    content: str
    made_on: date
    public: bool
    materials_due_on: date | None
    status: Literal["in_progress", "fulfilled", "breached"]
    status_label: str
    channel: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str
    record_id: int | None = Field(description="公开承诺的信用记录（最新事实）")
    breach_record_id: int | None = Field(description="未履约时生成的失信记录")


class CommitmentsPage(BaseModel):
    total: int
    items: list[CommitmentOut]


class ToleranceOut(BaseModel):
    allowed: bool
    reason: str
