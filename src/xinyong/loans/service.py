"""信易贷: a bank's credit check for small firms, on top of subject authorisations (grants).

Who does what: a bank (an institution of kind ``bank``; its ``authorised_institution`` accounts)
publishes loan products and withdraws them; a small firm (the account of an enterprise or an
individual business — policy ``credit_loan_profile.subject_kinds``) applies for a product, and
applying authorises that bank, through ``grants``, for the agreed credit profile (policy
``credit_loan_profile.scope``) for ``grant_days``. Only the bank an application went to reads the
profile — always through the application's grant, so a revoked or expired grant stops it — and
records the outcome once (谁受理、谁审批), then the disbursement date. The subject may withdraw an
application until it is decided; its grant is revoked with it. The credit authority sees the
lending statistics, every figure one SQL aggregate over the applications.

Every write is audited here; reads of the profile are audited by ``grants``.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import Institution
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.db import utcnow
from xinyong.errors import Conflict, Forbidden, Invalid, NotFound
from xinyong.loans.models import LoanApplication, LoanProduct
from xinyong.loans.schemas import STATUS_LABELS, TARGET_KINDS, ApplicationIn, DecisionIn, Figures, ProductIn, Statistics
from xinyong.notifications.service import notify
from xinyong.policy import service as policy
from xinyong.subjects import service as subjects
from xinyong.subjects.kinds import INDUSTRIES, kind_label
from xinyong.subjects.models import Subject

AREA = "信易贷"
AUTHORITY = "authority_admin"
PERSON = "natural_person"
BANK = "bank"
PRODUCT_PREFIX = "XYDCP"
APPLICATION_PREFIX = "XYD"
POLICY = "credit_loan_profile"


# --- grants: the only places this context calls the grants context --------------------------------------

def _grants() -> Any:
    """``xinyong.grants.service`` (imported when first needed, so the loans pages load on their own)."""
    from xinyong.grants import service as grants

    return grants


def _authorise(session: Session, actor: Actor, *, bank_code: str, number: str, product_name: str, ends_on: date) -> str:
    """The subject authorises the bank for the agreed credit profile until ``ends_on``; the grant's number."""
    grant = _grants().create_grant(session, actor, institution_code=bank_code, scope=list(profile_scope(session)),
                                   purpose=f"信易贷融资申请 {number}（{product_name}）：银行授信审查", ends_on=ends_on)
    return str(grant.number)


def _revoke(session: Session, actor: Actor, grant_number: str, reason: str) -> None:
    """Revoke the application's grant; one the subject has already revoked (or that has run out) stays so."""
    with contextlib.suppress(Conflict):
        _grants().revoke_grant(session, actor, grant_number, reason)


def _read_profile(session: Session, actor: Actor, subject_code: str, grant_number: str) -> dict[str, Any]:
    """Exactly the granted sections, read (and audited) by grants — refused there without a live grant."""
    return dict(_grants().authorised_profile(session, actor, subject_code, grant_number))


# --- policy -------------------------------------------------------------------------------------------------

def _policy(session: Session) -> dict[str, Any]:
    return dict(policy.get(session, POLICY))


def profile_scope(session: Session) -> list[str]:
    """The agreed credit profile a loan application authorises (policy ``credit_loan_profile.scope``)."""
    return [str(item) for item in _policy(session)["scope"]]


def grant_days(session: Session) -> int:
    return int(_policy(session)["grant_days"])


def eligible_kinds(session: Session) -> list[str]:
    """Subject kinds that may apply (small firms: enterprises and individual businesses)."""
    return [str(kind) for kind in _policy(session)["subject_kinds"]]


# --- banks and products -----------------------------------------------------------------------------------

def institutions_by_id(session: Session) -> dict[int, Institution]:
    return {i.id: i for i in access.institutions(session)}


def bank_of(session: Session, actor: Actor) -> Institution:
    """The bank the acting account belongs to, or LOAN_BANK_REQUIRED."""
    institution = institutions_by_id(session).get(actor.institution_id or 0)
    if institution is None or institution.kind != BANK:
        raise Forbidden("LOAN_BANK_REQUIRED", "只有银行业金融机构的账号可以办理信易贷业务")
    return institution


