"""The ``xinyong`` command line (typer + rich)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xinyong import clock, migrate
from xinyong.actor import Actor
from xinyong.config import get_settings
from xinyong.db import session_factory, session_scope
from xinyong.evaluation.cli import evaluation_app
from xinyong.feed.cli import feed_app
from xinyong.notifications.cli import notify_app
from xinyong.reports.cli import reports_app

app = typer.Typer(help="Xinyong 公共信用信息平台命令行", no_args_is_help=True)
db_app = typer.Typer(help="数据库迁移", no_args_is_help=True)
user_app = typer.Typer(help="用户管理", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志", no_args_is_help=True)
subjects_app = typer.Typer(help="信用主体库", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(subjects_app, name="subjects")
app.add_typer(feed_app, name="feed")
app.add_typer(evaluation_app, name="evaluation")
app.add_typer(notify_app, name="notify")
app.add_typer(reports_app, name="reports")
console = Console()


def _seed() -> tuple[int, int]:
    from xinyong.catalogue import service as catalogue
    from xinyong.evaluation import service as evaluation
    from xinyong.evaluation import supervision
    from xinyong.policy import service as policy
    from xinyong.sanctions import service as sanctions

    with session_scope() as session:
        parameters = policy.seed(session)
        items = catalogue.seed(session, Actor.system("初始化"))
        evaluation.seed(session, Actor.system("初始化"))
        supervision.seed(session, Actor.system("初始化"))
        sanctions.seed(session, Actor.system("初始化"))
    _fill_publication_windows()
    return parameters, items


def _fill_publication_windows() -> None:
    """Records stored before publication windows existed get theirs (idempotent, quick when none)."""
    from xinyong.records import service as records

    with session_scope() as session:
        filled = records.fill_publication_windows(session)
    if filled:
        console.print(f"已为 {filled} 条既有信用记录计算公示期限")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="目标版本")) -> None:
    """升级数据库结构到指定版本（默认最新）。"""
    migrate.upgrade(get_settings(), revision)
    if revision == "head":
        _fill_publication_windows()
    console.print(f"数据库已升级到 [bold]{migrate.current(get_settings())}[/]")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="目标版本，如 base 或 -1")) -> None:
    """降级数据库结构。"""
    migrate.downgrade(get_settings(), revision)
    console.print(f"数据库已降级到 [bold]{migrate.current(get_settings()) or 'base'}[/]")


@db_app.command("current")
def db_current() -> None:
    """显示当前数据库版本。"""
    console.print(migrate.current(get_settings()) or "base")


@app.command()
def init() -> None:
    """建库（执行迁移）并写入政策参数和信用目录种子数据。可重复执行。"""
    settings = get_settings()
    migrate.upgrade(settings, "head")
    parameters, items = _seed()
    console.print(f"数据库：{settings.sqlalchemy_url.split('@')[-1]}")
    console.print(f"已就绪：新增政策参数 {parameters} 项，目录信息项 {items} 项。")


@app.command()
def demo(subjects: int = typer.Option(3000, help="生成的信用主体数量"),
         seed: int = typer.Option(20261127, help="随机种子（相同种子生成相同数据）"),
         if_empty: bool = typer.Option(False, "--if-empty", help="库中已有主体时跳过")) -> None:
    """生成逼真的演示数据：部门、机构、演示账号、信用主体和信用记录。"""
    from xinyong import demo as demo_data
    from xinyong.subjects import service as subject_service

    with session_scope() as session:
        if if_empty and subject_service.count(session):
            console.print("库中已有数据，跳过演示数据生成。")
            _print_accounts()
            return
    columns = (TextColumn("生成演示数据"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress, session_scope() as session:
        task = progress.add_task("demo", total=subjects)
        summary = demo_data.generate(session, subjects=subjects, seed=seed,
                                     progress=lambda done, total: progress.update(task, completed=done, total=total))
    console.print(summary)
    _demo_evaluation()
    _demo_sanctions(seed)
    _demo_commitments(seed)
    _demo_repairs(seed)
    _demo_sharing(seed)
    _demo_grants(seed)
    _demo_loans(seed)
    _demo_operation(seed)
    _demo_reports(seed)
    _print_accounts()


def _demo_evaluation() -> None:
    """Two runs of the public model (a quarter ago and today), so grades, charts and movement show."""
    from datetime import timedelta

    from xinyong.evaluation import service as evaluation

    factory = session_factory()
    quarter_ago = clock.now() - timedelta(days=91)
    for as_of, cutoff in ((quarter_ago.date(), quarter_ago), (clock.today(), None)):
        run = evaluation.run_model(factory, Actor.system("演示数据初始化"), "PUBLIC_CREDIT_ORG", as_of, cutoff=cutoff)
        console.print(f"公共信用综合评价（基准日 {as_of}）：{run.population} 个主体，等级分布 {run.grade_counts}")


def _demo_sanctions(seed: int) -> None:
    """The red list and half a year of joint checks with feedback (after the grades exist)."""
    from xinyong.sanctions import demo as sanctions_demo

    with session_scope() as session:
        summary = sanctions_demo.activity(session, seed=seed)
    console.print(f"守信激励名单 {summary['red_list']} 个主体；联合奖惩核查 {summary['checks']} 次")


def _demo_commitments(seed: int) -> None:
    """Credit commitments at the departments' windows and online, some kept, some overdue, one broken."""
    from xinyong.commitments import demo as commitments_demo

    with session_scope() as session:
        summary = commitments_demo.activity(session, seed=seed)
    console.print(f"信用承诺 {sum(summary.get(k, 0) for k in ('审批替代型', '容缺受理型', '主动型', '行业自律型'))} 项"
                  f"（已履约 {summary.get('fulfilled', 0)}，容缺材料逾期 {summary.get('overdue', 0)}，"
                  f"未履约 {summary.get('breached', 0)}）")


