"""SQL of API keys (stored as SHA-256, never in clear)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

_COLUMNS = "id, name, prefix, scopes, created_at, last_used_at, revoked_at"


async def insert(conn: asyncpg.Connection, team_id: UUID, user_id: UUID | None, name: str, prefix: str,
                 key_hash: bytes, scopes: list[str]) -> asyncpg.Record:
    return await conn.fetchrow(
        f"INSERT INTO api_keys (team_id, user_id, name, prefix, key_hash, scopes) VALUES ($1, $2, $3, $4, $5, $6)"
        f" RETURNING {_COLUMNS}", team_id, user_id, name, prefix, key_hash, scopes)


async def list_for_team(conn: asyncpg.Connection, team_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {_COLUMNS} FROM api_keys WHERE team_id = $1 ORDER BY created_at, id", team_id)


async def revoke(conn: asyncpg.Connection, team_id: UUID, key_id: UUID) -> bool:
    """Revoke one key; False when the team has no such key (revoking twice is fine)."""
    found = await conn.fetchval(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE team_id = $1 AND id = $2 RETURNING id",
        team_id, key_id)
    return found is not None


async def revoke_for_user(conn: asyncpg.Connection, team_id: UUID, user_id: UUID) -> None:
    await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE team_id = $1 AND user_id = $2 AND revoked_at IS NULL",
                       team_id, user_id)
