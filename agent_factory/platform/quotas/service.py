"""Monthly run quotas and spend ceilings, reserved before a run is queued and settled after it.

The run quota is the team's `team_limits.runs_per_month`, else its plan's default (free: 100 a
month); the spend ceiling is `team_limits.spend_ceiling_usd` (none by default). A run holds its
worst-case cost against the ceiling until it ends, then the hold becomes what it really spent, so
concurrent runs can never settle above the ceiling. A run that failed before any model call gives
its run back.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from uuid import UUID

import asyncpg

from ..errors import PlatformError
from ..settings import RunSettings
from . import repository


class QuotaExceeded(PlatformError):
    """The team used its monthly runs, or the run's worst case would pass the spend ceiling."""

    status = 402
    code = "quota_exceeded"


def this_month() -> date:
    now = datetime.now(timezone.utc)
    return date(now.year, now.month, 1)


async def limits(conn: asyncpg.Connection, team_id: UUID) -> asyncpg.Record:
    """The team's plan (`free`, `pro`, `enterprise`: its rate limit and its models' tier), its run
    quota override and its spend ceiling."""
    return await repository.plan_and_limits(conn, team_id)


async def reserve(conn: asyncpg.Connection, team_id: UUID, worst_usd: Decimal, settings: RunSettings,
                  row: asyncpg.Record | None = None) -> date:
    """Take one run of the month and hold `worst_usd` of the ceiling, or raise `QuotaExceeded`
    (the caller's transaction rolls both back). `row`: the team's `limits`, when already read."""
    row = row if row is not None else await limits(conn, team_id)
    quota = row["runs_per_month"] if row["runs_per_month"] is not None else settings.runs_per_month.get(row["plan"])
    month = this_month()
    if not await repository.reserve_run(conn, team_id, month, quota):
        raise QuotaExceeded(f"the team used its {quota} runs for this month (plan `{row['plan']}`)")
    if not await repository.reserve_spend(conn, team_id, month, worst_usd, row["spend_ceiling_usd"]):
        raise QuotaExceeded(f"this run may cost up to ${worst_usd:f}, which would pass the team's spend ceiling of "
                            f"${row['spend_ceiling_usd']:f} this month")
    return month


async def settle(conn: asyncpg.Connection, team_id: UUID, month: date, reserved: Decimal, spent: Decimal,
                 called_a_model: bool, ok: bool) -> None:
    """Turn the run's hold into its real cost; a failed run that never called a model is not counted."""
    await repository.settle(conn, team_id, month, reserved, spent, give_back_run=not ok and not called_a_model)
