"""``xinyong feed …``: pull a lower-level platform's feed into this one, and show where each feed stands."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from xinyong.db import session_factory, session_scope
from xinyong.errors import DomainError
from xinyong.feed import service

feed_app = typer.Typer(help="向上级平台报送：从下级平台拉取信用记录", no_args_is_help=True)
console = Console()


@feed_app.command("pull")
def pull(source: str = typer.Option(..., "--from", help="下级平台地址，如 https://xinyong.xuanwu.gov.cn"),
         token: str = typer.Option(..., "--token", help="下级平台发放的接口令牌（权限范围 feed:read）"),
         page: int = typer.Option(1000, help="每页条数（不超过5000）")) -> None:
    """从游标处继续拉取下级平台的新增、更正、撤销记录并入库；中断后再次执行即从断点继续。"""
    try:
        result = service.pull(session_factory(), source, token, page=page)
    except DomainError as error:
        console.print(f"[red]{error.code}[/]：{error.message}")
        raise typer.Exit(2) from None
    console.print(f"{result.source_url}：{result.pages} 页，收到 {result.received} 条；新入库 {result.applied}，"
                  f"已有 {result.unchanged}，失败 {result.failed}；游标 {result.cursor}")
    if result.failed:
        raise typer.Exit(1)


@feed_app.command("status")
def status() -> None:
    """列出已拉取的下级平台、游标和最近的失败记录。"""
    table = Table("下级平台", "游标", "最近拉取", "已处理", "失败")
    with session_scope() as session:
        rows = service.sources(session)
        for row in rows:
            table.add_row(row.source_url, str(row.cursor), str(row.last_pulled_at or "—"), str(row.applied),
                          str(row.failed))
        recent = [(row.source_url, f) for row in rows for f in service.failures(session, row.source_url, limit=5)]
    console.print(table)
    for url, failure in recent:
        console.print(f"[red]{failure.code}[/] {url} 记录{failure.feed_id}：{failure.message}")
