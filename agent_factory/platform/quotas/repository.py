"""SQL of the monthly run quota and the spend ceiling: reserved atomically, settled after the run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import asyncpg

Conn = asyncpg.Connection


async def plan_and_limits(conn: Conn, team_id: UUID) -> asyncpg.Record:
    return await conn.fetchrow(
        """SELECT t.plan, l.runs_per_month, l.spend_ceiling_usd
             FROM teams t LEFT JOIN team_limits l ON l.team_id = t.id WHERE t.id = $1""", team_id)


async def reserve_run(conn: Conn, team_id: UUID, month: date, quota: int | None) -> bool:
    """One more run this month unless that passes `quota` (the row lock orders concurrent callers)."""
    await conn.execute("INSERT INTO team_usage (team_id, month) VALUES ($1, $2) ON CONFLICT DO NOTHING", team_id, month)
    taken = await conn.fetchval(
        "UPDATE team_usage SET runs = runs + 1 WHERE team_id = $1 AND month = $2 AND ($3::int IS NULL OR runs + 1 <= $3)"
        " RETURNING runs", team_id, month, quota)
    return taken is not None


async def reserve_spend(conn: Conn, team_id: UUID, month: date, amount: Decimal, ceiling: Decimal | None) -> bool:
    """Hold `amount` of the spend ceiling (always granted without a ceiling)."""
    held = await conn.fetchval(
        """UPDATE team_usage SET spend_reserved_usd = spend_reserved_usd + $3
            WHERE team_id = $1 AND month = $2 AND ($4::numeric IS NULL OR spend_usd + spend_reserved_usd + $3 <= $4)
           RETURNING true""", team_id, month, amount, ceiling)
    return bool(held)


async def settle(conn: Conn, team_id: UUID, month: date, reserved: Decimal, spent: Decimal, give_back_run: bool) -> None:
    """Release the run's hold, record what it really spent, and return its run when it never called
    a model (`af_quota_settle`, migration 0013: the worker's outcome settles through it too)."""
    await conn.execute("SELECT af_quota_settle($1, $2, $3, $4, $5)", team_id, month, reserved, spent, give_back_run)


async def usage(conn: Conn, team_id: UUID, month: date) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT runs, spend_reserved_usd, spend_usd FROM team_usage WHERE team_id = $1 AND month = $2",
                               team_id, month)
