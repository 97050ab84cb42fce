"""Notices: stored for the addressee's inbox (and, where configured, sent by e-mail)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from xinyong.db import utcnow
from xinyong.notifications.models import Notice


def notify(session: Session, *, title: str, body: str = "", url: str = "", user_id: int | None = None,
           subject_id: int | None = None, department_id: int | None = None) -> Notice:
    """Leave a notice for a user, a subject's accounts or a department's accounts (same transaction)."""
    if user_id is None and subject_id is None and department_id is None:
        raise ValueError("a notice needs an addressee")
    notice = Notice(user_id=user_id, subject_id=subject_id, department_id=department_id, title=title[:200],
                    body=body[:2000], url=url[:300], created_at=utcnow(), read_at=None)
    session.add(notice)
    session.flush()
    return notice