def _product_number(product: LoanProduct) -> str:
    return f"{PRODUCT_PREFIX}{product.id:06d}"


def publish_product(session: Session, actor: Actor, data: ProductIn) -> LoanProduct:
    """A bank publishes a loan product (发布产品), offered at once on the public product list."""
    bank = bank_of(session, actor)
    if data.rate_min > data.rate_max:
        raise Invalid("LOAN_RATE_RANGE", "年化利率下限不能高于上限", field="rate_min")
    allowed = eligible_kinds(session)
    outside = [kind for kind in data.target_kinds if kind not in allowed]
    if outside:
        raise Invalid("LOAN_TARGET_KIND_NOT_ELIGIBLE", f"信易贷不面向{'、'.join(kind_label(k) for k in outside)}",
                      field="target_kinds")
    name = data.name.strip()
    same = session.scalar(select(LoanProduct.number).where(LoanProduct.institution_id == bank.id, LoanProduct.name == name,
                                                           LoanProduct.status == "active").limit(1))
    if same is not None:
        raise Conflict("LOAN_PRODUCT_DUPLICATE", f"本行已有在售的同名产品“{name}”（{same}）", field="name", number=same)
    product = LoanProduct(number=f"~{secrets.token_hex(8)}", institution_id=bank.id, name=name,
                          description=data.description.strip(), max_amount=round(data.max_amount, 2),
                          term_months=data.term_months, rate_min=round(data.rate_min, 4), rate_max=round(data.rate_max, 4),
                          unsecured=data.unsecured, target_kinds=sorted(set(data.target_kinds)), status="active",
                          created_at=utcnow(), created_by=actor.username, withdrawn_at=None)
    session.add(product)
    session.flush()
    product.number = _product_number(product)
    session.flush()
    audit.append(session, actor, "loan.product.publish", object_type="loan_product", object_id=product.number,
                 detail={"bank": bank.code, "name": name, "max_amount": product.max_amount,
                         "term_months": product.term_months, "rate": [product.rate_min, product.rate_max],
                         "unsecured": product.unsecured, "target_kinds": product.target_kinds})
    return product


def get_product(session: Session, number: str) -> LoanProduct:
    found = session.scalar(select(LoanProduct).where(LoanProduct.number == number.strip().upper()))
    if found is None:
        raise NotFound("LOAN_PRODUCT_NOT_FOUND", f"信易贷产品不存在：{number}")
    return found


def withdraw_product(session: Session, actor: Actor, number: str) -> LoanProduct:
    """The bank takes its product off the list (下架): no new applications; open ones go on."""
    bank = bank_of(session, actor)
    product = get_product(session, number)
    if product.institution_id != bank.id:
        raise Forbidden("LOAN_NOT_YOURS", "该产品不是本行发布的")
    if product.status == "withdrawn":
        raise Conflict("LOAN_PRODUCT_WITHDRAWN", f"产品“{product.name}”已下架")
    product.status = "withdrawn"
    product.withdrawn_at = utcnow()
    audit.append(session, actor, "loan.product.withdraw", object_type="loan_product", object_id=product.number,
                 detail={"bank": bank.code, "name": product.name})
    return product


@dataclass(frozen=True)
class ProductView:
    product: LoanProduct
    bank: Institution

    @property
    def targets(self) -> str:
        return "、".join(TARGET_KINDS.get(k, k) for k in self.product.target_kinds)


def products(session: Session, *, active_only: bool = True, institution_id: int | None = None) -> list[ProductView]:
    """Products, newest first (the public list: only those on sale)."""
    query = select(LoanProduct).order_by(LoanProduct.id.desc())
    if active_only:
        query = query.where(LoanProduct.status == "active")
    if institution_id is not None:
        query = query.where(LoanProduct.institution_id == institution_id)
    banks = institutions_by_id(session)
    return [ProductView(p, banks[p.institution_id]) for p in session.scalars(query)]


# --- applying and withdrawing --------------------------------------------------------------------------------

def _application_number(application: LoanApplication, year: int) -> str:
    """申请编号 from the row's own id: unique without a counter parallel writers would contend for."""
    return f"{APPLICATION_PREFIX}{year}{application.id:06d}"


