"""Internet platform data partners (互联网平台数据合作): list information for joint constraint.

Who does what: the credit authority registers an institution of kind ``platform`` as a data
partner under an agreement (协议编号, the 失信 list types it receives, period) and may terminate it.
The platform pulls a feed of list entries entering and leaving (``pull``), can take a snapshot of
the entries in force to reconcile with (``current``), and acknowledges what it has applied
(``acknowledge``); the authority sees per partner what was handed out and confirmed.

Why a feed of events plus ends (docs/operation.md): entries end by their period at read time on
this platform — no job runs when a period ends. So every entry carries its end (the same date the
public site uses), and the feed turns each end into an ``ended`` event (reason ``expired``) the
first time anyone pulls after it passed: ``sync`` brings ``PartnerListEvent`` up to date from
``sanctions.service`` under one row lock, so event ids are a cursor that never skips. Exits
(信用修复, 撤销, 更正, 移出) become ``ended`` events with their reason on the next pull, which is how a
repair reaches the platforms; their acknowledgements show whether it arrived.

Natural persons leave as on the public site: masked ID and surname only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import Institution
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.db import in_values, utcnow
from xinyong.disclosure.publication import add_months
from xinyong.errors import Conflict, Forbidden, Invalid, NotFound
from xinyong.partners.models import DataPartner, PartnerFeedState, PartnerListEvent
from xinyong.partners.schemas import (
    END_REASONS,
    STATUS_LABELS,
    AcknowledgementOut,
    CurrentEntry,
    CurrentPage,
    ListItem,
    ListPage,
    PartnerIn,
    PartnerOut,
)
from xinyong.policy import service as policy
from xinyong.sanctions import service as sanctions

AUTHORITY = "authority_admin"
PLATFORM = "platform"
POLICY = "partner_list_feed"
DISHONEST = "失信"
# Entries and exits are read again for this long after each sync: a sanctions transaction that
# committed late (its rows carry the time they were written, not committed) is still picked up.
OVERLAP = timedelta(minutes=30)
EVENT_LABELS = {"entered": "列入", "ended": "移出或期满"}


def _authority_only(actor: Actor, what: str) -> None:
    if actor.role != AUTHORITY and not actor.is_system:
        raise Forbidden("PARTNERS_AUTHORITY_ONLY", f"只有信用主管部门可以{what}")


def status(partner: DataPartner, today: date | None = None) -> str:
    today = today or clock.today()
    if partner.terminated_at is not None:
        return "terminated"
    if today < partner.starts_on:
        return "pending"
    return "expired" if today > partner.ends_on else "active"


def platforms(session: Session) -> list[Institution]:
    return [i for i in access.institutions(session) if i.kind == PLATFORM]


def eligible_list_types(session: Session) -> dict[str, str]:
    """失信 list types a partner may receive: code -> name."""
    return {t.code: t.name for t in sanctions.list_types(session) if t.nature == DISHONEST}


# --- agreements (the authority) ------------------------------------------------------------------------


def register(session: Session, actor: Actor, data: PartnerIn) -> DataPartner:
    """Register a platform as a data partner under a signed agreement."""
    _authority_only(actor, "登记互联网平台数据合作")
    number = data.number.strip()
    institution = next(
        (i for i in access.institutions(session) if i.code == data.institution_code.strip().upper()), None
    )
    if institution is None:
        raise Invalid("PARTNER_INSTITUTION_UNKNOWN", f"机构不存在：{data.institution_code}", field="institution_code")
    if institution.kind != PLATFORM:
        raise Invalid(
            "PARTNER_NOT_PLATFORM",
            f"{institution.name}不是互联网平台，不能登记为数据合作伙伴",
            field="institution_code",
        )
    eligible = eligible_list_types(session)
    known = {t.code for t in sanctions.list_types(session, include_retired=True)}
    unknown = [code for code in data.list_types if code not in known]
    if unknown:
        raise Invalid("PARTNER_LIST_TYPE_UNKNOWN", f"名单类型不存在：{'、'.join(unknown)}", field="list_types")
    refused = [code for code in data.list_types if code not in eligible]
    if refused:
        raise Invalid(
            "PARTNER_LIST_TYPE_NOT_ALLOWED", f"只能推送在用的失信名单：{'、'.join(refused)}不可推送", field="list_types"
        )
    if data.ends_on < data.starts_on:
        raise Invalid("PARTNER_PERIOD_INVALID", "协议终止日期不能早于起始日期", field="ends_on")
    longest = int(policy.get(session, POLICY)["agreement_max_months"])
    if data.ends_on > add_months(data.starts_on, longest):
        raise Invalid("PARTNER_PERIOD_TOO_LONG", f"数据合作协议期限最长{longest}个月", field="ends_on")
    if data.ends_on < clock.today():
        raise Invalid("PARTNER_PERIOD_PAST", "协议终止日期已过", field="ends_on")
    if session.scalar(select(DataPartner.id).where(DataPartner.number == number)) is not None:
        raise Conflict("PARTNER_AGREEMENT_EXISTS", f"协议编号已登记：{number}", field="number")
    current = [
        p
        for p in session.scalars(select(DataPartner).where(DataPartner.institution_id == institution.id))
        if status(p) in ("active", "pending")
    ]
    if current:
        raise Conflict(
            "PARTNER_ALREADY_REGISTERED",
            f"{institution.name}已有未终止的数据合作协议 {current[0].number}，请先终止或待其到期",
            field="institution_code",
        )
    partner = DataPartner(
        number=number,
        institution_id=institution.id,
        list_types=list(dict.fromkeys(data.list_types)),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        created_at=utcnow(),
        created_by=actor.username,
        terminated_at=None,
        terminated_by=None,
        termination_reason="",
        delivered_through=0,
        acknowledged_through=0,
        last_pulled_at=None,
        last_acknowledged_at=None,
    )
    session.add(partner)
    session.flush()
    audit.append(
        session,
        actor,
        "partners.register",
        object_type="data_partner",
        object_id=number,
        detail={
            "institution": institution.code,
            "list_types": partner.list_types,
            "starts_on": data.starts_on.isoformat(),
            "ends_on": data.ends_on.isoformat(),
        },
    )
    return partner


def get(session: Session, number: str) -> DataPartner:
    partner = session.scalar(select(DataPartner).where(DataPartner.number == number.strip()))
    if partner is None:
        raise NotFound("PARTNER_UNKNOWN", f"数据合作协议不存在：{number}")
    return partner


def terminate(session: Session, actor: Actor, number: str, reason: str) -> DataPartner:
    _authority_only(actor, "终止互联网平台数据合作")
    partner = get(session, number)
    if partner.terminated_at is not None:
        raise Conflict("PARTNER_AGREEMENT_TERMINATED", f"数据合作协议 {partner.number} 已终止")
    reason = reason.strip()
    if len(reason) < 2:
        raise Invalid("PARTNER_REASON_REQUIRED", "请填写终止原因", field="reason")
    partner.terminated_at, partner.terminated_by, partner.termination_reason = utcnow(), actor.username, reason[:500]
    audit.append(
        session,
        actor,
        "partners.terminate",
        object_type="data_partner",
        object_id=partner.number,
        detail={"reason": partner.termination_reason},
    )
    return partner


# --- bringing the events up to date ----------------------------------------------------------------------


def _state(session: Session) -> PartnerFeedState:
    """The feed's one state row, locked for this transaction (created on first use)."""
    state = session.get(PartnerFeedState, 1, with_for_update=True)
    if state is None:
        try:
            with session.begin_nested():
                session.add(PartnerFeedState(id=1, synced_at=None, details={}))
        except IntegrityError:
            pass  # created by a concurrent first sync
        state = session.get(PartnerFeedState, 1, with_for_update=True, populate_existing=True)
    assert state is not None
    return state


