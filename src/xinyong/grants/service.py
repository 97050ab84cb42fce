"""Subject authorisation (授权): a subject lets one institution read named data for a purpose and a period.

Scope items (strings): ``registration`` (登记信息), ``item:<CATALOGUE_CODE>`` (current records of that
item), ``lists`` (list entries in force), ``grade:<MODEL_CODE>`` (the latest published grade of that
model), ``report`` (credit reports, through ``reports``).

A grant is live from ``starts_on`` to ``ends_on`` (both inclusive, Asia/Shanghai) until revoked;
revocation takes effect at once because every query reads the grant again. An institution gets
exactly the granted sections of exactly the granted subject, masked where personal
(``disclosure.masking``); everything else is refused with a ``GRANT_*`` code, audited
(``grants.refused``) and counted. One message covers "no such grant", "another institution's
grant", "another subject" and "no such subject", so a refusal never tells whether a subject exists.

Enumeration defence: refused queries are rows of ``grant_queries``; when an institution's refusals
within the window reach the threshold (policy ``subject_grants``) it is throttled for the cool-down
(429 ``GRANT_QUERIES_THROTTLED``) and the authority is alerted once (``grants.enumeration_alert``).

Cross-border: for institutions flagged ``foreign``, catalogue items marked 不得出境 are refused
(``GRANT_CROSS_BORDER_FORBIDDEN``), items marked 需出境评估 — and registration, lists, grades and
reports — need the authority's approved cross-border review for that institution and scope item.

Refusals must survive the rollback of the request that caused them: they are written in the
caller's session and the exception carries ``record_apart``, which the web error handler runs in a
transaction of its own (``app.domain_error``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import Institution
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue import service as catalogue
from xinyong.db import utcnow
from xinyong.disclosure import masking
from xinyong.disclosure.publication import add_months
from xinyong.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, RateLimited
from xinyong.evaluation import service as evaluation
from xinyong.grants.models import CrossBorderReview, Grant, GrantAlert, GrantQuery
from xinyong.grants.schemas import SCOPE_LABELS
from xinyong.notifications.service import notify
from xinyong.policy import service as policy
from xinyong.records import service as records
from xinyong.sanctions import service as sanctions
from xinyong.subjects import service as subjects
from xinyong.subjects import uscc
from xinyong.subjects.kinds import kind_label
from xinyong.subjects.models import Subject

AUTHORITY = "authority_admin"
INSTITUTION = "authorised_institution"
PERSON = "natural_person"
NUMBER_PREFIX = "SQ"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
BARE_SCOPES = ("registration", "lists", "report")
PROFILE_SECTIONS = ("registration", "items", "lists", "grades")
DOMESTIC_ONLY, REVIEW, ALLOWED = "不得出境", "需出境评估", "可出境"
INVALID_MESSAGE = "授权编号无效，或该授权不适用于所查询的主体"


# --- errors that record themselves -----------------------------------------------------------------

@dataclass(frozen=True)
class Refusal:
    """What is kept of one refused query (plain values: it is recorded again after a rollback)."""

    code: str
    reason: str  # why, for the audit trail only (e.g. other_institution, other_subject)
    institution_id: int | None
    asked: str  # the subject code (or subject id) asked for; only its hash is stored
    grant_number: str
    grant_id: int | None = None
    scope_item: str = ""
    sections: tuple[str, ...] = field(default_factory=tuple)


class GrantRefused(Forbidden):
    """A refused authorised query (403, ``GRANT_*``); ``record_apart`` records it in its own transaction."""

    def __init__(self, code: str, message: str, actor: Actor, refusal: Refusal, **details: Any) -> None:
        super().__init__(code, message, **details)
        self.actor, self.refusal = actor, refusal

    def record_apart(self, session: Session) -> None:
        record_refusal(session, self.actor, self.refusal)


class GrantThrottled(RateLimited):
    """429 ``GRANT_QUERIES_THROTTLED``: the institution's refusals crossed the threshold (cool-down)."""

    def __init__(self, retry_after: int, actor: Actor, institution_id: int) -> None:
        DomainError.__init__(self, "GRANT_QUERIES_THROTTLED",
                             f"查询被拒次数过多，已暂停本机构的授权查询，请{retry_after}秒后再试", retry_after=retry_after)
        self.retry_after, self.actor, self.institution_id = retry_after, actor, institution_id

    def record_apart(self, session: Session) -> None:
        audit.append(session, self.actor, "grants.refused", object_type="institution", object_id=self.institution_id,
                     detail={"code": self.code, "retry_after": self.retry_after})


