"""Evaluation models (评价模型), their immutable versions, batch runs and per-subject results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class EvaluationModel(Base):
    """A model's identity; its content lives in versions. ``department_id`` set: an industry model."""

    __tablename__ = "evaluation_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    current_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]


class EvaluationModelVersion(Base):
    """One immutable version of a model: the declarative spec (``evaluation.schemas.ModelSpec``)."""

    __tablename__ = "evaluation_model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("evaluation_models.id"), index=True)
    version: Mapped[int]
    spec: Mapped[dict[str, Any]]
    change_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class EvaluationRun(Base):
    """One batch run: every subject in scope scored by one model version at an as-of date.

    ``data_cutoff``: only facts received by then, and current as of then, are read — so running
    the same version with the same as-of date and cut-off gives identical results.
    """

    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("evaluation_model_versions.id"), index=True)
    as_of: Mapped[date]
    data_cutoff: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12))  # running / succeeded / failed
    population: Mapped[int] = mapped_column(default=0)
    facts: Mapped[int] = mapped_column(default=0)
    grade_counts: Mapped[dict[str, Any]]
    error: Mapped[str] = mapped_column(String(1000), default="")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    started_by: Mapped[str] = mapped_column(String(64))


class EvaluationResult(Base):
    """A subject's score, grade and indicator values in one run (the explanation's numbers)."""

    __tablename__ = "evaluation_results"
    __table_args__ = (Index("ix_evaluation_results_subject", "subject_id", "run_id"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    score: Mapped[float]
    grade: Mapped[str] = mapped_column(String(8))
    indicator_values: Mapped[dict[str, Any]]  # indicator code -> value


class SupervisionScheme(Base):
    """One immutable version of a model's supervision tier scheme (分级分类监管方案): grade → tier.

    The newest version of a model is in force; a change is a new row, never an update.
    ``spec`` is ``evaluation.supervision_schemas.SchemeSpec``.
    """

    __tablename__ = "supervision_schemes"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("evaluation_models.id"), index=True)
    version: Mapped[int]
    spec: Mapped[dict[str, Any]]
    change_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class SupervisionDraw(Base):
    """A 双随机 random inspection draw: which subjects one department inspects, decided by ``seed``.

    Reproducible: the same run, scheme version, population (the filter over subjects with ids up to
    ``subject_ceiling``) and seed give the same list (``supervision.verify``).
    """

    __tablename__ = "supervision_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_number: Mapped[str] = mapped_column(String(40), unique=True)  # 抽查计划编号
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("evaluation_models.id"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("supervision_schemes.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id"))
    population_filter: Mapped[dict[str, Any]]
    subject_ceiling: Mapped[int]
    seed: Mapped[int] = mapped_column(BigInteger)
    population: Mapped[int]
    sample: Mapped[int]
    counts: Mapped[list[Any]]  # per stratum: grade, tier, ratio, frequency, population, sample
    population_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class SupervisionDrawItem(Base):
    """One subject on a draw's inspection list, with the grade and tier it was drawn under."""

    __tablename__ = "supervision_draw_items"

    draw_id: Mapped[int] = mapped_column(ForeignKey("supervision_draws.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    grade: Mapped[str | None] = mapped_column(String(8))
    tier: Mapped[str] = mapped_column(String(20))
    ratio: Mapped[float]
    frequency: Mapped[int]
