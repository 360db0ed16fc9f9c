"""Monthly run quotas and spend ceilings, reserved before a run is queued and settled after it.

The run quota is the team's `team_limits.runs_per_month`, else its plan's default (free: 100 a
month); the spend ceiling is `team_limits.spend_ceiling_usd` (none by default). A run holds its
worst-case cost against the ceiling until it ends, then the hold becomes what it really spent, so
concurrent runs can never settle above the ceiling. A run that failed before any model call gives
its run back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from ..errors import PlatformError
from ..settings import RunSettings
from . import repository

RUNS_USED, CEILING_PASSED = "QR001", "QR002"  # the SQLSTATEs of the two refusals (migration 0014)


class QuotaExceeded(PlatformError):
    """The team used its monthly runs, or the run's worst case would pass the spend ceiling."""

    status = 402
    code = "quota_exceeded"


def this_month() -> date:
    now = datetime.now(timezone.utc)
    return date(now.year, now.month, 1)


def run_quota(row: Mapping[str, Any], settings: RunSettings) -> int | None:
    """The team's monthly run quota from its `limits`: its own, else its plan's (None: unlimited)."""
    return row["runs_per_month"] if row["runs_per_month"] is not None else settings.runs_per_month.get(row["plan"])


@contextmanager
def refusals(row: Mapping[str, Any], quota: int | None, worst_usd: Decimal) -> Iterator[None]:
    """Turn the refusals of the statement reserving a run (`runs.repository.queue`) into
    `QuotaExceeded`: the month's runs are used, or the run's worst case `worst_usd` would pass the
    spend ceiling. `row`: the team's `limits` the statement was given."""
    try:
        yield
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == RUNS_USED:
            raise QuotaExceeded(f"the team used its {quota} runs for this month (plan `{row['plan']}`)") from None
        if exc.sqlstate == CEILING_PASSED:
            raise QuotaExceeded(f"this run may cost up to ${worst_usd:f}, which would pass the team's spend ceiling of "
                                f"${row['spend_ceiling_usd']:f} this month") from None
        raise


async def settle(conn: asyncpg.Connection, team_id: UUID, month: date, reserved: Decimal, spent: Decimal,
                 called_a_model: bool, ok: bool) -> None:
    """Turn the run's hold into its real cost; a failed run that never called a model is not counted."""
    await repository.settle(conn, team_id, month, reserved, spent, give_back_run=gives_back_run(called_a_model, ok))


def gives_back_run(called_a_model: bool, ok: bool) -> bool:
    """Whether a run that ended is not counted against the month's runs: it failed before any model call."""
    return not ok and not called_a_model
