"""The upward feed for a higher-level platform: changes by cursor, and per-item file export."""

from __future__ import annotations

import os
import tempfile

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.feed import service
from xinyong.feed.service import FeedPage
from xinyong.web.deps import get_db, require

router = APIRouter(prefix="/api/v1/feed", tags=["向上级平台报送"])
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


@router.get("/records", summary="游标之后新增、更正、撤销的全部信用记录")
def records_api(after: int = Query(0, ge=0, description="上次取到的 next_cursor"),
                limit: int = Query(1000, ge=1, le=service.MAX_PAGE),
                actor: Actor = Depends(require(P.FEED_READ)), session: Session = Depends(get_db)) -> FeedPage:
    return service.read_changes(session, actor, after, limit)


class Acknowledgement(BaseModel):
    through: int = Field(ge=0, description="已应用的最大 feed_id（含）")


@router.post("/acknowledge", summary="确认已接收并应用到某游标（含），用于信用修复等通知的送达确认")
def acknowledge_api(body: Acknowledgement, actor: Actor = Depends(require(P.FEED_READ)),
                    session: Session = Depends(get_db)) -> Acknowledgement:
    return Acknowledgement(through=service.acknowledge(session, actor, body.through))


@router.get("/export", summary="导出某信息项的现行记录文件（与归集格式相同，可直接报送上级平台）")
def export_api(item: str = Query(..., description="目录信息项代码，如 ADM_PENALTY"), after: int = Query(0, ge=0),
               fmt: str = Query("csv", alias="format", pattern="^(csv|ndjson)$"),
               department: str | None = Query(None, description="只导出该部门（统一社会信用代码）报送的记录"),
               actor: Actor = Depends(require(P.FEED_READ)), session: Session = Depends(get_db)) -> FileResponse:
    with tempfile.NamedTemporaryFile(delete=False, suffix=f".{fmt}") as handle:
        try:
            service.export(session, actor, item, handle, fmt=fmt, after=after, department_code=department)
        except BaseException:
            os.unlink(handle.name)
            raise
    return FileResponse(handle.name, media_type=MEDIA_TYPES[fmt], filename=f"{item}-after-{after}.{fmt}",
                        background=BackgroundTask(os.unlink, handle.name))