def _entered(entry: sanctions.FeedEntry, now: datetime) -> PartnerListEvent:
    return PartnerListEvent(
        entry_id=entry.entry_id,
        event="entered",
        list_type=entry.list_type,
        subject_code=entry.subject_code,
        subject_name=entry.subject_name,
        person=entry.person,
        decision_number=entry.decision_number,
        starts_on=clock.local(entry.listed_at).date(),
        ends_at=entry.ends_at,
        reason=None,
        exit_decision="",
        effective_at=entry.listed_at,
        recorded_at=now,
    )


def _ended(entered: PartnerListEvent, reason: str, at: datetime, decision: str, now: datetime) -> PartnerListEvent:
    return PartnerListEvent(
        entry_id=entered.entry_id,
        event="ended",
        list_type=entered.list_type,
        subject_code=entered.subject_code,
        subject_name=entered.subject_name,
        person=entered.person,
        decision_number=entered.decision_number,
        starts_on=entered.starts_on,
        ends_at=entered.ends_at,
        reason=reason,
        exit_decision=decision[:100],
        effective_at=at,
        recorded_at=now,
    )


def _open_entered(session: Session, entry_ids: list[int]) -> dict[int, PartnerListEvent]:
    """The entered events of these entries that have no ended event yet."""
    if not entry_ids:
        return {}
    ended = aliased(PartnerListEvent)
    query = select(PartnerListEvent).where(
        PartnerListEvent.event == "entered",
        in_values(session, PartnerListEvent.entry_id, entry_ids),
        ~exists().where(ended.entry_id == PartnerListEvent.entry_id, ended.event == "ended"),
    )
    return {e.entry_id: e for e in session.scalars(query)}


