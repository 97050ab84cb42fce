"""Every signed-in party's to-do list (待办事项) and inbox (站内通知): pages and API."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.notifications import service
from xinyong.notifications.models import Notice
from xinyong.notifications.schemas import NoticeOut, NoticePage, TodoList, TodoOut
from xinyong.notifications.todo import Todo
from xinyong.web.deps import get_db, require
from xinyong.web.templating import render

router = APIRouter(tags=["待办事项和通知"])
PER_PAGE = 50


def _todo_list(items: list[Todo]) -> TodoList:
    return TodoList(total=len(items), overdue=sum(t.overdue for t in items),
                    items=[TodoOut(area=t.area, title=t.title, url=t.url, due_at=t.due_at, overdue=t.overdue)
                           for t in items])


def _notice_out(notice: Notice, actor: Actor) -> NoticeOut:
    return NoticeOut(id=notice.id, title=notice.title, body=notice.body, url=notice.url, created_at=notice.created_at,
                     read_at=notice.read_at, addressed_to=service.addressee_of(notice, actor) or "user")


def _local(url: str) -> str | None:
    """A notice's link, if it is a path on this platform (never an address elsewhere)."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else None


# --- API ----------------------------------------------------------------------------------------------------

@router.get("/api/v1/me/todo", summary="我的待办事项（逾期的在前，其余按办理期限）", response_model=TodoList)
def todo_api(actor: Actor = Depends(require(P.SIGNED_IN)), session: Session = Depends(get_db)) -> TodoList:
    return _todo_list(service.todos(session, actor))


@router.get("/api/v1/me/notices", summary="我的站内通知（发给本人、本主体或本部门的，新的在前）", response_model=NoticePage)
def notices_api(unread_only: bool = Query(False, description="只看未读"), limit: int = Query(PER_PAGE, ge=1, le=200),
                offset: int = Query(0, ge=0), actor: Actor = Depends(require(P.SIGNED_IN)),
                session: Session = Depends(get_db)) -> NoticePage:
    total, page = service.notices_for(session, actor, unread_only=unread_only, limit=limit, offset=offset)
    return NoticePage(total=total, unread=service.unread_count(session, actor), limit=limit, offset=offset,
                      items=[_notice_out(n, actor) for n in page])


@router.post("/api/v1/me/notices/{notice_id}/read", summary="标记通知为已读", response_model=NoticeOut)
def read_api(notice_id: int, actor: Actor = Depends(require(P.SIGNED_IN)), session: Session = Depends(get_db)) -> NoticeOut:
    return _notice_out(service.mark_read(session, actor, notice_id), actor)


# --- pages ------------------------------------------------------------------------------------------------

@router.get("/me/todo", include_in_schema=False)
def todo_page(request: Request, actor: Actor = Depends(require(P.SIGNED_IN)),
              session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    unread, recent = service.notices_for(session, actor, unread_only=True, limit=5)
    return render(request, "notifications_todo.html", title="待办事项", todo=_todo_list(service.todos(session, actor)),
                  unread=unread, recent=recent, local=_local)


@router.get("/me/notices", include_in_schema=False)
def notices_page(request: Request, page: int = Query(1, ge=1), unread: bool = Query(False),
                 actor: Actor = Depends(require(P.SIGNED_IN)), session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    total, found = service.notices_for(session, actor, unread_only=unread, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render(request, "notifications_notices.html", title="站内通知", notices=found, total=total, page=page,
                  per_page=PER_PAGE, unread_only=unread, unread=service.unread_count(session, actor), local=_local,
                  addressee=lambda n: service.addressee_of(n, actor))


@router.post("/me/notices/read-all", include_in_schema=False)
def read_all_page(actor: Actor = Depends(require(P.SIGNED_IN)), session: Session = Depends(get_db)) -> RedirectResponse:
    service.mark_all_read(session, actor)
    return RedirectResponse("/me/notices", status_code=303)


@router.post("/me/notices/{notice_id}/read", include_in_schema=False)
def read_page(notice_id: int, open_: str = Form("", alias="open"), actor: Actor = Depends(require(P.SIGNED_IN)),
              session: Session = Depends(get_db)) -> RedirectResponse:
    """Mark read; with ``open`` set, go on to the page the notice is about."""
    notice = service.mark_read(session, actor, notice_id)
    target = _local(notice.url) if open_ else None
    return RedirectResponse(target or "/me/notices", status_code=303)
