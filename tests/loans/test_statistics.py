"""The authority's lending statistics: every figure equals a count made here, independently, from the
applications themselves (in Python, over the rows) — in all, by bank, by month and by industry."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.loans.support import OTHER_BANK_CODE, Stage, application, approval
from tests.support.world import BANK_CODE
from xinyong import clock
from xinyong.actor import Actor
from xinyong.loans import service
from xinyong.loans.models import LoanApplication
from xinyong.loans.schemas import ApplicationIn, DecisionIn, ProductIn
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.schemas import OrganisationIn

Clients = Callable[[str], TestClient]
INDUSTRIES = ("C", "F", "I", None)


def firm(stage: Stage, index: int) -> Actor:
    """A small firm (every fourth an individual business), in one of four industries."""
    category = "2" if index % 4 == 3 else "1"
    code = uscc.build("9", category, "320104", f"MA3T{index:04d}")
    subject = subjects.register_organisation(stage.session, Actor.system(), OrganisationIn(
        uscc=code, name=f"南京统计样本{index}号商贸有限公司" if category == "1" else f"南京统计样本{index}号经营部",
        industry=INDUSTRIES[index % 4]))
    return Actor(user_id=None, username=f"样本{index}", role="subject_user", subject_id=subject.id)


def at(month: int, day: int) -> Any:
    return clock.pinned(datetime(2026, month, day, 10, tzinfo=clock.SHANGHAI))


def build_history(stage: Stage) -> None:
    """Fourteen applications over three months to two banks, with every outcome."""
    session = stage.session
    other_product = service.publish_product(session, stage.other_bank, ProductIn(
        name="个体户经营贷", max_amount=50, term_months=12, rate_min=4, rate_max=7, unsecured=True,
        target_kinds=["enterprise", "individual_business"])).number
    plan: list[tuple[int, int, str, float, str]] = [  # month, day, product, amount, outcome
        (4, 8, stage.unsecured, 100, "approved"), (4, 9, stage.secured, 600, "approved"),
        (4, 20, other_product, 30, "rejected"), (4, 21, stage.unsecured, 250, "approved"),
        (5, 6, stage.unsecured, 80, "rejected"), (5, 7, other_product, 45, "approved"),
        (5, 12, stage.secured, 900, "withdrawn"), (5, 13, stage.unsecured, 60, "approved"),
        (5, 25, other_product, 20, "submitted"), (6, 1, stage.unsecured, 120, "approved"),
        (6, 2, stage.secured, 300, "rejected"), (6, 3, other_product, 50, "approved"),
        (6, 8, stage.unsecured, 75.5, "submitted"), (6, 9, stage.unsecured, 10, "withdrawn"),
    ]
    for index, (month, day, product, amount, outcome) in enumerate(plan):
        subject = firm(stage, index)
        if product == stage.secured and index % 4 == 3:
            subject = firm(stage, index + 100)  # the secured product is for enterprises only
        with at(month, day):
            made = service.apply(session, subject, ApplicationIn(product=product, amount=amount, term_months=12,
                                                                 purpose="补充流动资金"))
        bank = stage.other_bank if product == other_product else stage.bank
        with at(month, day + 2):
            if outcome == "withdrawn":
                service.withdraw(session, subject, made.number)
            elif outcome == "rejected":
                service.decide(session, bank, made.number, DecisionIn(outcome="rejected", reason="资信不足"))
            elif outcome == "approved":
                terms = approval(amount=round(amount * 0.8, 2), rate=4.5 if product != stage.secured else 4,
                                 unsecured=product != stage.secured, first_loan=index % 3 == 0)
                service.decide(session, bank, made.number, DecisionIn(**terms))
                if index % 2 == 0:
                    service.disburse(session, bank, made.number, datetime(2026, month, day + 2).date())
    session.commit()


def expected(rows: list[LoanApplication], key: Callable[[LoanApplication], str]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[LoanApplication]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    out = {}
    for name, members in groups.items():
        approved = [r for r in members if r.status == "approved"]
        rejected = [r for r in members if r.status == "rejected"]
        out[name] = {
            "applications": len(members), "pending": sum(r.status == "submitted" for r in members),
            "withdrawn": sum(r.status == "withdrawn" for r in members), "approved": len(approved),
            "rejected": len(rejected), "decided": len(approved) + len(rejected),
            "approval_rate": round(len(approved) / (len(approved) + len(rejected)), 4) if approved or rejected else None,
            "amount_applied": round(sum(r.amount for r in members), 2),
            "amount_granted": round(sum(r.granted_amount or 0 for r in approved), 2),
            "unsecured": sum(bool(r.granted_unsecured) for r in approved),
            "unsecured_share": round(sum(bool(r.granted_unsecured) for r in approved) / len(approved), 4) if approved else None,
            "unsecured_amount": round(sum(r.granted_amount or 0 for r in approved if r.granted_unsecured), 2),
            "first_loans": sum(bool(r.first_loan) for r in approved),
            "disbursed": sum(r.disbursed_on is not None for r in approved),
            "amount_disbursed": round(sum(r.granted_amount or 0 for r in approved if r.disbursed_on), 2),
        }
    return out


def figures(found: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in found.items() if k not in ("key", "label")}


def test_dashboard_figures_equal_an_independent_count(stage: Stage, client_for: Clients) -> None:
    build_history(stage)
    rows = list(stage.session.scalars(select(LoanApplication)))
    stage.session.commit()
    assert len(rows) == 14 and {r.status for r in rows} == {"approved", "rejected", "withdrawn", "submitted"}

    stats = client_for("authority_admin").get("/api/v1/loans/statistics").json()
    assert figures(stats["total"]) == expected(rows, lambda r: "all")["all"]
    banks = expected(rows, lambda r: str(r.institution_id))
    assert [f["key"] for f in stats["by_bank"]] == [BANK_CODE, OTHER_BANK_CODE]  # most applications first
    for found in stats["by_bank"]:
        institution_id = stage.bank.institution_id if found["key"] != OTHER_BANK_CODE else stage.other_bank.institution_id
        assert figures(found) == banks[str(institution_id)], found["label"]
    months = expected(rows, lambda r: f"{clock.local(r.applied_at):%Y-%m}")
    assert [m["key"] for m in stats["by_month"]] == ["2026-04", "2026-05", "2026-06"]
    for found in stats["by_month"]:
        assert figures(found) == months[found["key"]], found["key"]
    industries = expected(rows, lambda r: r.industry or "")
    assert {f["key"] for f in stats["by_industry"]} == set(industries) == {"C", "F", "I", ""}
    for found in stats["by_industry"]:
        assert figures(found) == industries[found["key"]], found["key"]
    assert next(f for f in stats["by_industry"] if f["key"] == "")["label"] == "未登记行业"

    may = client_for("authority_admin").get("/api/v1/loans/statistics?start=2026-05-01&end=2026-05-31").json()
    in_may = [r for r in rows if r.applied_month == "2026-05"]
    assert figures(may["total"]) == expected(in_may, lambda r: "all")["all"]
    page = client_for("authority_admin").get("/loans/dashboard").text
    assert "南京另一银行股份有限公司" in page and "2026-04" in page and "制造业" in page


def test_an_empty_platform_has_zero_figures(stage: Stage, client_for: Clients) -> None:
    stats = client_for("authority_admin").get("/api/v1/loans/statistics").json()
    total = stats["total"]
    assert total["applications"] == 0 and total["approval_rate"] is None and total["unsecured_share"] is None
    assert stats["by_bank"] == [] and stats["by_month"] == [] and stats["by_industry"] == []
    assert client_for("authority_admin").get("/loans/dashboard").status_code == 200
    assert application(stage.unsecured)["product"] == stage.unsecured
