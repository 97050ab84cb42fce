"""``kill -9`` in the middle of a large import, then the same command again: every row exactly once.

The import runs as a real ``xinyong ingest`` process against a fresh database (SQLite and
PostgreSQL). The test waits until some chunks are committed and others are not, kills the process
with SIGKILL (no clean-up of any kind runs), checks that what was committed is consistent, runs the
same command again and checks the end state row by row.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from tests.conftest import make_settings
from tests.support import ingest_files as F
from xinyong import clock, migrate
from xinyong.access import service as access
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.catalogue import service as catalogue
from xinyong.config import Settings, use_settings
from xinyong.db import dispose_engines, session_scope
from xinyong.ingest.models import IngestBatch, IngestRow
from xinyong.policy import service as policy
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

ROWS = 60_000
CHUNK = 2_000
SUBJECTS = 3_000
CLI = Path(sys.executable).with_name("xinyong")


@dataclass
class Platform:
    settings: Settings
    url: str
    engine: Engine
    env: dict[str, str]

    def command(self, path: Path) -> list[str]:
        return [str(CLI), "ingest", str(path), "--item", "ADM_PENALTY", "--department", F.DEPARTMENT_CODE,
                "--chunk-rows", str(CHUNK)]

    def batch(self) -> tuple[str, int, int | None] | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(IngestBatch.status, IngestBatch.processed_rows,
                                            IngestBatch.total_rows)).first()
        return None if row is None else (row[0], row[1], row[2])

    def scalar(self, query: object) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)  # type: ignore[call-overload]


@pytest.fixture
def platform(empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    from xinyong import config

    monkeypatch.setattr(config, "_settings", config._settings)
    settings = make_settings(empty_database_url, tmp_path / "data")
    use_settings(settings)
    migrate.upgrade(settings, "head")
    with session_scope(settings) as session:
        policy.seed(session)
        catalogue.seed(session, Actor.system())
        access.create_department(session, code=F.DEPARTMENT_CODE, name=F.DEPARTMENT_NAME, short_name="玄武区市场监管局",
                                 region_code="320102", sector="市场监管")
    env = {**os.environ, "XINYONG_DATABASE_URL": empty_database_url, "XINYONG_DATA_DIR": str(settings.data_dir),
           "XINYONG_SECRET_KEY": settings.secret_key or "", "XINYONG_PERSON_ID_KEY": settings.person_id_key or "",
           "COLUMNS": "120"}
    engine = create_engine(empty_database_url)
    yield Platform(settings, empty_database_url, engine, env)
    engine.dispose()
    dispose_engines()


def _kill_mid_import(platform: Platform, path: Path, log: Path) -> tuple[int, int]:
    """Start the import, SIGKILL it once some but not all chunks are committed; (processed, total)."""
    with log.open("wb") as out:
        process = subprocess.Popen(platform.command(path), env=platform.env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            state = platform.batch()
            if state is not None and state[2] and 0 < state[1] < state[2]:
                os.kill(process.pid, signal.SIGKILL)
                break
            if process.poll() is not None:
                pytest.fail(f"the import ended (exit {process.returncode}) before it could be killed: "
                            f"{state}\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.005)
        else:
            pytest.fail(f"no committed progress within 90 s\n{log.read_text(errors='replace')[-2000:]}")
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    state = platform.batch()
    assert state is not None
    return state[1], state[2] or 0


def test_kill_9_mid_import_then_rerun_ends_with_every_row_exactly_once(platform: Platform, tmp_path: Path) -> None:
    path = F.stream_penalty_csv(tmp_path / "行政处罚-全量.csv", ROWS, encoding="gbk", subjects=SUBJECTS,
                                decision_date=clock.today().isoformat())

    processed, total = _kill_mid_import(platform, path, tmp_path / "first.log")
    # what the killed process committed: whole chunks, each with its records and its cursor
    assert total == ROWS and 0 < processed < ROWS and processed % CHUNK == 0
    assert platform.batch()[0] == "running"  # type: ignore[index]
    assert platform.scalar(select(func.count()).select_from(Record)) == processed
    assert platform.scalar(select(func.max(Record.source_row))) == processed + 1
    assert platform.scalar(select(func.count()).select_from(IngestRow)) == 0

    rerun = subprocess.run(platform.command(path), env=platform.env, capture_output=True, timeout=180, check=False)
    output = rerun.stdout.decode(errors="replace")
    assert rerun.returncode == 0, output + rerun.stderr.decode(errors="replace")
    assert f"共 {ROWS} 行；接收 {ROWS}，更正 0，重复 0，需核实 0，拒绝 0" in output, output

    with platform.engine.connect() as connection:
        batch = connection.execute(select(IngestBatch)).one()
        assert connection.execute(select(func.count()).select_from(IngestBatch)).scalar() == 1
        assert (batch.status, batch.processed_rows, batch.total_rows) == ("done", ROWS, ROWS)
        counts = (batch.accepted, batch.corrected, batch.duplicate, batch.flagged, batch.rejected)
        assert sum(counts) == ROWS and counts == (ROWS, 0, 0, 0, 0)
        # every row exactly once
        mine = Record.batch_id == batch.id
        assert connection.execute(select(func.count()).where(mine)).scalar() == ROWS
        assert connection.execute(select(func.count(func.distinct(Record.source_row))).where(mine)).scalar() == ROWS
        assert connection.execute(select(func.min(Record.source_row), func.max(Record.source_row))
                                  .where(mine)).one() == (2, ROWS + 1)
        assert connection.execute(select(func.count(func.distinct(Record.natural_key)))).scalar() == ROWS
        repeated = connection.execute(
            select(Record.subject_id, Record.natural_key, Record.content_hash)
            .group_by(Record.department_id, Record.item_code, Record.subject_id, Record.natural_key,
                      Record.content_hash)
            .having(func.count() > 1)).all()
        assert repeated == []
        assert connection.execute(select(func.count()).where(Record.kind != "original")).scalar() == 0
        # the subjects were registered once each, none lost with the killed chunk
        assert connection.execute(select(func.count()).select_from(Subject)).scalar() == SUBJECTS
        assert connection.execute(select(func.count(func.distinct(Record.subject_id)))).scalar() == SUBJECTS
        ids = connection.execute(text("SELECT COUNT(*), COUNT(DISTINCT id) FROM records")).one()
        assert ids[0] == ids[1] == ROWS

    with session_scope(platform.settings) as session:
        _check_audit(session, batch.id)


def _check_audit(session: Session, batch_id: int) -> None:
    result = audit.verify(session)
    assert result.ok, result.message
    chunks = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "ingest.chunk",
                                                           AuditEntry.object_id == str(batch_id))
                                  .order_by(AuditEntry.seq)))
    spans = sorted(tuple(entry.detail["rows"]) for entry in chunks)
    assert spans[0][0] == 2 and spans[-1][1] == ROWS + 1
    assert all(previous[1] + 1 == current[0] for previous, current in itertools.pairwise(spans)), spans
    assert sum(entry.detail["accepted"] for entry in chunks) == ROWS
    finished = session.scalars(select(AuditEntry).where(AuditEntry.action == "ingest.finish")).all()
    assert len(finished) == 1 and finished[0].detail["accepted"] == ROWS


def test_python_dash_m_runs_the_command_line() -> None:
    result = subprocess.run([sys.executable, "-m", "xinyong.cli", "ingest", "--help"], capture_output=True,
                            timeout=60, check=False)
    assert result.returncode == 0 and "--chunk-rows" in result.stdout.decode(errors="replace")
