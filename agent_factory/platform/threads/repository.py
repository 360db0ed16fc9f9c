"""SQL of threads: ids minted here, status kept with the runs on them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

Conn = asyncpg.Connection
COLUMNS = "id, team_id, agent_id, metadata, status, values, created_at, updated_at"


async def insert(conn: Conn, team_id: UUID, metadata: dict[str, Any], agent_id: UUID | None = None) -> asyncpg.Record:
    return await conn.fetchrow(
        f"INSERT INTO threads (team_id, metadata, agent_id) VALUES ($1, $2, $3) RETURNING {COLUMNS}",
        team_id, metadata, agent_id)


async def get(conn: Conn, team_id: UUID, thread_id: UUID, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {COLUMNS} FROM threads WHERE team_id = $1 AND id = $2"
                               + (" FOR UPDATE" if lock else ""), team_id, thread_id)


SORT_KEYS = {"thread_id": "id", "status": "status", "created_at": "created_at", "updated_at": "updated_at"}


async def search(conn: Conn, team_id: UUID, where: dict[str, Any], sort: tuple[str, str], limit: int,
                 offset: int) -> list[asyncpg.Record]:
    """Threads whose metadata and values contain `where`'s, of its ids and status (when given),
    ordered by an allow-listed `sort` (key of `SORT_KEYS`, `asc`/`desc`)."""
    column, order = SORT_KEYS[sort[0]], "ASC" if sort[1] == "asc" else "DESC"  # allow-listed, not input
    return await conn.fetch(
        f"""SELECT {COLUMNS} FROM threads WHERE team_id = $1 AND metadata @> $2 AND ($3::text IS NULL OR status = $3)
              AND ($6::jsonb IS NULL OR values @> $6) AND ($7::uuid[] IS NULL OR id = ANY($7))
             ORDER BY {column} {order}, id {order} LIMIT $4 OFFSET $5""",
        team_id, where.get("metadata") or {}, where.get("status"), limit, offset, where.get("values"), where.get("ids"))


async def set_busy(conn: Conn, team_id: UUID, thread_id: UUID, agent_id: UUID) -> None:
    await conn.execute(
        "UPDATE threads SET status = 'busy', agent_id = coalesce(agent_id, $3), updated_at = now()"
        " WHERE team_id = $1 AND id = $2", team_id, thread_id, agent_id)


async def delete(conn: Conn, team_id: UUID, thread_id: UUID) -> bool:
    """Delete the thread, its runs and its checkpoints."""
    if not await conn.fetchval("DELETE FROM threads WHERE team_id = $1 AND id = $2 RETURNING true", team_id, thread_id):
        return False
    for table in ("checkpoint_writes", "checkpoint_blobs", "checkpoints"):  # constants, not input
        await conn.execute(f"DELETE FROM {table} WHERE thread_id = $1", str(thread_id))
    return True


async def run_starts(conn: Conn, team_id: UUID, thread_id: UUID) -> list[asyncpg.Record]:
    """The thread's runs that started, in the order they ran: the checkpoint each started from
    (the one the run before it ended at) and the values each left (None when it left none)."""
    return await conn.fetch(
        """SELECT base_checkpoint, state FROM runs WHERE team_id = $1 AND thread_id = $2 AND base_checkpoint IS NOT NULL
            ORDER BY started_at, created_at""", team_id, thread_id)


async def checkpoints_by_id(conn: Conn, thread_id: UUID, ids: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT checkpoint_id, parent_checkpoint_id, metadata, checkpoint ->> 'ts' AS ts FROM checkpoints
            WHERE thread_id = $1 AND checkpoint_ns = '' AND checkpoint_id = ANY($2)""", str(thread_id), ids)


async def checkpoints(conn: Conn, thread_id: UUID, limit: int) -> list[asyncpg.Record]:
    """The thread's newest checkpoints (ids are time-ordered), read under the team's RLS."""
    return await conn.fetch(
        """SELECT checkpoint_id, parent_checkpoint_id, metadata, checkpoint ->> 'ts' AS ts FROM checkpoints
            WHERE thread_id = $1 AND checkpoint_ns = '' ORDER BY checkpoint_id DESC LIMIT $2""", str(thread_id), limit)
