"""``xinyong notify …``: deliver queued notice e-mails (run from cron or a systemd timer) and show the outbox."""

from __future__ import annotations

import typer
from rich.console import Console

from xinyong.config import get_settings
from xinyong.db import session_factory, session_scope
from xinyong.notifications import service

notify_app = typer.Typer(help="站内通知的邮件提醒", no_args_is_help=True)
console = Console()


@notify_app.command("send")
def send(requeue: bool = typer.Option(False, "--requeue", help="先让已用完重试次数的邮件重新排队（修正邮件服务器设置后）"),
         limit: int = typer.Option(1000, help="本次最多发送的邮件数")) -> None:
    """发送待发的通知邮件；失败的下次重试（最多 XINYONG_SMTP_MAX_ATTEMPTS 次）。可由定时任务反复执行。"""
    settings = get_settings()
    if not settings.smtp_host:
        console.print("未配置邮件服务器（XINYONG_SMTP_HOST），不发送邮件。")
        return
    if requeue:
        with session_scope() as session:
            console.print(f"重新排队 {service.requeue_failed(session, settings)} 封邮件")
    sent, failed = service.send_pending(session_factory(), settings, limit=limit)
    with session_scope() as session:
        counts = service.outbox_counts(session, settings)
    console.print(f"已发送 {sent} 封，失败 {failed} 封；待发 {counts['pending']} 封，已放弃 {counts['failed']} 封")
    if failed:
        raise typer.Exit(1)


@notify_app.command("status")
def status() -> None:
    """邮件发件箱：待发、已发送、已放弃（用完重试次数）的邮件数。"""
    settings = get_settings()
    with session_scope() as session:
        counts = service.outbox_counts(session, settings)
    state = f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host else "未配置（不发送邮件）"
    console.print(f"邮件服务器：{state}")
    console.print(f"待发 {counts['pending']} 封，已发送 {counts['sent']} 封，已放弃 {counts['failed']} 封")
