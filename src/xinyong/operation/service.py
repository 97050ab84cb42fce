"""Authorised operation (授权运营): contracts recorded by the credit authority, and aggregated data
products released to the operator under them, with small cells suppressed.

Who does what: the credit authority registers a contract with an institution of kind ``operator``
(协议编号, products allowed, purpose, period, k) and may terminate it; the operator, with its own
account or API token, lists what its live contracts allow and receives products. Every release is
logged (``OperationRelease``) and audited; refusals raise a ``DomainError`` with a stable code
(the routes audit them).

The protection (docs/operation.md): products are counts only; every table goes through
``suppression.suppress`` with the contract's k, which is never below the policy parameter
``operation_disclosure_control.k``; no product accepts a parameter that names a subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import Institution
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.db import utcnow
from xinyong.disclosure.publication import add_months
from xinyong.errors import Conflict, Forbidden, Invalid, NotFound
from xinyong.operation import suppression
from xinyong.operation.models import OperationContract, OperationRelease
from xinyong.operation.products import IDENTIFYING, POLICY, PRODUCTS
from xinyong.operation.schemas import (
    STATUS_LABELS,
    Cell,
    ContractIn,
    ContractOut,
    Line,
    ProductOffer,
    ProductRelease,
    ReleaseOut,
)
from xinyong.policy import service as policy

AUTHORITY = "authority_admin"
OPERATOR = "operator"


def minimum_k(session: Session) -> int:
    return int(policy.get(session, POLICY)["k"])


def _authority_only(actor: Actor, what: str) -> None:
    if actor.role != AUTHORITY and not actor.is_system:
        raise Forbidden("OPERATION_AUTHORITY_ONLY", f"只有信用主管部门可以{what}")


def operators(session: Session) -> list[Institution]:
    return [i for i in access.institutions(session) if i.kind == OPERATOR]


def status(contract: OperationContract, today: date | None = None) -> str:
    today = today or clock.today()
    if contract.terminated_at is not None:
        return "terminated"
    if today < contract.starts_on:
        return "pending"
    return "expired" if today > contract.ends_on else "active"


# --- contracts (the authority) ------------------------------------------------------------------------


def register_contract(session: Session, actor: Actor, data: ContractIn) -> OperationContract:
    """Record a signed 授权运营协议 with an operator institution."""
    _authority_only(actor, "登记授权运营协议")
    number = data.number.strip()
    institution = next(
        (i for i in access.institutions(session) if i.code == data.institution_code.strip().upper()), None
    )
    if institution is None:
        raise Invalid("OPERATION_INSTITUTION_UNKNOWN", f"机构不存在：{data.institution_code}", field="institution_code")
    if institution.kind != OPERATOR:
        raise Invalid(
            "OPERATION_NOT_OPERATOR",
            f"{institution.name}不是授权运营机构，不能签订授权运营协议",
            field="institution_code",
        )
    unknown = [code for code in data.products if code not in PRODUCTS]
    if unknown:
        raise Invalid("OPERATION_PRODUCT_UNKNOWN", f"数据产品不存在：{'、'.join(unknown)}", field="products")
    floor = minimum_k(session)
    k = data.k if data.k is not None else floor
    if k < floor:
        raise Invalid("OPERATION_K_TOO_LOW", f"最小单元格阈值不得低于{floor}（政策参数）", field="k")
    if data.ends_on < data.starts_on:
        raise Invalid("OPERATION_PERIOD_INVALID", "协议终止日期不能早于起始日期", field="ends_on")
    longest = int(policy.get(session, POLICY)["contract_max_months"])
    if data.ends_on > add_months(data.starts_on, longest):
        raise Invalid("OPERATION_PERIOD_TOO_LONG", f"授权运营协议期限最长{longest}个月", field="ends_on")
    if data.ends_on < clock.today():
        raise Invalid("OPERATION_PERIOD_PAST", "协议终止日期已过", field="ends_on")
    if session.scalar(select(OperationContract.id).where(OperationContract.number == number)) is not None:
        raise Conflict("OPERATION_CONTRACT_EXISTS", f"协议编号已登记：{number}", field="number")
    contract = OperationContract(
        number=number,
        institution_id=institution.id,
        products=list(dict.fromkeys(data.products)),
        purpose=data.purpose.strip(),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        k_threshold=k,
        created_at=utcnow(),
        created_by=actor.username,
        terminated_at=None,
        terminated_by=None,
        termination_reason="",
    )
    session.add(contract)
    session.flush()
    audit.append(
        session,
        actor,
        "operation.contract.register",
        object_type="operation_contract",
        object_id=number,
        detail={
            "institution": institution.code,
            "products": contract.products,
            "purpose": contract.purpose,
            "starts_on": data.starts_on.isoformat(),
            "ends_on": data.ends_on.isoformat(),
            "k": k,
        },
    )
    return contract


def get_contract(session: Session, number: str) -> OperationContract:
    contract = session.scalar(select(OperationContract).where(OperationContract.number == number.strip()))
    if contract is None:
        raise NotFound("OPERATION_CONTRACT_UNKNOWN", f"授权运营协议不存在：{number}")
    return contract


def terminate_contract(session: Session, actor: Actor, number: str, reason: str) -> OperationContract:
    """End a contract at once (终止): no product is released under it any more."""
    _authority_only(actor, "终止授权运营协议")
    contract = get_contract(session, number)
    if contract.terminated_at is not None:
        raise Conflict(
            "OPERATION_CONTRACT_TERMINATED",
            f"协议 {contract.number} 已于{clock.local(contract.terminated_at):%Y-%m-%d}终止",
        )
    reason = reason.strip()
    if len(reason) < 2:
        raise Invalid("OPERATION_REASON_REQUIRED", "请填写终止原因", field="reason")
    contract.terminated_at, contract.terminated_by, contract.termination_reason = utcnow(), actor.username, reason[:500]
    audit.append(
        session,
        actor,
        "operation.contract.terminate",
        object_type="operation_contract",
        object_id=contract.number,
        detail={"reason": contract.termination_reason},
    )
    return contract


def _institutions(session: Session) -> dict[int, Institution]:
    return {i.id: i for i in access.institutions(session)}


def contract_out(contract: OperationContract, institution: Institution) -> ContractOut:
    state = status(contract)
    return ContractOut(
        number=contract.number,
        institution_code=institution.code,
        institution_name=institution.name,
        products=list(contract.products),
        purpose=contract.purpose,
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        k=contract.k_threshold,
        status=state,
        status_label=STATUS_LABELS[state],
        terminated_at=clock.local(contract.terminated_at).isoformat() if contract.terminated_at else None,
        termination_reason=contract.termination_reason,
    )


def contracts(session: Session, *, institution_id: int | None = None) -> list[ContractOut]:
    query = select(OperationContract).order_by(OperationContract.id.desc())
    if institution_id is not None:
        query = query.where(OperationContract.institution_id == institution_id)
    institutions = _institutions(session)
    return [contract_out(c, institutions[c.institution_id]) for c in session.scalars(query)]


def releases(session: Session, *, institution_id: int | None = None, limit: int = 100) -> list[ReleaseOut]:
    query = (
        select(OperationRelease, OperationContract)
        .join(OperationContract, OperationContract.id == OperationRelease.contract_id)
        .order_by(OperationRelease.id.desc())
        .limit(limit)
    )
    if institution_id is not None:
        query = query.where(OperationContract.institution_id == institution_id)
    institutions = _institutions(session)
    return [
        ReleaseOut(
            id=r.id,
            contract=c.number,
            institution_name=institutions[c.institution_id].name,
            product=r.product,
            parameters=r.parameters,
            cells=r.cells,
            suppressed_cells=r.suppressed_cells,
            released_at=clock.local(r.released_at).isoformat(timespec="seconds"),
            released_by=r.released_by,
        )
        for r, c in session.execute(query)
    ]


def release_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OperationRelease)) or 0


# --- products (the operator) -----------------------------------------------------------------------------


def operator_of(session: Session, actor: Actor) -> Institution:
    """The operator institution the actor acts for; anyone else is refused."""
    institution = _institutions(session).get(actor.institution_id or 0)
    if institution is None or institution.kind != OPERATOR:
        raise Forbidden("OPERATION_NOT_OPERATOR", "只有授权运营机构可以获取授权运营数据产品")
    return institution


def products_for(session: Session, actor: Actor) -> list[ProductOffer]:
    """What the operator's live contracts allow, product by product."""
    institution = operator_of(session, actor)
    live = [
        c
        for c in session.scalars(
            select(OperationContract)
            .where(OperationContract.institution_id == institution.id)
            .order_by(OperationContract.id)
        )
        if status(c) == "active"
    ]
    return [
        ProductOffer(
            contract=c.number,
            contract_ends_on=c.ends_on,
            k=c.k_threshold,
            code=code,
            name=PRODUCTS[code].name,
            description=PRODUCTS[code].description,
            parameters=dict(PRODUCTS[code].parameters),
        )
        for c in live
        for code in c.products
        if code in PRODUCTS
    ]


