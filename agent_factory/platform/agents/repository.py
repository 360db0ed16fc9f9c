"""SQL of agents and their versions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

Conn = asyncpg.Connection

_AGENT = """
SELECT a.id, a.name, a.kind, a.description, a.latest_version AS version, a.created_at, a.updated_at,
       v.spec_sha256, v.summary, v.diagnostics
  FROM agents a JOIN agent_versions v ON v.agent_id = a.id AND v.version = a.latest_version
"""


async def get(conn: Conn, team_id: UUID, agent_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{_AGENT} WHERE a.team_id = $1 AND a.id = $2 AND a.deleted_at IS NULL", team_id, agent_id)


async def read_as(conn: Conn, digest: bytes, session: bool, agent_id: UUID | None) -> asyncpg.Record | None:
    """One statement in its own transaction: authenticate the credential hashed as `digest`, make its
    team the tenant, read the agent under row-level security (migration 0012). The credential's
    columns with the agent's, null when the team has no such agent; None for an unknown credential."""
    return await conn.fetchrow(
        "SELECT credential_id, team_id, user_id, scopes, role, credential_hash, id, name, kind, description, version,"
        " created_at, updated_at, spec_sha256, summary, diagnostics FROM af_agent_read($1, $2, $3)", digest, session, agent_id)


async def get_for_update(conn: Conn, team_id: UUID, agent_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, name, latest_version FROM agents WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE",
        team_id, agent_id)


async def page(conn: Conn, team_id: UUID, after: tuple[datetime, UUID] | None, limit: int,
               name: str | None, kind: str | None, query: str | None) -> list[asyncpg.Record]:
    """Agents oldest first after the keyset `after`, filtered by exact name, kind and a full-text query."""
    return await conn.fetch(
        f"""{_AGENT}
         WHERE a.team_id = $1 AND a.deleted_at IS NULL
           AND ($2::timestamptz IS NULL OR (a.created_at, a.id) > ($2, $3::uuid))
           AND ($4::text IS NULL OR a.name = $4)
           AND ($5::text IS NULL OR a.kind = $5)
           AND ($6::text IS NULL OR a.search @@ plainto_tsquery('simple', $6))
         ORDER BY a.created_at, a.id LIMIT $7""",
        team_id, after[0] if after else None, after[1] if after else None, name, kind, query, limit)


async def name_taken(conn: Conn, team_id: UUID, name: str) -> UUID | None:
    return await conn.fetchval("SELECT id FROM agents WHERE team_id = $1 AND name = $2 AND deleted_at IS NULL", team_id, name)


async def insert(conn: Conn, team_id: UUID, name: str, kind: str, description: str) -> UUID:
    return await conn.fetchval(
        "INSERT INTO agents (team_id, name, kind, description, latest_version) VALUES ($1, $2, $3, $4, 1) RETURNING id",
        team_id, name, kind, description)


async def set_latest(conn: Conn, team_id: UUID, agent_id: UUID, version: int, name: str, kind: str, description: str) -> None:
    await conn.execute(
        "UPDATE agents SET latest_version = $3, name = $4, kind = $5, description = $6, updated_at = now()"
        " WHERE team_id = $1 AND id = $2", team_id, agent_id, version, name, kind, description)


async def insert_version(conn: Conn, team_id: UUID, agent_id: UUID, version: int, spec: str, sha256: str,
                         ir: dict[str, Any], diagnostics: list[dict[str, Any]], summary: dict[str, Any],
                         cost_usd_max: Decimal | None, created_by: UUID | None) -> None:
    await conn.execute(
        """INSERT INTO agent_versions (team_id, agent_id, version, spec_text, spec_sha256, ir, diagnostics, summary,
                                       cost_usd_max, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        team_id, agent_id, version, spec, sha256, ir, diagnostics, summary, cost_usd_max, created_by)


async def latest_sha256(conn: Conn, team_id: UUID, agent_id: UUID, version: int) -> str | None:
    return await conn.fetchval(
        "SELECT spec_sha256 FROM agent_versions WHERE team_id = $1 AND agent_id = $2 AND version = $3", team_id, agent_id, version)


async def versions(conn: Conn, team_id: UUID, agent_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT version, spec_sha256, created_by, created_at FROM agent_versions"
        " WHERE team_id = $1 AND agent_id = $2 ORDER BY version", team_id, agent_id)


async def version(conn: Conn, team_id: UUID, agent_id: UUID, number: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT v.version, v.spec_sha256, v.created_by, v.created_at, v.spec_text AS spec, v.ir, v.diagnostics
             FROM agent_versions v JOIN agents a ON a.id = v.agent_id AND a.deleted_at IS NULL
            WHERE v.team_id = $1 AND v.agent_id = $2 AND v.version = $3""", team_id, agent_id, number)


async def spec_text(conn: Conn, team_id: UUID, agent_id: UUID, number: int) -> str | None:
    """The spec text of one version (also of a deleted agent: a queued run keeps its version)."""
    return await conn.fetchval("SELECT spec_text FROM agent_versions WHERE team_id = $1 AND agent_id = $2 AND version = $3",
                               team_id, agent_id, number)


async def soft_delete(conn: Conn, team_id: UUID, agent_id: UUID) -> bool:
    found = await conn.fetchval(
        "UPDATE agents SET deleted_at = now() WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id",
        team_id, agent_id)
    return found is not None
