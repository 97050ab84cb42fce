"""The audit chain: appends verify, and every kind of tampering is found where it happened.

Tampering goes through raw SQL on a separate connection, as an attacker with database access
would; verification always reads through a fresh session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.config import Settings
from xinyong.db import JSONType, get_engine, session_factory

ACTOR = Actor(user_id=7, username="审计测试员", role="authority")


def append_entries(session: Session, count: int, start: int = 1) -> list[AuditEntry]:
    entries = [audit.append(session, ACTOR, "test.write", object_type="thing", object_id=start + n,
                            subject_id=start + n, detail={"n": start + n, "名称": f"第{start + n}次"})
               for n in range(count)]
    session.commit()
    return entries


def verify(settings: Settings, **kwargs: Any) -> audit.Verification:
    with session_factory(settings)() as fresh:
        return audit.verify(fresh, **kwargs)


def tamper(settings: Settings, sql: str, **params: Any) -> None:
    statement = text(sql)
    if "detail" in params:
        statement = statement.bindparams(bindparam("detail", type_=JSONType))
    with get_engine(settings).begin() as connection:
        connection.execute(statement, params)


def hashes(settings: Settings) -> dict[int, str]:
    with session_factory(settings)() as fresh:
        return {seq: hash_ for seq, hash_ in fresh.execute(select(AuditEntry.seq, AuditEntry.hash))}


def test_an_untouched_chain_verifies(settings: Settings, session: Session) -> None:
    entries = append_entries(session, 5)
    result = verify(settings)
    assert result.ok and result.problem is None
    assert (result.checked, result.head_seq, result.head_hash) == (5, 5, entries[-1].hash)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == audit.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(entries))
    assert verify(settings, expect_head=(5, entries[-1].hash)).ok


def test_an_empty_chain_verifies(settings: Settings) -> None:
    result = verify(settings)
    assert result.ok and result.checked == 0 and result.head_hash == audit.GENESIS


def test_a_changed_detail_is_reported_as_modified_at_that_entry(settings: Settings, session: Session) -> None:
    append_entries(session, 6)
    tamper(settings, "UPDATE audit_log SET detail = :detail WHERE seq = 4", detail={"n": 4, "名称": "改过了"})
    result = verify(settings)
    assert not result.ok
    assert (result.problem, result.problem_seq, result.checked, result.head_seq) == ("modified", 4, 3, 3)
    assert "第4条" in result.message and "篡改" in result.message


@pytest.mark.parametrize(("column", "value"), [("actor", "他人"), ("action", "test.other"), ("object_id", "999")])
def test_a_changed_column_is_reported_as_modified(settings: Settings, session: Session, column: str,
                                                  value: str) -> None:
    append_entries(session, 4)
    tamper(settings, f"UPDATE audit_log SET {column} = :value WHERE seq = 2", value=value)
    result = verify(settings)
    assert (result.ok, result.problem, result.problem_seq) == (False, "modified", 2)


def test_a_deleted_middle_entry_is_reported_as_removed(settings: Settings, session: Session) -> None:
    append_entries(session, 6)
    tamper(settings, "DELETE FROM audit_log WHERE seq = 3")
    result = verify(settings)
    assert (result.ok, result.problem, result.problem_seq, result.checked) == (False, "removed", 3, 2)
    assert "第3至3条" in result.message


def test_a_deleted_entry_with_the_rest_renumbered_is_still_removed(settings: Settings, session: Session) -> None:
    append_entries(session, 6)
    tamper(settings, "DELETE FROM audit_log WHERE seq = 3")
    for seq in range(4, 7):
        tamper(settings, "UPDATE audit_log SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    result = verify(settings)
    assert (result.ok, result.problem, result.problem_seq) == (False, "removed", 3)


def swap_seq(settings: Settings, first: int, second: int) -> None:
    move = "UPDATE audit_log SET seq = :new WHERE seq = :old"
    tamper(settings, move, new=-1, old=first)
    tamper(settings, move, new=first, old=second)
    tamper(settings, move, new=second, old=-1)


def test_two_swapped_entries_are_reported_as_reordered(settings: Settings, session: Session) -> None:
    append_entries(session, 6)
    swap_seq(settings, 3, 4)
    result = verify(settings)
    assert (result.ok, result.problem, result.problem_seq, result.checked) == (False, "reordered", 3, 2)
    assert "顺序被调换" in result.message


def test_swapping_the_first_two_entries_is_reordered(settings: Settings, session: Session) -> None:
    append_entries(session, 3)
    swap_seq(settings, 1, 2)
    result = verify(settings)
    assert (result.ok, result.problem, result.problem_seq) == (False, "reordered", 1)


def forge(settings: Settings, seq: int, detail: dict[str, Any]) -> None:
    """Rewrite entry ``seq`` consistently: new detail, new change hash, new entry hash."""
    with session_factory(settings)() as attacker:
        entry = attacker.get(AuditEntry, seq)
        assert entry is not None
        entry.detail = detail
        entry.change_hash = audit.sha256(audit.canonical(detail))
        entry.hash = audit.entry_hash(entry)
        attacker.commit()


def test_a_modified_entry_with_recomputed_hashes_is_caught_at_the_next_entry(settings: Settings,
                                                                             session: Session) -> None:
    append_entries(session, 5)
    before = hashes(settings)
    forge(settings, 3, {"n": 3, "名称": "伪造"})
    assert hashes(settings)[3] != before[3]
    result = verify(settings)
    assert not result.ok
    assert result.problem_seq == 4 and result.checked == 3
    assert result.problem == "removed"  # its predecessor's hash no longer exists: "删除或替换"
    assert "替换" in result.message


def test_an_inserted_entry_is_reported_as_inserted(settings: Settings, session: Session) -> None:
    """Shift entries 3.. up by one and slot a well-formed forgery in at 3, linked to entry 2."""
    append_entries(session, 5)
    for seq in range(5, 2, -1):
        tamper(settings, "UPDATE audit_log SET seq = :new WHERE seq = :old", new=seq + 1, old=seq)
    with session_factory(settings)() as attacker:
        previous = attacker.get(AuditEntry, 2)
        assert previous is not None
        forged = AuditEntry(seq=3, at=previous.at, actor_id=None, actor="伪造者", role="system", action="test.write",
                            object_type="thing", object_id="x", subject_id=None, detail={},
                            change_hash=audit.sha256(audit.canonical({})), prev_hash=previous.hash)
        forged.hash = audit.entry_hash(forged)
        attacker.add(forged)
        attacker.commit()
    result = verify(settings)
    assert (result.ok, result.problem, result.problem_seq) == (False, "inserted", 4)
    assert "第2条与第4条之间" in result.message


def test_a_truncated_tail_is_caught_by_the_expected_head(settings: Settings, session: Session) -> None:
    append_entries(session, 6)
    head = verify(settings)
    tamper(settings, "DELETE FROM audit_log WHERE seq > 4")
    assert verify(settings).ok  # the chain alone cannot know its tail is gone …
    result = verify(settings, expect_head=(head.head_seq, head.head_hash))
    assert (result.ok, result.problem, result.problem_seq, result.head_seq) == (False, "head_mismatch", 4, 4)
    assert "预期第6条，实际第4条" in result.message


def test_verify_reads_the_database_not_the_sessions_cached_objects(settings: Settings, session: Session) -> None:
    """Tampering must be seen even by a session that still holds the entries it appended."""
    entries = append_entries(session, 3)
    tamper(settings, "UPDATE audit_log SET detail = :detail WHERE seq = 2", detail={"n": 2, "名称": "改过了"})
    result = audit.verify(session)
    assert entries  # keep the appended objects (and the identity map entries) alive
    assert (result.ok, result.problem, result.problem_seq) == (False, "modified", 2)


# --- concurrent writers --------------------------------------------------------------------

WRITERS, PER_WRITER = 4, 25


def run_writers(settings: Settings, write: Callable[[Session, int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def worker(number: int) -> None:
        try:
            with session_factory(settings)() as own:
                barrier.wait()
                for _ in range(PER_WRITER):
                    write(own, number)
                    own.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return errors


def test_parallel_writers_never_fork_the_chain(settings: Settings) -> None:
    def write(own: Session, number: int) -> None:
        audit.append(own, Actor.system(f"写入者{number}"), "test.parallel", object_type="thing",
                     detail={"writer": number})

    errors = run_writers(settings, write)
    assert errors == []
    total = WRITERS * PER_WRITER
    with session_factory(settings)() as fresh:
        rows = fresh.execute(select(AuditEntry.seq, AuditEntry.prev_hash).order_by(AuditEntry.seq)).all()
        result = audit.verify(fresh)
    assert [row.seq for row in rows] == list(range(1, total + 1))
    assert len({row.prev_hash for row in rows}) == total  # no two entries claim the same predecessor
    assert result.ok and result.checked == total