def _demo_repairs(seed: int) -> None:
    """Repair applications at every stage and objections (after the records exist)."""
    from xinyong.repair import demo as repair_demo

    with session_scope() as session:
        summary = repair_demo.activity(session, seed=seed)
    console.print(f"信用修复申请 {summary['repairs']} 件；异议 {summary['objections']} 件")


def _demo_sharing(seed: int) -> None:
    """Share requests at every stage and a month of departmental reads (docs/sharing.md)."""
    from xinyong.sharing import demo as sharing_demo

    with session_scope() as session:
        summary = sharing_demo.activity(session, seed=seed)
    console.print(f"共享申请 {summary['requests']} 件（批准 {summary['approved']} 件）；部门查询 {summary['reads']} 次")


def _demo_grants(seed: int) -> None:
    """Enterprises' grants to the demo bank (live, revoked, expired, pending) and its queries (docs/grants.md)."""
    from xinyong.grants import demo as grants_demo

    with session_scope() as session:
        summary = grants_demo.activity(session, seed=seed)
    console.print(f"信用主体授权 {sum(summary.get(k, 0) for k in ('live', 'pending', 'expired', 'revoked'))} 项"
                  f"（生效中 {summary.get('live', 0)}，已撤销 {summary.get('revoked', 0)}）；"
                  f"银行依授权查询 {summary.get('queries', 0)} 次")


def _demo_loans(seed: int) -> None:
    """信易贷: the demo bank's products, small firms' applications (each authorising the bank) and the
    bank's decisions over the last months, so the lending dashboard shows something (docs/loans.md)."""
    from xinyong.loans import demo as loans_demo

    with session_scope() as session:
        summary = loans_demo.activity(session, seed=seed)
    console.print(f"信易贷产品 {summary.get('products', 0)} 款；融资申请 {summary.get('applications', 0)} 笔"
                  f"（获批 {summary.get('approved', 0)}，未获批 {summary.get('rejected', 0)}，"
                  f"待审批 {summary.get('pending', 0)}，已放款 {summary.get('disbursed', 0)}）")


def _demo_reports(seed: int) -> None:
    """Signed credit reports: the showcase company's general and special report, window reports (one
    revoked), one for the bank under a grant (docs/reports.md)."""
    from xinyong.reports import demo as reports_demo

    with session_scope() as session:
        summary = reports_demo.activity(session, seed=seed)
    total = summary.get("general", 0) + summary.get("special", 0) + summary.get("institution", 0)
    console.print(f"信用报告 {total} 份（专项 {summary.get('special', 0)}，已作废 {summary.get('revoked', 0)}，"
                  f"银行经授权取得 {summary.get('institution', 0)}）")


