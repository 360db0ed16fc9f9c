"""Rolling a run back: it is cancelled, then deleted with the checkpoints it wrote, so its thread
is as it was before the run (LangGraph's `multitask_strategy="rollback"` and
`cancel?action=rollback`).

A run that never started is deleted at once (no worker wrote for it). A started run's deletion is
a job of its own on the run queue, with the thread as its lock: it runs after the run's job has
ended (its worker wrote its last checkpoint, or the queue gave up on it) and before any run queued
after it starts, so a new run on the thread always starts from the state before the rolled-back
one. The run's worker has stopped by then; a worker that had already lost the run (it stalled and
the run was retried) stops at its next heartbeat, which finds no run, as for any retried run. A
run without a thread has no lock: its rollback job waits (is retried) until the run's job has
ended. A run left `running` by a worker that died after its last attempt has its hold settled as
a failed run's before it is deleted.

What the run spent stays spent: the team's usage keeps its cost and the run it took, and the audit
log records the rollback with the cost and model calls of the deleted run.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from ..audit import repository as audit
from ..auth import Principal
from ..db.tenant import tenant_transaction
from ..quotas import service as quotas
from . import repository


class StillRunning(RuntimeError):
    """The run's job has not ended yet: the rollback job is retried later."""


def _actor(principal: Principal) -> dict[str, str | None]:
    return {"actor_user": str(principal.user_id) if principal.user_id else None,
            "actor_key": str(principal.key_id) if principal.key_id else None}


async def request(conn: asyncpg.Connection, principal: Principal, run_id: UUID, queue: str, started: bool) -> None:
    """Roll back a run already asked to stop: deleted at once when it never `started` (no worker
    wrote for it), else queued behind the jobs of its thread."""
    actor = _actor(principal)
    if not started:
        await _delete(conn, principal.team_id, await repository.locked(conn, principal.team_id, run_id), actor)
        return
    run = await repository.locked(conn, principal.team_id, run_id)
    lock = str(run["thread_id"]) if run["thread_id"] else None
    await repository.defer_rollback(conn, run_id, principal.team_id, lock, queue, actor)


async def rollback_job(pool: asyncpg.Pool, run_id: UUID, team_id: UUID, actor_user: str | None,
                       actor_key: str | None) -> None:
    """The queued half: once the run's job has ended, delete the run under the team's RLS."""
    async with tenant_transaction(pool, team_id) as conn:
        run = await repository.locked(conn, team_id, run_id)
        if run is None:
            return  # deleted meanwhile (its thread was deleted)
        if await repository.job_active(conn, run["job_id"]):
            raise StillRunning(f"run {run_id} has not stopped yet")
        if run["status"] not in repository.TERMINAL:
            await _end_abandoned(conn, team_id, run)
        await _delete(conn, team_id, run, {"actor_user": actor_user, "actor_key": actor_key})


async def _delete(conn: asyncpg.Connection, team_id: UUID, run: Any, actor: dict[str, str | None]) -> None:
    """Delete the run, its events and the checkpoints it wrote; its thread as the other runs left
    it; an audit entry with what the run cost."""
    if run["base_checkpoint"] is not None:
        await repository.delete_checkpoints_after(conn, str(run["thread_id"] or run["id"]), run["base_checkpoint"])
    await repository.delete(conn, team_id, run["id"])
    if run["thread_id"] is not None:
        await repository.restore_thread(conn, team_id, run["thread_id"])
    cost = run["cost_usd"] if run["cost_usd"] is not None else Decimal(0)
    await audit.record(conn, team_id, _uuid(actor["actor_user"]), _uuid(actor["actor_key"]), "run.rollback",
                       f"run:{run['id']}", {"agent_id": str(run["agent_id"]), "version": run["version"],
                                            "status": run["status"], "cost_usd": f"{cost:.6f}",
                                            "model_calls": len(run["ledger"] or [])})
    await repository.notify_done(conn, run["id"])


async def _end_abandoned(conn: asyncpg.Connection, team_id: UUID, run: Any) -> None:
    """A run left `running` by a worker that is gone: its hold is settled as a failed run's."""
    options = run["options"] if isinstance(run["options"], dict) else json.loads(run["options"])
    month = date.fromisoformat(options["quota_month"])
    await quotas.settle(conn, team_id, month, run["reserved_usd"], Decimal(0), called_a_model=True, ok=False)


def _uuid(value: str | None) -> UUID | None:
    return UUID(value) if value else None
