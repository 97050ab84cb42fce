"""``xinyong reports …``: offline verification needs nothing but the report and the published certificate;
the key commands work on the configured database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.support.world import SUBJECT_CODE, World
from xinyong.actor import Actor
from xinyong.cli import app
from xinyong.reports import service, signing

ADMIN = Actor(user_id=None, username="admin", role="authority_admin")


@pytest.fixture
def report(world: World, sanctioned: Session, tmp_path: Path) -> Path:
    issued = service.issue(sanctioned, ADMIN, SUBJECT_CODE)
    _, pdf = service.report_file(sanctioned, ADMIN, issued.number)
    sanctioned.commit()  # SQLite: the commands below open their own transactions
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return path


def test_offline_verification_exits_0_for_a_genuine_report_and_1_for_an_altered_one(report: Path, tmp_path: Path) -> None:
    cli = CliRunner()
    certificate = tmp_path / "current.pem"
    exported = cli.invoke(app, ["reports", "export-certificate", "--out", str(certificate)])
    assert exported.exit_code == 0, exported.output
    assert certificate.read_text().startswith("-----BEGIN CERTIFICATE-----")

    genuine = cli.invoke(app, ["reports", "verify", str(report), "--cert", str(certificate)])
    assert genuine.exit_code == 0, genuine.output
    assert "真实有效" in genuine.output and "XYBG" in genuine.output

    pdf = report.read_bytes()
    altered = tmp_path / "altered.pdf"
    changed = bytearray(pdf)
    changed[len(pdf) // 3] ^= 0x01
    altered.write_bytes(bytes(changed))
    result = cli.invoke(app, ["reports", "verify", str(altered), "--cert", str(certificate)])
    assert result.exit_code == 1 and "已被篡改" in result.output, result.output
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(pdf[:-200])
    assert cli.invoke(app, ["reports", "verify", str(truncated), "--cert", str(certificate)]).exit_code == 1

    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(signing.generate_key("他处平台", "110000").certificate_pem)
    unknown = cli.invoke(app, ["reports", "verify", str(report), "--cert", str(stranger)])
    assert unknown.exit_code == 1 and "无法确认" in unknown.output
    revoked = cli.invoke(app, ["reports", "verify", str(report), "--cert", str(stranger), "--revoked", str(certificate)])
    assert revoked.exit_code == 1 and "已作废" in revoked.output


def test_rotate_list_and_recognise_from_the_command_line(report: Path, tmp_path: Path) -> None:
    cli = CliRunner()
    rotated = cli.invoke(app, ["reports", "rotate-key"])
    assert rotated.exit_code == 0 and "新签章证书" in rotated.output, rotated.output
    suzhou = tmp_path / "suzhou.pem"
    suzhou.write_bytes(signing.generate_key("苏州市公共信用信息平台", "320500").certificate_pem)
    recognised = cli.invoke(app, ["reports", "recognise", str(suzhou), "--issuer", "苏州市公共信用信息平台"])
    assert recognised.exit_code == 0 and "已互认" in recognised.output, recognised.output
    again = cli.invoke(app, ["reports", "recognise", str(suzhou), "--issuer", "苏州"])
    assert again.exit_code == 2 and "CERTIFICATE_KNOWN" in again.output
    listed = cli.invoke(app, ["reports", "keys"])
    assert listed.exit_code == 0 and "已停用" in listed.output and "使用中" in listed.output and "已互认" in listed.output