def _live_contract(session: Session, institution: Institution, number: str | None) -> OperationContract:
    if not number or not number.strip():
        raise Invalid("OPERATION_CONTRACT_REQUIRED", "请用 contract 参数指明依据的授权运营协议编号", field="contract")
    contract = session.scalar(select(OperationContract).where(OperationContract.number == number.strip()))
    if contract is None or contract.institution_id != institution.id:
        raise NotFound("OPERATION_CONTRACT_UNKNOWN", f"本机构没有编号为 {number.strip()} 的授权运营协议")
    state = status(contract)
    if state == "terminated":
        raise Forbidden("OPERATION_CONTRACT_TERMINATED", f"授权运营协议 {contract.number} 已终止")
    if state == "expired":
        raise Forbidden(
            "OPERATION_CONTRACT_EXPIRED", f"授权运营协议 {contract.number} 已于{contract.ends_on:%Y-%m-%d}到期"
        )
    if state == "pending":
        raise Forbidden(
            "OPERATION_CONTRACT_NOT_STARTED", f"授权运营协议 {contract.number} 自{contract.starts_on:%Y-%m-%d}起生效"
        )
    return contract


def _check_parameters(code: str, params: dict[str, str]) -> dict[str, str]:
    identifying = sorted(name for name in params if name.lower() in IDENTIFYING)
    if identifying:
        raise Forbidden(
            "OPERATION_PARAMETER_IDENTIFYING",
            f"数据产品不接受指向具体主体的参数：{'、'.join(identifying)}",
            parameters=identifying,
        )
    allowed = PRODUCTS[code].parameters
    unknown = sorted(name for name in params if name not in allowed)
    if unknown:
        raise Invalid(
            "OPERATION_PARAMETER_UNKNOWN",
            f"数据产品“{PRODUCTS[code].name}”不接受参数：{'、'.join(unknown)}（可用：{'、'.join(allowed) or '无'}）",
            field=unknown[0],
        )
    return {name: value.strip() for name, value in params.items() if value.strip()}


