"""Notifications: each party's to-do list (待办事项), its inbox (站内通知), and notice e-mails.

The to-do list is gathered from the contexts that own the work: each names what an actor has to do
in a ``todo_items(session, actor) -> list[Todo]`` function, listed once in ``PROVIDERS`` and imported
only when asked (so this context imports none of them).

Notices are stored for the addressee's inbox in the transaction of whatever caused them. When SMTP
is configured (``XINYONG_SMTP_HOST``), ``notify`` also queues one e-mail per account the notice
reaches that has an address (outbox); ``send_pending`` — run by ``xinyong notify send`` from a timer —
delivers them, marking each sent only once the server has accepted it, and retrying failures up to
``smtp_max_attempts`` times.
"""

from __future__ import annotations

import importlib
import logging
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.config import Settings, get_settings
from xinyong.db import unit_of_work, utcnow
from xinyong.errors import Forbidden, NotFound
from xinyong.notifications.models import Notice, OutboxEmail
from xinyong.notifications.todo import Todo

log = logging.getLogger("xinyong.notifications")

# Where to-do items come from: "module:function", each ``(session, actor) -> list[Todo]``.
PROVIDERS = (
    "xinyong.sanctions.checks:todo_items",  # 核查反馈
    "xinyong.repair.service:todo_items",  # 信用修复、异议处理
    "xinyong.commitments.service:todo_items",  # 信用承诺
    "xinyong.sharing.service:todo_items",  # 共享申请
)
CLAIM = timedelta(minutes=10)  # how long a sender holds a message it is sending


# --- to-do list (待办事项) ---------------------------------------------------------------------------------

def _provider(spec: str) -> Callable[[Session, Actor], list[Todo]] | None:
    """The provider function named by ``spec``, or None while its context does not offer one yet.

    Only a module that does not exist (itself, not something it imports) or has no such function is
    skipped; any other import error is a bug and is raised."""
    module_name, _, function = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and (module_name == error.name or module_name.startswith(f"{error.name}.")):
            return None
        raise
    return getattr(module, function, None)


def providers() -> list[Callable[[Session, Actor], list[Todo]]]:
    return [p for p in map(_provider, PROVIDERS) if p is not None]


def _order(todo: Todo) -> tuple[bool, bool, datetime, str]:
    far = datetime.max.replace(tzinfo=UTC)
    return (not todo.overdue, todo.due_at is None, todo.due_at or far, todo.title)


def todos(session: Session, actor: Actor) -> list[Todo]:
    """Everything ``actor`` has to do: overdue first, then by deadline (none last)."""
    if actor.is_anonymous:
        return []
    found = [item for provider in providers() for item in provider(session, actor)]
    return sorted(found, key=_order)


# --- inbox (站内通知) ---------------------------------------------------------------------------------------

def _any_of(columns: tuple[Any, Any, Any], values: tuple[int | None, int | None, int | None]) -> ColumnElement[bool]:
    """(user, subject, department) columns matching the values given, or-ed; false when none is given."""
    clauses = [column == value for column, value in zip(columns, values, strict=True) if value is not None]
    return or_(*clauses) if clauses else false()


def _addressed_to(actor: Actor) -> ColumnElement[bool]:
    """Notices to the actor's account, its subject's accounts or its department's accounts."""
    return _any_of((Notice.user_id, Notice.subject_id, Notice.department_id),
                   (actor.user_id, actor.subject_id, actor.department_id))


def notices_for(session: Session, actor: Actor, *, unread_only: bool = False, limit: int = 50,
                offset: int = 0) -> tuple[int, list[Notice]]:
    """(total, page) of the actor's notices, newest first."""
    query = select(Notice).where(_addressed_to(actor))
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = list(session.scalars(query.order_by(Notice.id.desc()).limit(limit).offset(offset)))
    return total, page


def unread_count(session: Session, actor: Actor) -> int:
    return notices_for(session, actor, unread_only=True, limit=0)[0]


def addressee_of(notice: Notice, actor: Actor) -> str | None:
    """How the notice reaches ``actor``: user / subject / department (None: it does not)."""
    if actor.user_id is not None and notice.user_id == actor.user_id:
        return "user"
    if actor.subject_id is not None and notice.subject_id == actor.subject_id:
        return "subject"
    if actor.department_id is not None and notice.department_id == actor.department_id:
        return "department"
    return None