# --- parameters and small helpers ---------------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    max_months: int
    refusal_threshold: int
    window: timedelta
    cooldown: timedelta
    purpose_min_length: int

    @classmethod
    def from_policy(cls, value: dict[str, Any]) -> Rules:
        return cls(max_months=int(value["max_months"]), refusal_threshold=int(value["refusal_threshold"]),
                   window=timedelta(minutes=int(value["window_minutes"])),
                   cooldown=timedelta(minutes=int(value["cooldown_minutes"])),
                   purpose_min_length=int(value.get("purpose_min_length", 2)))


def rules(session: Session) -> Rules:
    return Rules.from_policy(policy.get(session, "subject_grants"))


def _key(text: str) -> str:
    return hashlib.sha256(text.strip().upper().encode()).hexdigest()


def _new_number() -> str:
    return f"{NUMBER_PREFIX}{clock.today():%Y%m%d}{''.join(secrets.choice(_ALPHABET) for _ in range(8))}"


def institution_by_code(session: Session, code: str) -> Institution | None:
    wanted = (code or "").strip().upper()
    return next((i for i in access.institutions(session) if i.code.upper() == wanted), None)


def get_institution(session: Session, institution_id: int) -> Institution:
    found = session.get(Institution, institution_id)
    if found is None:
        raise NotFound("INSTITUTION_NOT_FOUND", f"机构不存在：{institution_id}")
    return found


def status_of(grant: Grant, today: date | None = None) -> str:
    """live / pending / expired / revoked (revocation first: it is final)."""
    today = today or clock.today()
    if grant.revoked_at is not None:
        return "revoked"
    if today < grant.starts_on:
        return "pending"
    if today > grant.ends_on:
        return "expired"
    return "live"


def scope_label(session: Session, item: str) -> str:
    if item in SCOPE_LABELS:
        return SCOPE_LABELS[item]
    kind, _, code = item.partition(":")
    try:
        if kind == "item":
            return catalogue.get_item(session, code).version.name
        if kind == "grade":
            return f"{evaluation.get_model(session, code).spec.name}等级"
    except NotFound:
        pass
    return item


def scope_options(session: Session) -> list[tuple[str, str]]:
    """Every scope item a subject can grant, with its label (for the form)."""
    options = [("registration", SCOPE_LABELS["registration"])]
    options += [(f"item:{entry.code}", entry.version.name) for entry in catalogue.list_items(session)]
    options.append(("lists", SCOPE_LABELS["lists"]))
    options += [(f"grade:{m.code}", f"{m.spec.name}等级") for m in evaluation.list_models(session)]
    options.append(("report", SCOPE_LABELS["report"]))
    return options


def check_scope(session: Session, scope: Sequence[str]) -> list[str]:
    """The scope as stored (trimmed, de-duplicated, in order), or GRANT_SCOPE_EMPTY / GRANT_SCOPE_UNKNOWN."""
    cleaned: list[str] = []
    for raw in scope:
        item = (raw or "").strip()
        if item and item not in cleaned:
            cleaned.append(item)
    if not cleaned:
        raise Invalid("GRANT_SCOPE_EMPTY", "请至少选择一项授权查询的内容", field="scope")
    for item in cleaned:
        kind, _, code = item.partition(":")
        if item in BARE_SCOPES:
            continue
        try:
            if kind == "item" and code:
                catalogue.get_item(session, code)
                continue
            if kind == "grade" and code:
                evaluation.get_model(session, code)
                continue
        except NotFound:
            what = "目录信息项" if kind == "item" else "评价模型"
            raise Invalid("GRANT_SCOPE_UNKNOWN", f"授权范围中的{what}不存在：{code[:40]}", field="scope") from None
        raise Invalid("GRANT_SCOPE_UNKNOWN", f"无法识别的授权范围：{item[:60]}", field="scope")
    return cleaned


