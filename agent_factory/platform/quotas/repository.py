"""SQL of the monthly run quota and the spend ceiling, settled after the run (they are reserved with the
run itself: `af_run_queue`, migration 0014)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import asyncpg

Conn = asyncpg.Connection


async def settle(conn: Conn, team_id: UUID, month: date, reserved: Decimal, spent: Decimal, give_back_run: bool) -> None:
    """Release the run's hold, record what it really spent, and return its run when it never called
    a model (`af_quota_settle`, migration 0013: the worker's outcome settles through it too)."""
    await conn.execute("SELECT af_quota_settle($1, $2, $3, $4, $5)", team_id, month, reserved, spent, give_back_run)

