"""A subject sees on its own credit page every list it is or was on, with status and exit conditions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support.sanctions import abnormal, build_cast
from tests.support.world import SUBJECT_CODE, World
from xinyong import clock


def test_own_page_lists_the_subjects_list_entries(world: World, sanctioned: Session,
                                                  client_for: Callable[[str], TestClient]) -> None:
    clock.freeze(datetime(2026, 6, 15, 10, 0, tzinfo=clock.SHANGHAI))
    page = client_for("subject_user").get("/me/credit").text
    assert "未被列入任何失信名单" in page
    abnormal(sanctioned, build_cast(sanctioned, world), SUBJECT_CODE, name="南京示范科技有限公司")
    sanctioned.commit()
    page = client_for("subject_user").get("/me/credit").text
    assert "经营异常名录" in page and "宁玄市监企异字〔2026〕第1号" in page and "在列" in page
    assert "补报年度报告" in page  # the exit conditions
