"""Notice e-mails through a real SMTP conversation with a local sink (aiosmtpd): queued with the notice,
sent once the server accepts them, retried after failures, never lost and never sent twice."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.support.world import World
from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.cli import app
from xinyong.config import Settings, use_settings
from xinyong.db import session_factory
from xinyong.notifications import service
from xinyong.notifications.models import OutboxEmail

SYSTEM = Actor.system()
TITLE = "请审核信用修复申请 XYXF202600001"
BODY = "南京示范科技有限公司申请修复行政处罚信息，请于五个工作日内审核。"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sink:
    """Collects every message an SMTP client hands over; refuses recipients listed in ``refuse``."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    port: int = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.raw.append(envelope.content)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def envelope_is_ascii(raw: bytes) -> bool:
    headers = raw.split(b"\r\n\r\n", 1)[0]
    return raw.isascii() and b"Subject: =?utf-8?" in headers


@pytest.fixture
def sink() -> Iterator[Sink]:
    collected = Sink(port=free_port())
    controller = Controller(collected, hostname="127.0.0.1", port=collected.port)
    controller.start()
    yield collected
    controller.stop()


def smtp(settings: Settings, port: int, **extra: Any) -> Settings:
    """``settings`` with e-mail on, made current (restored by the ``settings`` fixture afterwards)."""
    changed = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout": 5.0,
                                          "site_url": "https://xinyong.example.gov.cn/", **extra})
    use_settings(changed)
    return changed


def user(session: Session, name: str, email_address: str | None, **link: Any) -> User:
    return access.create_user(session, SYSTEM, access.NewUser(name, "Xinyong2026", link.pop("role", "auditor"), name,
                                                              email=email_address, **link))


def outbox(session: Session) -> list[OutboxEmail]:
    rows = list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    session.commit()
    for row in rows:
        session.refresh(row)
    session.commit()
    return rows


def test_a_notice_reaches_the_mailbox_with_chinese_subject_and_body(seeded: Session, settings: Settings,
                                                                    sink: Sink, frozen_clock: datetime) -> None:
    current = smtp(settings, sink.port)
    recipient = user(seeded, "li4", "li4@example.gov.cn")
    service.notify(seeded, title=TITLE, body=BODY, url="/repairs/1", user_id=recipient.id)
    seeded.commit()
    [queued] = outbox(seeded)
    assert (queued.to_address, queued.subject, queued.sent_at, queued.attempts) == ("li4@example.gov.cn", TITLE, None, 0)

    assert service.send_pending(session_factory(current), current) == (1, 0)
    [(to, message)] = sink.messages
    assert to == ["li4@example.gov.cn"]
    assert message["Subject"] == TITLE
    assert envelope_is_ascii(sink.raw[0])  # Chinese only as RFC 2047 words and a transfer-encoded body
    assert message["From"].addresses[0].display_name == "信用平台"
    assert message["From"].addresses[0].addr_spec == "noreply@example.gov.cn"
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    text = message.get_content()
    assert BODY in text and "办理地址：https://xinyong.example.gov.cn/repairs/1" in text
    assert message["Message-ID"].endswith("@example.gov.cn>")
    [sent] = outbox(seeded)
    assert (sent.sent_at, sent.attempts, sent.last_error) == (frozen_clock, 1, None)
    assert service.send_pending(session_factory(current), current) == (0, 0)
    assert len(sink.messages) == 1


def test_one_email_per_reachable_account_with_an_address(seeded: Session, settings: Settings, world: World,
                                                         sink: Sink) -> None:
    current = smtp(settings, sink.port)
    department = {"role": "department_submitter", "department_id": world.department_id}
    user(seeded, "dept_a", "a@example.gov.cn", **department)
    user(seeded, "dept_b", "A@Example.gov.cn", **department)  # the same mailbox
    user(seeded, "dept_c", None, **department)
    gone = user(seeded, "dept_d", "d@example.gov.cn", **department)
    access.set_active(seeded, SYSTEM, gone.id, False)
    subject_account = user(seeded, "qiye2", "qiye@example.com", role="subject_user", subject_id=world.subject_id)
    service.notify(seeded, title="请处理异议", department_id=world.department_id)
    service.notify(seeded, title="异议已受理", subject_id=world.subject_id, user_id=subject_account.id)
    seeded.commit()
    assert [(m.to_address, m.subject) for m in outbox(seeded)] == [("a@example.gov.cn", "请处理异议"),
                                                                   ("qiye@example.com", "异议已受理")]
    assert service.send_pending(session_factory(current), current) == (2, 0)
    assert sorted(to[0] for to, _ in sink.messages) == ["a@example.gov.cn", "qiye@example.com"]


