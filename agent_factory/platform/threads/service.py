"""Threads: conversations whose runs share LangGraph checkpoints. Ids are minted here; a client
never names the checkpointer's thread, so it can only ever reach its own team's."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from ..auth import Principal
from ..db.tenant import tenant_transaction
from ..errors import NotFound
from . import repository


async def create(pool: asyncpg.Pool, principal: Principal, metadata: dict[str, Any]) -> dict[str, Any]:
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        return dict(await repository.insert(conn, principal.team_id, metadata))


async def get(pool: asyncpg.Pool, principal: Principal, thread_id: UUID) -> dict[str, Any]:
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        row = await repository.get(conn, principal.team_id, thread_id)
    if row is None:
        raise NotFound("no such thread")
    return dict(row)


async def state(pool: asyncpg.Pool, principal: Principal, thread_id: UUID, history: int = 1) -> tuple[dict, list]:
    """The thread and its newest `history` checkpoints (newest first)."""
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        row = await repository.get(conn, principal.team_id, thread_id)
        if row is None:
            raise NotFound("no such thread")
        found = await repository.checkpoints(conn, thread_id, history)
    return dict(row), [dict(c) for c in found]


async def history(pool: asyncpg.Pool, principal: Principal, thread_id: UUID) -> tuple[dict, list[tuple[dict, Any]]]:
    """The thread and, newest first, the checkpoints its runs ended at with the values each left:
    its newest checkpoint with its values, then each checkpoint a later run started from."""
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        row = await repository.get(conn, principal.team_id, thread_id)
        if row is None:
            raise NotFound("no such thread")
        starts = await repository.run_starts(conn, principal.team_id, thread_id)
        ends = {after["base_checkpoint"]: before["state"] for before, after in zip(starts, starts[1:])
                if before["state"] is not None and after["base_checkpoint"]}
        newest = await repository.checkpoints(conn, thread_id, 1)
        if newest:
            ends[newest[0]["checkpoint_id"]] = row["values"]
        found = {c["checkpoint_id"]: dict(c) for c in await repository.checkpoints_by_id(conn, thread_id, list(ends))}
    return dict(row), [(found[c], values) for c, values in sorted(ends.items(), reverse=True) if c in found]


async def search(pool: asyncpg.Pool, principal: Principal, where: dict[str, Any], sort: tuple[str, str],
                 limit: int, offset: int) -> list[dict[str, Any]]:
    """The team's threads matching `where` (`metadata`, `values`, `status`, `ids`), sorted by `sort`."""
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        return [dict(r) for r in await repository.search(conn, principal.team_id, where, sort, limit, offset)]


async def delete(pool: asyncpg.Pool, principal: Principal, thread_id: UUID) -> None:
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        if not await repository.delete(conn, principal.team_id, thread_id):
            raise NotFound("no such thread")
