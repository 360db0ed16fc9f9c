"""The audit log: who did what to which resource, per team. Rows are only ever added."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg


async def record(conn: asyncpg.Connection, team_id: UUID, actor_user: UUID | None, actor_key: UUID | None,
                 action: str, target: str, detail: dict[str, Any] | None = None) -> None:
    await conn.execute(
        "INSERT INTO audit_log (team_id, actor_user, actor_key, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        team_id, actor_user, actor_key, action, target, detail or {})


async def page(conn: asyncpg.Connection, team_id: UUID, before: int | None, limit: int) -> list[asyncpg.Record]:
    """The newest entries first; `before` is the id the previous page ended at."""
    return await conn.fetch(
        "SELECT id, actor_user, actor_key, action, target, detail, at FROM audit_log"
        " WHERE team_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3", team_id, before, limit)
