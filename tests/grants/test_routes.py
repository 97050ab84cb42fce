"""Grants over HTTP: the subject's pages and API, the institution's bearer-token queries and every
refusal (audited in a transaction of its own, nothing leaked), the enumeration defence, the pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.grants.support import OTHER_BANK_CODE, OTHER_CODE, Stage, grant
from tests.support.world import BANK_CODE, SUBJECT_CODE
from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import User
from xinyong.actor import Actor
from xinyong.app import create_app
from xinyong.audit.models import AuditEntry
from xinyong.config import Settings
from xinyong.grants.models import GrantAlert, GrantQuery
from xinyong.notifications.models import Notice
from xinyong.policy import service as policy

API = "/api/v1/authorised/subjects"


@pytest.fixture
def api(settings: Settings, stage: Stage) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=True) as client:
        yield client


def token(stage: Stage, actor: Actor, *, scopes: tuple[str, ...] = ("grants:query",), days: int = 30) -> str:
    user = stage.session.get(User, actor.user_id)
    assert user is not None
    _row, raw = access.issue_token(stage.session, actor, user, "授权查询", list(scopes),
                                   clock.now() + timedelta(days=days))
    stage.session.commit()
    return raw


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def count(session: Session, statement) -> int:  # type: ignore[no-untyped-def]
    """Read what the app committed, and end the read (on SQLite an open transaction holds the write lock)."""
    session.commit()
    found = session.scalar(statement) or 0
    session.commit()
    return found


def audited(stage: Stage, action: str) -> list[SimpleNamespace]:
    stage.session.commit()
    found = [SimpleNamespace(object_id=e.object_id, detail=dict(e.detail)) for e in stage.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))]
    stage.session.commit()
    return found


# --- the subject ------------------------------------------------------------------------------------------

def test_the_subject_grants_and_revokes_on_its_page(stage: Stage, client_for: Callable[[str], TestClient]) -> None:
    client = client_for("subject_user")
    page = client.get("/me/grants")
    assert page.status_code == 200 and "授权机构查询本主体的信用信息" in page.text and "南京示范银行股份有限公司" in page.text
    made = client.post("/me/grants", data={"institution_code": BANK_CODE, "scope": ["registration", "item:ADM_PENALTY"],
                                           "purpose": "流动资金贷款授信审查", "starts_on": clock.today().isoformat(),
                                           "ends_on": (clock.today() + timedelta(days=60)).isoformat()},
                       follow_redirects=False)
    assert made.status_code == 303, made.text
    number = made.headers["location"].split("created=")[1]
    listed = client.get("/api/v1/me/grants").json()
    assert [(g["number"], g["status"], g["scope"]) for g in listed] == [(number, "live", ["registration", "item:ADM_PENALTY"])]
    refused = client.post("/me/grants", data={"institution_code": BANK_CODE, "purpose": "授信审查",
                                              "ends_on": clock.today().isoformat()})
    assert refused.status_code == 422 and "GRANT_SCOPE_EMPTY" in refused.text
    assert audited(stage, "grants.refused")[-1].detail["code"] == "GRANT_SCOPE_EMPTY"
    revoked = client.post(f"/me/grants/{number}/revoke", data={"reason": "不再需要"}, follow_redirects=False)
    assert revoked.status_code == 303
    assert client.get("/api/v1/me/grants").json()[0]["status"] == "revoked"


def test_the_subject_api(stage: Stage, client_for: Callable[[str], TestClient]) -> None:
    client = client_for("subject_user")
    body = {"institution_code": BANK_CODE, "scope": ["lists"], "purpose": "信易贷授信",
            "ends_on": (clock.today() + timedelta(days=30)).isoformat()}
    created = client.post("/api/v1/me/grants", json=body)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert created.json()["institution_name"] == "南京示范银行股份有限公司"
    for changes, code in [({"institution_code": "91320100MA00000000"}, "GRANT_INSTITUTION_UNKNOWN"),
                          ({"scope": ["item:NOPE"]}, "GRANT_SCOPE_UNKNOWN"),
                          ({"ends_on": (clock.today() - timedelta(days=1)).isoformat()}, "GRANT_PERIOD_PAST"),
                          ({"ends_on": (clock.today() + timedelta(days=400)).isoformat()}, "GRANT_PERIOD_TOO_LONG")]:
        answer = client.post("/api/v1/me/grants", json={**body, **changes})
        assert answer.status_code == 422 and answer.json()["error"]["code"] == code
    assert client.post(f"/api/v1/me/grants/{number}/revocation", json={"reason": "已结清"}).json()["status"] == "revoked"
    again = client.post(f"/api/v1/me/grants/{number}/revocation")
    assert again.status_code == 409 and again.json()["error"]["code"] == "GRANT_ALREADY_REVOKED"
    other = client_for("authorised_institution").post(f"/api/v1/me/grants/{number}/revocation")
    assert other.status_code == 403  # institutions hold no grants:own


# --- the institution -------------------------------------------------------------------------------------

def test_the_bank_gets_exactly_the_granted_sections(stage: Stage, api: TestClient) -> None:
    made = grant(stage, ["registration", "item:ADM_PENALTY"])
    raw = token(stage, stage.bank)
    answer = api.get(f"{API}/{SUBJECT_CODE}", params={"grant": made.number}, headers=bearer(raw))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body["profile"]) == {"registration", "items"} and body["sections"] == ["item:ADM_PENALTY", "registration"]
    assert [r["record_id"] for r in body["profile"]["items"]["ADM_PENALTY"]] == [stage.world.record_id]
    assert "lists" not in answer.text and "grades" not in answer.text
    [entry] = audited(stage, "grants.query")
    assert entry.object_id == made.number and entry.detail["records"] == {"ADM_PENALTY": [stage.world.record_id]}
    narrowed = api.get(f"{API}/{SUBJECT_CODE}", params={"grant": made.number, "sections": "registration"}, headers=bearer(raw))
    assert set(narrowed.json()["profile"]) == {"registration"}
    beyond = api.get(f"{API}/{SUBJECT_CODE}", params={"grant": made.number, "sections": "registration,lists"},
                     headers=bearer(raw))
    assert beyond.status_code == 403 and beyond.json()["error"]["code"] == "GRANT_SCOPE_EXCEEDED"
    assert audited(stage, "grants.refused")[-1].detail["code"] == "GRANT_SCOPE_EXCEEDED"


def test_revocation_refuses_the_very_next_query(stage: Stage, api: TestClient,
                                                client_for: Callable[[str], TestClient]) -> None:
    made = grant(stage, ["registration"])
    raw = token(stage, stage.bank)
    assert api.get(f"{API}/{SUBJECT_CODE}", params={"grant": made.number}, headers=bearer(raw)).status_code == 200
    assert client_for("subject_user").post(f"/api/v1/me/grants/{made.number}/revocation").status_code == 200
    answer = api.get(f"{API}/{SUBJECT_CODE}", params={"grant": made.number}, headers=bearer(raw))
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "GRANT_REVOKED"


def test_tokens_are_checked_first(stage: Stage, api: TestClient) -> None:
    made = grant(stage, ["registration"])
    url, params = f"{API}/{SUBJECT_CODE}", {"grant": made.number}
    assert api.get(url, params=params).status_code == 401  # no token
    assert api.get(url, params=params, headers=bearer("xy_forged")).status_code == 401
    expired = token(stage, stage.bank, days=1)
    clock.advance(timedelta(days=2))
    assert api.get(url, params=params, headers=bearer(expired)).json()["error"]["code"] == "TOKEN_INVALID"
    revoked = token(stage, stage.bank)
    access.revoke_token(stage.session, stage.bank, access.tokens_of(stage.session, stage.bank.user_id or 0)[0].id)
    stage.session.commit()
    assert api.get(url, params=params, headers=bearer(revoked)).status_code == 401
    portal_only = token(stage, stage.bank, scopes=("institution:portal",))
    answer = api.get(url, params=params, headers=bearer(portal_only))
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "TOKEN_SCOPE_MISSING"
    assert api.get(url, params=params, headers=bearer(token(stage, stage.bank))).status_code == 200


def test_other_roles_cannot_query(stage: Stage, client_for: Callable[[str], TestClient]) -> None:
    made = grant(stage, ["registration"])
    for role in ("subject_user", "authority_admin", "department_submitter", "auditor"):
        answer = client_for(role).get(f"{API}/{SUBJECT_CODE}", params={"grant": made.number})
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "PERMISSION_DENIED", role


def test_refusals_leak_nothing_and_are_audited_apart(stage: Stage, api: TestClient) -> None:
    mine = grant(stage, ["registration"])
    theirs = grant(stage, ["registration"], institution=OTHER_BANK_CODE)
    later = grant(stage, ["registration"], starts_on=clock.today() + timedelta(days=5))
    short = grant(stage, ["registration"], days=0)
    raw = token(stage, stage.bank)
    cases = [(SUBJECT_CODE, "SQ20260615FORGED00", "GRANT_INVALID"), (SUBJECT_CODE, theirs.number, "GRANT_INVALID"),
             (OTHER_CODE, mine.number, "GRANT_INVALID"), ("91320102MA1XY0Q9XX", mine.number, "GRANT_INVALID"),
             (SUBJECT_CODE, later.number, "GRANT_NOT_STARTED")]
    bodies = []
    for code, number, expected in cases:
        answer = api.get(f"{API}/{code}", params={"grant": number}, headers=bearer(raw))
        assert answer.status_code == 403 and answer.json()["error"]["code"] == expected, answer.text
        bodies.append(answer.json())
    assert len({str(b) for b in bodies[:4]}) == 1  # the same answer whether the subject or grant exists or not
    assert "南京" not in str(bodies)
    clock.advance(timedelta(days=1))
    answer = api.get(f"{API}/{SUBJECT_CODE}", params={"grant": short.number}, headers=bearer(raw))
    assert answer.json()["error"]["code"] == "GRANT_EXPIRED"
    assert [e.detail["code"] for e in audited(stage, "grants.refused")] == [*(c[2] for c in cases), "GRANT_EXPIRED"]
    assert count(stage.session, select(func.count()).select_from(GrantQuery).where(GrantQuery.outcome == "refused")) == 6


def test_enumeration_is_throttled_and_alerted_once(stage: Stage, api: TestClient) -> None:
    made = grant(stage, ["registration"])
    raw = token(stage, stage.bank)
    rules = policy.get(stage.session, "subject_grants")
    threshold = rules["refusal_threshold"]
    stage.session.commit()
    for index in range(threshold):
        answer = api.get(f"{API}/91320102MA1XY{index:03d}0", params={"grant": made.number}, headers=bearer(raw))
        assert answer.status_code == 403, answer.text
    throttled = api.get(f"{API}/{SUBJECT_CODE}", params={"grant": made.number}, headers=bearer(raw))
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "GRANT_QUERIES_THROTTLED"
    assert int(throttled.headers["Retry-After"]) > 0
    assert api.get(f"{API}/{SUBJECT_CODE}", params={"grant": made.number}, headers=bearer(raw)).status_code == 429
    [alert] = audited(stage, "grants.enumeration_alert")
    assert alert.detail["refusals"] == threshold and alert.detail["distinct_subjects"] == threshold
    admin = select(User.id).where(User.role == "authority_admin").scalar_subquery()
    assert count(stage.session, select(func.count()).select_from(Notice).where(Notice.user_id == admin)) == 1
    # another institution is not affected
    other = grant(stage, ["registration"], institution=OTHER_BANK_CODE)
    assert api.get(f"{API}/{SUBJECT_CODE}", params={"grant": other.number},
                   headers=bearer(token(stage, stage.other_bank))).status_code == 200
    # after the cool-down the bank queries again; old refusals do not count twice
    clock.advance(timedelta(minutes=rules["cooldown_minutes"] + 1))
    assert api.get(f"{API}/{SUBJECT_CODE}", params={"grant": made.number}, headers=bearer(raw)).status_code == 200
    assert api.get(f"{API}/{OTHER_CODE}", params={"grant": made.number}, headers=bearer(raw)).status_code == 403
    assert count(stage.session, select(func.count()).select_from(GrantAlert)) == 1


# --- pages ------------------------------------------------------------------------------------------------

def test_the_institution_page_lists_and_queries(stage: Stage, client_for: Callable[[str], TestClient]) -> None:
    made = grant(stage, ["registration", "item:ADM_PENALTY"])
    client = client_for("authorised_institution")
    page = client.get("/institution/grants")
    assert page.status_code == 200 and made.number in page.text
    shown = client.get("/institution/grants", params={"code": SUBJECT_CODE, "grant": made.number})
    assert shown.status_code == 200 and "宁玄市监处罚〔2026〕1号" in shown.text and "登记信息" in shown.text
    refused = client.get("/institution/grants", params={"code": OTHER_CODE, "grant": made.number})
    assert refused.status_code == 403 and "GRANT_INVALID" in refused.text
    assert audited(stage, "grants.refused")[-1].detail["code"] == "GRANT_INVALID"
    assert "/institution/grants" in client.get("/institution").text


def test_the_authority_oversees(stage: Stage, client_for: Callable[[str], TestClient], api: TestClient) -> None:
    made = grant(stage, ["registration"])
    raw = token(stage, stage.bank)
    api.get(f"{API}/{SUBJECT_CODE}", params={"grant": made.number}, headers=bearer(raw))
    api.get(f"{API}/{OTHER_CODE}", params={"grant": made.number}, headers=bearer(raw))
    page = client_for("authority_admin").get("/grants")
    assert page.status_code == 200 and made.number in page.text and "GRANT_INVALID" in page.text
    assert client_for("auditor").get("/grants").status_code == 403


def test_form_problems_name_the_field_in_chinese(stage: Stage, client_for: Callable[[str], TestClient]) -> None:
    answer = client_for("subject_user").post("/me/grants", data={"scope": ["registration"], "purpose": "授信审查",
                                                                 "ends_on": clock.today().isoformat()})
    assert answer.status_code == 422 and "被授权机构：" in answer.text and "GRANT_FORM_INVALID" in answer.text
    assert audited(stage, "grants.refused")[-1].detail["code"] == "GRANT_FORM_INVALID"
