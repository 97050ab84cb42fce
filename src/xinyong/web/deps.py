"""Request-scoped dependencies: the unit of work, who is asking, and what they may do."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from xinyong.access import service as access
from xinyong.access.permissions import P, role_allows
from xinyong.actor import Actor
from xinyong.db import unit_of_work
from xinyong.errors import Forbidden, NotAuthenticated

SESSION_COOKIE = "xy_session"


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on any error."""
    with unit_of_work(request.app.state.session_factory) as session:
        yield session


def get_read_db(request: Request) -> Iterator[Session]:
    """A read-only unit of work, for pages and APIs that never write (the public portal)."""
    with unit_of_work(request.app.state.read_session_factory) as session:
        yield session


def current_actor(request: Request, session: Session = Depends(get_db)) -> Actor:
    if hasattr(request.state, "actor"):
        return request.state.actor
    actor = Actor.anonymous()
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        actor = access.actor_for_token(session, authorization[7:].strip())
    elif token := request.cookies.get(SESSION_COOKIE):
        user = access.user_for_session(session, token)
        if user is not None:
            actor = access.actor_for(user)
    request.state.actor = actor
    return actor


class require:
    """Dependency that admits the actor only if its role (and token scopes) hold ``permission``."""

    def __init__(self, permission: P) -> None:
        self.permission = permission

    def __call__(self, actor: Actor = Depends(current_actor)) -> Actor:
        if self.permission is P.PUBLIC:
            return actor
        if actor.is_anonymous:
            raise NotAuthenticated("AUTH_REQUIRED", "请先登录")
        if not role_allows(actor.role, self.permission):
            raise Forbidden("PERMISSION_DENIED", "当前账号无权进行此操作", permission=str(self.permission))
        if actor.scopes is not None and self.permission is not P.SIGNED_IN and str(self.permission) not in actor.scopes:
            raise Forbidden("TOKEN_SCOPE_MISSING", f"接口令牌缺少权限范围“{self.permission}”",
                            permission=str(self.permission))
        return actor
