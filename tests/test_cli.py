"""The ``xinyong`` command line against a brand-new database, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tests.conftest import make_settings
from xinyong.cli import app
from xinyong.config import use_settings
from xinyong.db import dispose_engines


@pytest.fixture
def cli(empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    from xinyong import config

    monkeypatch.setattr(config, "_settings", config._settings)
    use_settings(make_settings(empty_database_url, tmp_path / "data"))
    return CliRunner()


def test_init_is_idempotent_and_audit_verify_detects_tampering(cli: CliRunner, empty_database_url: str) -> None:
    first = cli.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    assert "目录信息项 17 项" in first.output, first.output
    again = cli.invoke(app, ["init"])
    assert again.exit_code == 0 and "目录信息项 0 项" in again.output

    added = cli.invoke(app, ["user", "add", "li4", "--role", "auditor", "--password", "Shenji2026"])
    assert added.exit_code == 0, added.output
    refused = cli.invoke(app, ["user", "add", "li5", "--role", "auditor", "--password", "123"])
    assert refused.exit_code == 2 and "PASSWORD_WEAK" in refused.output

    verified = cli.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0 and "审计链完整" in verified.output
    head = verified.output.split("末端 ")[1].split()[0]
    assert cli.invoke(app, ["audit", "verify", "--expect-head", head]).exit_code == 0

    dispose_engines()
    engine = create_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"))
    engine.dispose()
    tampered = cli.invoke(app, ["audit", "verify"])
    assert tampered.exit_code == 1 and "第3条" in tampered.output and "modified" in tampered.output


def test_db_upgrade_and_downgrade(cli: CliRunner) -> None:
    assert cli.invoke(app, ["db", "upgrade"]).exit_code == 0
    from xinyong.migrate import MIGRATIONS_DIR

    newest = max(p.name.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("0*.py"))
    assert newest in cli.invoke(app, ["db", "current"]).output
    down = cli.invoke(app, ["db", "downgrade", "base"])
    assert down.exit_code == 0 and "base" in down.output