def _check_applicant(session: Session, subject: Subject) -> None:
    if subject.kind == PERSON:
        raise Invalid("LOAN_PERSON_NOT_ELIGIBLE", "信易贷面向中小微企业和个体工商户，自然人不能在平台申请", field="product")
    if subject.kind not in eligible_kinds(session) or not subject.uscc:
        raise Invalid("LOAN_SUBJECT_NOT_ELIGIBLE", f"信易贷面向中小微企业和个体工商户，{kind_label(subject.kind)}不能申请",
                      field="product")


def _check_terms(session: Session, subject: Subject, product: LoanProduct, data: ApplicationIn) -> None:
    if product.status != "active":
        raise Conflict("LOAN_PRODUCT_WITHDRAWN", f"产品“{product.name}”已下架，不再受理申请", field="product")
    if subject.kind not in product.target_kinds:
        raise Invalid("LOAN_PRODUCT_NOT_FOR_KIND", f"产品“{product.name}”不面向{kind_label(subject.kind)}", field="product")
    if data.amount > product.max_amount:
        raise Invalid("LOAN_AMOUNT_TOO_HIGH", f"申请金额{data.amount:g}万元超过产品最高额度{product.max_amount:g}万元",
                      field="amount")
    if data.term_months > product.term_months:
        raise Invalid("LOAN_TERM_TOO_LONG", f"申请期限{data.term_months}个月超过产品最长期限{product.term_months}个月",
                      field="term_months")
    open_ = session.scalar(select(LoanApplication.number).where(
        LoanApplication.subject_id == subject.id, LoanApplication.product_id == product.id,
        LoanApplication.status == "submitted").limit(1))
    if open_ is not None:
        raise Conflict("LOAN_DUPLICATE", f"已申请产品“{product.name}”（{open_}），该申请尚在审批中", field="product",
                       number=open_)


def apply(session: Session, actor: Actor, data: ApplicationIn) -> LoanApplication:
    """A small firm applies for a product and, with it, authorises the bank for the agreed credit profile."""
    if actor.subject_id is None:
        raise Forbidden("LOAN_SUBJECT_REQUIRED", "只有信用主体账号可以申请信易贷")
    subject = subjects.get(session, actor.subject_id)
    _check_applicant(session, subject)
    try:
        product = get_product(session, data.product)
    except NotFound:
        raise Invalid("LOAN_PRODUCT_UNKNOWN", f"信易贷产品不存在：{data.product}", field="product") from None
    _check_terms(session, subject, product, data)
    bank = institutions_by_id(session)[product.institution_id]
    now, today = utcnow(), clock.today()
    application = LoanApplication(
        number=f"~{secrets.token_hex(8)}", product_id=product.id, institution_id=bank.id, subject_id=subject.id,
        subject_kind=subject.kind, industry=subject.industry, amount=round(data.amount, 2), term_months=data.term_months,
        purpose=data.purpose.strip(), grant_number="", status="submitted", applied_at=now, applied_on=today,
        applied_month=f"{today:%Y-%m}", applied_by=actor.username, user_id=actor.user_id, decided_at=None,
        decided_by=None, granted_amount=None, granted_rate=None, granted_term_months=None, granted_unsecured=None,
        first_loan=None, reject_reason="", disbursed_on=None, withdrawn_at=None, withdraw_reason="")
    session.add(application)
    session.flush()
    application.number = _application_number(application, today.year)
    application.grant_number = _authorise(session, actor, bank_code=bank.code, number=application.number,
                                          product_name=product.name, ends_on=today + timedelta(days=grant_days(session)))
    session.flush()
    audit.append(session, actor, "loan.apply", object_type="loan_application", object_id=application.number,
                 subject_id=subject.id, detail={"product": product.number, "bank": bank.code, "amount": application.amount,
                                                "term_months": application.term_months, "grant": application.grant_number})
    return application


def _own(session: Session, actor: Actor, number: str, *, lock: bool = False) -> LoanApplication:
    query = select(LoanApplication).where(LoanApplication.number == number.strip().upper())
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None or (actor.subject_id is not None and found.subject_id != actor.subject_id):
        raise NotFound("LOAN_NOT_FOUND", f"融资申请不存在：{number}")
    return found