def _demo_operation(seed: int) -> None:
    """An operator contract with releases, and an internet platform partner that pulled and acknowledged
    the serious-dishonesty lists (docs/operation.md)."""
    from xinyong.operation import demo as operation_demo
    from xinyong.partners import demo as partners_demo

    with session_scope() as session:
        operation = operation_demo.activity(session, seed=seed)
    with session_scope() as session:
        partners = partners_demo.activity(session, seed=seed)
    console.print(f"授权运营协议 {operation['contracts']} 份，数据产品发布 {operation['releases']} 次；"
                  f"互联网平台数据合作伙伴 {partners['partners']} 个（账号 {partners_demo.PLATFORM_USER}，"
                  f"密码 {partners_demo.PASSWORD}），已推送并确认名单变动 {partners['delivered']} 条")


def _print_accounts() -> None:
    from xinyong.access.permissions import ROLE_LABELS
    from xinyong.demo import DEMO_ACCOUNTS

    table = Table(title="演示账号")
    for column in ("用户名", "密码", "角色", "说明"):
        table.add_column(column)
    for account in DEMO_ACCOUNTS:
        table.add_row(account["username"], account["password"], ROLE_LABELS[account["role"]], account["description"])
    console.print(table)


@app.command()
def serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000),
          reload: bool = typer.Option(False), workers: int = typer.Option(1)) -> None:
    """启动Web服务。"""
    import uvicorn

    console.print(f"平台地址：http://{host}:{port}　接口文档：http://{host}:{port}/docs")
    uvicorn.run("xinyong.app:create_app", factory=True, host=host, port=port, reload=reload, workers=workers,
                log_level="info")


@user_app.command("add")
def user_add(username: str, role: str = typer.Option(..., help="authority_admin / department_submitter / "
                                                                 "applying_department / subject_user / "
                                                                 "authorised_institution / auditor / peer_platform"),
             display_name: str = typer.Option("", help="显示名称"),
             department_code: str = typer.Option("", help="所属部门统一社会信用代码"),
             subject_code: str = typer.Option("", help="对应信用主体统一社会信用代码"),
             institution_code: str = typer.Option("", help="所属机构统一社会信用代码"),
             password: str = typer.Option("", help="密码；留空则交互输入或读取 XINYONG_NEW_PASSWORD"),
             email: str = typer.Option("", help="通知邮箱（待办和通知的邮件提醒）")) -> None:
    """新建用户。"""
    from xinyong.access import service as access
    from xinyong.errors import DomainError
    from xinyong.subjects import service as subject_service

    secret = password or os.environ.get("XINYONG_NEW_PASSWORD") or getpass.getpass("密码：")
    try:
        with session_scope() as session:
            department = next((d for d in access.departments(session) if d.code == department_code), None)
            institution = next((i for i in access.institutions(session) if i.code == institution_code), None)
            subject = subject_service.by_code_or_fail(session, subject_code) if subject_code else None
            user = access.create_user(session, Actor.system("命令行"), access.NewUser(
                username=username, password=secret, role=role, display_name=display_name or username,
                department_id=department.id if department else None, subject_id=subject.id if subject else None,
                institution_id=institution.id if institution else None, email=email or None))
            console.print(f"已创建用户 [bold]{user.username}[/]（{role}）")
    except DomainError as error:
        console.print(f"[red]{error.code}[/]：{error.message}")
        raise typer.Exit(2) from None


@user_app.command("email")
def user_email(username: str, address: str = typer.Argument("", help="邮箱地址；留空则清除")) -> None:
    """设置（或清除）用户的通知邮箱。"""
    from sqlalchemy import select

    from xinyong.access import service as access
    from xinyong.access.models import User
    from xinyong.errors import DomainError

    try:
        with session_scope() as session:
            user_id = session.scalar(select(User.id).where(User.username == username))
            if user_id is None:
                console.print(f"[red]USER_NOT_FOUND[/]：用户 {username} 不存在")
                raise typer.Exit(2)
            user = access.set_email(session, Actor.system("命令行"), user_id, address)
            console.print(f"{user.username} 的通知邮箱：{user.email or '（未设置）'}")
    except DomainError as error:
        console.print(f"[red]{error.code}[/]：{error.message}")
        raise typer.Exit(2) from None