def get_notice(session: Session, actor: Actor, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound("NOTICE_NOT_FOUND", f"通知不存在：{notice_id}")
    if addressee_of(notice, actor) is None:
        raise Forbidden("NOTICE_NOT_YOURS", "只能查看发给本人、本单位或本主体的通知")
    return notice


def mark_read(session: Session, actor: Actor, notice_id: int) -> Notice:
    """Mark one of the actor's notices read (the first reading time is kept)."""
    notice = get_notice(session, actor, notice_id)
    if notice.read_at is None:
        notice.read_at = utcnow()
        audit.append(session, actor, "notice.read", object_type="notice", object_id=notice.id)
    return notice


def mark_all_read(session: Session, actor: Actor) -> int:
    """Mark every unread notice of the actor read; how many were."""
    ids = list(session.scalars(select(Notice.id).where(_addressed_to(actor), Notice.read_at.is_(None))))
    for start in range(0, len(ids), 900):
        session.execute(update(Notice).where(Notice.id.in_(ids[start:start + 900])).values(read_at=utcnow()))
    if ids:
        audit.append(session, actor, "notice.read_all", object_type="notice", detail={"count": len(ids)})
    return len(ids)


# --- leaving a notice -----------------------------------------------------------------------------------

def notify(session: Session, *, title: str, body: str = "", url: str = "", user_id: int | None = None,
           subject_id: int | None = None, department_id: int | None = None) -> Notice:
    """Leave a notice for a user, a subject's accounts or a department's accounts (same transaction);
    with SMTP configured, also queue an e-mail to each of those accounts that has an address."""
    if user_id is None and subject_id is None and department_id is None:
        raise ValueError("a notice needs an addressee")
    notice = Notice(user_id=user_id, subject_id=subject_id, department_id=department_id, title=title[:200],
                    body=body[:2000], url=url[:300], created_at=utcnow(), read_at=None)
    session.add(notice)
    session.flush()
    settings = get_settings()
    if settings.smtp_host:
        _queue_emails(session, settings, notice)
    return notice


def _recipients(session: Session, notice: Notice) -> list[str]:
    """E-mail addresses of the active accounts the notice reaches, each once."""
    reached = _any_of((User.id, User.subject_id, User.department_id),
                      (notice.user_id, notice.subject_id, notice.department_id))
    found = session.scalars(select(User.email).where(reached, User.active.is_(True), User.email.is_not(None))
                            .order_by(User.id))
    unique: dict[str, str] = {}
    for address in found:
        if address and address.strip():
            unique.setdefault(address.strip().lower(), address.strip())
    return list(unique.values())


def email_body(settings: Settings, notice: Notice) -> str:
    parts = [notice.title]
    if notice.body:
        parts.append(notice.body)
    if notice.url:
        parts.append(f"办理地址：{settings.site_url.rstrip('/')}{notice.url}")
    parts.append(f"—— {settings.jurisdiction_name}{settings.platform_name}（系统自动发送，请勿直接回复）")
    return "\n\n".join(parts)[:4000]


def _queue_emails(session: Session, settings: Settings, notice: Notice) -> None:
    now = utcnow()
    for address in _recipients(session, notice):
        session.add(OutboxEmail(notice_id=notice.id, to_address=address[:254], subject=notice.title[:200],
                                body=email_body(settings, notice), created_at=now, sent_at=None, attempts=0,
                                last_error=None, claimed_until=None))
    session.flush()


# --- sending (xinyong notify send) ------------------------------------------------------------------------

def _sendable(now: datetime, max_attempts: int) -> Any:
    return (OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < max_attempts,
            or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now))


def _claim(factory: sessionmaker[Session], settings: Settings, message_id: int) -> OutboxEmail | None:
    """Take the message for this sender (one attempt more), unless another sender has it or it is done."""
    with unit_of_work(factory) as session:
        now = utcnow()
        claimed = session.execute(update(OutboxEmail)
                                  .where(OutboxEmail.id == message_id, *_sendable(now, settings.smtp_max_attempts))
                                  .values(attempts=OutboxEmail.attempts + 1, claimed_until=now + CLAIM))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        message = session.get(OutboxEmail, message_id)
        assert message is not None
        session.expunge(message)
        return message


