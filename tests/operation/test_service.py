"""Authorised operation: contracts, products on real data with small cells suppressed, refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.operation.conftest import ADMIN, OPERATOR_CODE, Registry, contract
from tests.support.sanctions import build_cast, grade_run, penalty, refused
from tests.support.world import build_world
from xinyong import clock
from xinyong.audit.models import AuditEntry
from xinyong.operation import service
from xinyong.operation.models import OperationRelease
from xinyong.operation.schemas import ContractIn
from xinyong.policy import service as policy

PRODUCT = "subjects_by_industry_region"


def _cells(table: service.ProductRelease) -> dict[tuple[str, str], int | None]:
    return {(c.row, c.column): c.count for c in table.cells}


def test_small_cells_are_suppressed_on_real_registry_data(seeded: Session, registry: Registry) -> None:
    number = contract(seeded)
    table = service.release(seeded, registry.operator, PRODUCT, number, {"region": "3201"})
    cells = _cells(table)
    assert table.k == 5 and table.suppressed_marker == "<5"
    # C·320104 (1) and F·320104 (2) are below k; rows C and F would then give them away by subtraction
    # from their totals (8 each), so the next-smallest cell of each row is hidden too
    assert cells == {
        ("C", "320102"): None,
        ("C", "320104"): None,
        ("F", "320102"): None,
        ("F", "320104"): None,
        ("I", "320102"): 5,
        ("I", "320104"): 9,
    }
    flags = {(c.row, c.column): c.flag for c in table.cells}
    assert flags[("C", "320104")] == "<5" and flags[("I", "320102")] is None
    assert table.row_totals == {"C": 8, "F": 8, "I": 14} and table.column_totals == {"320102": 18, "320104": 12}
    for row in ("C", "F", "I"):
        hidden = [col for col in ("320102", "320104") if cells[(row, col)] is None]
        assert not (len(hidden) == 1 and table.row_totals[row] is not None)
    assert table.total == 30
    assert table.suppressed_cells == 4
    release = seeded.scalar(select(OperationRelease).where(OperationRelease.id == table.release_id))
    assert release is not None and release.parameters == {"region": "3201"} and release.cells == 6
    assert release.suppressed_cells == table.suppressed_cells
    entry = seeded.scalar(select(AuditEntry).where(AuditEntry.action == "operation.release"))
    assert entry is not None and entry.detail["contract"] == number


def test_a_contract_may_raise_k_and_never_lower_it(seeded: Session, registry: Registry) -> None:
    number = contract(seeded, k=8)
    cells = _cells(service.release(seeded, registry.operator, PRODUCT, number, {}))
    assert cells[("F", "320102")] is None and cells[("I", "320102")] is None  # 6 and 5 < 8
    assert cells[("I", "320104")] is None  # row I would otherwise give I·320102 away
    error = refused(
        "OPERATION_K_TOO_LOW",
        service.register_contract,
        seeded,
        ADMIN,
        ContractIn(
            number="SQYY-LOW",
            institution_code=OPERATOR_CODE,
            products=[PRODUCT],
            purpose="测试用途",
            starts_on=clock.today(),
            ends_on=clock.today() + timedelta(days=30),
            k=3,
        ),
    )
    assert error.field == "k"


def test_a_higher_policy_minimum_binds_an_older_contract(seeded: Session, registry: Registry) -> None:
    number = contract(seeded)
    value = dict(policy.get(seeded, "operation_disclosure_control"), k=10)
    policy.seed(seeded)
    policy.change(seeded, ADMIN, "operation_disclosure_control", value)
    table = service.release(seeded, registry.operator, PRODUCT, number, {})
    assert table.k == 10 and all(c.count is None for c in table.cells)


def test_products_lists_what_the_live_contract_allows(seeded: Session, registry: Registry) -> None:
    assert service.products_for(seeded, registry.operator) == []
    contract(seeded, products=[PRODUCT])
    offers = service.products_for(seeded, registry.operator)
    assert [(o.contract, o.code) for o in offers] == [("SQYY-2026-001", PRODUCT)]
    assert "region" in offers[0].parameters


def test_refusals(seeded: Session, registry: Registry) -> None:
    number = contract(seeded, products=[PRODUCT])
    refused("OPERATION_NOT_OPERATOR", service.release, seeded, registry.bank, PRODUCT, number, {})
    refused("OPERATION_NOT_OPERATOR", service.products_for, seeded, registry.bank)
    refused("OPERATION_CONTRACT_REQUIRED", service.release, seeded, registry.operator, PRODUCT, "", {})
    refused("OPERATION_CONTRACT_UNKNOWN", service.release, seeded, registry.operator, PRODUCT, "NO-SUCH", {})
    refused("OPERATION_PRODUCT_UNKNOWN", service.release, seeded, registry.operator, "subject_list", number, {})
    refused(
        "OPERATION_PRODUCT_NOT_IN_CONTRACT",
        service.release,
        seeded,
        registry.operator,
        "grade_distribution",
        number,
        {"model": "PUBLIC_CREDIT_ORG"},
    )
    for name in ("subject_code", "uscc", "name", "subject_id"):
        refused(
            "OPERATION_PARAMETER_IDENTIFYING",
            service.release,
            seeded,
            registry.operator,
            PRODUCT,
            number,
            {name: "91320102MA4T00016X"},
        )
    refused("OPERATION_PARAMETER_UNKNOWN", service.release, seeded, registry.operator, PRODUCT, number, {"grade": "A"})
    refused(
        "OPERATION_PARAMETER_INVALID", service.release, seeded, registry.operator, PRODUCT, number, {"region": "32010"}
    )
    refused(
        "OPERATION_PARAMETER_INVALID",
        service.release,
        seeded,
        registry.operator,
        PRODUCT,
        number,
        {"kind": "natural_person"},
    )
    assert seeded.scalar(select(OperationRelease.id)) is None  # nothing released by a refused request


def test_expired_terminated_and_not_started_contracts_are_refused(seeded: Session, registry: Registry) -> None:
    today = clock.today()
    ending = contract(seeded, "SQYY-END", ends_on=today + timedelta(days=10))
    later = contract(seeded, "SQYY-LATER", starts_on=today + timedelta(days=5))
    ended = contract(seeded, "SQYY-TERM")
    service.terminate_contract(seeded, ADMIN, ended, "运营机构违反协议约定")
    refused("OPERATION_CONTRACT_TERMINATED", service.release, seeded, registry.operator, PRODUCT, ended, {})
    refused("OPERATION_CONTRACT_NOT_STARTED", service.release, seeded, registry.operator, PRODUCT, later, {})
    assert service.release(seeded, registry.operator, PRODUCT, ending, {}).total == 30
    clock.advance(timedelta(days=11))
    refused("OPERATION_CONTRACT_EXPIRED", service.release, seeded, registry.operator, PRODUCT, ending, {})
    assert {o.contract for o in service.products_for(seeded, registry.operator)} == {"SQYY-LATER"}
    refused("OPERATION_CONTRACT_TERMINATED", service.terminate_contract, seeded, ADMIN, ended, "再次终止")


def test_contract_registration_rules(seeded: Session, registry: Registry) -> None:
    today = clock.today()

    def attempt(code: str, **changes: object) -> None:
        data = {
            "number": "SQYY-R",
            "institution_code": OPERATOR_CODE,
            "products": [PRODUCT],
            "purpose": "测试用途",
            "starts_on": today,
            "ends_on": today + timedelta(days=30),
            **changes,
        }
        refused(code, service.register_contract, seeded, ADMIN, ContractIn.model_validate(data))

    from tests.operation.conftest import BANK_CODE

    attempt("OPERATION_NOT_OPERATOR", institution_code=BANK_CODE)
    attempt("OPERATION_INSTITUTION_UNKNOWN", institution_code="91320100MA0NONE00")
    attempt("OPERATION_PRODUCT_UNKNOWN", products=["subject_details"])
    attempt("OPERATION_PERIOD_INVALID", ends_on=today - timedelta(days=1))
    attempt("OPERATION_PERIOD_TOO_LONG", ends_on=today + timedelta(days=365 * 4))
    contract(seeded, "SQYY-R")
    attempt("OPERATION_CONTRACT_EXISTS")
    refused(
        "OPERATION_AUTHORITY_ONLY",
        service.register_contract,
        seeded,
        registry.operator,
        ContractIn(
            number="SQYY-X",
            institution_code=OPERATOR_CODE,
            products=[PRODUCT],
            purpose="测试用途",
            starts_on=today,
            ends_on=today + timedelta(days=3),
        ),
    )


def test_grade_distribution_uses_the_latest_run(sanctioned: Session, frozen_clock: object) -> None:
    from tests.operation.conftest import build_registry
    from xinyong.actor import Actor
    from xinyong.subjects import service as subjects
    from xinyong.subjects import uscc
    from xinyong.subjects.schemas import OrganisationIn

    registry = build_registry(sanctioned)
    number = contract(sanctioned)
    refused(
        "OPERATION_PARAMETER_INVALID",
        service.release,
        sanctioned,
        registry.operator,
        "grade_distribution",
        number,
        {"model": "PUBLIC_CREDIT_ORG"},
    )  # never run
    grades: dict[int, str] = {}
    index = 0
    for industry, a, b, c in (("C", 6, 7, 8), ("I", 8, 5, 9), ("F", 2, 6, 7)):  # all in district 320105
        for grade in "A" * a + "B" * b + "C" * c:
            index += 1
            subject = subjects.register_organisation(
                sanctioned,
                Actor.system(),
                OrganisationIn(
                    uscc=uscc.build("9", "1", "320105", f"MA5G{index:04d}"), name=f"评价{index}公司", industry=industry
                ),
            )
            grades[subject.id] = grade
    grade_run(sanctioned, "PUBLIC_CREDIT_ORG", {s: "D" for s in grades})  # an older run
    run_id = grade_run(sanctioned, "PUBLIC_CREDIT_ORG", grades)
    table = service.release(
        sanctioned, registry.operator, "grade_distribution", number, {"model": "PUBLIC_CREDIT_ORG", "region": "320105"}
    )
    assert table.basis["run_id"] == run_id
    assert [c.key for c in table.columns] == ["A", "B", "C"]  # grade D is not in the latest run
    # F·A (2) is below k. Row F would give it away: F·B (6) goes too; column A: C·A (6); column B: I·B (5);
    # then row C: C·B (7), row I: I·A (8). Every line now hides two cells or none.
    assert _cells(table) == {
        ("C/320105", "A"): None,
        ("C/320105", "B"): None,
        ("C/320105", "C"): 8,
        ("F/320105", "A"): None,
        ("F/320105", "B"): None,
        ("F/320105", "C"): 7,
        ("I/320105", "A"): None,
        ("I/320105", "B"): None,
        ("I/320105", "C"): 9,
    }
    assert table.row_totals == {"C/320105": 21, "F/320105": 15, "I/320105": 22}
    assert table.column_totals == {"A": 16, "B": 18, "C": 24} and table.total == 58
    assert table.suppressed_cells == 6
    refused(
        "OPERATION_PARAMETER_INVALID",
        service.release,
        sanctioned,
        registry.operator,
        "grade_distribution",
        number,
        {"model": "NO_SUCH_MODEL"},
    )
    refused(
        "OPERATION_PARAMETER_INVALID", service.release, sanctioned, registry.operator, "grade_distribution", number, {}
    )


def test_dishonesty_by_item_and_month(sanctioned: Session, frozen_clock: object) -> None:
    world = build_world(sanctioned)
    cast = build_cast(sanctioned, world)
    from tests.operation.conftest import build_registry

    registry = build_registry(sanctioned)
    number = contract(sanctioned)
    codes = [f"91320102MA4T{n:04d}" for n in range(1, 8)]
    from xinyong.subjects import service as subjects

    organisations = [s for ids in registry.subject_ids.values() for s in ids]
    known = [subjects.get(sanctioned, s).uscc for s in organisations][:7]
    assert len(known) == 7 and codes
    for n, code in enumerate(known):
        penalty(sanctioned, cast, code or "", number=f"宁玄市监罚〔2026〕{n + 10}号", on=date(2026, 3, 2 + n))
    penalty(sanctioned, cast, known[0] or "", number="宁玄市监罚〔2026〕99号", on=date(2026, 5, 6))
    sanctioned.commit()
    table = service.release(
        sanctioned,
        registry.operator,
        "dishonesty_by_item_month",
        number,
        {"from": "2026-01", "to": "2026-06", "region": "320102"},
    )
    cells = _cells(table)
    assert [c.key for c in table.columns] == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    # world's own penalty (2026-01) is 1 record; March has 7; May has 1
    assert cells[("ADM_PENALTY", "2026-03")] == 7
    assert cells[("ADM_PENALTY", "2026-05")] is None and cells[("ADM_PENALTY", "2026-01")] is None
    assert table.row_totals["ADM_PENALTY"] == 9
    refused(
        "OPERATION_PARAMETER_INVALID",
        service.release,
        sanctioned,
        registry.operator,
        "dishonesty_by_item_month",
        number,
        {"from": "2026-13"},
    )
    refused(
        "OPERATION_PARAMETER_INVALID",
        service.release,
        sanctioned,
        registry.operator,
        "dishonesty_by_item_month",
        number,
        {"from": "2020-01", "to": "2026-06"},
    )
    refused(
        "OPERATION_PARAMETER_INVALID",
        service.release,
        sanctioned,
        registry.operator,
        "dishonesty_by_item_month",
        number,
        {"from": "2026-06", "to": "2026-01"},
    )


@pytest.mark.parametrize("product", ["subjects_by_industry_region", "dishonesty_by_item_month"])
def test_an_empty_table_publishes_nothing_below_k(seeded: Session, frozen_clock: object, product: str) -> None:
    from tests.operation.conftest import build_registry

    registry = build_registry(seeded)
    number = contract(seeded)
    table = service.release(seeded, registry.operator, product, number, {"region": "110101"})
    assert all(c.count is None for c in table.cells) and table.total is None
