"""Append to and verify the hash-chained audit log.

Each entry's hash covers the previous entry's hash and its own content, so a changed,
removed, inserted or reordered entry breaks the chain where it happened. Appends are
serialised: PostgreSQL takes a transaction-scoped advisory lock; SQLite transactions begin
IMMEDIATE (see ``db``), so only one writer holds the head at a time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from xinyong.actor import Actor
from xinyong.audit.models import AuditEntry
from xinyong.db import utcnow

GENESIS = "0" * 64
_CHAIN_LOCK = 0x78696E79  # "xiny": the advisory lock key guarding the chain head


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def sha256(text_: str) -> str:
    return hashlib.sha256(text_.encode()).hexdigest()


def _content(entry: AuditEntry) -> list[Any]:
    at = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    return [at, entry.actor_id, entry.actor, entry.role, entry.action, entry.object_type,
            entry.object_id, entry.subject_id, entry.change_hash]


def entry_hash(entry: AuditEntry) -> str:
    return sha256(entry.prev_hash + canonical(_content(entry)))


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})


def append(session: Session, actor: Actor, action: str, *, object_type: str, object_id: object = None,
           subject_id: int | None = None, detail: dict[str, Any] | None = None) -> AuditEntry:
    """Add one entry at the head of the chain, inside the caller's transaction."""
    _lock_chain(session)
    head = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    detail = json.loads(canonical(detail or {}))
    entry = AuditEntry(
        seq=(head.seq + 1) if head else 1,
        at=utcnow(),
        actor_id=actor.user_id, actor=actor.username, role=actor.role, action=action,
        object_type=object_type, object_id=None if object_id is None else str(object_id),
        subject_id=subject_id, detail=detail, change_hash=sha256(canonical(detail)),
        prev_hash=head.hash if head else GENESIS,
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    problem: str | None = None  # modified / removed / inserted / reordered / head_mismatch
    problem_seq: int | None = None
    message: str = "审计链完整"


def _entries(session: Session) -> Iterator[AuditEntry]:
    yield from session.scalars(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000, populate_existing=True))


def _classify_link(session: Session, entry: AuditEntry) -> tuple[str, str]:
    """Why does ``entry`` not link to its predecessor? Look for the hash it names."""
    named = session.execute(select(AuditEntry.seq).where(AuditEntry.hash == entry.prev_hash)).scalar()
    if named is None:
        return "removed", f"第{entry.seq}条之前的审计记录被删除或替换（其前序哈希在日志中不存在）"
    if named >= entry.seq:
        return "reordered", f"第{entry.seq}条审计记录顺序被调换（其前序记录出现在第{named}条）"
    return "inserted", f"第{named}条与第{entry.seq}条之间被插入了审计记录"


def verify(session: Session, expect_head: tuple[int, str] | None = None) -> Verification:
    """Walk the chain from the start; report the first entry that does not hold."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    for entry in _entries(session):
        if entry.seq != expected_seq:
            return Verification(False, checked, expected_seq - 1, prev_hash, "removed", expected_seq,
                                f"第{expected_seq}至{entry.seq - 1}条审计记录缺失（已被删除）")
        if entry.change_hash != sha256(canonical(entry.detail)) or entry.hash != entry_hash(entry):
            return Verification(False, checked, entry.seq - 1, prev_hash, "modified", entry.seq,
                                f"第{entry.seq}条审计记录内容被篡改")
        if entry.prev_hash != prev_hash:
            kind, message = _classify_link(session, entry)
            return Verification(False, checked, entry.seq - 1, prev_hash, kind, entry.seq, message)
        prev_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    head_seq = expected_seq - 1
    if expect_head is not None and expect_head != (head_seq, prev_hash):
        return Verification(False, checked, head_seq, prev_hash, "head_mismatch", head_seq,
                            f"审计链末端与预期不符（预期第{expect_head[0]}条，实际第{head_seq}条），末尾记录可能被删除或追加")
    return Verification(True, checked, head_seq, prev_hash)


def head_seq(session: Session) -> int:
    """The newest entry's number: every write appends one, so it versions the whole database."""
    return session.scalar(select(func.max(AuditEntry.seq))) or 0


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def recent(session: Session, *, limit: int = 50, offset: int = 0, action: str | None = None,
           subject_id: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    return list(session.scalars(query))


def at_local(entry: AuditEntry) -> datetime:
    from xinyong.clock import local

    return local(entry.at)