# --- cross-border ------------------------------------------------------------------------------------------

def cross_border_class(session: Session, scope_item: str) -> str:
    """可出境 / 需出境评估 / 不得出境 of one scope item; everything but catalogue items needs a review."""
    kind, _, code = scope_item.partition(":")
    if kind == "item":
        try:
            return catalogue.get_item(session, code).version.cross_border or REVIEW
        except NotFound:
            return DOMESTIC_ONLY
    return REVIEW


def review_approved(session: Session, institution_id: int, scope_item: str) -> bool:
    """Whether the authority's latest review for the institution and scope item approves it, today."""
    latest = session.scalar(select(CrossBorderReview).where(
        CrossBorderReview.institution_id == institution_id, CrossBorderReview.scope_item == scope_item)
        .order_by(CrossBorderReview.id.desc()).limit(1))
    return bool(latest and latest.approved and (latest.valid_until is None or latest.valid_until >= clock.today()))


def cross_border_problems(session: Session, institution: Institution, scope: Sequence[str]) -> tuple[list[str], list[str]]:
    """(items that may not leave the country, items still needing an approved review) for a foreign institution."""
    if not institution.foreign:
        return [], []
    forbidden, unreviewed = [], []
    for item in scope:
        kind = cross_border_class(session, item)
        if kind == DOMESTIC_ONLY:
            forbidden.append(item)
        elif kind == REVIEW and not review_approved(session, institution.id, item):
            unreviewed.append(item)
    return forbidden, unreviewed


def _labels(session: Session, items: Sequence[str]) -> str:
    return "、".join(scope_label(session, i) for i in items)


def record_review(session: Session, actor: Actor, *, institution_code: str, scope_item: str, approved: bool,
                  reference: str, valid_until: date | None = None, note: str = "") -> CrossBorderReview:
    """The authority records the outcome of a cross-border review (出境评估) for a foreign institution."""
    if actor.role not in (AUTHORITY, "system"):
        raise Forbidden("GRANT_REVIEW_AUTHORITY_ONLY", "只有信用主管部门可以登记出境评估结论")
    institution = institution_by_code(session, institution_code)
    if institution is None:
        raise Invalid("GRANT_INSTITUTION_UNKNOWN", f"机构不存在：{institution_code.strip()[:18]}", field="institution_code")
    if not institution.foreign:
        raise Invalid("GRANT_REVIEW_NOT_FOREIGN", f"{institution.name}不是境外机构，无需出境评估", field="institution_code")
    item = check_scope(session, [scope_item])[0]
    if cross_border_class(session, item) == DOMESTIC_ONLY:
        raise Invalid("GRANT_CROSS_BORDER_FORBIDDEN", f"“{scope_label(session, item)}”不得出境，不能通过出境评估放行",
                      field="scope_item")
    if not reference.strip():
        raise Invalid("GRANT_REVIEW_REFERENCE_REQUIRED", "请填写出境评估（审批）文号", field="reference")
    if valid_until is not None and valid_until < clock.today():
        raise Invalid("GRANT_REVIEW_EXPIRED", "评估有效期不能早于今天", field="valid_until")
    review = CrossBorderReview(institution_id=institution.id, scope_item=item, approved=approved,
                               reference=reference.strip()[:100], valid_until=valid_until, note=note.strip()[:500],
                               decided_at=utcnow(), decided_by=actor.username)
    session.add(review)
    session.flush()
    audit.append(session, actor, "grants.cross_border_review", object_type="institution", object_id=institution.code,
                 detail={"scope_item": item, "approved": approved, "reference": review.reference,
                         "valid_until": valid_until.isoformat() if valid_until else None})
    return review


def reviews(session: Session, limit: int = 200) -> list[tuple[CrossBorderReview, Institution]]:
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        select(CrossBorderReview, Institution).join(Institution, Institution.id == CrossBorderReview.institution_id)
        .order_by(CrossBorderReview.id.desc()).limit(limit))]


# --- granting and revoking -----------------------------------------------------------------------------

