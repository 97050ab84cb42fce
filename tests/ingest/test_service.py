"""Collection end to end: a department's file → ``submit_file`` → ``run_batch`` → records and row outcomes.

Every test goes through the real pipeline (readers, column mapping, the column-wise fast path and
its scalar fallback, subject resolution, chains, chunk commits) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.support import ingest_files as F
from tests.support.world import PASSWORD, SUBJECT_CODE, World
from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.config import Settings
from xinyong.db import session_factory
from xinyong.errors import Forbidden, Invalid
from xinyong.ingest import report, service
from xinyong.ingest.mapping import REPORT_NOTE_COLUMNS
from xinyong.ingest.models import IngestBatch, IngestRow
from xinyong.policy import calendar_service
from xinyong.records import service as records
from xinyong.records.models import Record
from xinyong.records.schemas import SubjectRef
from xinyong.subjects import service as subjects

ITEM = "ADM_PENALTY"
TODAY = date(2026, 6, 15)  # the frozen clock (tests.conftest.FROZEN_AT)
WORLD_SUBJECT_NAME = "南京示范科技有限公司"  # as tests.support.world registers SUBJECT_CODE


@dataclass
class Desk:
    """A department's submitter at work: writes files, submits them, reads what became of them."""

    session: Session
    settings: Settings
    actor: Actor
    department_id: int
    other: Actor  # a submitter of another department
    directory: Path

    def write(self, rows: Sequence[F.Row], file_format: str = "csv-utf8", *, header: Sequence[str] | None = None,
              name: str = "行政处罚") -> Path:
        return F.write_rows(self.directory, file_format, rows, header=header, name=name)

    def write_bytes(self, data: bytes, name: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / name
        path.write_bytes(data)
        return path

    def submit(self, path: Path, *, actor: Actor | None = None, item: str = ITEM,
               encoding: str | None = None) -> IngestBatch:
        batch = service.submit_file(self.session, actor or self.actor, item, path, path.name,
                                    declared_encoding=encoding)
        self.session.commit()
        return batch

    def run(self, batch_id: int, *, chunk_rows: int | None = None) -> IngestBatch:
        self.session.commit()  # SQLite: the importer's transactions need the write lock
        service.run_batch(session_factory(self.settings), batch_id, chunk_rows=chunk_rows)
        self.session.expire_all()
        return service.get_batch(self.session, batch_id)

    def ingest(self, path: Path, *, actor: Actor | None = None, item: str = ITEM, encoding: str | None = None,
               chunk_rows: int | None = None) -> IngestBatch:
        batch = self.submit(path, actor=actor, item=item, encoding=encoding)
        return self.run(batch.id, chunk_rows=chunk_rows)

    def outcomes(self, batch_id: int) -> dict[int, IngestRow]:
        rows = self.session.scalars(select(IngestRow).where(IngestRow.batch_id == batch_id))
        return {row.row_number: row for row in rows}

    def records(self, batch_id: int) -> dict[int, Record]:
        """The records a batch created, by source row."""
        found = self.session.scalars(select(Record).where(Record.batch_id == batch_id))
        return {record.source_row or 0: record for record in found}

    def record_count(self) -> int:
        return records.count(self.session)

    def verdicts(self, batch_id: int,
                 numbers: Sequence[int]) -> list[tuple[str, Record | None, list[tuple[str, str]]]]:
        """Per row: outcome, the record it stands for (created or recognised), its (field, code) problems."""
        rows, created = self.outcomes(batch_id), self.records(batch_id)
        out = []
        for number in numbers:
            row = rows.get(number)
            if row is None:
                out.append(("accepted", created[number], []))
            else:
                record = self.session.get(Record, row.record_id) if row.record_id else None
                out.append((row.outcome, record, [(p["field"], p["code"]) for p in row.problems]))
        return out


@pytest.fixture
def desk(world: World, seeded: Session, settings: Settings, tmp_path: Path, frozen_clock: datetime) -> Desk:
    user = seeded.scalar(select(User).where(User.username == world.usernames["department_submitter"]))
    assert user is not None
    other_department = access.create_department(seeded, code=F.OTHER_DEPARTMENT_CODE, name=F.OTHER_DEPARTMENT_NAME,
                                                short_name="秦淮区市场监管局", region_code="320104", sector="市场监管")
    other = access.create_user(seeded, Actor.system(), access.NewUser(
        "qhjg", PASSWORD, "department_submitter", "秦淮区市场监管局", department_id=other_department.id))
    seeded.commit()
    return Desk(seeded, settings, access.actor_for(user), world.department_id, access.actor_for(other),
                tmp_path / "files")


def row_number(file_format: str, index: int) -> int:
    """The row number a department sees for the ``index``-th data row (0-based) of its file."""
    return index + (1 if file_format in ("json", "ndjson") else 2)


def varied_rows(count: int = 12) -> list[F.Row]:
    """Clean rows with the awkward things real files hold: commas, quotes, line breaks, optional columns."""
    rows = F.penalty_rows(count, deadline="")
    rows[0][F.CF_SY] = "经查，当事人在“双十一”期间发布\"全网最低价\"宣传，\n实际价格高于平时，构成虚假宣传"
    rows[1][F.CF_GSJZQ] = "2029-06-09"
    rows[2][F.CF_NR_FK] = "12.5"
    rows[3][F.CF_WSH] = "宁玄市监处罚〔2026〕第0003号，附件一"
    rows[4][F.NAME] = "南京梧桐餐饮管理有限公司（普通合伙）"
    return rows


# --- formats ---------------------------------------------------------------------------------------


def test_every_format_gives_identical_records(desk: Desk) -> None:
    rows = varied_rows()
    header = F.PENALTY_HEADER_WITH_DEADLINE
    first = desk.ingest(desk.write(rows, "csv-utf8", header=header))
    assert (first.status, first.file_format, first.encoding) == ("done", "csv", "utf-8")
    assert (first.total_rows, first.accepted, first.rejected, first.flagged) == (len(rows), len(rows), 0, 0)
    originals = desk.records(first.id)
    assert sorted(originals) == [row_number("csv-utf8", i) for i in range(len(rows))]
    sample = originals[row_number("csv-utf8", 0)]
    assert sample.payload["CF_SY"] == rows[0][F.CF_SY]
    assert originals[row_number("csv-utf8", 1)].payload["CF_GSJZQ"] == "2029-06-09"
    assert "CF_GSJZQ" not in sample.payload  # an empty optional cell is no value at all
    assert originals[row_number("csv-utf8", 2)].payload["CF_NR_FK"] == "12.5"
    by_index = [originals[row_number("csv-utf8", i)] for i in range(len(rows))]
    total = desk.record_count()

    expected_encoding = {"csv-bom": "utf-8-sig", "csv-gbk": "gb18030"}
    for file_format in F.FORMATS[1:]:
        batch = desk.ingest(desk.write(rows, file_format, header=header))
        assert batch.status == "done", (file_format, batch.error_code, batch.error_message)
        if file_format in expected_encoding:
            assert batch.encoding == expected_encoding[file_format]
        assert (batch.total_rows, batch.duplicate, batch.accepted, batch.corrected) == (len(rows), len(rows), 0, 0), \
            file_format
        outcomes = desk.outcomes(batch.id)
        for index, original in enumerate(by_index):
            row = outcomes[row_number(file_format, index)]
            assert (row.outcome, row.record_id) == ("duplicate", original.id), (file_format, index)
    assert desk.record_count() == total


def test_a_license_file_is_collected_like_a_penalty_file(desk: Desk) -> None:
    rows = F.license_rows(4)
    batch = desk.ingest(desk.write(rows, "xlsx", name="行政许可"), item="ADM_LICENSE")
    assert (batch.status, batch.accepted) == ("done", 4), batch.error_message
    stored = desk.records(batch.id)[2]
    assert stored.payload["XK_WSH"] == "宁玄市监许〔2026〕1号"
    assert stored.payload["XK_YXQZI"] == "2031-06-09" and stored.decision_date == date(2026, 6, 10)


# --- bad rows ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv-gbk", "xlsx", "ndjson"])
def test_each_bad_row_is_rejected_with_its_row_field_code_and_message(desk: Desk, file_format: str) -> None:
    rows = F.penalty_rows(len(F.BAD) + 3)
    broken = {index: kind for index, kind in enumerate(F.BAD, start=1)}
    batch = desk.ingest(desk.write(F.inject(rows, broken), file_format))
    assert batch.status == "done"
    assert (batch.total_rows, batch.rejected, batch.accepted) == (len(rows), len(F.BAD), len(rows) - len(F.BAD))
    outcomes = desk.outcomes(batch.id)
    assert {row.outcome for row in outcomes.values()} == {"rejected"}
    for index, kind in broken.items():
        bad = F.BAD[kind]
        row = outcomes[row_number(file_format, index)]
        assert row.record_id is None
        assert [(p["field"], p["code"]) for p in row.problems] == [(bad.field, bad.code)], kind
        assert bad.message in row.problems[0]["message"], (kind, row.problems[0]["message"])
        assert row.source is not None and row.source[bad.column] == (bad.value or None)
    assert sorted(desk.records(batch.id)) == [row_number(file_format, i) for i in range(len(rows)) if i not in broken]


def test_the_check_digit_message_names_the_expected_character(desk: Desk) -> None:
    code = F.subject_code(40)
    wrong, expected = F.wrong_check_digit(code)
    rows = F.inject(F.penalty_rows(2, start=40), {0: {F.CODE: wrong}, 1: {F.CF_CFJGDM: wrong}})
    batch = desk.ingest(desk.write(rows))
    outcomes = desk.outcomes(batch.id)
    subject_problem, = outcomes[2].problems
    assert subject_problem["code"] == "USCC_CHECK_DIGIT"
    assert subject_problem["message"] == f"统一社会信用代码第18位校验码应为“{expected}”，实际为“{wrong[17]}”"
    field_problem, = outcomes[3].problems
    assert (field_problem["field"], field_problem["code"]) == ("CF_CFJGDM", "USCC_CHECK_DIGIT")
    assert field_problem["message"].startswith("处罚机关统一社会信用代码：") and f"应为“{expected}”" in field_problem["message"]


def test_every_problem_of_a_row_is_reported(desk: Desk) -> None:
    rows = F.inject(F.penalty_rows(1), {0: {F.CF_SY: " ", F.CF_JDRQ: "2026-13-01", F.CF_CFLB: "罚金", F.CF_NR_FK: "-1"}})
    batch = desk.ingest(desk.write(rows))
    codes = {(p["field"], p["code"]) for p in desk.outcomes(batch.id)[2].problems}
    assert codes == {("CF_SY", "FIELD_REQUIRED"), ("CF_JDRQ", "FIELD_DATE"), ("CF_CFLB", "FIELD_ENUM"),
                     ("CF_NR_FK", "FIELD_TOO_SMALL")}


def test_odd_but_valid_spellings_are_accepted_and_stored_canonically(desk: Desk) -> None:
    rows = F.inject(F.penalty_rows(5), {
        0: {F.CF_JDRQ: "2026/6/5", F.CF_NR_FK: "1,200.50"},
        1: {F.CF_JDRQ: "2026年6月5日", F.CF_NR_FK: " 2 "},
        2: {F.CODE: F.subject_code(3).lower(), F.CF_CFJGDM: F.DEPARTMENT_CODE.lower()},
        3: {F.CODE: F.subject_code(4).translate(str.maketrans("0123456789ABCDEFGHJKLMNPQRTUWXY",
                                                              "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹ"))},
        4: {F.CF_CFLB: " 罚款 ", F.CF_NR_FK: "+3"},
    })
    batch = desk.ingest(desk.write(rows))
    assert (batch.accepted, batch.rejected) == (5, 0), desk.outcomes(batch.id)
    stored = desk.records(batch.id)
    assert (stored[2].payload["CF_JDRQ"], stored[2].payload["CF_NR_FK"]) == ("2026-06-05", "1200.50")
    assert (stored[3].payload["CF_JDRQ"], stored[3].payload["CF_NR_FK"]) == ("2026-06-05", "2")
    assert stored[4].payload["CF_CFJGDM"] == F.DEPARTMENT_CODE
    assert subjects.get(desk.session, stored[4].subject_id).uscc == F.subject_code(3)
    assert subjects.get(desk.session, stored[5].subject_id).uscc == F.subject_code(4)
    assert (stored[6].payload["CF_CFLB"], stored[6].payload["CF_NR_FK"]) == ("罚款", "3")


# --- flags ---------------------------------------------------------------------------------------------


def _due(session: Session, decided: date) -> date:
    return calendar_service.working_calendar(session).add_working_days(decided, 7)


def test_late_rows_are_accepted_and_flagged_and_rows_on_time_are_not(desk: Desk) -> None:
    decided = date(2026, 5, 6)
    due = _due(desk.session, decided)
    desk.session.commit()
    assert due < TODAY
    late_row = F.penalty_row(1, decision_date=decided.isoformat())
    on_time = F.penalty_row(2, decision_date=(TODAY - timedelta(days=1)).isoformat())
    batch = desk.ingest(desk.write([late_row, on_time]))
    assert (batch.accepted, batch.flagged, batch.rejected) == (1, 1, 0)
    flagged = desk.outcomes(batch.id)[2]
    assert flagged.outcome == "flagged" and flagged.record_id == desk.records(batch.id)[2].id
    problem, = flagged.problems
    assert problem["code"] == "LATE_SUBMISSION"
    assert f"应于{due.isoformat()}前报送（7个工作日）" in problem["message"] and "已逾期" in problem["message"]
    assert 3 not in desk.outcomes(batch.id)  # on time: a plain acceptance, nothing to report


def test_timeliness_boundary_is_the_seventh_working_day(desk: Desk) -> None:
    decided = date(2026, 6, 1)
    due = _due(desk.session, decided)
    desk.session.commit()
    clock.freeze(datetime(due.year, due.month, due.day, 18, 0))
    on_due_day = desk.ingest(desk.write([F.penalty_row(1, decision_date=decided.isoformat())], name="当天"))
    assert (on_due_day.accepted, on_due_day.flagged) == (1, 0)
    clock.freeze(datetime(due.year, due.month, due.day, 18, 0) + timedelta(days=1))
    next_day = desk.ingest(desk.write([F.penalty_row(2, decision_date=decided.isoformat())], name="次日"))
    assert (next_day.accepted, next_day.flagged) == (0, 1)


def test_a_name_that_differs_from_the_registry_is_flagged_and_listed_as_a_code_conflict(desk: Desk) -> None:
    rows = F.penalty_rows(3, start=50)
    rows[0].update({F.NAME: "南京示范科技公司", F.CODE: SUBJECT_CODE})  # registry: 南京示范科技有限公司
    rows[1].update({F.NAME: " 南京示范科技有限公司 ", F.CODE: SUBJECT_CODE})  # the same name, spaced
    batch = desk.ingest(desk.write(rows))
    assert (batch.flagged, batch.accepted, batch.rejected) == (1, 2, 0)
    flagged = desk.outcomes(batch.id)[2]
    problem, = flagged.problems
    assert (problem["field"], problem["code"]) == ("__name", "SUBJECT_NAME_MISMATCH")
    assert "南京示范科技公司" in problem["message"] and "赋码冲突" in problem["message"]
    record = desk.records(batch.id)[2]
    assert record.subject_id == subjects.by_code(desk.session, SUBJECT_CODE).id  # not a new subject
    assert subjects.get(desk.session, record.subject_id).name == WORLD_SUBJECT_NAME  # registry name kept
    conflicts = [view.conflict for view in subjects.list_conflicts(desk.session, open_only=True)]
    conflict, = [c for c in conflicts if c.kind == "code_conflict" and c.conflict_key == SUBJECT_CODE]
    assert {claim["name"] for claim in conflict.evidence["claims"]} >= {"南京示范科技公司", WORLD_SUBJECT_NAME}


def test_natural_persons_are_identified_by_citizen_id(desk: Desk) -> None:
    header = [F.NAME, F.CODE, F.CITIZEN_ID, *F.PENALTY_HEADER[2:]]
    person = F.citizen_id(7)
    wrong = person[:17] + next(c for c in "0123456789X" if c != person[17])
    rows = F.inject(F.penalty_rows(4, start=70), {
        0: {F.NAME: "张三", F.CODE: "", F.CITIZEN_ID: person},
        1: {F.NAME: "张三", F.CODE: "", F.CITIZEN_ID: person.lower()[:-1] + person[-1].lower()},
        2: {F.NAME: "李四", F.CODE: "", F.CITIZEN_ID: wrong},
        3: {F.NAME: "王五", F.CODE: "", F.CITIZEN_ID: ""},
    })
    batch = desk.ingest(desk.write(rows, header=header))
    assert (batch.accepted, batch.rejected) == (2, 2), {k: v.problems for k, v in desk.outcomes(batch.id).items()}
    stored = desk.records(batch.id)
    assert stored[2].subject_id == stored[3].subject_id
    subject = subjects.get(desk.session, stored[2].subject_id)
    assert subject.kind == "natural_person" and subject.uscc is None and person not in str(subject.__dict__)
    outcomes = desk.outcomes(batch.id)
    assert [(p["field"], p["code"]) for p in outcomes[4].problems] == [("__citizen_id", "PERSON_ID_CHECK_DIGIT")]
    assert [(p["field"], p["code"]) for p in outcomes[5].problems] == [("__uscc", "SUBJECT_REF_MISSING")]


# --- idempotence, corrections, revocations ----------------------------------------------------------------


def test_resubmitting_the_same_file_creates_nothing_new(desk: Desk) -> None:
    path = desk.write(F.penalty_rows(6))
    first = desk.ingest(path)
    total, rows_before = desk.record_count(), service.count_rows(desk.session, first)
    audit_before = audit.count(desk.session)
    again = desk.submit(path)
    assert again.id == first.id and again.status == "done"
    renamed = path.with_name("行政处罚（重新导出）.csv")
    renamed.write_bytes(path.read_bytes())
    assert desk.submit(renamed).id == first.id  # the content, not the name, identifies a file
    assert desk.run(first.id).processed_rows == 6
    assert desk.record_count() == total
    assert service.count_rows(desk.session, first) == rows_before
    assert audit.count(desk.session) == audit_before
    assert desk.session.scalar(select(func.count()).select_from(IngestBatch)) == 1


def test_the_same_rows_in_another_file_are_all_duplicates(desk: Desk) -> None:
    rows = F.penalty_rows(5)
    first = desk.ingest(desk.write(rows))
    total = desk.record_count()
    reordered = [*reversed(F.PENALTY_HEADER)]
    second = desk.ingest(desk.write(list(reversed(rows)), "csv-bom", header=reordered, name="另一个文件"))
    assert second.id != first.id
    assert (second.duplicate, second.accepted, second.corrected, second.flagged) == (5, 0, 0, 0)
    assert desk.record_count() == total
    ids = {record.source_row: record.id for record in desk.records(first.id).values()}
    for number, row in desk.outcomes(second.id).items():
        assert row.record_id == ids[2 + 5 + 1 - number]


def test_changed_content_under_the_same_decision_number_is_a_correction(desk: Desk) -> None:
    rows = F.penalty_rows(3)
    first = desk.ingest(desk.write(rows))
    originals = desk.records(first.id)
    changed = F.inject(rows, {1: {F.CF_NR_FK: "8", F.CF_NR: "罚款8万元"}})
    second = desk.ingest(desk.write(changed, "xlsx"))
    assert (second.corrected, second.duplicate, second.accepted) == (1, 2, 0)
    correction = desk.records(second.id)[3]
    assert correction.kind == "correction" and correction.supersedes_id == originals[3].id
    assert correction.payload["CF_NR_FK"] == "8"
    assert desk.outcomes(second.id)[3].outcome == "correction"
    assert not records.is_current(desk.session, originals[3]) and records.is_current(desk.session, correction)
    assert [r.id for r in records.history(desk.session, correction)] == [originals[3].id, correction.id]


def test_two_versions_of_a_decision_in_one_file_chain_in_file_order(desk: Desk) -> None:
    rows = F.penalty_rows(1)
    rows.append({**rows[0], F.CF_NR_FK: "9", F.CF_NR: "罚款9万元"})
    rows.append(dict(rows[1]))
    batch = desk.ingest(desk.write(rows), chunk_rows=2)
    assert (batch.accepted, batch.corrected, batch.duplicate) == (1, 1, 1)
    created = desk.records(batch.id)
    assert created[3].supersedes_id == created[2].id and created[3].kind == "correction"
    assert desk.outcomes(batch.id)[4].record_id == created[3].id


def test_a_revoked_record_sent_again_is_a_new_original(desk: Desk) -> None:
    rows = F.penalty_rows(3)
    first = desk.ingest(desk.write(rows))
    target = desk.records(first.id)[2]
    revocation = records.revoke(desk.session, desk.actor, target.id, "行政复议决定撤销原处罚决定")
    desk.session.commit()
    again = desk.ingest(desk.write(rows, "ndjson"))
    assert (again.accepted, again.duplicate, again.corrected) == (1, 2, 0)
    new = desk.records(again.id)[1]
    assert new.kind == "original" and new.supersedes_id is None
    assert new.natural_key == target.natural_key and new.content_hash == target.content_hash
    assert [r.id for r in records.history(desk.session, new)] == [target.id, revocation.id, new.id]
    assert records.is_current(desk.session, new)


def test_two_runners_of_one_batch_account_for_each_row_once(desk: Desk) -> None:
    batch = desk.submit(desk.write(F.penalty_rows(9)))
    factory = session_factory(desk.settings)
    second: list[int] = []

    def progress(done: int, _total: int | None) -> None:
        if done and not second:  # the first chunk is committed: someone presses 继续导入
            second.append(service.run_batch(factory, batch.id, chunk_rows=3).processed_rows)

    service.run_batch(factory, batch.id, chunk_rows=3, progress=progress)
    desk.session.expire_all()
    done = service.get_batch(desk.session, batch.id)
    assert len(desk.records(batch.id)) == 9
    assert (done.processed_rows, done.total_rows, done.accepted, done.duplicate) == (9, 9, 9, 0)


# --- file-level errors ------------------------------------------------------------------------------------


def _csv(rows: Sequence[F.Row], header: Sequence[str] = F.PENALTY_HEADER, encoding: str = "utf-8") -> bytes:
    return F.csv_bytes(rows, header=header, encoding=encoding)


def _truncated_csv() -> bytes:
    rows = F.penalty_rows(5)
    rows[-1][F.CF_SY] = "当事人于2026年5月在其经营场所销售过期食品，\n货值金额三百元"
    data = _csv(rows)
    return data[: data.rindex("货值".encode())]


def _ragged_csv() -> bytes:
    lines = _csv(F.penalty_rows(40)).split(b"\r\n")
    lines[20] += ",多出来的一列".encode()
    return b"\r\n".join(lines)


def _truncated_xlsx(tmp: Path) -> bytes:
    data = F.write_xlsx(tmp / "whole.xlsx", F.penalty_rows(5)).read_bytes()
    return data[: len(data) // 2]


FILE_ERRORS: dict[str, tuple[str, str, Any, str]] = {
    # case: (file name, expected code, bytes or a function of a scratch dir, fragment of the message)
    "unknown columns": ("unknown.csv", "FILE_UNKNOWN_COLUMNS",
                        _csv([{**r, "经办人": "王五", "联系电话": "025-84000000"} for r in F.penalty_rows(3)],
                             [*F.PENALTY_HEADER, "经办人", "联系电话"]), "经办人、联系电话"),
    "duplicate columns": ("dup.csv", "FILE_DUPLICATE_COLUMNS",
                          _csv([{**r, "社会信用代码": r[F.CODE]} for r in F.penalty_rows(3)],
                               [*F.PENALTY_HEADER, "社会信用代码"]), "列“统一社会信用代码”和列“社会信用代码”"),
    "missing required columns": ("missing.csv", "FILE_MISSING_COLUMNS",
                                 _csv(F.penalty_rows(3), [c for c in F.PENALTY_HEADER if c not in (F.CF_SY, F.CF_JDRQ)]),
                                 "违法事实、处罚决定日期"),
    "empty file": ("empty.csv", "FILE_EMPTY", b"", "文件为空"),
    "header only": ("header.csv", "FILE_NO_ROWS", _csv([]), "没有数据行"),
    "wrong encoding claim": ("gbk.csv", "FILE_ENCODING_MISMATCH", _csv(F.penalty_rows(3), encoding="gbk"),
                             "声明的编码为“utf-8”"),
    "truncated csv": ("truncated.csv", "FILE_TRUNCATED", _truncated_csv(), "可能被截断"),
    "ragged row in the middle": ("ragged.csv", "FILE_RAGGED", _ragged_csv(), "第 21 行有 15 个字段"),
    "truncated xlsx": ("truncated.xlsx", "FILE_CORRUPT", _truncated_xlsx, "无法打开 Excel 工作簿"),
    "invalid utf-8 in json": ("bad.json", "FILE_ENCODING",
                              '[{"行政相对人名称": "'.encode() + "南京".encode("gbk") + b'"}]', "必须是 UTF-8"),
    "truncated ndjson": ("cut.ndjson", "FILE_JSON_INVALID", None, "第 30 行"),
}


def _ndjson_cut(desk: Desk) -> bytes:
    data = desk.write(F.penalty_rows(30), "ndjson").read_bytes()
    return data[: len(data) - 40]


@pytest.mark.parametrize("case", list(FILE_ERRORS))
def test_a_file_level_error_fails_the_batch_and_leaves_nothing_visible(desk: Desk, case: str) -> None:
    name, code, content, fragment = FILE_ERRORS[case]
    if content is None:
        content = _ndjson_cut(desk)
    elif callable(content):
        content = content(desk.directory.parent)
    path = desk.write_bytes(content, name)
    total, subjects_before = desk.record_count(), subjects.count(desk.session)
    batch = desk.ingest(path, encoding="utf-8" if case == "wrong encoding claim" else None, chunk_rows=5)
    assert (batch.status, batch.error_code) == ("failed", code), batch.error_message
    assert fragment in (batch.error_message or ""), batch.error_message
    assert batch.accepted == batch.rejected == batch.processed_rows == 0
    assert desk.record_count() == total
    assert subjects.count(desk.session) == subjects_before
    assert service.count_rows(desk.session, batch) == 0
    assert desk.records(batch.id) == {}
    refused = desk.session.scalar(select(AuditEntry).where(AuditEntry.action == "ingest.refuse")
                                  .order_by(AuditEntry.seq.desc()).limit(1))
    assert refused is not None and refused.detail["code"] == code


def test_a_ragged_row_late_in_a_big_file_stops_it_before_any_chunk_commits(desk: Desk) -> None:
    lines = _csv(F.penalty_rows(300)).split(b"\r\n")
    lines[290] = lines[290].rsplit(b",", 1)[0]  # one field short
    path = desk.write_bytes(b"\r\n".join(lines), "late-ragged.csv")
    total = desk.record_count()
    batch = desk.ingest(path, chunk_rows=20)
    assert (batch.status, batch.error_code) == ("failed", "FILE_RAGGED")
    assert "第 291 行有 13 个字段" in (batch.error_message or "")
    assert desk.record_count() == total and batch.processed_rows == 0


# --- column mappings and the error report ------------------------------------------------------------------

OWN_COLUMNS = {"当事人": "__name", "信用代码": "__uscc", "文书号": "CF_WSH", "违法类型": "CF_WFXW", "案情": "CF_SY",
               "法律依据": "CF_YJ", "种类": "CF_CFLB", "处罚结果": "CF_NR", "罚没金额": "CF_NR_FK", "决定日期": "CF_JDRQ",
               "执法机关": "CF_CFJG", "执法机关代码": "CF_CFJGDM", "报送单位": "CF_SJLY", "报送单位代码": "CF_SJLYDM",
               "经办人": ""}


def test_a_saved_column_mapping_makes_the_departments_own_columns_import(desk: Desk) -> None:
    standard = dict(zip(F.PENALTY_HEADER, OWN_COLUMNS, strict=False))
    rows = [{standard[column]: value for column, value in row.items()} | {"经办人": "王五"}
            for row in F.penalty_rows(4)]
    path = desk.write(rows, "xlsx", header=list(OWN_COLUMNS))
    refused = desk.ingest(path)
    assert (refused.status, refused.error_code) == ("failed", "FILE_UNKNOWN_COLUMNS")
    with pytest.raises(Invalid) as wrong:
        service.save_mapping(desk.session, desk.actor, ITEM, {"案情": "CF_NOT_A_FIELD"})
    assert wrong.value.code == "MAPPING_TARGET_UNKNOWN"
    desk.session.rollback()
    service.save_mapping(desk.session, desk.actor, ITEM, OWN_COLUMNS)
    batch = desk.ingest(path)
    assert batch.id == refused.id  # the refused file is checked again, now with the mapping
    assert (batch.status, batch.accepted) == ("done", 4), batch.error_message
    stored = desk.records(batch.id)[2]
    assert stored.payload["CF_WSH"] == F.penalty_number(1) and "经办人" not in str(stored.payload)
    # another department's mapping is its own
    other = desk.ingest(path, actor=desk.other)
    assert (other.status, other.error_code) == ("failed", "FILE_UNKNOWN_COLUMNS")


def _read_report_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _report(desk: Desk, batch: IngestBatch) -> tuple[list[str], list[list[str]]]:
    return report.report_rows(batch, service.row_outcomes(desk.session, batch, ("rejected", "flagged")))


def test_the_error_report_can_be_fixed_and_sent_back_as_it_is(desk: Desk) -> None:
    rows = F.inject(F.penalty_rows(6), {1: "bad_date", 3: "enum", 4: {F.CF_JDRQ: "2026-05-06"}})  # row 4: late
    batch = desk.ingest(desk.write(rows, "csv-gbk"))
    assert (batch.rejected, batch.flagged, batch.accepted) == (2, 1, 3)
    header, table = _report(desk, batch)
    assert header == [*F.PENALTY_HEADER, *REPORT_NOTE_COLUMNS]
    parsed = _read_report_csv(report.as_csv(header, table))
    assert parsed[0] == header
    by_row = {line[len(F.PENALTY_HEADER)]: line for line in parsed[1:]}
    assert sorted(by_row) == ["3", "5", "6"]
    assert by_row["3"][:len(F.PENALTY_HEADER)] == [rows[1][c] for c in F.PENALTY_HEADER]  # values as sent
    assert by_row["3"][-3:] == ["已拒绝", "FIELD_DATE", "处罚决定日期“2026-02-30”不是有效日期（应为YYYY-MM-DD）"]
    assert by_row["6"][-3] == "已接收但需核实" and by_row["6"][-2] == "LATE_SUBMISSION"

    # the department fixes the two rejected rows in the report and sends it back as it is
    date_column, kind_column = F.PENALTY_HEADER.index(F.CF_JDRQ), F.PENALTY_HEADER.index(F.CF_CFLB)
    by_row["3"][date_column] = "2026-06-10"
    by_row["5"][kind_column] = "罚款"
    fixed = io.StringIO()
    csv.writer(fixed, lineterminator="\r\n").writerows(parsed)
    total = desk.record_count()
    again = desk.ingest(desk.write_bytes(("\ufeff" + fixed.getvalue()).encode(), "错误报告-已修改.csv"))
    assert again.status == "done", again.error_message
    assert (again.accepted, again.rejected, again.duplicate, again.flagged) == (2, 0, 1, 0)
    assert desk.record_count() == total + 2
    # the late row is recognised as the record already held: the note columns are not part of it
    late, = [row for row in desk.outcomes(again.id).values() if row.outcome == "duplicate"]
    assert late.record_id == desk.records(batch.id)[6].id


def test_the_xlsx_error_report_reads_back_and_re_imports(desk: Desk) -> None:
    rows = F.inject(F.penalty_rows(3), {0: "amount"})
    batch = desk.ingest(desk.write(rows, "ndjson"))
    header, table = _report(desk, batch)
    data = report.as_xlsx(header, table, "错误报告")
    frame = pl.read_excel(io.BytesIO(data), infer_schema_length=0)
    assert frame.columns == header
    assert frame.row(0) == (*[rows[0][c] for c in F.PENALTY_HEADER], "1", "已拒绝", "FIELD_DECIMAL",
                            "罚款金额（万元）“两万元”不是有效数字")
    path = desk.write_bytes(data, "错误报告.xlsx")
    again = desk.ingest(path)
    assert (again.status, again.rejected, again.accepted) == ("done", 1, 0)  # still wrong, still reported


FORMULAS = {F.CF_WFXW: "=cmd|' /C calc'!A0", F.CF_SY: "@SUM(1)", F.CF_NR: "+1+1", F.CF_NR_FK: "-3",
            F.CF_YJ: "\t=1+2"}


def test_the_error_report_neutralises_formula_cells_in_csv_and_xlsx(desk: Desk) -> None:
    rows = F.inject(F.penalty_rows(2), {0: FORMULAS})
    batch = desk.ingest(desk.write(rows))
    assert batch.rejected == 1  # -3 is below the minimum amount
    header, table = _report(desk, batch)
    expected = {F.CF_WFXW: "'=cmd|' /C calc'!A0", F.CF_SY: "'@SUM(1)", F.CF_NR: "'+1+1", F.CF_NR_FK: "-3",
                F.CF_YJ: "'\t=1+2"}
    csv_line = _read_report_csv(report.as_csv(header, table))[1]
    xlsx_line = pl.read_excel(io.BytesIO(report.as_xlsx(header, table, "错误报告")), infer_schema_length=0).row(0)
    for line in (csv_line, list(xlsx_line)):
        got = dict(zip(header, line, strict=True))
        assert {column: got[column] for column in expected} == expected
        assert got[F.NAME] == rows[0][F.NAME]
        for value in line:
            assert not (value or "").startswith(("=", "@", "+", "\t")), value
    assert report.neutralise("-3.5") == "-3.5" and report.neutralise("-1+2") == "'-1+2"


def test_a_20_mb_cell_is_rejected_as_too_long_and_kept_only_in_part(desk: Desk) -> None:
    rows = F.penalty_rows(3)
    rows[1][F.CF_SY] = "违" * (20 * 1024 * 1024 // 3)  # 20 MB of UTF-8
    batch = desk.ingest(desk.write(rows))
    assert (batch.status, batch.rejected, batch.accepted) == ("done", 1, 2)
    row = desk.outcomes(batch.id)[3]
    problem, = row.problems
    assert (problem["field"], problem["code"]) == ("CF_SY", "FIELD_TOO_LONG")
    assert problem["message"] == "违法事实超过4000个字符"
    kept = row.source[F.CF_SY]
    assert len(kept) < 2100 and kept.startswith("违" * 2000) and "已截断" in kept
    header, table = _report(desk, batch)
    assert len(report.as_csv(header, table)) < 20_000


def test_a_huge_cell_in_an_enum_field_does_not_bloat_the_stored_problem(desk: Desk) -> None:
    rows = F.penalty_rows(1)
    rows[0][F.CF_CFLB] = "罚" * 1_000_000
    batch = desk.ingest(desk.write(rows))
    problem, = desk.outcomes(batch.id)[2].problems
    assert problem["code"] == "FIELD_ENUM"
    assert len(problem["message"]) < 5000


def test_the_audit_chain_verifies_after_imports(desk: Desk) -> None:
    desk.ingest(desk.write(F.inject(F.penalty_rows(8), {2: "enum"})))
    desk.ingest(desk.write(F.inject(F.penalty_rows(8), {2: {F.CF_CFLB: "警告"}}), "xlsx"))
    desk.ingest(desk.write_bytes(b"", "empty.csv"))
    result = audit.verify(desk.session)
    assert result.ok, result.message
    actions = set(desk.session.scalars(select(AuditEntry.action)))
    assert {"ingest.submit", "ingest.chunk", "ingest.finish", "ingest.refuse", "subject.register_many"} <= actions


def test_a_department_cannot_see_another_departments_batch(desk: Desk) -> None:
    batch = desk.ingest(desk.write(F.penalty_rows(1, department_name=F.OTHER_DEPARTMENT_NAME,
                                                   department_code=F.OTHER_DEPARTMENT_CODE)), actor=desk.other)
    assert batch.status == "done"
    with pytest.raises(Forbidden) as refused:
        service.batch_for(desk.session, desk.actor, batch.id)
    assert refused.value.code == "BATCH_NOT_YOURS"
    assert service.batch_for(desk.session, desk.other, batch.id).id == batch.id


# --- the fast path and the scalar path agree -----------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789ABCDEFGHJKLMNPQRTUWXY", "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹ")
_WRONG_DEPT, _ = F.wrong_check_digit(F.DEPARTMENT_CODE)
# Text as people type it, with the characters Python's str.strip() and polars' strip_chars() disagree on.
TEXT = st.text(alphabet=st.sampled_from(list("罚款违法事实，。、“”（）() ,\"'\n\t-+=@0123456789abcXYZ　\x1c\x1f\x85")),
               max_size=12)
GOOD_DATES = ["2026-01-05", "2026/1/5", "2026年1月5日", "20260105", "2026.01.05", "2026-1-5", " 2026-01-05 ",
              "2026-06-15", "２０２６-０１-０５", "\x1c2026-01-05"]
BAD_DATES = ["2026-02-30", "2026-13-01", "05/01/2026", "昨天", "2026-1-5号", "0000-01-01", "0000-02-30"]
# Per column: spellings the rules must accept (odd ones included) and values they must refuse.
SPELLINGS: dict[str, tuple[st.SearchStrategy[str], st.SearchStrategy[str]]] = {
    F.CF_WSH: (st.sampled_from(["{n}", " {n} "]), st.sampled_from(["", "  ", "文" * 501])),
    F.CF_WFXW: (st.one_of(st.sampled_from(["虚假宣传", " 虚假宣传 "]), TEXT.map(lambda t: "违" + t)),
                st.sampled_from(["", " ", "　", "违" * 501])),
    F.CF_SY: (st.one_of(st.sampled_from(["在网店发布虚假的产品功效宣传", "第一行\n第二行", "“引号”,逗号"]),
                        TEXT.map(lambda t: t + "事")), st.sampled_from(["", "\n", "事" * 4001])),
    F.CF_CFLB: (st.sampled_from(["罚款", " 罚款 ", "警告", "没收违法所得", "其他"]), st.sampled_from(["罚金", "罚 款", ""])),
    F.CF_NR_FK: (st.sampled_from(["2", " 2 ", "1,200.50", "+3", "0", "-0", "0.5", "１２", "１２．５", "", "3,",
                                  "99999999999999999999.99", "\u30002\u3000"]),
                 st.sampled_from(["-3", "-0.01", ".5", "5.", "1e3", "两万", "1.2.3", "1 000"])),
    F.CF_JDRQ: (st.sampled_from(GOOD_DATES), st.sampled_from([*BAD_DATES, "2026-06-16", "2099-01-01", "", "  "])),
    F.CF_GSJZQ: (st.sampled_from([*GOOD_DATES, "2099-01-01", ""]), st.sampled_from(BAD_DATES)),
    F.CF_CFJGDM: (st.sampled_from([F.DEPARTMENT_CODE, F.DEPARTMENT_CODE.lower(), F.DEPARTMENT_CODE.translate(FULL_WIDTH),
                                   f"{F.DEPARTMENT_CODE[:6]} {F.DEPARTMENT_CODE[6:]}",
                                   f"{F.DEPARTMENT_CODE[:8]}-{F.DEPARTMENT_CODE[8:]}"]),
                  st.sampled_from([_WRONG_DEPT, F.DEPARTMENT_CODE[:17], "", F.DEPARTMENT_CODE[:-1] + "I"])),
    "是否简易程序": (st.sampled_from(["是", "否", "TRUE", " yes ", "1", "0", "F", ""]), st.sampled_from(["也许", "2"])),
}
EXTRA_COLUMNS = [F.CF_GSJZQ, "是否简易程序"]
FIELD_OF = {**F.PENALTY_FIELDS, "是否简易程序": "CF_JYCX"}

_numbers = itertools.count(1)


@st.composite
def penalty_cells(draw: st.DrawFn) -> dict[str, str]:
    """One row: every column spelled some acceptable way, except up to two columns given bad values."""
    broken = draw(st.sets(st.sampled_from(list(SPELLINGS)), max_size=2))
    subject = draw(st.integers(min_value=1, max_value=4))
    code = F.subject_code(subject)
    cells = {
        F.NAME: F.subject_name(subject),
        F.CODE: draw(st.sampled_from([code, code.lower(), code.translate(FULL_WIDTH), f" {code} "])),
        F.CF_YJ: "《中华人民共和国反不正当竞争法》第二十条",
        F.CF_NR: draw(st.sampled_from(["罚款2万元", "=1+1", "-3"])),
        F.CF_CFJG: F.DEPARTMENT_NAME,
        F.CF_SJLY: F.DEPARTMENT_NAME,
        F.CF_SJLYDM: F.DEPARTMENT_CODE,
    }
    for column, (good, bad) in SPELLINGS.items():
        cells[column] = draw(bad if column in broken else good)
    return cells


def _scalar_verdict(desk: Desk, cells: dict[str, str]) -> tuple[str, Any]:
    """What ``records.submit`` makes of the same row: its clean payload, or its problem codes."""
    payload = {FIELD_OF[column]: value for column, value in cells.items() if not FIELD_OF[column].startswith("__")}
    savepoint = desk.session.begin_nested()
    try:
        submission = records.submit(desk.session, desk.actor, ITEM, SubjectRef(uscc=cells[F.CODE], name=cells[F.NAME]),
                                    payload, department_id=desk.department_id, department_code=F.DEPARTMENT_CODE)
        return "accept", dict(submission.record.payload)
    except records.PayloadInvalid as error:
        return "reject", sorted((p.field, p.code) for p in error.problems)
    finally:
        savepoint.rollback()


@hypothesis_settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                             HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rows=st.lists(penalty_cells(), min_size=1, max_size=5))
def test_a_file_import_and_records_submit_agree_row_by_row(desk: Desk, rows: list[dict[str, str]]) -> None:
    example = next(_numbers)
    for index, cells in enumerate(rows):
        cells[F.CF_WSH] = cells[F.CF_WSH].replace("{n}", f"宁玄市监处罚〔2026〕{example}-{index}号")
    expected = [_scalar_verdict(desk, cells) for cells in rows]
    desk.session.rollback()
    path = desk.write(rows, header=[*F.PENALTY_HEADER, *EXTRA_COLUMNS], name=f"example-{example}")
    batch = desk.ingest(path)
    assert batch.status == "done", batch.error_message
    got = desk.verdicts(batch.id, [row_number("csv-utf8", i) for i in range(len(rows))])
    for cells, (verdict, value), (outcome, record, problems) in zip(rows, expected, got, strict=True):
        if verdict == "accept":
            assert outcome in ("accepted", "flagged", "correction", "duplicate"), (cells, problems)
            assert record is not None and record.payload == value, cells
        else:
            assert (outcome, sorted(problems)) == ("rejected", value), (cells, record and record.payload)
    desk.session.commit()


# --- regressions: fast-path/scalar disagreements and gaps found by these tests (fixed in 4414310) ---------------


def test_a_year_zero_decision_date_is_a_row_error_not_a_crash(desk: Desk) -> None:
    rows = F.inject(F.penalty_rows(3), {1: {F.CF_JDRQ: "0000-01-01"}})
    batch = desk.ingest(desk.write(rows))
    assert (batch.status, batch.accepted, batch.rejected) == ("done", 2, 1)
    assert [p["code"] for p in desk.outcomes(batch.id)[3].problems] == ["FIELD_DATE"]


def test_a_year_zero_optional_date_is_rejected_like_the_scalar_path_does(desk: Desk) -> None:
    rows = F.penalty_rows(1, deadline="0000-01-01")
    batch = desk.ingest(desk.write(rows, header=F.PENALTY_HEADER_WITH_DEADLINE))
    assert (batch.accepted, batch.rejected) == (0, 1)


def test_separator_control_characters_are_stripped_like_the_scalar_path_does(desk: Desk) -> None:
    rows = F.inject(F.penalty_rows(2), {0: {F.CF_SY: "\x1c"}, 1: {F.CF_WFXW: "\x1f虚假宣传"}})
    batch = desk.ingest(desk.write(rows))
    assert [p["code"] for p in desk.outcomes(batch.id)[2].problems] == ["FIELD_REQUIRED"]
    assert desk.records(batch.id)[3].payload["CF_WFXW"] == "虚假宣传"


def test_a_full_width_amount_is_stored_in_ascii_digits(desk: Desk) -> None:
    rows = F.inject(F.penalty_rows(1), {0: {F.CF_NR_FK: "１２"}})
    batch = desk.ingest(desk.write(rows))
    assert desk.records(batch.id)[2].payload["CF_NR_FK"] == "12"


def test_the_short_decision_number_header_from_the_issue_is_recognised(desk: Desk) -> None:
    header = ["处罚决定书文号" if column == F.CF_WSH else column for column in F.PENALTY_HEADER]
    rows = [{("处罚决定书文号" if k == F.CF_WSH else k): v for k, v in row.items()} for row in F.penalty_rows(1)]
    batch = desk.ingest(desk.write(rows, header=header))
    assert batch.status == "done", batch.error_message