def _undecided(application: LoanApplication) -> None:
    if application.status == "withdrawn":
        raise Conflict("LOAN_WITHDRAWN", f"融资申请{application.number}已由申请人撤回")
    if application.status != "submitted":
        when = clock.local(application.decided_at or utcnow())
        raise Conflict("LOAN_DECIDED", f"融资申请{application.number}已于{when:%Y-%m-%d}审批（{STATUS_LABELS[application.status]}），"
                       "不能再次审批或撤回")


def withdraw(session: Session, actor: Actor, number: str, reason: str = "") -> LoanApplication:
    """The subject withdraws its application before the bank decides; the bank's grant is revoked with it."""
    if actor.subject_id is None:
        raise Forbidden("LOAN_SUBJECT_REQUIRED", "只有申请人可以撤回融资申请")
    application = _own(session, actor, number, lock=True)
    _undecided(application)
    application.status = "withdrawn"
    application.withdrawn_at = utcnow()
    application.withdraw_reason = reason.strip()[:500]
    _revoke(session, actor, application.grant_number, f"撤回融资申请 {application.number}")
    audit.append(session, actor, "loan.withdraw", object_type="loan_application", object_id=application.number,
                 subject_id=application.subject_id, detail={"reason": application.withdraw_reason,
                                                            "grant_revoked": application.grant_number})
    return application


# --- the bank: profile, decision, disbursement ---------------------------------------------------------------

def _for_bank(session: Session, actor: Actor, number: str, *, lock: bool = False) -> LoanApplication:
    bank = bank_of(session, actor)
    application = _own(session, actor, number, lock=lock)
    if application.institution_id != bank.id:
        raise Forbidden("LOAN_NOT_YOURS", "该融资申请不是向本行提出的，不能查看或审批")
    return application


def profile(session: Session, actor: Actor, number: str) -> tuple[LoanApplication, str, dict[str, Any]]:
    """The bank reads the applicant's credit profile through the application's grant: the application,
    the subject's code and exactly the granted sections."""
    application = _for_bank(session, actor, number)
    code = subjects.get(session, application.subject_id).uscc or ""
    return application, code, _read_profile(session, actor, code, application.grant_number)


def _required(value: Any, field: str, label: str) -> Any:
    if value is None:
        raise Invalid("LOAN_DECISION_INCOMPLETE", f"批准时须填写{label}", field=field)
    return value


def decide(session: Session, actor: Actor, number: str, data: DecisionIn) -> LoanApplication:
    """The bank records its outcome, once: approved (amount, rate, term, secured or not, 首贷户) or rejected."""
    application = _for_bank(session, actor, number, lock=True)
    _undecided(application)
    product = session.get(LoanProduct, application.product_id)
    assert product is not None
    if data.outcome == "approved":
        amount = round(float(_required(data.granted_amount, "granted_amount", "授信金额")), 2)
        rate = round(float(_required(data.rate, "rate", "年化利率")), 4)
        term = int(_required(data.term_months, "term_months", "期限"))
        unsecured = bool(_required(data.unsecured, "unsecured", "是否信用贷款"))
        first = bool(_required(data.first_loan, "first_loan", "是否首贷户"))
        if amount > product.max_amount:
            raise Invalid("LOAN_AMOUNT_TOO_HIGH", f"授信金额{amount:g}万元超过产品最高额度{product.max_amount:g}万元",
                          field="granted_amount")
        if term > product.term_months:
            raise Invalid("LOAN_TERM_TOO_LONG", f"期限{term}个月超过产品最长期限{product.term_months}个月", field="term_months")
        if not product.rate_min <= rate <= product.rate_max:
            raise Invalid("LOAN_RATE_OUT_OF_RANGE", f"年化利率{rate:g}%不在产品利率区间{product.rate_min:g}%–{product.rate_max:g}%内",
                          field="rate")
        application.granted_amount, application.granted_rate, application.granted_term_months = amount, rate, term
        application.granted_unsecured, application.first_loan = unsecured, first
        outcome = (f"已批准：授信{amount:g}万元，年化利率{rate:g}%，期限{term}个月，"
                   f"{'信用贷款' if unsecured else '抵押/担保贷款'}")
    else:
        reason = data.reason.strip()
        if len(reason) < 2:
            raise Invalid("LOAN_REASON_REQUIRED", "不予批准须说明理由", field="reason")
        application.reject_reason = reason[:500]
        outcome = f"未获批准：{reason}"
    application.status = data.outcome
    application.decided_at = utcnow()
    application.decided_by = actor.username
    session.flush()
    audit.append(session, actor, "loan.decide", object_type="loan_application", object_id=application.number,
                 subject_id=application.subject_id,
                 detail={"outcome": data.outcome, "granted_amount": application.granted_amount,
                         "rate": application.granted_rate, "term_months": application.granted_term_months,
                         "unsecured": application.granted_unsecured, "first_loan": application.first_loan,
                         "reason": application.reject_reason})
    bank = institutions_by_id(session)[application.institution_id]
    notify(session, title=f"融资申请 {application.number} 审批结果", url=f"/me/loans#l-{application.number}",
           body=f"{bank.name}对你申请的“{product.name}”（{application.amount:g}万元）{outcome}",
           subject_id=application.subject_id)
    return application


