"""Writing and reading the audit log on behalf of the caller."""

from __future__ import annotations

from typing import Any

from ..auth import Context
from . import repository


async def record(ctx: Context, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
    """Record that the caller did `action` to `target` (in the caller's transaction)."""
    p = ctx.principal
    await repository.record(ctx.conn, p.team_id, p.user_id, p.key_id, action, target, detail)


async def page(ctx: Context, before: int | None, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """One page of entries, newest first, and the cursor of the next page (None at the end)."""
    rows = await repository.page(ctx.conn, ctx.principal.team_id, before, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return [dict(r) for r in rows], (rows[-1]["id"] if more else None)