def test_an_unreachable_server_costs_an_attempt_and_a_later_run_sends_once(seeded: Session, settings: Settings,
                                                                           sink: Sink) -> None:
    down = smtp(settings, free_port())  # nothing listens there
    recipients = [user(seeded, f"u{i}", f"u{i}@example.gov.cn") for i in range(3)]
    for recipient in recipients:
        service.notify(seeded, title=TITLE, body=BODY, user_id=recipient.id)
    seeded.commit()
    factory = session_factory(down)
    assert service.send_pending(factory, down) == (0, 1)  # the run stops at the first connection failure
    first, *rest = outbox(seeded)
    assert (first.attempts, first.sent_at) == (1, None)
    assert first.last_error is not None and "ConnectionRefusedError" in first.last_error
    assert [(m.attempts, m.last_error) for m in rest] == [(0, None), (0, None)]

    up = smtp(settings, sink.port)
    assert service.send_pending(factory, up) == (3, 0)
    assert sorted(to[0] for to, _ in sink.messages) == [f"u{i}@example.gov.cn" for i in range(3)]
    assert [(m.attempts, m.last_error, m.sent_at is not None) for m in outbox(seeded)] == [
        (2, None, True), (1, None, True), (1, None, True)]
    assert service.send_pending(factory, up) == (0, 0)
    assert len(sink.messages) == 3  # no duplicates


def test_a_refused_recipient_does_not_hold_up_the_others_and_gives_up_after_the_attempts(
        seeded: Session, settings: Settings, sink: Sink) -> None:
    current = smtp(settings, sink.port, smtp_max_attempts=2)
    sink.refuse.add("gone@example.gov.cn")
    for name, address in (("gone", "gone@example.gov.cn"), ("here", "here@example.gov.cn")):
        service.notify(seeded, title=TITLE, user_id=user(seeded, name, address).id)
    seeded.commit()
    factory = session_factory(current)
    assert service.send_pending(factory, current) == (1, 1)
    assert [to for to, _ in sink.messages] == [["here@example.gov.cn"]]
    refused, delivered = outbox(seeded)
    assert refused.sent_at is None and "550" in (refused.last_error or "") and delivered.sent_at is not None
    assert service.send_pending(factory, current) == (0, 1)
    assert service.send_pending(factory, current) == (0, 0)  # two attempts used: left alone
    assert service.outbox_counts(seeded, current) == {"pending": 0, "sent": 1, "failed": 1}

    sink.refuse.clear()
    assert service.requeue_failed(seeded, current) == 1
    seeded.commit()
    assert service.send_pending(factory, current) == (1, 0)
    assert service.outbox_counts(seeded, current) == {"pending": 0, "sent": 2, "failed": 0}


def test_a_message_claimed_by_one_sender_is_not_sent_by_another(seeded: Session, settings: Settings,
                                                                sink: Sink) -> None:
    current = smtp(settings, sink.port)
    service.notify(seeded, title=TITLE, user_id=user(seeded, "li4", "li4@example.gov.cn").id)
    seeded.commit()
    factory = session_factory(current)
    [queued] = outbox(seeded)
    assert service._claim(factory, current, queued.id) is not None  # another sender is sending it right now
    assert service.send_pending(factory, current) == (0, 0)
    assert sink.messages == []
    clock.advance(service.CLAIM)  # that sender died: once its claim runs out the message is sent again
    assert service.send_pending(factory, current) == (1, 0)
    assert len(sink.messages) == 1


def test_email_is_off_without_an_smtp_host(seeded: Session, settings: Settings) -> None:
    service.notify(seeded, title=TITLE, user_id=user(seeded, "li4", "li4@example.gov.cn").id)
    seeded.commit()
    assert outbox(seeded) == []
    assert service.send_pending(session_factory(settings), settings) == (0, 0)


def test_cli_sets_addresses_and_sends(seeded: Session, settings: Settings, world: World, sink: Sink) -> None:
    smtp(settings, sink.port)
    runner = CliRunner()
    added = runner.invoke(app, ["user", "add", "wang5", "--role", "auditor", "--password", "Shenji2026",
                                "--email", "wang5@example.gov.cn"])
    assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["user", "email", "u_auditor", "shenji@example.gov.cn"]).exit_code == 0
    bad = runner.invoke(app, ["user", "email", "u_auditor", "not-an-address"])
    assert bad.exit_code == 2 and "USER_EMAIL_INVALID" in bad.output
    assert runner.invoke(app, ["user", "email", "nobody", "x@example.gov.cn"]).exit_code == 2
    auditors = seeded.scalars(select(User.id).where(User.role == "auditor")).all()
    for auditor in auditors:
        service.notify(seeded, title="审计链校验提醒", user_id=auditor)
    seeded.commit()
    sent = runner.invoke(app, ["notify", "send"])
    assert sent.exit_code == 0, sent.output
    assert "已发送 2 封" in sent.output
    assert sorted(to[0] for to, _ in sink.messages) == ["shenji@example.gov.cn", "wang5@example.gov.cn"]
    status = runner.invoke(app, ["notify", "status"])
    assert "已发送 2 封" in status.output and f"127.0.0.1:{sink.port}" in status.output