def disburse(session: Session, actor: Actor, number: str, disbursed_on: date) -> LoanApplication:
    """The bank reports the date an approved loan was paid out (放款), once."""
    application = _for_bank(session, actor, number, lock=True)
    if application.status != "approved":
        raise Conflict("LOAN_NOT_APPROVED", f"融资申请{application.number}未获批准，不能登记放款")
    if application.disbursed_on is not None:
        raise Conflict("LOAN_DISBURSED", f"融资申请{application.number}已登记于{application.disbursed_on:%Y-%m-%d}放款")
    if disbursed_on > clock.today():
        raise Invalid("LOAN_DATE_FUTURE", "放款日期不能晚于今天", field="disbursed_on")
    decided_on = clock.local(application.decided_at or utcnow()).date()
    if disbursed_on < decided_on:
        raise Invalid("LOAN_DATE_BEFORE_DECISION", f"放款日期不能早于审批日期{decided_on:%Y-%m-%d}", field="disbursed_on")
    application.disbursed_on = disbursed_on
    audit.append(session, actor, "loan.disburse", object_type="loan_application", object_id=application.number,
                 subject_id=application.subject_id, detail={"disbursed_on": disbursed_on.isoformat()})
    return application


# --- reading ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ApplicationView:
    application: LoanApplication
    product: LoanProduct
    bank: Institution
    subject_name: str
    subject_code: str

    @property
    def status_label(self) -> str:
        a = self.application
        return "已放款" if a.status == "approved" and a.disbursed_on else STATUS_LABELS[a.status]


def _views(session: Session, rows: Sequence[LoanApplication]) -> list[ApplicationView]:
    banks = institutions_by_id(session)
    product_ids = sorted({a.product_id for a in rows})
    products_ = {p.id: p for p in session.scalars(select(LoanProduct).where(LoanProduct.id.in_(product_ids or [-1])))}
    names = {s.id: s for s in subjects.by_ids(session, sorted({a.subject_id for a in rows}))}
    return [ApplicationView(a, products_[a.product_id], banks[a.institution_id], names[a.subject_id].name,
                            names[a.subject_id].uscc or "") for a in rows]


def for_subject(session: Session, subject_id: int) -> list[ApplicationView]:
    """A subject's applications, newest first."""
    rows = session.scalars(select(LoanApplication).where(LoanApplication.subject_id == subject_id)
                           .order_by(LoanApplication.id.desc())).all()
    return _views(session, rows)


def sees_all(actor: Actor) -> bool:
    return actor.role == AUTHORITY or actor.is_system