def release(
    session: Session, actor: Actor, code: str, contract_number: str | None, params: dict[str, str]
) -> ProductRelease:
    """One data product for the operator under its contract: counted, suppressed, logged, audited."""
    institution = operator_of(session, actor)
    product = PRODUCTS.get(code)
    if product is None:
        raise NotFound("OPERATION_PRODUCT_UNKNOWN", f"数据产品不存在：{code}")
    params = _check_parameters(code, params)
    contract = _live_contract(session, institution, contract_number)
    if code not in contract.products:
        raise Forbidden(
            "OPERATION_PRODUCT_NOT_IN_CONTRACT", f"授权运营协议 {contract.number} 不包含数据产品“{product.name}”"
        )
    table = product.build(session, params)
    k = max(contract.k_threshold, minimum_k(session))  # a later, higher policy minimum binds old contracts too
    result = suppression.suppress(table.counts, k, rows=table.rows, columns=table.columns)
    row = OperationRelease(
        contract_id=contract.id,
        product=code,
        parameters=params,
        cells=len(result.cells),
        suppressed_cells=len(result.suppressed),
        released_at=utcnow(),
        released_by=actor.username,
        user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        actor,
        "operation.release",
        object_type="operation_release",
        object_id=row.id,
        detail={
            "contract": contract.number,
            "product": code,
            "parameters": params,
            "cells": row.cells,
            "suppressed": row.suppressed_cells,
            "k": k,
        },
    )
    marker = result.marker
    return ProductRelease(
        release_id=row.id,
        product=code,
        name=product.name,
        contract=contract.number,
        parameters=params,
        released_at=clock.local(row.released_at).isoformat(timespec="seconds"),
        unit=table.unit,
        k=k,
        suppressed_marker=marker,
        row_dimension=table.row_dimension,
        column_dimension=table.column_dimension,
        rows=[Line(key=r, label=table.labels.get(r, r)) for r in table.rows],
        columns=[Line(key=c, label=table.labels.get(c, c)) for c in table.columns],
        cells=[
            Cell(row=r, column=c, count=value, flag=marker if value is None else None)
            for (r, c), value in result.cells.items()
        ],
        row_totals=dict(result.row_totals),
        column_totals=dict(result.column_totals),
        total=result.total,
        suppressed_cells=len(result.suppressed),
        basis=table.basis,
    )


@dataclass(frozen=True)
class Overview:
    contracts: list[ContractOut]
    releases: list[ReleaseOut]
    operators: list[Institution]
    minimum_k: int


def overview(session: Session) -> Overview:
    return Overview(contracts(session), releases(session), operators(session), minimum_k(session))


def portal(session: Session, actor: Actor) -> dict[str, Any]:
    """The operator's own contracts, offers and recent releases (its portal page)."""
    institution = operator_of(session, actor)
    return {
        "institution": institution,
        "contracts": contracts(session, institution_id=institution.id),
        "offers": products_for(session, actor),
        "releases": releases(session, institution_id=institution.id, limit=20),
    }
