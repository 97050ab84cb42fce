"""End to end: a 容缺受理 commitment breached → a new dishonesty record → the grade drops in the next
evaluation run (real runs of the seeded PUBLIC_CREDIT_ORG model on the real engine)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tests.commitments.support import AFTER_HOLIDAY, Stage, promise
from xinyong import clock
from xinyong.actor import Actor
from xinyong.commitments import service
from xinyong.config import Settings
from xinyong.db import session_factory
from xinyong.evaluation import service as evaluation


def graded(factory: sessionmaker[Session], subject_id: int) -> tuple[float, str, dict[str, float]]:
    run = evaluation.run_model(factory, Actor.system(), "PUBLIC_CREDIT_ORG", clock.today())
    assert run.status == "succeeded", run.error
    with factory() as session:
        result = evaluation.result(session, run.id, subject_id)
        assert result is not None
        return result.score, result.grade, result.indicator_values


def test_a_breached_tolerance_commitment_lowers_the_grade_in_the_next_run(stage: Stage, settings: Settings) -> None:
    factory = session_factory(settings)
    score, grade, _ = graded(factory, stage.clean_id)
    assert (score, grade) == (700.0, "B")  # a clean company: the base score, 良

    made = promise(stage, "容缺受理型", due=AFTER_HOLIDAY, actor=stage.clean, matter="建设工程消防验收备案")
    stage.session.commit()
    assert (score, grade) == graded(factory, stage.clean_id)[:2]  # a commitment in progress changes nothing

    clock.freeze(datetime(2026, 6, 23, 9, 0, tzinfo=clock.SHANGHAI))
    broken = service.breach(stage.session, stage.cast.market, made.id, "逾期未补齐消防验收意见书")
    stage.session.commit()
    assert broken.breach_record_id is not None

    weight = next(i.weight for i in evaluation.get_model(stage.session, "PUBLIC_CREDIT_ORG").spec.indicators
                  if i.code == "commitments_broken")
    stage.session.commit()  # SQLite: no transaction left open to hold the write lock the run needs
    after, lower, values = graded(factory, stage.clean_id)
    assert values["commitments_broken"] == 1.0
    assert after == score + weight == 620.0
    assert lower == "C"  # 良 → 中
    allowed, reason = service.tolerance_allowed(stage.session, stage.clean_id)
    assert not allowed and "等级为C" in reason  # and 容缺受理 is no longer offered to it
