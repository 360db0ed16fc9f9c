"""SQL of teams, users, members and sessions. Every query takes the tenant explicitly; row-level
security enforces it a second time."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

Conn = asyncpg.Connection


async def insert_team(conn: Conn, team_id: UUID, name: str, plan: str) -> asyncpg.Record:
    return await conn.fetchrow(
        "INSERT INTO teams (id, name, plan) VALUES ($1, $2, $3) RETURNING id, name, plan, created_at", team_id, name, plan)


async def get_team(conn: Conn, team_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT id, name, plan, created_at FROM teams WHERE id = $1", team_id)


async def ensure_user(conn: Conn, email: str) -> UUID:
    """The id of the user with `email`, created when new (users are shared by teams)."""
    return await conn.fetchval("SELECT af_ensure_user($1)", email)


async def set_password(conn: Conn, email: str, password_hash: str) -> bool:
    return await conn.fetchval("SELECT af_set_password($1, $2)", email, password_hash)


async def login_lookup(conn: Conn, email: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT user_id, password_hash FROM af_login_lookup($1)", email)


async def user_teams(conn: Conn, user_id: UUID) -> list[asyncpg.Record]:
    """The user's memberships, accepted or only invited, with their teams' names."""
    return await conn.fetch("SELECT team_id, role, accepted, team_name FROM af_user_teams($1)", user_id)


_MEMBER = "SELECT m.user_id, u.email, m.role, m.created_at, m.accepted_at FROM team_members m JOIN users u ON u.id = m.user_id"


async def add_member(conn: Conn, team_id: UUID, user_id: UUID, role: str, accepted: bool = True) -> bool:
    """Add a member, or with `accepted` False invite them (see `accept`); False when they already are one."""
    status = await conn.execute(
        "INSERT INTO team_members (team_id, user_id, role, accepted_at) VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END)"
        " ON CONFLICT DO NOTHING", team_id, user_id, role, accepted)
    return status.endswith(" 1")


async def accept(conn: Conn, team_id: UUID, user_id: UUID) -> None:
    """The invited user accepts the team's invitation (they logged in naming the team)."""
    await conn.execute("UPDATE team_members SET accepted_at = now() WHERE team_id = $1 AND user_id = $2 AND accepted_at IS NULL",
                       team_id, user_id)


async def get_member(conn: Conn, team_id: UUID, user_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{_MEMBER} WHERE m.team_id = $1 AND m.user_id = $2", team_id, user_id)


async def list_members(conn: Conn, team_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(f"{_MEMBER} WHERE m.team_id = $1 ORDER BY m.created_at, u.email", team_id)


async def set_role(conn: Conn, team_id: UUID, user_id: UUID, role: str) -> None:
    await conn.execute("UPDATE team_members SET role = $3 WHERE team_id = $1 AND user_id = $2", team_id, user_id, role)


async def remove_member(conn: Conn, team_id: UUID, user_id: UUID) -> None:
    await conn.execute("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2", team_id, user_id)


async def count_owners(conn: Conn, team_id: UUID) -> int:
    """Owners of the team who accepted, counted under a row lock so two demotions cannot both pass."""
    rows = await conn.fetch("SELECT user_id FROM team_members WHERE team_id = $1 AND role = 'owner' AND accepted_at IS NOT NULL"
                            " FOR UPDATE", team_id)
    return len(rows)


async def insert_session(conn: Conn, team_id: UUID, user_id: UUID, token_hash: bytes, expires_at: datetime) -> None:
    await conn.execute("INSERT INTO sessions (team_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)",
                       team_id, user_id, token_hash, expires_at)


async def revoke_session(conn: Conn, team_id: UUID, session_id: UUID) -> None:
    await conn.execute("UPDATE sessions SET revoked_at = now() WHERE team_id = $1 AND id = $2", team_id, session_id)
