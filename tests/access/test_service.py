"""Accounts, login sessions and API tokens: who may log in, and what a copy of the tables gives away."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.world import DEPARTMENT_CODE, PASSWORD
from xinyong import clock
from xinyong.access import service as access
from xinyong.access.models import ApiToken, User, WebSession
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.errors import Conflict, Invalid, NotAuthenticated, NotFound

SYSTEM = Actor.system("测试")


@dataclass
class Accounts:
    session: Session
    submitter: User
    admin: User
    department_id: int


@pytest.fixture
def accounts(session: Session) -> Accounts:
    department = access.create_department(session, code=DEPARTMENT_CODE, name="南京市玄武区市场监督管理局",
                                          short_name="玄武区市场监管局", region_code="320102", sector="市场监管")
    submitter = access.create_user(session, SYSTEM, access.NewUser("scjg", PASSWORD, "department_submitter",
                                                                   "玄武区市场监管局", department_id=department.id))
    admin = access.create_user(session, SYSTEM, access.NewUser("admin", PASSWORD, "authority_admin", "信用办"))
    session.commit()
    return Accounts(session, submitter, admin, department.id)


def failed_logins(session: Session) -> list[str]:
    return [e.detail["username"] for e in audit.recent(session, action="auth.failed", limit=50)]


# --- authentication ---------------------------------------------------------------------------------

def test_authenticate_with_the_right_password(accounts: Accounts) -> None:
    user = access.authenticate(accounts.session, "scjg", PASSWORD)
    assert user.id == accounts.submitter.id
    assert access.authenticate(accounts.session, "  scjg ", PASSWORD).id == user.id
    assert failed_logins(accounts.session) == []


def test_wrong_password_and_unknown_user_look_the_same(accounts: Accounts) -> None:
    with pytest.raises(NotAuthenticated) as wrong:
        access.authenticate(accounts.session, "scjg", PASSWORD + "x")
    with pytest.raises(NotAuthenticated) as unknown:
        access.authenticate(accounts.session, "nobody", PASSWORD)
    assert wrong.value.code == unknown.value.code == "AUTH_FAILED"
    assert wrong.value.message == unknown.value.message
    assert "用户名或密码错误" in wrong.value.message and wrong.value.status == 401
    entries = audit.recent(accounts.session, action="auth.failed", limit=10)
    assert [e.detail["username"] for e in entries] == ["nobody", "scjg"]
    assert entries[1].object_id == str(accounts.submitter.id) and entries[0].object_id is None
    assert all(e.role == "public" for e in entries)
    assert audit.verify(accounts.session).ok


def test_a_deactivated_user_cannot_log_in(accounts: Accounts) -> None:
    access.set_active(accounts.session, SYSTEM, accounts.submitter.id, False)
    with pytest.raises(NotAuthenticated) as caught:
        access.authenticate(accounts.session, "scjg", PASSWORD)
    assert caught.value.code == "AUTH_FAILED"
    assert failed_logins(accounts.session) == ["scjg"]
    access.set_active(accounts.session, SYSTEM, accounts.submitter.id, True)
    assert access.authenticate(accounts.session, "scjg", PASSWORD).id == accounts.submitter.id


# --- users ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["short1a", "abcdefghij", "1234567890", ""])
def test_weak_passwords_are_refused(accounts: Accounts, password: str) -> None:
    with pytest.raises(Invalid) as caught:
        access.create_user(accounts.session, SYSTEM, access.NewUser("weak", password, "auditor", "审计"))
    assert (caught.value.code, caught.value.field) == ("PASSWORD_WEAK", "password")
    assert access.count_users(accounts.session) == 2


@pytest.mark.parametrize(("role", "link"), [("department_submitter", "department_id"),
                                            ("applying_department", "department_id"),
                                            ("subject_user", "subject_id"),
                                            ("authorised_institution", "institution_id")])
def test_a_role_needing_a_link_requires_it(accounts: Accounts, role: str, link: str) -> None:
    with pytest.raises(Invalid) as caught:
        access.create_user(accounts.session, SYSTEM, access.NewUser("nolink", PASSWORD, role, "无归属"))
    assert (caught.value.code, caught.value.field) == ("USER_LINK_REQUIRED", link)
    assert access.count_users(accounts.session) == 2


def test_duplicate_username_is_refused(accounts: Accounts) -> None:
    with pytest.raises(Conflict) as caught:
        access.create_user(accounts.session, SYSTEM, access.NewUser("admin", PASSWORD, "auditor", "另一个"))
    assert (caught.value.code, caught.value.status) == ("USER_EXISTS", 409)
    assert access.count_users(accounts.session) == 2


def test_unknown_role_is_refused(accounts: Accounts) -> None:
    with pytest.raises(Invalid) as caught:
        access.create_user(accounts.session, SYSTEM, access.NewUser("root", PASSWORD, "superuser", "超级"))
    assert caught.value.code == "USER_ROLE_UNKNOWN"


def test_passwords_are_stored_as_argon2id(accounts: Accounts) -> None:
    stored = accounts.session.scalars(select(User.password_hash)).all()
    assert len(stored) == 2
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
    assert stored[0] != stored[1]  # salted


# --- API tokens -------------------------------------------------------------------------------------

def issue(accounts: Accounts, scopes: list[str], expires_in: timedelta | None = None) -> tuple[ApiToken, str]:
    actor = access.actor_for(accounts.submitter)
    expires = utcnow() + expires_in if expires_in else None
    return access.issue_token(accounts.session, actor, accounts.submitter, "批量报送", scopes, expires)


def test_token_scopes_must_lie_within_the_role(accounts: Accounts) -> None:
    with pytest.raises(Invalid) as caught:
        issue(accounts, ["records:submit", "users:manage", "audit:read"])
    assert (caught.value.code, caught.value.field) == ("TOKEN_SCOPE_NOT_ALLOWED", "scopes")
    assert "audit:read" in caught.value.message and "users:manage" in caught.value.message
    assert accounts.session.scalars(select(ApiToken)).all() == []


def test_a_token_acts_for_its_user_with_its_scopes(accounts: Accounts) -> None:
    token, raw = issue(accounts, ["records:submit", "subjects:read", "records:submit"])
    assert raw.startswith("xy_") and token.prefix == raw[:10]
    actor = access.actor_for_token(accounts.session, raw)
    assert (actor.user_id, actor.role, actor.department_id) == (accounts.submitter.id, "department_submitter",
                                                                accounts.department_id)
    assert actor.scopes == frozenset({"records:submit", "subjects:read"})
    assert audit.recent(accounts.session, action="token.issue", limit=1)[0].detail["prefix"] == token.prefix


def test_a_revoked_token_stops_working(accounts: Accounts) -> None:
    token, raw = issue(accounts, ["subjects:read"])
    access.revoke_token(accounts.session, access.actor_for(accounts.submitter), token.id)
    with pytest.raises(NotAuthenticated) as caught:
        access.actor_for_token(accounts.session, raw)
    assert caught.value.code == "TOKEN_INVALID"
    assert audit.recent(accounts.session, limit=1)[0].action == "token.revoke"


def test_only_the_owner_or_an_admin_revokes_a_token(accounts: Accounts) -> None:
    token, raw = issue(accounts, ["subjects:read"])
    stranger = access.create_user(accounts.session, SYSTEM, access.NewUser("shenji", PASSWORD, "auditor", "审计"))
    with pytest.raises(NotFound):
        access.revoke_token(accounts.session, access.actor_for(stranger), token.id)
    assert access.actor_for_token(accounts.session, raw).user_id == accounts.submitter.id
    access.revoke_token(accounts.session, access.actor_for(accounts.admin), token.id)
    with pytest.raises(NotAuthenticated):
        access.actor_for_token(accounts.session, raw)


def test_an_expired_token_stops_working(accounts: Accounts) -> None:
    _token, raw = issue(accounts, ["subjects:read"], expires_in=timedelta(days=1))
    clock.advance(timedelta(hours=23, minutes=59))
    assert access.actor_for_token(accounts.session, raw).user_id == accounts.submitter.id
    clock.advance(timedelta(minutes=2))
    with pytest.raises(NotAuthenticated) as caught:
        access.actor_for_token(accounts.session, raw)
    assert caught.value.code == "TOKEN_INVALID"


def test_a_token_of_a_deactivated_user_stops_working(accounts: Accounts) -> None:
    _token, raw = issue(accounts, ["subjects:read"])
    access.set_active(accounts.session, SYSTEM, accounts.submitter.id, False)
    with pytest.raises(NotAuthenticated):
        access.actor_for_token(accounts.session, raw)


def test_an_unknown_token_is_invalid(accounts: Accounts) -> None:
    _token, raw = issue(accounts, ["subjects:read"])
    for garbage in ("xy_not-a-token", raw[:-1], ""):
        with pytest.raises(NotAuthenticated) as caught:
            access.actor_for_token(accounts.session, garbage)
        assert caught.value.code == "TOKEN_INVALID"


def test_tokens_are_stored_only_as_sha256(accounts: Accounts) -> None:
    issued = [issue(accounts, ["subjects:read"]) for _ in range(2)]
    accounts.session.commit()
    rows = accounts.session.execute(select(ApiToken.__table__)).all()
    assert len(rows) == 2
    for token, raw in issued:
        assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert all(raw not in str(value) for row in rows for value in row)
    assert issued[0][1] != issued[1][1]


# --- web sessions -----------------------------------------------------------------------------------

def test_sessions_expire_after_the_configured_hours(accounts: Accounts, settings: Settings) -> None:
    assert settings.session_hours == 8
    token = access.start_session(accounts.session, accounts.submitter, settings.session_hours)
    assert audit.recent(accounts.session, limit=1)[0].action == "auth.login"
    assert access.user_for_session(accounts.session, token).id == accounts.submitter.id
    clock.advance(timedelta(hours=settings.session_hours) - timedelta(minutes=1))
    assert access.user_for_session(accounts.session, token) is not None
    clock.advance(timedelta(minutes=2))
    assert access.user_for_session(accounts.session, token) is None


def test_a_session_ends_at_logout(accounts: Accounts, settings: Settings) -> None:
    token = access.start_session(accounts.session, accounts.submitter, settings.session_hours)
    other = access.start_session(accounts.session, accounts.submitter, settings.session_hours)
    access.end_session(accounts.session, token)
    assert access.user_for_session(accounts.session, token) is None
    assert access.user_for_session(accounts.session, other) is not None  # only that session ends
    assert audit.recent(accounts.session, limit=1)[0].action == "auth.logout"
    access.end_session(accounts.session, token)  # ending twice changes nothing
    assert [e.action for e in audit.recent(accounts.session, action="auth.logout", limit=5)] == ["auth.logout"]


def test_a_session_of_a_deactivated_user_is_worthless(accounts: Accounts, settings: Settings) -> None:
    token = access.start_session(accounts.session, accounts.submitter, settings.session_hours)
    access.set_active(accounts.session, SYSTEM, accounts.submitter.id, False)
    assert access.user_for_session(accounts.session, token) is None


def test_session_tokens_are_stored_only_as_sha256(accounts: Accounts, settings: Settings) -> None:
    token = access.start_session(accounts.session, accounts.submitter, settings.session_hours)
    accounts.session.commit()
    rows = accounts.session.execute(select(WebSession.__table__)).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in rows[0])
