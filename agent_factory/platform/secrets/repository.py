"""SQL of team secrets (ciphertext only)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

Conn = asyncpg.Connection


async def put(conn: Conn, team_id: UUID, name: str, sealed: bytes) -> None:
    await conn.execute(
        """INSERT INTO team_secrets (team_id, name, ciphertext) VALUES ($1, $2, $3)
           ON CONFLICT (team_id, name) DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = now()""",
        team_id, name, sealed)


async def names(conn: Conn, team_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT name, created_at, updated_at FROM team_secrets WHERE team_id = $1 ORDER BY name", team_id)


async def delete(conn: Conn, team_id: UUID, name: str) -> bool:
    return bool(await conn.fetchval("DELETE FROM team_secrets WHERE team_id = $1 AND name = $2 RETURNING true", team_id, name))
