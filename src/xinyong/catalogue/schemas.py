"""The shape of a catalogue item (目录信息项) and its fields, as the authority edits them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

FieldType = Literal["string", "text", "date", "decimal", "integer", "enum", "uscc", "boolean"]
LegalBasisLevel = Literal["法律", "行政法规", "地方性法规", "党中央国务院政策文件", "部门规章", "地方政府规章", "规范性文件"]
SharingClass = Literal["无条件共享", "有条件共享", "不予共享"]
DisclosureClass = Literal["社会公开", "授权查询", "政务共享"]
CreditNature = Literal["守信", "失信", "中性"]
Severity = Literal["轻微", "一般", "严重"]
CrossBorder = Literal["可出境", "需出境评估", "不得出境"]  # code names: allowed / review / domestic_only

FIELD_TYPE_LABELS = {"string": "文本", "text": "长文本", "date": "日期", "decimal": "金额/小数", "integer": "整数",
                     "enum": "枚举", "uscc": "统一社会信用代码", "boolean": "是/否"}


class FieldSpec(BaseModel):
    name: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,39}$", description="字段代码，如 CF_WSH")
    label: str = Field(min_length=1, max_length=60, description="中文名称，如 行政处罚决定书文号")
    type: FieldType = "string"
    required: bool = False
    enum: list[str] | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = Field(default=None, gt=0)
    pattern: str | None = None
    personal: bool = Field(default=False, description="个人隐私信息：不得进入评价，公开时脱敏")
    mask: Literal["id", "phone", "name"] | None = Field(
        default=None, description="个人信息公开时的脱敏方式：id 证件号码、phone 电话、name 姓名；不填则不公开")
    decision_date: bool = Field(default=False, description="作为记录的决定日期")
    aliases: list[str] = Field(default_factory=list, description="其他常见列名")


class LegalBasis(BaseModel):
    document: str = Field(min_length=2, max_length=300)
    article: str = Field(default="", max_length=100)
    level: LegalBasisLevel


class ItemSpec(BaseModel):
    """Everything a version of a catalogue item says."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    category: str = Field(min_length=2, max_length=40)
    name: str = Field(min_length=2, max_length=100)
    description: str = ""
    providing_departments: list[str] = Field(default_factory=list)
    fields: list[FieldSpec] = Field(min_length=1)
    natural_key: list[str] = Field(min_length=1)
    legal_basis: LegalBasis
    sharing_class: SharingClass
    disclosure_class: DisclosureClass
    credit_nature: CreditNature
    severity: Severity | None = None
    min_publication_months: int | None = Field(default=None, ge=0, le=120)
    max_publication_months: int | None = Field(default=None, ge=0, le=120)
    evaluation_usable: bool = False
    personal_data: bool = False
    publish_person_name: bool = Field(default=False, description="公示时公开自然人的姓名（如失信被执行人）；否则只显示姓氏")
    cross_border: CrossBorder = Field(default="需出境评估", description="出境属性：可出境 / 需出境评估 / 不得出境（境外机构查询时适用）")
