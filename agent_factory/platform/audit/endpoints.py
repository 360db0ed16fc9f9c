"""`GET /v1/audit`: the team's audit log (admin scope)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from ..auth import Context, tenant
from ..errors import error_responses
from ..fields import single_valued_query
from . import service
from .schemas import AuditPage

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=error_responses(400, 401, 403, 422),
                   dependencies=[Depends(single_valued_query)])


@router.get("", response_model=AuditPage)
async def list_audit(
    ctx: Context = tenant("admin"),
    before: int | None = Query(None, ge=1, le=2**62, description="the `next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=200),
) -> AuditPage:
    """The team's audit log, newest first: key, member and agent changes with who made them."""
    items, cursor = await service.page(ctx, before, limit)
    return AuditPage(items=items, next_cursor=cursor)
