"""The inbox (站内通知): a user sees what was left for it, its subject or its department, and only that;
marking read is one's own business."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.world import World
from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.audit.models import AuditEntry
from xinyong.errors import DomainError
from xinyong.notifications import service
from xinyong.notifications.models import Notice, OutboxEmail


def actor_of(session: Session, world: World, role: str) -> Actor:
    user = session.scalar(select(User).where(User.username == world.usernames[role]))
    assert user is not None
    return access.actor_for(user)


def titles(notices: list[Notice]) -> list[str]:
    return [n.title for n in notices]


@pytest.fixture
def left(world: World, seeded: Session, frozen_clock: datetime) -> dict[str, Notice]:
    """One notice per kind of addressee, oldest first."""
    subject_user = actor_of(seeded, world, "subject_user")
    applier = actor_of(seeded, world, "applying_department")
    found = {
        "to_subject_user": service.notify(seeded, title="你的信用修复申请已受理", body="请在十个工作日内补充材料",
                                          url="/me/repairs/1", user_id=subject_user.user_id),
        "to_subject": service.notify(seeded, title="异议处理结果：已更正", url="/me/objections/1",
                                     subject_id=world.subject_id),
        "to_provider": service.notify(seeded, title="请处理异议 YY2026000001", url="/objections/1",
                                      department_id=world.department_id),
        "to_applier": service.notify(seeded, title="请反馈联合奖惩核查", department_id=applier.department_id),
    }
    seeded.commit()
    return found


def test_each_account_sees_its_own_its_subjects_and_its_departments_notices(
        seeded: Session, world: World, left: dict[str, Notice]) -> None:
    subject_user = actor_of(seeded, world, "subject_user")
    total, page = service.notices_for(seeded, subject_user)
    assert (total, titles(page)) == (2, ["异议处理结果：已更正", "你的信用修复申请已受理"])  # newest first
    assert titles(service.notices_for(seeded, actor_of(seeded, world, "department_submitter"))[1]) == [
        "请处理异议 YY2026000001"]
    assert titles(service.notices_for(seeded, actor_of(seeded, world, "applying_department"))[1]) == ["请反馈联合奖惩核查"]
    assert service.notices_for(seeded, actor_of(seeded, world, "auditor")) == (0, [])
    assert service.notices_for(seeded, Actor.system()) == (0, [])
    assert titles(service.notices_for(seeded, subject_user, limit=1, offset=1)[1]) == ["你的信用修复申请已受理"]
    assert service.addressee_of(left["to_subject"], subject_user) == "subject"
    assert service.addressee_of(left["to_subject_user"], subject_user) == "user"
    assert service.addressee_of(left["to_provider"], subject_user) is None


def test_marking_read_only_ones_own_notices_keeps_the_first_reading(
        seeded: Session, world: World, left: dict[str, Notice], frozen_clock: datetime) -> None:
    subject_user = actor_of(seeded, world, "subject_user")
    notice = service.mark_read(seeded, subject_user, left["to_subject"].id)
    assert notice.read_at == frozen_clock
    clock.freeze(datetime(2026, 6, 16, 9, 0, tzinfo=clock.SHANGHAI))
    assert service.mark_read(seeded, subject_user, left["to_subject"].id).read_at == frozen_clock
    assert service.unread_count(seeded, subject_user) == 1
    assert titles(service.notices_for(seeded, subject_user, unread_only=True)[1]) == ["你的信用修复申请已受理"]
    with pytest.raises(DomainError) as refused:
        service.mark_read(seeded, subject_user, left["to_provider"].id)
    assert (refused.value.code, refused.value.status) == ("NOTICE_NOT_YOURS", 403)
    with pytest.raises(DomainError) as missing:
        service.mark_read(seeded, subject_user, 999_999)
    assert (missing.value.code, missing.value.status) == ("NOTICE_NOT_FOUND", 404)
    assert seeded.get(Notice, left["to_provider"].id).read_at is None  # type: ignore[union-attr]
    reads = seeded.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "notice.read")).all()
    assert reads == [str(left["to_subject"].id)]  # audited once, when it was first read

    assert service.mark_all_read(seeded, subject_user) == 1
    assert service.unread_count(seeded, subject_user) == 0
    assert service.unread_count(seeded, actor_of(seeded, world, "department_submitter")) == 1  # untouched


def test_a_notice_needs_an_addressee_and_without_smtp_no_email_is_queued(seeded: Session, world: World) -> None:
    with pytest.raises(ValueError):
        service.notify(seeded, title="无人可收")
    access.set_email(seeded, Actor.system(), actor_of(seeded, world, "auditor").user_id or 0, "shenji@example.gov.cn")
    service.notify(seeded, title="测试", user_id=actor_of(seeded, world, "auditor").user_id)
    assert seeded.scalars(select(OutboxEmail)).all() == []


def test_inbox_page_and_api(seeded: Session, world: World, left: dict[str, Notice],
                            client_for: Callable[[str], TestClient]) -> None:
    client = client_for("subject_user")
    body = client.get("/api/v1/me/notices").json()
    assert (body["total"], body["unread"]) == (2, 2)
    assert [(n["title"], n["addressed_to"], n["read_at"]) for n in body["items"]] == [
        ("异议处理结果：已更正", "subject", None), ("你的信用修复申请已受理", "user", None)]
    assert body["items"][1]["body"] == "请在十个工作日内补充材料" and body["items"][1]["url"] == "/me/repairs/1"

    read = client.post(f"/api/v1/me/notices/{left['to_subject_user'].id}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    unread = client.get("/api/v1/me/notices", params={"unread_only": True}).json()
    assert (unread["total"], unread["unread"], [n["title"] for n in unread["items"]]) == (1, 1, ["异议处理结果：已更正"])
    other = client.post(f"/api/v1/me/notices/{left['to_provider'].id}/read")
    assert other.status_code == 403 and other.json()["error"]["code"] == "NOTICE_NOT_YOURS"
    assert client.post("/api/v1/me/notices/999999/read").json()["error"]["code"] == "NOTICE_NOT_FOUND"

    page = client.get("/me/notices")
    assert page.status_code == 200 and "异议处理结果：已更正" in page.text and "请处理异议" not in page.text
    assert '<tr class="unread">' in page.text and "全部标为已读" in page.text
    opened = client.post(f"/me/notices/{left['to_subject'].id}/read", data={"open": "1"}, follow_redirects=False)
    assert (opened.status_code, opened.headers["location"]) == (303, "/me/objections/1")
    assert "未读通知" in client.get("/me/todo").text
    assert client.get("/me/notices", params={"unread": True}).text.count("没有未读通知") == 1

    provider = client_for("department_submitter")
    assert provider.post("/me/notices/read-all", follow_redirects=False).headers["location"] == "/me/notices"
    assert provider.get("/api/v1/me/notices").json()["unread"] == 0
    assert client_for("public").get("/api/v1/me/notices").status_code == 401


def test_a_user_sets_its_notice_email_on_its_account_page(seeded: Session, world: World,
                                                          client_for: Callable[[str], TestClient]) -> None:
    client = client_for("subject_user")
    done = client.post("/me/email", data={"email": " qiye@example.com "}, follow_redirects=False)
    assert done.status_code == 303
    assert "qiye@example.com" in client.get("/me").text
    bad = client.post("/me/email", data={"email": "not an address"})
    assert bad.status_code == 422 and "电子邮箱地址格式不正确" in bad.text
    user = seeded.scalar(select(User).where(User.username == world.usernames["subject_user"]))
    seeded.refresh(user)
    assert user is not None and user.email == "qiye@example.com"
    seeded.commit()
    client.post("/me/email", data={"email": ""})
    seeded.refresh(user)
    assert user.email is None