def applications(session: Session, actor: Actor, *, status: str | None = None, q: str = "", limit: int = 50,
                 offset: int = 0) -> tuple[int, list[ApplicationView]]:
    """The applications made to the acting bank (the credit authority: to every bank), newest first."""
    query = select(LoanApplication)
    if not sees_all(actor):
        query = query.where(LoanApplication.institution_id == bank_of(session, actor).id)
    if status:
        query = query.where(LoanApplication.status == status)
    text = q.strip().upper()
    if text:
        subject = subjects.by_code(session, text)
        query = query.where((LoanApplication.number == text) | (LoanApplication.subject_id == (subject.id if subject else -1)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(LoanApplication.id.desc()).limit(limit).offset(offset)).all()
    return total, _views(session, rows)


def view_for(session: Session, actor: Actor, number: str) -> ApplicationView:
    """One application, for its subject, the bank it went to, or the authority."""
    if actor.subject_id is None and not sees_all(actor):
        application = _for_bank(session, actor, number)
    else:
        application = _own(session, actor, number)
    return _views(session, [application])[0]


# --- lending statistics (SQL aggregates) ---------------------------------------------------------------------------

def _sum_if(condition: ColumnElement[bool], value: Any = 1) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _measures() -> list[Any]:
    a = LoanApplication
    approved = a.status == "approved"
    return [
        func.count(a.id), _sum_if(a.status == "submitted"), _sum_if(a.status == "withdrawn"),
        _sum_if(approved), _sum_if(a.status == "rejected"), func.coalesce(func.sum(a.amount), 0),
        _sum_if(approved, a.granted_amount), _sum_if(approved & a.granted_unsecured.is_(True)),
        _sum_if(approved & a.granted_unsecured.is_(True), a.granted_amount),
        _sum_if(approved & a.first_loan.is_(True)), _sum_if(approved & a.disbursed_on.is_not(None)),
        _sum_if(approved & a.disbursed_on.is_not(None), a.granted_amount),
    ]


def _figures(key: str, label: str, row: Sequence[Any]) -> Figures:
    (applications_, pending, withdrawn, approved, rejected, applied, granted, unsecured, unsecured_amount, first,
     disbursed, disbursed_amount) = (row if row else (0,) * 12)
    decided = int(approved) + int(rejected)
    return Figures(key=key, label=label, applications=int(applications_), pending=int(pending), withdrawn=int(withdrawn),
                   decided=decided, approved=int(approved), rejected=int(rejected),
                   approval_rate=round(int(approved) / decided, 4) if decided else None,
                   amount_applied=round(float(applied), 2), amount_granted=round(float(granted), 2),
                   unsecured=int(unsecured), unsecured_share=round(int(unsecured) / int(approved), 4) if approved else None,
                   unsecured_amount=round(float(unsecured_amount), 2), first_loans=int(first), disbursed=int(disbursed),
                   amount_disbursed=round(float(disbursed_amount), 2))


def _months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def statistics(session: Session, *, start: date | None = None, end: date | None = None,
               institution_id: int | None = None) -> Statistics:
    """Applications, approvals, approval rate, amounts, unsecured share, first-time borrowers, disbursements:
    in all, by bank, by month applied (every month from the first to now) and by industry — each one
    GROUP BY over the applications made in [start, end]."""
    filters = []
    if start is not None:
        filters.append(LoanApplication.applied_on >= start)
    if end is not None:
        filters.append(LoanApplication.applied_on <= end)
    if institution_id is not None:
        filters.append(LoanApplication.institution_id == institution_id)

    def grouped(column: Any) -> list[Sequence[Any]]:
        return [tuple(row) for row in session.execute(select(column, *_measures()).where(*filters).group_by(column)
                                                      .order_by(column))]

    total = _figures("all", "合计", tuple(session.execute(select(*_measures()).where(*filters)).one()))
    banks = institutions_by_id(session)
    by_bank = sorted((_figures(banks[r[0]].code, banks[r[0]].name, r[1:]) for r in grouped(LoanApplication.institution_id)),
                     key=lambda f: (-f.applications, f.key))
    months = {r[0]: r[1:] for r in grouped(LoanApplication.applied_month)}
    last = f"{min(end, clock.today()) if end else clock.today():%Y-%m}"
    span = _months_between(min([*months, last]), max([*months, last])) if months else []
    by_month = [_figures(m, m, months.get(m, ())) for m in span]
    by_industry = sorted((_figures(r[0] or "", f"{r[0]} {INDUSTRIES.get(r[0], '')}".strip() if r[0] else "未登记行业", r[1:])
                          for r in grouped(LoanApplication.industry)), key=lambda f: (-f.applications, f.key))
    return Statistics(total=total, by_bank=by_bank, by_month=by_month, by_industry=by_industry)

