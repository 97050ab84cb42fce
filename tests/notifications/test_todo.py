"""The to-do list (待办事项): gathered from the contexts' providers, overdue first; the joint-check
feedback a department owes, and for the credit authority each department's overdue feedback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.sanctions import ADMIN, Cast, abnormal, build_cast, company, penalty
from tests.support.world import World
from xinyong import clock
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.notifications import service
from xinyong.notifications.todo import Todo
from xinyong.sanctions import checks
from xinyong.sanctions.models import CheckHit
from xinyong.sanctions.schemas import FeedbackIn

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=clock.SHANGHAI)
SOMEONE = Actor(user_id=1, username="someone", role="auditor")


# --- gathering ---------------------------------------------------------------------------------------------

def at(day: int) -> datetime:
    return datetime(2026, 6, day, 17, 0, tzinfo=UTC)


def test_items_come_overdue_first_then_by_deadline_and_undated_last(monkeypatch: pytest.MonkeyPatch) -> None:
    first = [Todo("信用修复", "b", "/b", at(20), False), Todo("信用修复", "none", "/n", None, False)]
    second = [Todo("核查反馈", "late-2", "/l2", at(10), True), Todo("核查反馈", "c", "/c", at(18), False),
              Todo("异议处理", "late-1", "/l1", at(3), True)]
    monkeypatch.setattr(service, "providers", lambda: [lambda _s, _a: first, lambda _s, _a: second])
    assert [t.title for t in service.todos(None, SOMEONE)] == ["late-1", "late-2", "c", "b", "none"]  # type: ignore[arg-type]
    assert service.todos(None, Actor.anonymous()) == []  # type: ignore[arg-type]


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("xy_todo_")]:
        del sys.modules[name]


def test_a_provider_not_written_yet_is_skipped_but_a_broken_one_is_not(modules: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (modules / "xy_todo_ready.py").write_text(
        "from xinyong.notifications.todo import Todo\n"
        "def todo_items(session, actor):\n    return [Todo('信用承诺', 'ready', '/r', None, False)]\n")
    (modules / "xy_todo_no_function.py").write_text("VALUE = 1\n")
    (modules / "xy_todo_broken.py").write_text("import xy_todo_dependency_that_is_missing\n")
    monkeypatch.setattr(service, "PROVIDERS", ("xy_todo_ready:todo_items", "xy_todo_no_function:todo_items",
                                               "xy_todo_package_not_there.service:todo_items"))
    assert [t.title for t in service.todos(None, SOMEONE)] == ["ready"]  # type: ignore[arg-type]
    monkeypatch.setattr(service, "PROVIDERS", ("xy_todo_ready:todo_items", "xy_todo_broken:todo_items"))
    with pytest.raises(ModuleNotFoundError, match="xy_todo_dependency_that_is_missing"):
        service.todos(None, SOMEONE)  # type: ignore[arg-type]
    (modules / "xy_todo_failing.py").write_text("def todo_items(session, actor):\n    raise RuntimeError('bug')\n")
    monkeypatch.setattr(service, "PROVIDERS", ("xy_todo_failing:todo_items",))
    with pytest.raises(RuntimeError, match="bug"):
        service.todos(None, SOMEONE)  # type: ignore[arg-type]


def test_the_joint_check_provider_is_named() -> None:
    assert checks.todo_items in service.providers()


# --- joint-check feedback (核查反馈) ---------------------------------------------------------------------------

@pytest.fixture
def cast(world: World, sanctioned: Session) -> Cast:
    clock.freeze(NOW)
    return build_cast(sanctioned, world)


def feedback_items(session: Session, actor: Actor) -> list[Todo]:
    return [t for t in service.todos(session, actor) if t.area == "核查反馈"]


def test_a_department_owes_feedback_on_its_checks_until_every_measure_is_answered(sanctioned: Session,
                                                                                 cast: Cast) -> None:
    code = company(70)
    abnormal(sanctioned, cast, code)
    penalty(sanctioned, cast, code, number="宁玄市监处罚〔2026〕70号")
    check = checks.check_codes(sanctioned, cast.applier, "BIDDING", [code], matter_reference="NJ-2026-070",
                               channel="single")
    clean = checks.check_codes(sanctioned, cast.applier, "BIDDING", [company(71)], channel="single")
    assert check.hits == 2 and clean.hits == 0
    [item] = feedback_items(sanctioned, cast.applier)
    assert item == Todo("核查反馈", f"反馈联合奖惩核查 #{check.id}（招标投标 NJ-2026-070，2 项措施待反馈）",
                        f"/sanctions/checks/{check.id}", check.feedback_due_at, False)
    assert feedback_items(sanctioned, cast.other_applier) == []  # another department's check
    assert feedback_items(sanctioned, ADMIN) == []  # nothing overdue yet

    first, second = sanctioned.scalars(select(CheckHit.id).where(CheckHit.check_id == check.id).order_by(CheckHit.id))
    checks.give_feedback(sanctioned, cast.applier, check.id, [FeedbackIn(hit_id=first, taken=True)])
    [item] = feedback_items(sanctioned, cast.applier)
    assert "1 项措施待反馈" in item.title
    checks.give_feedback(sanctioned, cast.applier, check.id, [FeedbackIn(hit_id=second, taken=True)])
    assert feedback_items(sanctioned, cast.applier) == []


def test_past_the_deadline_the_item_is_overdue_and_the_authority_sees_each_department_late(
        sanctioned: Session, cast: Cast) -> None:
    code = company(72)
    abnormal(sanctioned, cast, code)
    early = checks.check_codes(sanctioned, cast.applier, "GOV_PROCUREMENT", [code], channel="single")
    clock.freeze(NOW + timedelta(days=3))
    later = checks.check_codes(sanctioned, cast.applier, "GOV_PROCUREMENT", [code], channel="single")
    other = checks.check_codes(sanctioned, cast.other_applier, "GOV_PROCUREMENT", [code], channel="single")
    assert early.feedback_due_at is not None and later.feedback_due_at is not None
    clock.freeze(early.feedback_due_at)  # the first deadline has just passed
    items = feedback_items(sanctioned, cast.applier)
    assert [(t.url, t.overdue) for t in items] == [(f"/sanctions/checks/{early.id}", True),
                                                   (f"/sanctions/checks/{later.id}", False)]
    assert service.todos(sanctioned, cast.applier)[0].overdue  # overdue first in the whole list
    assert [t.overdue for t in feedback_items(sanctioned, cast.other_applier)] == [False]

    clock.freeze(max(later.feedback_due_at, other.feedback_due_at))  # type: ignore[type-var]
    summary = feedback_items(sanctioned, ADMIN)
    names = access.department_names(sanctioned)
    assert [(t.title, t.url, t.due_at, t.overdue) for t in summary] == [
        (f"督促{names[d]}反馈：{n} 次核查、{n} 项措施逾期未反馈", "/sanctions/feedback", due, True)
        for d, n, due in sorted([(cast.applier.department_id, 2, early.feedback_due_at),
                                 (cast.other_applier.department_id, 1, other.feedback_due_at)])]


# --- page and API ----------------------------------------------------------------------------------------------

def test_the_todo_page_and_api_for_every_signed_in_party(cast: Cast, sanctioned: Session,
                                                         client_for: Callable[[str], TestClient], world: World) -> None:
    code = company(73)
    abnormal(sanctioned, cast, code)
    check = checks.check_codes(sanctioned, cast.applier, "GOV_PROCUREMENT", [code], channel="single")
    clock.freeze(check.feedback_due_at)  # type: ignore[arg-type]
    sanctioned.commit()

    applier = client_for("applying_department")
    page = applier.get("/me/todo")
    assert page.status_code == 200
    assert f'<tr class="overdue"><td>核查反馈</td><td><a href="/sanctions/checks/{check.id}">' in page.text
    assert "已逾期" in page.text and 'id="todo-overdue">1<' in page.text
    body = applier.get("/api/v1/me/todo").json()
    assert (body["total"], body["overdue"]) == (1, 1)
    [item] = body["items"]
    assert item["area"] == "核查反馈" and item["url"] == f"/sanctions/checks/{check.id}" and item["overdue"] is True
    assert datetime.fromisoformat(item["due_at"]) == check.feedback_due_at

    admin = client_for("authority_admin").get("/api/v1/me/todo").json()
    assert [i["url"] for i in admin["items"]] == ["/sanctions/feedback"]
    auditor = client_for("auditor")
    assert auditor.get("/api/v1/me/todo").json() == {"total": 0, "overdue": 0, "items": []}
    assert "暂无待办事项" in auditor.get("/me/todo").text
    assert client_for("public").get("/me/todo", follow_redirects=False).headers["location"].startswith("/login")
    assert client_for("public").get("/api/v1/me/todo").status_code == 401


def test_deadlines_are_shown_in_shanghai_time(cast: Cast, sanctioned: Session,
                                              client_for: Callable[[str], TestClient]) -> None:
    code = company(74)
    abnormal(sanctioned, cast, code)
    check = checks.check_codes(sanctioned, cast.applier, "GOV_PROCUREMENT", [code], channel="single")
    sanctioned.commit()
    due = clock.local(check.feedback_due_at).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]
    assert due.endswith("00:00")  # the end of the last working day, Shanghai
    assert due in client_for("applying_department").get("/me/todo").text