def _grant_subject(session: Session, actor: Actor, subject_id: int | None) -> Subject:
    if subject_id is None:
        if actor.subject_id is None:
            raise Forbidden("GRANT_SUBJECT_REQUIRED", "只有信用主体账号可以作出授权")
        return subjects.get(session, actor.subject_id)
    if actor.subject_id != subject_id and actor.role not in (AUTHORITY, "system"):
        raise Forbidden("GRANT_SUBJECT_REQUIRED", "只能以本主体的名义作出授权")
    return subjects.get(session, subject_id)


def _institution_users(session: Session, institution_id: int) -> list[int]:
    return [u.id for u in access.users(session) if u.institution_id == institution_id and u.active]


def create_grant(session: Session, actor: Actor, *, institution_code: str, scope: list[str], purpose: str,
                 ends_on: date, starts_on: date | None = None, subject_id: int | None = None) -> Grant:
    """A subject (its own account, or the system/authority acting for it with ``subject_id``) authorises an institution."""
    subject = _grant_subject(session, actor, subject_id)
    institution = institution_by_code(session, institution_code)
    if institution is None:
        raise Invalid("GRANT_INSTITUTION_UNKNOWN", f"被授权机构不存在：{(institution_code or '').strip()[:18]}",
                      field="institution_code")
    cleaned = check_scope(session, scope)
    rule = rules(session)
    purpose = (purpose or "").strip()
    if len(purpose) < rule.purpose_min_length:
        raise Invalid("GRANT_PURPOSE_REQUIRED", f"请写明授权用途（至少{rule.purpose_min_length}个字）", field="purpose")
    if len(purpose) > 500:
        raise Invalid("GRANT_PURPOSE_TOO_LONG", "授权用途不超过500字", field="purpose")
    today = clock.today()
    starts_on = starts_on or today
    if starts_on < today:
        raise Invalid("GRANT_PERIOD_PAST", "授权起始日不能早于今天", field="starts_on")
    if ends_on < starts_on:
        raise Invalid("GRANT_PERIOD_PAST" if ends_on < today else "GRANT_PERIOD_INVALID",
                      "授权截止日不能早于起始日" if ends_on >= today else "授权截止日不能早于今天", field="ends_on")
    if ends_on > add_months(starts_on, rule.max_months):
        raise Invalid("GRANT_PERIOD_TOO_LONG", f"授权期限最长{rule.max_months}个月（至多到"
                      f"{add_months(starts_on, rule.max_months).isoformat()}）", field="ends_on")
    forbidden, unreviewed = cross_border_problems(session, institution, cleaned)
    if forbidden:
        raise Invalid("GRANT_CROSS_BORDER_FORBIDDEN", f"{institution.name}为境外机构，以下信息不得出境，不能授权："
                      f"{_labels(session, forbidden)}", field="scope", items=forbidden)
    if unreviewed:
        raise Invalid("GRANT_CROSS_BORDER_REVIEW_REQUIRED", f"{institution.name}为境外机构，以下信息须经出境评估同意后才能授权："
                      f"{_labels(session, unreviewed)}", field="scope", items=unreviewed)
    grant = Grant(number=_new_number(), subject_id=subject.id, institution_id=institution.id, scope=cleaned,
                  purpose=purpose, starts_on=starts_on, ends_on=ends_on, created_at=utcnow(),
                  created_by=actor.username, user_id=actor.user_id, revoked_at=None, revoked_by=None,
                  revocation_reason="")
    session.add(grant)
    session.flush()
    audit.append(session, actor, "grant.create", object_type="grant", object_id=grant.number, subject_id=subject.id,
                 detail={"institution": institution.code, "scope": cleaned, "purpose": purpose,
                         "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    for user_id in _institution_users(session, institution.id):
        notify(session, title=f"收到信用主体授权 {grant.number}", url="/institution/grants", user_id=user_id,
               body=f"{display_name(subject)}授权本机构查询：{_labels(session, cleaned)}；"
                    f"期限{starts_on.isoformat()}至{ends_on.isoformat()}；用途：{purpose[:100]}")
    return grant


def get_grant(session: Session, number: str) -> Grant | None:
    return session.scalar(select(Grant).where(Grant.number == (number or "").strip().upper()[:24]))


def revoke_grant(session: Session, actor: Actor, number: str, reason: str = "") -> Grant:
    """The subject (or the authority) revokes a grant; the next query under it is refused."""
    grant = get_grant(session, number)
    if grant is None or (actor.subject_id != grant.subject_id and actor.role not in (AUTHORITY, "system")):
        raise NotFound("GRANT_NOT_FOUND", "授权不存在")
    if grant.revoked_at is not None:
        raise Conflict("GRANT_ALREADY_REVOKED", f"授权{grant.number}已于{clock.local(grant.revoked_at):%Y-%m-%d %H:%M}撤销")
    grant.revoked_at = utcnow()
    grant.revoked_by = actor.username
    grant.revocation_reason = (reason or "").strip()[:500]
    session.flush()
    audit.append(session, actor, "grant.revoke", object_type="grant", object_id=grant.number,
                 subject_id=grant.subject_id, detail={"reason": grant.revocation_reason})
    subject = subjects.get(session, grant.subject_id)
    for user_id in _institution_users(session, grant.institution_id):
        notify(session, title=f"授权 {grant.number} 已被撤销", url="/institution/grants", user_id=user_id,
               body=f"{display_name(subject)}已撤销对本机构的授权，自即时起不能再依该授权查询")
    return grant


def grants_of_subject(session: Session, subject_id: int) -> list[Grant]:
    return list(session.scalars(select(Grant).where(Grant.subject_id == subject_id).order_by(Grant.id.desc())))


def grants_of_institution(session: Session, institution_id: int, limit: int = 500) -> list[Grant]:
    return list(session.scalars(select(Grant).where(Grant.institution_id == institution_id)
                                .order_by(Grant.id.desc()).limit(limit)))


def all_grants(session: Session, limit: int = 200) -> list[Grant]:
    return list(session.scalars(select(Grant).order_by(Grant.id.desc()).limit(limit)))


def queries(session: Session, *, outcome: str | None = None, institution_id: int | None = None,
            limit: int = 200) -> list[GrantQuery]:
    query = select(GrantQuery)
    if outcome:
        query = query.where(GrantQuery.outcome == outcome)
    if institution_id is not None:
        query = query.where(GrantQuery.institution_id == institution_id)
    return list(session.scalars(query.order_by(GrantQuery.id.desc()).limit(limit)))


def alerts(session: Session, limit: int = 100) -> list[GrantAlert]:
    return list(session.scalars(select(GrantAlert).order_by(GrantAlert.id.desc()).limit(limit)))


def display_name(subject: Subject) -> str:
    return masking.subject_name(subject.name, natural_person=subject.kind == PERSON)


def subject_code_of(subject: Subject) -> str:
    return subject.uscc or subject.masked_id or ""


# --- refusals and the enumeration defence -----------------------------------------------------------------

def active_alert(session: Session, institution_id: int) -> GrantAlert | None:
    return session.scalar(select(GrantAlert).where(GrantAlert.institution_id == institution_id,
                                                   GrantAlert.until > utcnow())
                          .order_by(GrantAlert.until.desc()).limit(1))


def _check_throttle(session: Session, actor: Actor) -> None:
    if actor.institution_id is None:
        return
    alert = active_alert(session, actor.institution_id)
    if alert is not None:
        retry = max(1, int((alert.until - utcnow()).total_seconds() + 0.999))
        raise GrantThrottled(retry, actor, actor.institution_id)


def record_refusal(session: Session, actor: Actor, refusal: Refusal) -> GrantAlert | None:
    """Audit a refused query, count it, and throttle + alert once when the institution crosses the threshold."""
    audit.append(session, actor, "grants.refused", object_type="grant", object_id=refusal.grant_number[:40] or None,
                 detail={"code": refusal.code, "reason": refusal.reason, "scope_item": refusal.scope_item,
                         "sections": list(refusal.sections), "asked": _key(refusal.asked)[:16]})
    if refusal.institution_id is None:
        return None
    now = utcnow()
    session.add(GrantQuery(institution_id=refusal.institution_id, user_id=actor.user_id, grant_id=refusal.grant_id,
                           subject_id=None, asked_key=_key(refusal.asked), scope_item=refusal.scope_item[:60],
                           outcome="refused", code=refusal.code[:40], sections=list(refusal.sections), at=now))
    session.flush()
    return _maybe_alert(session, actor, refusal.institution_id, now)


def _maybe_alert(session: Session, actor: Actor, institution_id: int, now: datetime) -> GrantAlert | None:
    rule = rules(session)
    if active_alert(session, institution_id) is not None:
        return None
    since = now - rule.window
    last = session.scalar(select(func.max(GrantAlert.raised_at)).where(GrantAlert.institution_id == institution_id))
    refused = (GrantQuery.institution_id == institution_id) & (GrantQuery.outcome == "refused") & (GrantQuery.at > since)
    if last is not None and last > since:
        refused = refused & (GrantQuery.at > last)  # an episode already alerted is not counted twice
    count, distinct = session.execute(select(func.count(), func.count(func.distinct(GrantQuery.asked_key)))
                                      .where(refused)).one()
    if count < rule.refusal_threshold:
        return None
    alert = GrantAlert(institution_id=institution_id, raised_at=now, until=now + rule.cooldown, refusals=count,
                       distinct_subjects=distinct)
    session.add(alert)
    session.flush()
    institution = get_institution(session, institution_id)
    minutes = int(rule.window.total_seconds() // 60)
    audit.append(session, actor, "grants.enumeration_alert", object_type="institution", object_id=institution.code,
                 detail={"refusals": count, "distinct_subjects": distinct, "window_minutes": minutes,
                         "throttled_until": alert.until.isoformat()})
    for user in access.users(session):
        if user.role == AUTHORITY and user.active:
            notify(session, title=f"授权查询异常：{institution.name}", url="/grants#alerts", user_id=user.id,
                   body=f"{minutes}分钟内被拒绝的授权查询{count}次（涉及{distinct}个不同主体），疑似批量试探查询；"
                        f"已暂停该机构的授权查询至{clock.local(alert.until):%Y-%m-%d %H:%M}")
    return alert


def _refuse(session: Session, actor: Actor, code: str, message: str, *, reason: str, asked: str,
            grant_number: str = "", grant: Grant | None = None, scope_item: str = "",
            sections: Sequence[str] = (), **details: Any) -> NoReturn:
    refusal = Refusal(code=code, reason=reason, institution_id=actor.institution_id, asked=asked,
                      grant_number=(grant_number or "").strip()[:40],
                      grant_id=grant.id if grant is not None and grant.institution_id == actor.institution_id else None,
                      scope_item=scope_item, sections=tuple(sections))
    record_refusal(session, actor, refusal)
    raise GrantRefused(code, message, actor, refusal, **details)


def _require_institution(session: Session, actor: Actor, asked: str, grant_number: str) -> Institution:
    if actor.institution_id is None or actor.role != INSTITUTION:
        _refuse(session, actor, "GRANT_INSTITUTION_REQUIRED", "只有授权机构账号可以依授权查询", reason="not_institution",
                asked=asked, grant_number=grant_number)
    _check_throttle(session, actor)
    return get_institution(session, actor.institution_id)


def _check_status(session: Session, actor: Actor, grant: Grant, asked: str, **context: Any) -> None:
    status = status_of(grant)
    if status == "revoked":
        _refuse(session, actor, "GRANT_REVOKED", f"授权{grant.number}已被信用主体撤销", reason="revoked", asked=asked,
                grant_number=grant.number, grant=grant, **context)
    if status == "pending":
        _refuse(session, actor, "GRANT_NOT_STARTED", f"授权{grant.number}自{grant.starts_on.isoformat()}起生效，尚未生效",
                reason="not_started", asked=asked, grant_number=grant.number, grant=grant, **context)
    if status == "expired":
        _refuse(session, actor, "GRANT_EXPIRED", f"授权{grant.number}已于{grant.ends_on.isoformat()}到期",
                reason="expired", asked=asked, grant_number=grant.number, grant=grant, **context)


def _check_cross_border(session: Session, actor: Actor, institution: Institution, grant: Grant, items: Sequence[str],
                        asked: str, **context: Any) -> None:
    forbidden, unreviewed = cross_border_problems(session, institution, items)
    if forbidden:
        _refuse(session, actor, "GRANT_CROSS_BORDER_FORBIDDEN", f"境外机构不得查询不得出境的信息：{_labels(session, forbidden)}",
                reason="cross_border", asked=asked, grant_number=grant.number, grant=grant, items=forbidden, **context)
    if unreviewed:
        _refuse(session, actor, "GRANT_CROSS_BORDER_REVIEW_REQUIRED",
                f"境外机构查询以下信息须经出境评估同意：{_labels(session, unreviewed)}", reason="cross_border_review",
                asked=asked, grant_number=grant.number, grant=grant, items=unreviewed, **context)


def _log_served(session: Session, actor: Actor, grant: Grant, asked: str, sections: Sequence[str],
                detail: dict[str, Any], scope_item: str = "") -> None:
    assert actor.institution_id is not None
    session.add(GrantQuery(institution_id=actor.institution_id, user_id=actor.user_id, grant_id=grant.id,
                           subject_id=grant.subject_id, asked_key=_key(asked), scope_item=scope_item[:60],
                           outcome="served", code="", sections=list(sections), at=utcnow()))
    audit.append(session, actor, "grants.query", object_type="grant", object_id=grant.number,
                 subject_id=grant.subject_id, detail={"sections": list(sections), **detail})


# --- using a grant ---------------------------------------------------------------------------------------------

def require_grant(session: Session, actor: Actor, subject_id: int, scope_item: str,
                  grant_number: str | None = None) -> Grant:
    """For an institution actor: the live grant covering ``scope_item`` for that subject (the one numbered
    ``grant_number`` if given), or ``GrantRefused`` (403, ``GRANT_*``), audited and counted. The use is audited
    (``grants.query``); the caller reads the data itself."""
    asked = str(subject_id)
    number = (grant_number or "").strip().upper()
    context = {"scope_item": scope_item}
    institution = _require_institution(session, actor, asked, number)
    if number:
        grant = get_grant(session, number)
        if grant is None or grant.institution_id != institution.id or grant.subject_id != subject_id:
            reason = "unknown_number" if grant is None else (
                "other_institution" if grant.institution_id != institution.id else "other_subject")
            _refuse(session, actor, "GRANT_INVALID", INVALID_MESSAGE, reason=reason, asked=asked, grant_number=number,
                    grant=grant, **context)
    else:
        held = [g for g in grants_of_institution(session, institution.id, limit=10_000)
                if g.subject_id == subject_id and scope_item in g.scope]
        live = [g for g in held if status_of(g) == "live"]
        if not held:
            _refuse(session, actor, "GRANT_INVALID", "没有该主体对本机构的有效授权", reason="no_grant", asked=asked, **context)
        grant = live[0] if live else held[0]
    _check_status(session, actor, grant, asked, **context)
    if scope_item not in grant.scope:
        _refuse(session, actor, "GRANT_SCOPE_EXCEEDED", f"授权{grant.number}不包括“{scope_label(session, scope_item)}”",
                reason="scope", asked=asked, grant_number=grant.number, grant=grant, **context)
    _check_cross_border(session, actor, institution, grant, [scope_item], asked, **context)
    _log_served(session, actor, grant, asked, [scope_item], {"via": "require_grant"}, scope_item=scope_item)
    return grant


def authorised_profile(session: Session, actor: Actor, subject_code: str, grant_number: str, *,
                       sections: Sequence[str] | None = None) -> dict[str, Any]:
    """Exactly the granted sections of the granted subject, masked where personal; the read is audited.

    Keys among ``registration``, ``items`` {code: [records]}, ``lists`` and ``grades`` {model: {...}}.
    ``sections`` (scope items) narrows the answer; asking for anything the grant lacks is refused
    (``GRANT_SCOPE_EXCEEDED``). ``report`` is granted through ``reports`` and has no section here.
    """
    asked = (subject_code or "").strip().upper()[:40]
    number = (grant_number or "").strip().upper()
    institution = _require_institution(session, actor, asked, number)
    grant = get_grant(session, number) if number else None
    subject = subjects.by_code(session, uscc.normalise(asked)) if asked else None
    if grant is None or grant.institution_id != institution.id or subject is None or subject.id != grant.subject_id:
        reason = ("unknown_number" if grant is None else "other_institution" if grant.institution_id != institution.id
                  else "unknown_subject" if subject is None else "other_subject")
        _refuse(session, actor, "GRANT_INVALID", INVALID_MESSAGE, reason=reason, asked=asked, grant_number=number,
                grant=grant, sections=list(sections or ()))
    context = {"sections": list(sections or ())}
    _check_status(session, actor, grant, asked, **context)
    wanted = [s.strip() for s in sections or () if s and s.strip()] or [s for s in grant.scope if s != "report"]
    beyond = [s for s in wanted if s not in grant.scope]
    if beyond:
        _refuse(session, actor, "GRANT_SCOPE_EXCEEDED", f"查询内容超出授权范围：{'、'.join(b[:60] for b in beyond[:10])}",
                reason="scope", asked=asked, grant_number=grant.number, grant=grant, items=beyond[:10], **context)
    served = [s for s in wanted if s != "report"]
    _check_cross_border(session, actor, institution, grant, served, asked, **context)
    profile, detail = _profile(session, subject, served)
    _log_served(session, actor, grant, asked, served, detail)
    return profile


def _profile(session: Session, subject: Subject, sections: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The data of the sections, and what was returned (ids) for the audit entry."""
    profile: dict[str, Any] = {}
    detail: dict[str, Any] = {}
    if "registration" in sections:
        profile["registration"] = _registration(subject)
    item_codes = [s.partition(":")[2] for s in sections if s.startswith("item:")]
    if item_codes:
        current = [r for r in records.current_for_subject(session, subject.id)
                   if r.kind in ("original", "correction") and r.item_code in item_codes]
        names = access.department_names(session)
        profile["items"] = {code: [] for code in item_codes}
        for record in current:
            profile["items"][record.item_code].append(_record(session, record, names))
        detail["records"] = {code: [r["record_id"] for r in rows] for code, rows in profile["items"].items()}
    if "lists" in sections:
        _total, views = sanctions.entries(session, subject_id=subject.id, in_force_only=True, limit=500)
        profile["lists"] = [{"entry_id": v.entry.id, "list_code": v.list_type.code, "list_name": v.list_type.name,
                             "nature": v.list_type.nature, "decision_number": v.entry.decision_number,
                             "decision_date": v.entry.decision_date.isoformat(), "reasons": masking.scrub(v.entry.reasons),
                             "department": v.department, "last_day": v.last_day.isoformat() if v.last_day else None}
                            for v in views]
        detail["list_entries"] = [row["entry_id"] for row in profile["lists"]]
    models = [s.partition(":")[2] for s in sections if s.startswith("grade:")]
    if models:
        found = {g.model_code: g for g in evaluation.subject_grades(session, subject.id) if g.model_code in models}
        profile["grades"] = {code: ({"model_name": found[code].model_name, "grade": found[code].grade,
                                     "grade_label": found[code].grade_label, "score": found[code].score,
                                     "as_of": found[code].as_of, "run_id": found[code].run_id}
                                    if code in found else None) for code in models}
        detail["grades"] = {code: (value or {}).get("run_id") for code, value in profile["grades"].items()}
    return profile, detail


def _registration(subject: Subject) -> dict[str, Any]:
    person = subject.kind == PERSON
    return {"code": subject_code_of(subject), "name": display_name(subject), "kind": kind_label(subject.kind),
            "region": uscc.region_name(subject.region_code) or subject.region_code, "status": subject.status,
            "legal_representative": None if person else subject.legal_representative,
            "registration_authority": subject.registration_authority,
            "registered_on": subject.registered_on.isoformat() if subject.registered_on else None,
            "registered_capital": subject.registered_capital, "industry": subject.industry,
            "address": None if person else (masking.scrub(subject.address) if subject.address else None)}


def _record(session: Session, record: Any, department_names: dict[int, str]) -> dict[str, Any]:
    version = catalogue.version_snapshot(session, record.item_version_id)
    payload: dict[str, Any] = {}
    for spec in version.fields:
        value = masking.public_value(spec, record.payload.get(spec["name"]))
        if value is not None:
            payload[spec["name"]] = value
    return {"record_id": record.id, "decision_date": record.decision_date.isoformat() if record.decision_date else None,
            "department": department_names.get(record.department_id, ""), "severity": record.severity,
            "fields": {spec["name"]: spec["label"] for spec in version.fields if spec["name"] in payload},
            "payload": payload}
