"""Graded supervision (分级分类监管) and 双随机 draws: the shapes the authority and departments send and read."""

from __future__ import annotations

from pydantic import BaseModel, Field

from xinyong.evaluation.draws import SEED_LIMIT


class TierIn(BaseModel):
    tier: str = Field(min_length=2, max_length=20, description="监管类别，如 重点监管、一般监管、信用良好")
    ratio: float = Field(ge=0, le=1, description="抽查比例（0–1）：每次抽查从该等级主体中抽取的比例")
    frequency: int = Field(ge=0, le=12, description="每年抽查频次（次/年）")


class GradeTier(TierIn):
    grade: str = Field(pattern=r"^[A-Z][A-Z0-9+-]{0,3}$", description="评价等级代码，如 A")


class SchemeSpec(BaseModel):
    """Every grade of the model mapped to a tier, plus the tier of subjects the run did not evaluate."""

    grades: list[GradeTier] = Field(min_length=1, description="模型的每个等级各一项")
    ungraded: TierIn = Field(description="未参加评价（不在所用评价批次中）的主体适用的监管类别")


class SchemeIn(BaseModel):
    spec: SchemeSpec
    note: str = Field(min_length=2, max_length=500, description="修订说明")


class SchemeOut(BaseModel):
    model_code: str
    model_name: str
    version: int
    spec: SchemeSpec
    note: str
    created_at: str
    created_by: str


class PopulationFilter(BaseModel):
    """Which subjects a draw is made from; every condition given must hold."""

    region_prefix: str | None = Field(default=None, pattern=r"^\d{2,6}$",
                                      description="所在地区：行政区划代码或其前缀，如 3201 为南京市")
    industry: str | None = Field(default=None, pattern=r"^[A-T]$", description="行业门类（GB/T 4754），如 F")
    subject_kinds: list[str] = Field(default_factory=list, description="主体类型；不填为评价模型适用的全部类型（自然人除外）")
    codes: list[str] = Field(default_factory=list, max_length=2000, description="指定的统一社会信用代码名单")


class DrawIn(BaseModel):
    model_code: str = Field(description="所用评价模型（使用其最新一次成功的评价批次）")
    department_id: int | None = Field(default=None, description="实施检查的部门；部门账号只能为本部门抽取，不填即本部门")
    filter: PopulationFilter = Field(default_factory=PopulationFilter)
    seed: int | None = Field(default=None, ge=0, lt=SEED_LIMIT, description="随机种子；不填由系统生成并记录")


class TierCount(BaseModel):
    grade: str | None = Field(description="评价等级；为空表示未参加评价的主体")
    tier: str
    ratio: float
    frequency: int
    population: int = Field(description="抽取范围内该等级的主体数")
    sample: int = Field(description="抽取数")


class DrawItemOut(BaseModel):
    position: int
    subject_id: int
    uscc: str | None
    name: str
    region_code: str
    grade: str | None
    tier: str
    ratio: float
    frequency: int


class DrawOut(BaseModel):
    id: int
    plan_number: str = Field(description="抽查计划编号：报送检查结果时填写")
    department_id: int
    department_name: str
    model_code: str
    scheme_version: int
    run_id: int
    run_as_of: str
    filter: PopulationFilter
    seed: int
    population: int
    sample: int
    counts: list[TierCount]
    created_at: str
    created_by: str
    items: list[DrawItemOut] | None = None


class VerificationOut(BaseModel):
    draw_id: int
    reproduced: bool = Field(description="以记录的随机种子重新抽取，名单与记录完全一致")
    population_unchanged: bool = Field(description="抽取范围（主体及其等级）与抽取时一致")
    message: str
