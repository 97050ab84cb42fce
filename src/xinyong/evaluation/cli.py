"""``xinyong evaluation …``: list models, import/export them as YAML, run a model at an as-of date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from xinyong import clock
from xinyong.actor import Actor
from xinyong.db import session_factory, session_scope
from xinyong.errors import DomainError
from xinyong.evaluation import service

evaluation_app = typer.Typer(help="信用评价：评价模型与评价批次", no_args_is_help=True)
console = Console()
ACTOR = Actor.system("命令行")


def _fail(error: DomainError) -> None:
    console.print(f"[red]{error.code}[/]：{error.message}")
    raise typer.Exit(2) from None


@evaluation_app.command("models")
def models() -> None:
    """列出评价模型及其现行版本。"""
    table = Table("代码", "名称", "版本", "用途", "指标数")
    with session_scope() as session:
        for entry in service.list_models(session):
            table.add_row(entry.code, entry.spec.name, str(entry.version.version), entry.spec.purpose,
                          str(len(entry.spec.indicators)))
    console.print(table)


@evaluation_app.command("export")
def export(code: str, out: Path = typer.Option(..., "--out", help="写出的 YAML 文件")) -> None:
    """把评价模型的现行版本导出为 YAML。"""
    with session_scope() as session:
        out.write_text(service.spec_to_yaml(service.get_model(session, code).spec), encoding="utf-8")
    console.print(f"已导出到 {out}")


@evaluation_app.command("import")
def import_(path: Path, note: str = typer.Option("从文件导入", help="修订说明（修订已有模型时）")) -> None:
    """从 YAML 新建评价模型，或修订同代码的已有模型（生成新版本）。"""
    try:
        with session_scope() as session:
            spec = service.spec_from_yaml(path.read_text(encoding="utf-8"))
            known = {m.code for m in service.list_models(session)}
            entry = (service.revise_model(session, ACTOR, spec.code, spec, note) if spec.code in known
                     else service.create_model(session, ACTOR, spec))
            console.print(f"{entry.code} 第 {entry.version.version} 版已保存")
    except DomainError as error:
        _fail(error)


@evaluation_app.command("run")
def run(code: str, as_of: str = typer.Option("", help="评价基准日 YYYY-MM-DD，默认今天")) -> None:
    """运行评价批次：导出信用记录，按模型计算全部适用主体的得分和等级并保存。"""
    try:
        day = date.fromisoformat(as_of) if as_of else clock.today()
        result = service.run_model(session_factory(), ACTOR, code, day)
    except DomainError as error:
        _fail(error)
        return
    except ValueError:
        console.print("[red]EVAL_AS_OF_INVALID[/]：评价基准日格式应为 YYYY-MM-DD")
        raise typer.Exit(2) from None
    console.print(f"批次 #{result.id}：{result.population} 个主体，读取 {result.facts} 条记录，"
                  f"用时 {result.duration_ms} 毫秒；等级分布 {result.grade_counts}")
