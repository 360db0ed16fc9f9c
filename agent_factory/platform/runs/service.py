"""Runs: checked and queued (rate, inputs, thread, then quota, run and job in one statement), read,
waited for, cancelled.

A run is created `pending` together with its procrastinate job, so a run is never queued without
its row nor the other way round; runs on one thread share the job lock (the thread id), so they
run one after the other in the order they were made (`multitask_strategy` "enqueue").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from ..agents import repository as agents
from ..auth import Principal, checked_principal, lookup_args
from ..db.tenant import tenant_transaction
from ..errors import Conflict, InvalidRequest, NotFound
from ..quotas import service as quotas
from ..settings import Settings
from ..threads import repository as threads
from ..worker.execute import checked, known
from . import repository, rollback

HOSTED_RUN_CAP = Decimal("5")  # the hosted constitution's max_cost_per_run: the worst case of an unpriced spec
MULTITASK = ("reject", "enqueue", "interrupt", "rollback")


@dataclass(frozen=True)
class NewRun:
    """What a client asks for: an agent, its inputs, optionally a thread and how to share it."""

    agent_id: UUID
    inputs: dict[str, Any] | None
    thread_id: UUID | None = None
    multitask: str = "enqueue"
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Starter:
    """Who starts a run, as the first statement of a start found it (`starter`): the caller, its
    team's plan and limits, and the agent's latest version (None when the team has no such agent)."""

    principal: Principal
    limits: Mapping[str, Any]
    version: Mapping[str, Any] | None


async def starter(pool: asyncpg.Pool, token: str, agent_id: UUID | None) -> Starter:
    """The caller of a run start and what admitting the run needs, in one statement (its own
    transaction: `repository.start_as`). 401 and 403 (without `runs:write`) as `access.caller`
    answers them; with `agent_id` None it authenticates and reads the plan only."""
    digest, session = lookup_args(token)
    async with pool.acquire() as conn:
        row = await repository.start_as(conn, digest, session, agent_id)
    principal = checked_principal(row, digest, "runs:write")
    return Starter(principal, row, row if row["agent_id"] is not None else None)


async def start(pool: asyncpg.Pool, starter: Starter, settings: Settings, new: NewRun, limiter=None) -> tuple[dict, dict]:
    """Queue a run for the caller its start's first statement found (`starter`); returns it and
    the rate-limit headers. 429 past the rate, first; then 404 for an unknown agent or thread, 422
    for inputs that do not fit, 409 when `reject` meets a busy thread, 402 past a quota. A run
    without a thread of a spec this process has checked takes one more statement, its own
    transaction (`repository.queue`); any other run a tenant transaction around it."""
    principal, version = starter.principal, starter.version
    headers = await _hit(limiter, starter.limits["plan"], principal)
    if version is None or version["agent_id"] != new.agent_id:
        raise NotFound("no such agent")
    found = known(version["spec_sha256"], settings.config_path)
    if new.thread_id is None and found is not None:
        async with pool.acquire() as conn:
            return await _queue(conn, principal, settings, new, starter.limits, version, found), headers
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        return await _queue(conn, principal, settings, new, starter.limits, version, found), headers


async def create(pool: asyncpg.Pool, principal: Principal, settings: Settings, new: NewRun,
                 limits: Mapping[str, Any]) -> dict:
    """`start` for a caller counted against its rate limit already (`admit`), with its team's
    `limits` as its start read them: the agent is read again in the transaction."""
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        version = await repository.agent_version(conn, principal.team_id, new.agent_id)
        if version is None:
            raise NotFound("no such agent")
        return await _queue(conn, principal, settings, new, limits, version)


async def _queue(conn: asyncpg.Connection, principal: Principal, settings: Settings, new: NewRun,
                 limits: Mapping[str, Any], version: Mapping[str, Any], found: tuple[Any, Any] | None = None) -> dict:
    """Check the inputs, claim the thread, reserve the quotas, insert the run and queue its job:
    the last three in one statement. `interrupt` and `rollback` stop the runs in flight on the
    thread first (`rollback` queues their deletion ahead of the new run: see `rollback`). `conn` is
    in the team's tenant transaction, or, for a run without a thread whose checked spec is `found`,
    outside any (the statement is its own transaction)."""
    team = principal.team_id
    inputs = await _checked_inputs(conn, team, version, new, settings, found)
    if new.thread_id is not None:
        await _claim_thread(conn, principal, new, settings.runs.queue)
    worst = version["cost_usd_max"] if version["cost_usd_max"] is not None else HOSTED_RUN_CAP
    month, quota = quotas.this_month(), quotas.run_quota(limits, settings.runs)
    options = {**new.options, "quota_month": month.isoformat(), "tier": limits["plan"], "multitask_strategy": new.multitask}
    with quotas.refusals(limits, quota, worst):
        run = await repository.queue(conn, team, principal.user_id, month, quota, limits["spend_ceiling_usd"], version,
                                     new.thread_id, inputs, worst, options, new.metadata, settings.runs.queue)
    return dict(run)


async def admit(starter: Starter, limiter) -> dict[str, str]:
    """Count one run request against the caller's rate limit, with the plan its start read: the
    `RateLimit-*` headers, or 429. For routes that read the request's thread or agent before
    `create`, which counts nothing: a request counts once."""
    return await _hit(limiter, starter.limits["plan"], starter.principal)


async def _hit(limiter, plan: str, principal: Principal) -> dict[str, str]:
    return await limiter.hit(plan, str(principal.key_id or principal.session_id)) if limiter else {}


async def _checked_inputs(conn: asyncpg.Connection, team: UUID, version: Mapping[str, Any], new: NewRun,
                         settings: Settings, found: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """The inputs converted to their declared types, or 422 naming what does not fit. A run on a
    thread may have none: it resumes the thread. `found`: the checked spec and plan, when known."""
    from agent_factory.runtime.executor import normalise_inputs, typed_inputs

    found = found or known(version["spec_sha256"], settings.config_path)  # a version run before: no text to fetch
    if found is None:
        text = await agents.spec_text(conn, team, version["agent_id"], version["version"])
        found = await checked(text, settings.config_path)
    spec, plan = found
    try:
        values = normalise_inputs(new.inputs or None, plan, resuming=new.thread_id is not None, spec=spec)
        return typed_inputs(spec, values) if values else {}
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None


async def _claim_thread(conn: asyncpg.Connection, principal: Principal, new: NewRun, queue: str) -> None:
    team = principal.team_id
    thread = await threads.get(conn, team, new.thread_id, lock=True)
    if thread is None:
        raise NotFound("no such thread")
    if thread["agent_id"] is not None and thread["agent_id"] != new.agent_id:
        raise Conflict("this thread belongs to another agent; create a new thread for this one")
    active = await repository.active_on_thread(conn, team, new.thread_id)
    if active and new.multitask == "reject":
        raise Conflict("Thread is already running a task. Wait for it to finish or choose a different multitask strategy.")
    if active and new.multitask in ("interrupt", "rollback"):
        for run in active:
            await _cancel(conn, team, run["id"])
            if new.multitask == "rollback":
                await rollback.request(conn, principal, run["id"], queue, started=run["status"] != "pending")
    await threads.set_busy(conn, team, new.thread_id, new.agent_id)


async def get(pool: asyncpg.Pool, principal: Principal, run_id: UUID, thread_id: UUID | None = None) -> dict[str, Any]:
    """The run (404 when it is another team's, or not on `thread_id` when one is given)."""
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        row = await repository.get(conn, principal.team_id, run_id)
    if row is None or (thread_id is not None and row["thread_id"] != thread_id):
        raise NotFound("no such run")
    return dict(row)


async def on_thread(pool: asyncpg.Pool, principal: Principal, thread_id: UUID, limit: int, offset: int,
                    status: str | None) -> list[dict[str, Any]]:
    """The thread's runs, newest first (404 for a thread of another team)."""
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        if await threads.get(conn, principal.team_id, thread_id) is None:
            raise NotFound("no such thread")
        return [dict(r) for r in await repository.on_thread(conn, principal.team_id, thread_id, limit, offset, status)]


async def recent(pool: asyncpg.Pool, principal: Principal, limit: int) -> list[dict[str, Any]]:
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        return [dict(r) for r in await repository.page(conn, principal.team_id, limit)]


async def wait(pool: asyncpg.Pool, principal: Principal, run_id: UUID, timeout_s: float, waiter=None,
               until=lambda run: run["status"] in repository.TERMINAL, created: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run once it ended (or as it is after `timeout_s`): woken by the worker's notification
    when a `RunWaiter` is given, polling otherwise (and every second anyway). `created`: the run as
    its creator just made it, not read again before something wakes the wait."""
    if waiter is None:
        return await _poll(pool, principal, run_id, timeout_s, until)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    with waiter.watch(str(run_id)) as ended:
        run = created
        while True:
            if run is None:
                run = await get(pool, principal, run_id)
            left = deadline - loop.time()
            if until(run) or left <= 0:
                return run
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), min(1.0, left))
            ended.clear()
            run = waiter.take(str(run_id), principal.team_id)  # the in-process worker's, else read


async def gone(pool: asyncpg.Pool, principal: Principal, run_id: UUID, timeout_s: float, waiter=None) -> bool:
    """Whether the run was deleted (rolled back) within `timeout_s`."""
    try:
        await wait(pool, principal, run_id, timeout_s, waiter, until=lambda run: False)
    except NotFound:
        return True
    return False


async def _poll(pool: asyncpg.Pool, principal: Principal, run_id: UUID, timeout_s: float, until) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline, pause = loop.time() + timeout_s, 0.005
    while True:
        run = await get(pool, principal, run_id)
        if until(run) or loop.time() >= deadline:
            return run
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 0.25)


async def cancel(pool: asyncpg.Pool, principal: Principal, run_id: UUID, thread_id: UUID | None = None) -> dict[str, Any]:
    """Stop a run: a queued one is interrupted now, a running one by its worker (at once, through
    the queue's abort, or at its next heartbeat). An ended run stays as it is."""
    await get(pool, principal, run_id, thread_id)
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        await _cancel(conn, principal.team_id, run_id)
    return await get(pool, principal, run_id)


async def roll_back(pool: asyncpg.Pool, principal: Principal, run_id: UUID, thread_id: UUID | None, queue: str) -> None:
    """Stop the run and queue its rollback (`rollback`); 404 for a run this team does not have (on
    that thread), 409 for a run that has ended (only a queued or running run is rolled back)."""
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        run = await repository.locked(conn, principal.team_id, run_id)
        if run is None or (thread_id is not None and run["thread_id"] != thread_id):
            raise NotFound("no such run")
        if run["status"] in repository.TERMINAL:
            raise Conflict(f"the run has ended ({run['status']}); only a pending or running run can be rolled back")
        await _cancel(conn, principal.team_id, run_id)
        await rollback.request(conn, principal, run_id, queue, started=run["status"] != "pending")


async def _cancel(conn: asyncpg.Connection, team: UUID, run_id: UUID) -> None:
    before = await repository.status(conn, team, run_id)
    if before in repository.TERMINAL:
        return
    row = await repository.request_cancel(conn, team, run_id)
    if row["job_id"] is not None:
        await repository.cancel_job(conn, row["job_id"])
    if before == "pending":  # never started: nothing spent, the run is given back
        await repository.ended(conn, team, run_id, give_back_run=True)


def public(run: dict[str, Any]) -> dict[str, Any]:
    """The run as the native API shows it."""
    keys = ("id", "agent_id", "version", "spec_sha256", "thread_id", "status", "input", "output", "error", "error_type",
            "guards", "ledger", "attempt", "metadata", "created_at", "started_at", "finished_at")
    out = {k: run.get(k) for k in keys}
    out["cost_usd"] = None if run.get("cost_usd") is None else f"{run['cost_usd']:.6f}"
    return out