def sync(session: Session) -> int:
    """Record, as events, the entries that entered, exited or ran out since the last sync; returns
    how many. Serialised by the state row's lock, so event ids are assigned in commit order."""
    state = _state(session)
    now = clock.now()
    since = state.synced_at - OVERLAP if state.synced_at is not None else None
    added: list[PartnerListEvent] = []

    new_entries = sanctions.feed_entries_since(session, since)
    exits = sanctions.feed_exits_since(session, since)
    ids = sorted({e.entry_id for e in new_entries})
    seen = (
        set(
            session.scalars(
                select(PartnerListEvent.entry_id).where(
                    PartnerListEvent.event == "entered", in_values(session, PartnerListEvent.entry_id, ids)
                )
            )
        )
        if ids
        else set()
    )
    exited_by = {x.entry_id: x for x in exits}
    for entry in new_entries:
        if entry.entry_id in seen:
            continue
        leaving = exited_by.get(entry.entry_id)
        if (leaving is not None and leaving.effective_at <= now) or (
            entry.ends_at is not None and entry.ends_at <= now
        ):
            continue  # over before any partner could be told: never delivered
        added.append(_entered(entry, now))
    session.add_all(added)
    session.flush()

    open_entries = _open_entered(session, sorted(exited_by))
    for leaving in exits:
        entered = open_entries.pop(leaving.entry_id, None)
        if entered is None or leaving.effective_at > now:
            continue
        if entered.ends_at is not None and entered.ends_at <= leaving.effective_at:
            open_entries[leaving.entry_id] = entered  # it had run out first: reported as expired below
            continue
        added.append(ended := _ended(entered, leaving.reason, leaving.effective_at, leaving.decision_number, now))
        session.add(ended)
    session.flush()

    ended_alias = aliased(PartnerListEvent)
    running_out = session.scalars(
        select(PartnerListEvent)
        .where(
            PartnerListEvent.event == "entered",
            PartnerListEvent.ends_at.is_not(None),
            PartnerListEvent.ends_at <= now,
            ~exists().where(ended_alias.entry_id == PartnerListEvent.entry_id, ended_alias.event == "ended"),
        )
        .order_by(PartnerListEvent.ends_at, PartnerListEvent.entry_id)
    ).all()
    for entered in running_out:
        assert entered.ends_at is not None
        added.append(ended := _ended(entered, "expired", entered.ends_at, "", now))
        session.add(ended)
    session.flush()
    state.synced_at = now
    state.details = {"added": len(added)}
    return len(added)


# --- the partner's side ----------------------------------------------------------------------------------------


def partner_of(session: Session, actor: Actor) -> DataPartner:
    """The live agreement of the platform the actor acts for; anyone else is refused."""
    institution = next((i for i in access.institutions(session) if i.id == actor.institution_id), None)
    if institution is None or institution.kind != PLATFORM:
        raise Forbidden("PARTNER_NOT_PLATFORM", "只有登记为数据合作伙伴的互联网平台可以获取名单信息")
    agreements = list(
        session.scalars(
            select(DataPartner).where(DataPartner.institution_id == institution.id).order_by(DataPartner.id.desc())
        )
    )
    if not agreements:
        raise Forbidden("PARTNER_NOT_REGISTERED", f"{institution.name}尚未登记为数据合作伙伴")
    live = next((p for p in agreements if status(p) == "active"), None)
    if live is None:
        latest = agreements[0]
        if status(latest) == "pending":
            raise Forbidden(
                "PARTNER_AGREEMENT_NOT_STARTED", f"数据合作协议 {latest.number} 自{latest.starts_on:%Y-%m-%d}起生效"
            )
        raise Forbidden(
            "PARTNER_AGREEMENT_ENDED",
            f"数据合作协议 {latest.number} 已{STATUS_LABELS[status(latest)]}，停止推送名单信息",
        )
    return live


def _types(partner: DataPartner, list_type: str | None) -> list[str]:
    if not list_type:
        return list(partner.list_types)
    if list_type not in partner.list_types:
        raise Forbidden("PARTNER_LIST_TYPE_NOT_AGREED", f"数据合作协议 {partner.number} 不包含名单类型 {list_type}")
    return [list_type]