@app.command("ingest")
def ingest_file(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV/XLSX/JSON/NDJSON 文件"),
                item: str = typer.Option(..., "--item", help="目录信息项代码，如 ADM_PENALTY"),
                department: str = typer.Option(..., "--department", help="报送部门的统一社会信用代码"),
                encoding: str = typer.Option("", help="声明的文件编码（缺省自动识别）"),
                chunk_rows: int = typer.Option(0, help="每批处理行数（缺省取政策参数）")) -> None:
    """报送一个文件：校验每一行，入库，输出结果；中断后再次执行同一命令即从断点继续。"""
    from xinyong.access import service as access
    from xinyong.db import session_factory
    from xinyong.errors import DomainError
    from xinyong.ingest import service as ingest

    try:
        with session_scope() as session:
            found = next((d for d in access.departments(session) if d.code == department), None)
            if found is None:
                console.print(f"[red]DEPARTMENT_NOT_FOUND[/]：部门 {department} 不存在")
                raise typer.Exit(2)
            actor = Actor(user_id=None, username=f"{found.short_name}（命令行）", role="department_submitter",
                          department_id=found.id)
            batch = ingest.submit_file(session, actor, item, file, file.name, channel="cli",
                                       declared_encoding=encoding or None)
            batch_id = batch.id
    except DomainError as error:
        console.print(f"[red]{error.code}[/]：{error.message}")
        raise typer.Exit(2) from None
    columns = (TextColumn(f"导入 {file.name}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("ingest", total=None)
        batch = ingest.run_batch(session_factory(), batch_id, chunk_rows=chunk_rows or None,
                                 progress=lambda done, total: progress.update(task, completed=done, total=total))
    if batch.status == "failed":
        console.print(f"[red]{batch.error_code}[/]：{batch.error_message}")
        raise typer.Exit(1)
    console.print(f"批次 {batch.id}：共 {batch.total_rows} 行；接收 {batch.accepted}，更正 {batch.corrected}，"
                  f"重复 {batch.duplicate}，需核实 {batch.flagged}，拒绝 {batch.rejected}")


@audit_app.command("verify")
def audit_verify(expect_head: str = typer.Option("", help="预期末端，格式 序号:哈希（发现尾部截断）")) -> None:
    """逐条校验审计链，报告第一条被修改、删除、插入或调换的记录。"""
    from xinyong.audit import service as audit

    expected = None
    if expect_head:
        seq, _, digest = expect_head.partition(":")
        expected = (int(seq), digest)
    with session_scope() as session:
        result = audit.verify(session, expected)
    if result.ok:
        console.print(f"[green]审计链完整[/]：共 {result.checked} 条；末端 {result.head_seq}:{result.head_hash}")
        return
    console.print(f"[red]审计链异常[/]（{result.problem}，第 {result.problem_seq} 条）：{result.message}")
    raise typer.Exit(1)


@subjects_app.command("scan-conflicts")
def scan_conflicts() -> None:
    """全库检查重复赋码和一码多赋。"""
    from xinyong.subjects import service as subject_service

    with session_scope() as session:
        total = subject_service.scan_conflicts(session)
    console.print(f"冲突清单共 {total} 项")


@subjects_app.command("conflicts")
def list_conflicts(all_: bool = typer.Option(False, "--all", help="包括已处理")) -> None:
    """列出赋码冲突。"""
    from xinyong.subjects import service as subject_service

    table = Table(title="赋码冲突")
    for column in ("编号", "类型", "状态", "摘要"):
        table.add_column(column)
    with session_scope() as session:
        for view in subject_service.list_conflicts(session, open_only=not all_):
            table.add_row(str(view.conflict.id), view.kind_label, "待处理" if view.is_open else "已处理",
                          view.conflict.summary)
    console.print(table)


@app.callback()
def main(data_dir: Path | None = typer.Option(None, envvar="XINYONG_DATA_DIR", help="数据目录")) -> None:
    if data_dir is not None:
        os.environ["XINYONG_DATA_DIR"] = str(data_dir)


if __name__ == "__main__":
    app()
