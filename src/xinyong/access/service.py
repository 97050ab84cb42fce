"""Accounts, login sessions and API tokens (账号、登录会话、接口令牌).

Passwords are argon2id hashes. Session cookies and API tokens are random strings of which only
the SHA-256 is stored, so a copy of the database logs nobody in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.access.models import ApiToken, Department, Institution, User, WebSession
from xinyong.access.permissions import ROLE_PERMISSIONS, Role
from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.db import utcnow
from xinyong.errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def use_hasher(hasher: PasswordHasher) -> None:
    """Swap the argon2 parameters (tests use a cheap profile; production keeps the library defaults)."""
    global _hasher, _DUMMY_HASH
    _hasher, _DUMMY_HASH = hasher, hasher.hash("timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < 8 or password.isdigit() or password.isalpha():
        raise Invalid("PASSWORD_WEAK", "密码至少8位，且须同时包含字母和数字", field="password")


def actor_for(user: User, scopes: frozenset[str] | None = None) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=user.role, department_id=user.department_id,
                 subject_id=user.subject_id, institution_id=user.institution_id, scopes=scopes)


# --- organisations --------------------------------------------------------------------------------

def create_department(session: Session, *, code: str, name: str, short_name: str, region_code: str, sector: str,
                      provides_data: bool = True, applies_data: bool = False) -> Department:
    department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        department = Department(code=code, name=name, short_name=short_name, region_code=region_code, sector=sector,
                                provides_data=provides_data, applies_data=applies_data, created_at=utcnow())
        session.add(department)
        session.flush()
    return department


def create_institution(session: Session, *, code: str, name: str, kind: str, foreign: bool = False) -> Institution:
    institution = session.scalar(select(Institution).where(Institution.code == code))
    if institution is None:
        institution = Institution(code=code, name=name, kind=kind, foreign=foreign, created_at=utcnow())
        session.add(institution)
        session.flush()
    return institution


def get_department(session: Session, department_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound("DEPARTMENT_NOT_FOUND", f"部门不存在：{department_id}")
    return department


def department_of(session: Session, actor: Actor) -> Department:
    """The department a submitting actor acts for; only department accounts submit."""
    if actor.department_id is None:
        raise Forbidden("DEPARTMENT_REQUIRED", "只有数据提供部门的账号可以报送信用信息")
    return get_department(session, actor.department_id)


def departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.id)))


def department_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Department.id, Department.name)).all())


def department_names_by_code(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Department.code, Department.name)).all())


def institutions(session: Session) -> list[Institution]:
    return list(session.scalars(select(Institution).order_by(Institution.id)))


# --- users ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewUser:
    username: str
    password: str
    role: str
    display_name: str
    department_id: int | None = None
    subject_id: int | None = None
    institution_id: int | None = None
    email: str | None = None  # for notice e-mails (docs/notifications.md)


_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def check_email(address: str | None) -> str | None:
    """The address as stored (trimmed; blank: none), or USER_EMAIL_INVALID."""
    address = (address or "").strip()
    if not address:
        return None
    if len(address) > 254 or _EMAIL.fullmatch(address) is None:
        raise Invalid("USER_EMAIL_INVALID", f"电子邮箱地址格式不正确：{address[:60]}", field="email")
    return address


_LINK_REQUIRED = {
    Role.DEPARTMENT_SUBMITTER: "department_id", Role.APPLYING_DEPARTMENT: "department_id",
    Role.SUBJECT_USER: "subject_id", Role.AUTHORISED_INSTITUTION: "institution_id",
}
_LINK_LABELS = {"department_id": "所属部门", "subject_id": "对应信用主体", "institution_id": "所属机构"}


def create_user(session: Session, actor: Actor, new: NewUser) -> User:
    if new.role not in Role.__members__.values():
        raise Invalid("USER_ROLE_UNKNOWN", f"角色“{new.role}”不存在", field="role")
    if not (2 <= len(new.username) <= 64) or not new.username.replace("_", "").replace("-", "").isalnum():
        raise Invalid("USER_NAME_INVALID", "用户名须为2-64位字母、数字、下划线或连字符", field="username")
    link = _LINK_REQUIRED.get(Role(new.role))
    if link and getattr(new, link) is None:
        raise Invalid("USER_LINK_REQUIRED", f"该角色必须指定{_LINK_LABELS[link]}", field=link)
    check_password_strength(new.password)
    email = check_email(new.email)
    if session.scalar(select(User.id).where(User.username == new.username)) is not None:
        raise Conflict("USER_EXISTS", f"用户名“{new.username}”已被使用", field="username")
    user = User(username=new.username, display_name=new.display_name, password_hash=hash_password(new.password),
                role=new.role, department_id=new.department_id, subject_id=new.subject_id,
                institution_id=new.institution_id, created_at=utcnow(), email=email)
    session.add(user)
    session.flush()
    audit.append(session, actor, "user.create", object_type="user", object_id=user.id,
                 detail={"username": user.username, "role": user.role})
    return user


def users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("USER_NOT_FOUND", f"用户不存在：{user_id}")
    return user


def set_email(session: Session, actor: Actor, user_id: int, email: str | None) -> User:
    """Set (or, blank, clear) the address notice e-mails go to."""
    user = get_user(session, user_id)
    user.email = check_email(email)
    audit.append(session, actor, "user.email", object_type="user", object_id=user.id,
                 detail={"username": user.username, "email_set": user.email is not None})
    return user


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    user = get_user(session, user_id)
    user.active = active
    audit.append(session, actor, "user.activate" if active else "user.deactivate", object_type="user",
                 object_id=user.id, detail={"username": user.username})
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The user for these credentials; one message for unknown user and wrong password."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        audit.append(session, Actor.anonymous(), "auth.failed", object_type="user",
                     object_id=user.id if user else None, detail={"username": username[:64]})
        raise NotAuthenticated("AUTH_FAILED", "用户名或密码错误，或账号已停用")
    assert user is not None
    return user


# --- web sessions ---------------------------------------------------------------------------------

def start_session(session: Session, user: User, hours: int) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(token_hash=_digest(token), user_id=user.id, created_at=now,
                           expires_at=now + timedelta(hours=hours)))
    audit.append(session, actor_for(user), "auth.login", object_type="user", object_id=user.id, detail={})
    return token


def user_for_session(session: Session, token: str) -> User | None:
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _digest(token)))
    if row is None or row.ended_at is not None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def end_session(session: Session, token: str) -> None:
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _digest(token)))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        user = session.get(User, row.user_id)
        if user is not None:
            audit.append(session, actor_for(user), "auth.logout", object_type="user", object_id=user.id, detail={})


# --- API tokens -----------------------------------------------------------------------------------

def issue_token(session: Session, actor: Actor, user: User, name: str, scopes: list[str],
                expires_at: datetime | None) -> tuple[ApiToken, str]:
    """A token whose scopes must lie within what the user's role may do."""
    allowed = {str(p) for p in ROLE_PERMISSIONS.get(Role(user.role), frozenset())}
    beyond = sorted(set(scopes) - allowed)
    if beyond:
        raise Invalid("TOKEN_SCOPE_NOT_ALLOWED", f"令牌权限超出账号角色范围：{'、'.join(beyond)}", field="scopes")
    raw = "xy_" + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=_digest(raw), prefix=raw[:10], user_id=user.id, scopes=sorted(set(scopes)),
                     created_at=utcnow(), expires_at=expires_at)
    session.add(token)
    session.flush()
    audit.append(session, actor, "token.issue", object_type="api_token", object_id=token.id,
                 detail={"user": user.username, "scopes": token.scopes, "prefix": token.prefix})
    return token, raw


def revoke_token(session: Session, actor: Actor, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and actor.role != Role.AUTHORITY_ADMIN):
        raise NotFound("TOKEN_NOT_FOUND", "令牌不存在")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.append(session, actor, "token.revoke", object_type="api_token", object_id=token.id, detail={})


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())))


def actor_for_token(session: Session, raw: str) -> Actor:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    now = utcnow()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        raise NotAuthenticated("TOKEN_INVALID", "接口令牌无效、已过期或已吊销")
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        raise NotAuthenticated("TOKEN_INVALID", "接口令牌无效、已过期或已吊销")
    return actor_for(user, frozenset(token.scopes))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0