def _last_day(ends_at: datetime | None) -> date | None:
    return clock.local(ends_at - timedelta(microseconds=1)).date() if ends_at is not None else None


def _item(event: PartnerListEvent, names: dict[str, str]) -> ListItem:
    ended = event.event == "ended"
    return ListItem(
        cursor=event.id,
        event=event.event,
        event_label=EVENT_LABELS[event.event],  # type: ignore[arg-type]
        entry_id=event.entry_id,
        list_type=event.list_type,
        list_name=names.get(event.list_type, event.list_type),
        subject_code=event.subject_code,
        subject_name=event.subject_name,
        person=event.person,
        decision_number=event.decision_number,
        starts_on=event.starts_on,
        ends_on=_last_day(event.ends_at),
        end_reason=event.reason if ended else None,
        end_reason_label=END_REASONS.get(event.reason or "", event.reason) if ended else None,
        ended_on=clock.local(event.effective_at).date() if ended else None,
        exit_decision=event.exit_decision,
    )


def _page_size(session: Session, limit: int) -> int:
    return max(1, min(limit, int(policy.get(session, POLICY)["page_max"])))


def pull(session: Session, actor: Actor, cursor: int, *, limit: int = 500, list_type: str | None = None) -> ListPage:
    """The partner's list events after ``cursor`` (its agreed list types only); audited."""
    partner = partner_of(session, actor)
    types = _types(partner, list_type)
    limit = _page_size(session, limit)
    sync(session)
    rows = list(
        session.scalars(
            select(PartnerListEvent)
            .where(PartnerListEvent.id > cursor, PartnerListEvent.list_type.in_(types))
            .order_by(PartnerListEvent.id)
            .limit(limit + 1)
        )
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    # Without more, nothing of its types lies between: it may skip to the newest event.
    newest = session.scalar(select(func.max(PartnerListEvent.id))) or 0
    next_cursor = rows[-1].id if has_more else max(cursor, newest)
    if list_type is None:  # a pull of one list type leaves the others undelivered
        partner.delivered_through = max(partner.delivered_through, next_cursor)
    partner.last_pulled_at = utcnow()
    names = sanctions_names(session)
    audit.append(
        session,
        actor,
        "partners.feed.read",
        object_type="data_partner",
        object_id=partner.number,
        detail={
            "cursor": cursor,
            "list_type": list_type,
            "items": len(rows),
            "next_cursor": next_cursor,
            "ended": sum(1 for r in rows if r.event == "ended"),
        },
    )
    return ListPage(
        items=[_item(r, names) for r in rows],
        next_cursor=next_cursor,
        has_more=has_more,
        as_of=clock.now().isoformat(timespec="seconds"),
    )


def sanctions_names(session: Session) -> dict[str, str]:
    return {t.code: t.name for t in sanctions.list_types(session, include_retired=True)}


def current(
    session: Session, actor: Actor, *, after: int = 0, limit: int = 500, list_type: str | None = None
) -> CurrentPage:
    """The entries of its list types in force now (a snapshot to reconcile with), and the cursor
    from which to pull changes after it; audited."""
    partner = partner_of(session, actor)
    types = _types(partner, list_type)
    sync(session)
    cursor = session.scalar(select(func.max(PartnerListEvent.id))) or 0
    entries, last = sanctions.feed_entries_in_force(session, types, after=after, limit=_page_size(session, limit))
    audit.append(
        session,
        actor,
        "partners.feed.current",
        object_type="data_partner",
        object_id=partner.number,
        detail={"after": after, "list_type": list_type, "entries": len(entries)},
    )
    return CurrentPage(
        entries=[
            CurrentEntry(
                entry_id=e.entry_id,
                list_type=e.list_type,
                list_name=e.list_name,
                subject_code=e.subject_code,
                subject_name=e.subject_name,
                person=e.person,
                decision_number=e.decision_number,
                starts_on=clock.local(e.listed_at).date(),
                ends_on=_last_day(e.ends_at),
            )
            for e in entries
        ],
        next_after=last,
        cursor=cursor,
        as_of=clock.now().isoformat(timespec="seconds"),
    )


def acknowledge(session: Session, actor: Actor, cursor: int) -> AcknowledgementOut:
    """The partner confirms it has applied every event up to ``cursor`` (送达确认)."""
    partner = partner_of(session, actor)
    if cursor > partner.delivered_through:
        raise Invalid(
            "PARTNER_ACK_BEYOND_DELIVERED",
            f"确认的游标 {cursor} 超出已推送的游标 {partner.delivered_through}",
            field="cursor",
        )
    partner.acknowledged_through = max(partner.acknowledged_through, cursor)
    partner.last_acknowledged_at = utcnow()
    audit.append(
        session,
        actor,
        "partners.feed.acknowledge",
        object_type="data_partner",
        object_id=partner.number,
        detail={"cursor": cursor, "acknowledged_through": partner.acknowledged_through},
    )
    return AcknowledgementOut(
        acknowledged_through=partner.acknowledged_through, delivered_through=partner.delivered_through
    )


# --- what the authority sees -------------------------------------------------------------------------------------


def _count(session: Session, partner: DataPartner, *conditions: Any) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(PartnerListEvent)
            .where(PartnerListEvent.list_type.in_(list(partner.list_types)), *conditions)
        )
        or 0
    )


