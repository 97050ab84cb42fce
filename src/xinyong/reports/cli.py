"""``xinyong reports …``: verify a report offline, manage signing keys and recognised platforms."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from xinyong.actor import Actor
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.reports import service, signing

reports_app = typer.Typer(help="信用报告：离线核验、签章密钥与跨区域互认", no_args_is_help=True)
console = Console()
ACTOR = Actor(user_id=None, username="命令行", role="authority_admin")
EXIT = {"genuine": 0, "altered": 1, "revoked": 1, "unknown": 1, "not_signed": 1, "not_pdf": 1}


def _fail(error: DomainError) -> None:
    console.print(f"[red]{error.code}[/]：{error.message}")
    raise typer.Exit(2) from None


@reports_app.command("verify")
def verify(report: Path = typer.Argument(..., exists=True, dir_okay=False, help="信用报告PDF文件"),
           certificate: list[Path] = typer.Option(..., "--cert", exists=True, dir_okay=False,
                                                  help="受信任的平台签章证书（PEM，可多次给出）"),
           revoked: list[Path] = typer.Option([], "--revoked", exists=True, dir_okay=False,
                                              help="已吊销的签章证书（PEM）")) -> None:
    """离线核验信用报告：只需出具平台公布的签章证书，不访问任何平台。退出码 0 为真实有效。"""
    from datetime import UTC, datetime

    trusted = {signing.key_id_of(p.read_bytes()): signing.TrustedCertificate(p.read_bytes(), None, p.stem)
               for p in certificate}
    trusted.update({signing.key_id_of(p.read_bytes()): signing.TrustedCertificate(p.read_bytes(), datetime.now(UTC), p.stem)
                    for p in revoked})
    verdict = signing.verify(report.read_bytes(), trusted)
    label = service.STATUS_LABELS[verdict.status]
    colour = "green" if verdict.status == "genuine" else "red"
    console.print(f"[{colour}]{label}[/]（{verdict.status}）报告编号：{verdict.number or '—'}　签章证书：{verdict.key_id or '—'}")
    if verdict.signed_at:
        console.print(f"签署时间：{verdict.signed_at:%Y-%m-%d %H:%M:%S %Z}")
    if verdict.detail:
        console.print(verdict.detail)
    raise typer.Exit(EXIT[verdict.status])


@reports_app.command("keys")
def keys() -> None:
    """列出本平台的签章密钥和已互认的其他平台证书。"""
    with session_scope() as session:
        service.active_key(session)
        table = Table(title="签章证书")
        for column in ("证书编号", "平台", "状态", "启用时间"):
            table.add_column(column)
        for key in service.own_keys(session):
            state = "已吊销" if key.revoked_at else "已停用" if key.retired_at else "使用中"
            table.add_row(key.key_id, "本平台", state, f"{key.created_at:%Y-%m-%d}")
        for trusted in service.trusted_keys(session):
            table.add_row(trusted.key_id, trusted.issuer, "已吊销" if trusted.revoked_at else "已互认",
                          f"{trusted.imported_at:%Y-%m-%d}")
        console.print(table)


@reports_app.command("export-certificate")
def export_certificate(out: Path = typer.Option(..., "--out", help="写出的PEM文件")) -> None:
    """导出本平台现用的签章证书（公布给其他平台和社会，用于离线核验）。"""
    with session_scope() as session:
        key = service.active_key(session)
        out.write_text(key.certificate_pem, encoding="ascii")
        console.print(f"已导出签章证书 {key.key_id} 到 {out}")


@reports_app.command("rotate-key")
def rotate_key() -> None:
    """更换签章密钥：此后的报告用新密钥签章，旧报告仍可核验。"""
    with session_scope() as session:
        try:
            key = service.rotate_key(session, ACTOR)
        except DomainError as error:
            _fail(error)
        console.print(f"新签章证书：{key.key_id}")


@reports_app.command("recognise")
def recognise(certificate: Path = typer.Argument(..., exists=True, dir_okay=False),
              issuer: str = typer.Option(..., "--issuer", help="出具平台名称，如 苏州市公共信用信息平台"),
              source: str = typer.Option("", "--source", help="证书的公布地址")) -> None:
    """互认其他平台的签章证书：其出具的报告在本平台核验为真实有效。"""
    with session_scope() as session:
        try:
            trusted = service.recognise(session, ACTOR, certificate.read_text(encoding="ascii"), issuer, source)
        except DomainError as error:
            _fail(error)
        console.print(f"已互认 {trusted.issuer} 的签章证书 {trusted.key_id}")