def _settle(factory: sessionmaker[Session], message_id: int, error: str | None) -> None:
    with unit_of_work(factory) as session:
        values: dict[str, Any] = {"claimed_until": None}
        if error is None:
            values.update(sent_at=utcnow(), last_error=None)
        else:
            values["last_error"] = error[:500]
        session.execute(update(OutboxEmail).where(OutboxEmail.id == message_id).values(**values))


def build_email(settings: Settings, message: OutboxEmail) -> EmailMessage:
    """The MIME message: text/plain UTF-8; headers with Chinese are encoded (RFC 2047) when sent."""
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "localhost"
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = settings.smtp_from
    email["To"] = message.to_address
    email["Date"] = formatdate(localtime=True)
    # One Message-ID per outbox row: a message sent again after a crash is recognisably the same one.
    email["Message-ID"] = f"<{message.created_at:%Y%m%d%H%M%S}.{message.id}.xinyong@{domain}>"
    email.set_content(message.body, subtype="plain", charset="utf-8")
    return email


def _connect(settings: Settings) -> smtplib.SMTP:
    assert settings.smtp_host
    connection = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
    try:
        if settings.smtp_starttls:
            connection.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            connection.login(settings.smtp_username, settings.smtp_password or "")
    except BaseException:
        connection.close()
        raise
    return connection


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def send_pending(factory: sessionmaker[Session], settings: Settings, *, limit: int = 1000) -> tuple[int, int]:
    """Send queued e-mails, oldest first; (sent, failed).

    Each message is claimed (one attempt more) in a transaction of its own before it is sent, and
    marked sent only after the server accepted it: a crash in between sends it again later (at least
    once, never lost). A message the server refuses keeps its error and is tried again on a later
    run until ``smtp_max_attempts``. If the server cannot be reached, the run stops after the message
    it was trying, so an outage costs the queue one attempt per run, not one per message."""
    if not settings.smtp_host:
        return 0, 0
    with unit_of_work(factory) as session:
        pending = list(session.scalars(select(OutboxEmail.id).where(*_sendable(utcnow(), settings.smtp_max_attempts))
                                       .order_by(OutboxEmail.id).limit(limit)))
    sent = failed = 0
    connection: smtplib.SMTP | None = None
    try:
        for message_id in pending:
            message = _claim(factory, settings, message_id)
            if message is None:
                continue
            try:
                if connection is None:
                    connection = _connect(settings)
                connection.send_message(build_email(settings, message))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
                log.warning("e-mail %s to %s refused: %s", message.id, message.to_address, error)
                _settle(factory, message.id, _describe(error))
                failed += 1
                continue
            except (smtplib.SMTPException, OSError) as error:
                log.warning("e-mail %s not sent, SMTP server %s:%s unavailable: %s", message.id, settings.smtp_host,
                            settings.smtp_port, error)
                _settle(factory, message.id, _describe(error))
                failed += 1
                break
            _settle(factory, message.id, None)
            sent += 1
    finally:
        if connection is not None:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()
    return sent, failed


def outbox_counts(session: Session, settings: Settings) -> dict[str, int]:
    """Queued (still to be tried), sent, and given up (tried ``smtp_max_attempts`` times)."""
    unsent = OutboxEmail.sent_at.is_(None)
    given_up = OutboxEmail.attempts >= settings.smtp_max_attempts
    conditions = {"pending": (unsent, ~given_up), "sent": (OutboxEmail.sent_at.is_not(None),), "failed": (unsent, given_up)}
    return {name: session.scalar(select(func.count()).select_from(OutboxEmail).where(*where)) or 0
            for name, where in conditions.items()}


def requeue_failed(session: Session, settings: Settings) -> int:
    """Give the e-mails that used up their attempts another round (after fixing the SMTP settings)."""
    result = session.execute(update(OutboxEmail).where(OutboxEmail.sent_at.is_(None),
                                                       OutboxEmail.attempts >= settings.smtp_max_attempts)
                             .values(attempts=0, claimed_until=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