def partner_out(session: Session, partner: DataPartner, institution: Institution) -> PartnerOut:
    state = status(partner)
    delivered, acked = partner.delivered_through, partner.acknowledged_through
    between = and_(PartnerListEvent.id > acked, PartnerListEvent.id <= delivered)
    return PartnerOut(
        number=partner.number,
        institution_code=institution.code,
        institution_name=institution.name,
        list_types=list(partner.list_types),
        starts_on=partner.starts_on,
        ends_on=partner.ends_on,
        status=state,
        status_label=STATUS_LABELS[state],
        delivered_through=delivered,
        acknowledged_through=acked,
        undelivered=_count(session, partner, PartnerListEvent.id > delivered),
        unacknowledged=_count(session, partner, between),
        unacknowledged_ends=_count(session, partner, between, PartnerListEvent.event == "ended"),
        last_pulled_at=clock.local(partner.last_pulled_at).isoformat(timespec="seconds")
        if partner.last_pulled_at
        else None,
        last_acknowledged_at=(
            clock.local(partner.last_acknowledged_at).isoformat(timespec="seconds")
            if partner.last_acknowledged_at
            else None
        ),
        termination_reason=partner.termination_reason,
    )


def partners(session: Session) -> list[PartnerOut]:
    institutions = {i.id: i for i in access.institutions(session)}
    return [
        partner_out(session, p, institutions[p.institution_id])
        for p in session.scalars(select(DataPartner).order_by(DataPartner.id.desc()))
    ]


def recent_ends(session: Session, *, limit: int = 20) -> list[dict[str, Any]]:
    """The latest ended events (repairs first among equals), each with, per partner receiving its
    list type, whether it was delivered and acknowledged."""
    institutions = {i.id: i for i in access.institutions(session)}
    agreements = list(session.scalars(select(DataPartner).order_by(DataPartner.id)))
    names = sanctions_names(session)
    found = []
    for event in session.scalars(
        select(PartnerListEvent)
        .where(PartnerListEvent.event == "ended")
        .order_by(PartnerListEvent.id.desc())
        .limit(limit)
    ):
        found.append(
            {
                "item": _item(event, names),
                "deliveries": [
                    {
                        "partner": p.number,
                        "institution": institutions[p.institution_id].name,
                        "delivered": p.delivered_through >= event.id,
                        "acknowledged": p.acknowledged_through >= event.id,
                    }
                    for p in agreements
                    if event.list_type in p.list_types
                ],
            }
        )
    return found


def deliveries(session: Session, entry_id: int) -> list[dict[str, Any]]:
    """For one list entry's end (e.g. after a repair): each partner receiving its list type, and
    whether it has been delivered and acknowledged."""
    event = session.scalar(
        select(PartnerListEvent).where(PartnerListEvent.entry_id == entry_id, PartnerListEvent.event == "ended")
    )
    if event is None:
        return []
    institutions = {i.id: i for i in access.institutions(session)}
    return [
        {
            "partner": p.number,
            "institution": institutions[p.institution_id].name,
            "delivered": p.delivered_through >= event.id,
            "acknowledged": p.acknowledged_through >= event.id,
        }
        for p in session.scalars(select(DataPartner).order_by(DataPartner.id))
        if event.list_type in p.list_types
    ]


def portal(session: Session, actor: Actor) -> dict[str, Any]:
    """The platform's own agreement and delivery state (its portal page)."""
    partner = partner_of(session, actor)
    institution = next(i for i in access.institutions(session) if i.id == partner.institution_id)
    return {"partner": partner_out(session, partner, institution), "names": sanctions_names(session)}
