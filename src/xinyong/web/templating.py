"""Jinja2 environment: every context's ``templates/`` folder plus the shared base, with filters."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

from xinyong import clock
from xinyong.access.permissions import ROLE_LABELS, P, role_allows
from xinyong.config import get_settings
from xinyong.subjects.kinds import kind_label

_ROOT = Path(__file__).resolve().parent.parent
CONTEXTS = ["web", "access", "audit", "catalogue", "commitments", "disclosure", "evaluation", "grants", "ingest", "loans", "notifications",
            "operation", "partners", "policy", "records", "repair", "reports", "sanctions", "sharing", "subjects"]


def _datetime(value: datetime | None) -> str:
    return clock.local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = clock.local(value).date()
    return value.strftime("%Y-%m-%d")


# Navigation: (label, path, permission). What a role sees is what its permissions allow.
NAVIGATION: list[tuple[str, str, P]] = [
    ("首页", "/", P.PUBLIC),
    ("信用查询", "/search", P.PUBLIC),
    ("行政许可", "/publicity/licences", P.PUBLIC),
    ("行政处罚", "/publicity/penalties", P.PUBLIC),
    ("信用目录", "/catalogue", P.PUBLIC),
    ("奖惩措施", "/measures", P.PUBLIC),
    ("信易贷", "/loans/products", P.PUBLIC),
    ("报告核验", "/verify", P.PUBLIC),
    ("主体库", "/subjects", P.SUBJECTS_READ),
    ("赋码冲突", "/subjects/conflicts", P.SUBJECTS_CONFLICTS),
    ("信息归集", "/ingest", P.INGEST_READ),
    ("报送记录", "/records", P.RECORDS_SUBMIT),
    ("质效评估", "/quality", P.QUALITY_READ),
    ("信用评价", "/evaluation", P.EVALUATION_READ),
    ("双随机抽查", "/supervision", P.SUPERVISION_READ),
    ("联合奖惩", "/sanctions", P.SANCTIONS_READ),
    ("奖惩核查", "/sanctions/check", P.SANCTIONS_CHECK),
    ("核查反馈", "/sanctions/feedback", P.SANCTIONS_OVERSIGHT),
    ("信用承诺", "/commitments", P.COMMITMENTS_MANAGE),
    ("信用修复", "/repairs", P.REPAIR_CASES),
    ("异议处理", "/objections", P.REPAIR_CASES),
    ("信用报告", "/reports", P.REPORTS_MANAGE),
    ("授权查询监管", "/grants", P.GRANTS_OVERSIGHT),
    ("授权运营", "/operation", P.OPERATION_MANAGE),
    ("平台数据合作", "/partners", P.PARTNERS_MANAGE),
    ("信息共享", "/sharing/requests", P.SHARING_READ),
    ("共享概况", "/sharing", P.SHARING_APPROVE),
    ("信易贷统计", "/loans/dashboard", P.LOANS_OVERSIGHT),
    ("待办事项", "/me/todo", P.SIGNED_IN),
    ("我的信用", "/me/credit", P.RECORDS_READ_OWN),
    ("我的评价", "/me/evaluation", P.EVALUATION_READ_OWN),
    ("我的承诺", "/me/commitments", P.COMMITMENTS_MAKE),
    ("我的修复申请", "/me/repairs", P.REPAIR_APPLY),
    ("我的异议", "/me/objections", P.REPAIR_APPLY),
    ("我的报告", "/me/reports", P.REPORTS_OWN),
    ("我的授权", "/me/grants", P.GRANTS_OWN),
    ("谁查看了我的信息", "/me/reads", P.SHARING_READ_OWN_LOG),
    ("我的信易贷", "/me/loans", P.LOANS_APPLY),
    ("机构服务", "/institution", P.INSTITUTION_PORTAL),
    ("授权查询", "/institution/grants", P.GRANTS_QUERY),
    ("信易贷业务", "/institution/loans", P.LOANS_BANK),
    ("用户管理", "/admin/users", P.USERS_MANAGE),
    ("政策参数", "/admin/policy", P.POLICY_EDIT),
    ("工作日历", "/admin/calendar", P.POLICY_EDIT),
    ("审计日志", "/audit", P.AUDIT_READ),
]


def navigation_for(role: str) -> list[tuple[str, str]]:
    return [(label, path) for label, path, permission in NAVIGATION if role_allows(role, permission)]


def build_templates() -> Jinja2Templates:
    loaders = [FileSystemLoader(str(_ROOT / name / "templates")) for name in CONTEXTS]
    templates = Jinja2Templates(directory=str(_ROOT / "web" / "templates"))
    templates.env.loader = ChoiceLoader(loaders)
    templates.env.filters.update(datetime=_datetime, date=_date, kind_label=kind_label,
                                 role_label=lambda r: ROLE_LABELS.get(r, r))
    templates.env.globals.update(navigation_for=navigation_for, role_allows=role_allows, P=P,
                                 settings=get_settings, now=clock.now)
    return templates


templates = build_templates()


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Any:
    actor = getattr(request.state, "actor", None)
    return templates.TemplateResponse(request, name, {"actor": actor, **context}, status_code=status_code)
