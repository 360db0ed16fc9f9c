"""SQL of runs and their events. Every write of a worker names the attempt it holds: a worker
that lost the run (it stalled and the run was retried) changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

Conn = asyncpg.Connection

RUN_COLUMNS = """id, team_id, agent_id, version, spec_sha256, thread_id, status, input, output, state, error, error_type,
    guards, ledger, cost_usd, reserved_usd, options, metadata, attempt, job_id, created_at, started_at, finished_at,
    updated_at"""
TERMINAL = ("success", "error", "timeout", "interrupted")


async def agent_version(conn: Conn, team_id: UUID, agent_id: UUID) -> asyncpg.Record | None:
    """The agent's latest version: number, spec SHA and worst-case cost (None for a deleted agent)."""
    return await conn.fetchrow(
        """SELECT a.id AS agent_id, a.name, v.version, v.spec_sha256, v.cost_usd_max, v.summary
             FROM agents a JOIN agent_versions v ON v.agent_id = a.id AND v.version = a.latest_version
            WHERE a.team_id = $1 AND a.id = $2 AND a.deleted_at IS NULL""", team_id, agent_id)


async def start_as(conn: Conn, digest: bytes, session: bool, agent_id: UUID | None) -> asyncpg.Record | None:
    """One statement in its own transaction: authenticate the credential hashed as `digest`, make its
    team the tenant, read the team's plan and limits and the agent's latest version (migration
    0014). The agent's columns are null when the team has no such agent; None for an unknown
    credential."""
    return await conn.fetchrow(
        "SELECT credential_id, team_id, user_id, scopes, role, credential_hash, plan, runs_per_month, spend_ceiling_usd,"
        " agent_id, version, spec_sha256, cost_usd_max FROM af_run_start($1, $2, $3)", digest, session, agent_id)


async def queue(conn: Conn, team_id: UUID, user_id: UUID | None, month: date, quota: int | None,
                ceiling: Decimal | None, version: Mapping[str, Any], thread_id: UUID | None, inputs: dict[str, Any],
                reserved: Decimal, options: dict[str, Any], metadata: dict[str, Any], queue_name: str) -> asyncpg.Record:
    """One statement: take a run of the month within `quota`, hold `reserved` of the spend `ceiling`,
    insert the run and queue its job (on the thread's lock), all or nothing (migration 0014). A
    transaction of its own outside one. A refusal raises `asyncpg.PostgresError` with the SQLSTATE
    `quotas.service.RUNS_USED` or `CEILING_PASSED`."""
    return await conn.fetchrow(
        f"SELECT {RUN_COLUMNS} FROM af_run_queue($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        team_id, user_id, month, quota, ceiling, reserved, version["agent_id"], version["version"],
        version["spec_sha256"], thread_id, inputs, options, metadata, str(thread_id) if thread_id else None, queue_name)


async def get(conn: Conn, team_id: UUID, run_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {RUN_COLUMNS} FROM runs WHERE team_id = $1 AND id = $2", team_id, run_id)


async def on_thread(conn: Conn, team_id: UUID, thread_id: UUID, limit: int, offset: int,
                    status: str | None = None) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {RUN_COLUMNS} FROM runs WHERE team_id = $1 AND thread_id = $2 AND ($5::text IS NULL OR status = $5)
             ORDER BY created_at DESC, id LIMIT $3 OFFSET $4""", team_id, thread_id, limit, offset, status)


async def active_on_thread(conn: Conn, team_id: UUID, thread_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, job_id, status FROM runs WHERE team_id = $1 AND thread_id = $2 AND status IN ('pending', 'running')",
        team_id, thread_id)


async def page(conn: Conn, team_id: UUID, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {RUN_COLUMNS} FROM runs WHERE team_id = $1 ORDER BY created_at DESC, id LIMIT $2",
                            team_id, limit)


async def request_cancel(conn: Conn, team_id: UUID, run_id: UUID) -> asyncpg.Record | None:
    """Mark the run for cancelling; a pending one is interrupted at once. Returns status and job."""
    return await conn.fetchrow(
        """UPDATE runs SET cancel_requested = true, updated_at = now(),
                  status = CASE WHEN status = 'pending' THEN 'interrupted' ELSE status END,
                  finished_at = CASE WHEN status = 'pending' THEN now() ELSE finished_at END
            WHERE team_id = $1 AND id = $2 RETURNING status, job_id, thread_id""", team_id, run_id)


async def cancel_job(conn: Conn, job_id: int) -> None:
    """Cancel the queued job, or ask its worker to abort it (procrastinate 3.10's function)."""
    await conn.execute("SELECT procrastinate_cancel_job_v1($1, true, false)", job_id)


# ---------------------------------------------------------------- the worker's side (fenced)


CLAIMED = ", ".join(f"(c.run).{name.strip()}" for name in RUN_COLUMNS.split(","))


async def claim(conn: Conn, team_id: UUID, run_id: UUID, max_attempts: int, give_up: str,
                secrets: bool) -> asyncpg.Record | None:
    """Take the run for a new attempt, in one statement that is its own transaction (`af_run_claim`,
    migration 0013): bumps `attempt`, the fence of every later write. Returns the run's columns,
    `base_checkpoint`, its version's `spec_text` and, with `secrets`, the team's sealed secrets
    (`secret_names`, `sealed_secrets`); None when the run cannot be claimed, in which case a run
    still pending or running (its attempts used up) has ended in that statement as the error `give_up`."""
    return await conn.fetchrow(
        f"""SELECT {CLAIMED}, (c.run).base_checkpoint, c.spec_text, c.secret_names, c.sealed_secrets
              FROM af_run_claim($1, $2, $3, $4, $5) c""", team_id, run_id, max_attempts, give_up, secrets)


async def set_base_checkpoint(conn: Conn, run_id: UUID, attempt: int, checkpoint: str) -> None:
    await conn.execute("UPDATE runs SET base_checkpoint = $3 WHERE id = $1 AND attempt = $2", run_id, attempt, checkpoint)


async def heartbeat(conn: Conn, run_id: UUID, attempt: int) -> asyncpg.Record | None:
    """Still ours? Returns the cancel flag, or None when another attempt holds the run."""
    return await conn.fetchrow(
        """UPDATE runs SET heartbeat_at = now() WHERE id = $1 AND attempt = $2 AND status = 'running'
            RETURNING cancel_requested""", run_id, attempt)


async def add_events(conn: Conn, team_id: UUID, run_id: UUID, attempt: int, events: list[tuple[str, Any]]) -> int:
    """Append events in their order unless another attempt holds the run (one statement: the
    fence and the rows); returns how many were written."""
    return await conn.fetchval("SELECT af_run_events($1, $2, $3, $4)", team_id, run_id, attempt,
                               [[name, data] for name, data in events])


async def earlier_ledger(conn: Conn, run_id: UUID, attempt: int) -> list[dict[str, Any]]:
    """LLM attempts recorded by earlier attempts of the run (paid for: never charged again)."""
    rows = await conn.fetch(
        "SELECT data FROM run_events WHERE run_id = $1 AND attempt < $2 AND event = 'llm' ORDER BY seq", run_id, attempt)
    return [r["data"] for r in rows]


async def finish(conn: Conn, team_id: UUID, run_id: UUID, attempt: int, status: str, output: Any, state: Any,
                 error: str | None, error_type: str | None, guards: list, ledger: list, cost: Decimal,
                 give_back_run: bool, events: list[tuple[str, Any]]) -> asyncpg.Record | None:
    """The run's outcome, written only by the attempt holding it, in one statement that is its own
    transaction (`af_run_finish`, migration 0013): the run, then its quota settled (its run given
    back with `give_back_run`), its thread settled, `events` appended and its waiters notified.
    Returns the run as it ended; None, with nothing written, when another attempt holds the run."""
    return await conn.fetchrow(
        f"SELECT {RUN_COLUMNS} FROM af_run_finish($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        team_id, run_id, attempt, status, output, state, error, error_type, guards, ledger, cost, give_back_run,
        [[name, data] for name, data in events])


async def events_after(conn: Conn, team_id: UUID, run_id: UUID, after: int, limit: int = 500) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT seq, attempt, event, data FROM run_events WHERE team_id = $1 AND run_id = $2 AND seq > $3"
        " ORDER BY seq LIMIT $4", team_id, run_id, after, limit)


async def status(conn: Conn, team_id: UUID, run_id: UUID) -> str | None:
    return await conn.fetchval("SELECT status FROM runs WHERE team_id = $1 AND id = $2", team_id, run_id)


async def ended(conn: Conn, team_id: UUID, run_id: UUID, give_back_run: bool) -> None:
    """What follows the end of a run that ended outside a worker (a queued run cancelled): its quota
    settled, its thread settled, its waiters told (`af_run_ended`, migration 0013, as a worker's
    outcome does it)."""
    await conn.execute("SELECT af_run_ended(r, $3, NULL, NULL) FROM runs r WHERE r.team_id = $1 AND r.id = $2",
                       team_id, run_id, give_back_run)


async def notify_done(conn: Conn, run_id: UUID) -> None:
    await conn.execute("SELECT pg_notify('af_run_done', $1)", str(run_id))


# ---------------------------------------------------------------- rollback (see runs/rollback.py)

ROLLBACK_TASK = "agent_factory.rollback"


async def defer_rollback(conn: Conn, run_id: UUID, team_id: UUID, lock: str | None, queue: str,
                         actor: dict[str, str | None]) -> int:
    """Queue the rollback of a run behind the jobs already holding `lock` (the run's thread)."""
    return await conn.fetchval(
        """SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[
               ROW($3, $4, 0, $1, NULL, $2::jsonb, NULL)::procrastinate_job_to_defer_v1]))""",
        lock, {"run_id": str(run_id), "team_id": str(team_id), **actor}, queue, ROLLBACK_TASK)


async def locked(conn: Conn, team_id: UUID, run_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {RUN_COLUMNS}, base_checkpoint FROM runs WHERE team_id = $1 AND id = $2 FOR UPDATE",
                               team_id, run_id)


async def job_active(conn: Conn, job_id: int | None) -> bool:
    """Is the run's job still queued or being worked on (a worker may still write for it)?"""
    return bool(job_id) and bool(await conn.fetchval(
        "SELECT true FROM procrastinate_jobs WHERE id = $1 AND status IN ('todo', 'doing')", job_id))


async def delete_checkpoints_after(conn: Conn, thread: str, base: str) -> int:
    """Delete the thread's checkpoints (and their writes) newer than `base`, then the channel
    values no remaining checkpoint refers to. Checkpoint ids grow with time; compared bytewise."""
    deleted = await conn.fetchval(
        """WITH gone AS (DELETE FROM checkpoints WHERE thread_id = $1 AND checkpoint_id COLLATE "C" > $2 RETURNING 1)
           SELECT count(*) FROM gone""", thread, base)
    await conn.execute('DELETE FROM checkpoint_writes WHERE thread_id = $1 AND checkpoint_id COLLATE "C" > $2', thread, base)
    await conn.execute(
        """DELETE FROM checkpoint_blobs b WHERE b.thread_id = $1 AND NOT EXISTS (
               SELECT 1 FROM checkpoints c WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns
                  AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)""", thread)
    return deleted


async def delete(conn: Conn, team_id: UUID, run_id: UUID) -> None:
    """Delete the run and its events."""
    await conn.execute("DELETE FROM runs WHERE team_id = $1 AND id = $2", team_id, run_id)


async def restore_thread(conn: Conn, team_id: UUID, thread_id: UUID) -> None:
    """The thread as its remaining runs left it: busy while one is queued or running, else the
    outcome of the last one to end; its values those of the last run that wrote any."""
    await conn.execute(
        """UPDATE threads t SET updated_at = now(),
                  values = (SELECT r.state FROM runs r WHERE r.team_id = $1 AND r.thread_id = $2 AND r.state IS NOT NULL
                             ORDER BY r.finished_at DESC NULLS LAST, r.created_at DESC LIMIT 1),
                  status = coalesce(
                      (SELECT 'busy' FROM runs r WHERE r.team_id = $1 AND r.thread_id = $2
                                                   AND r.status IN ('pending', 'running') LIMIT 1),
                      (SELECT CASE r.status WHEN 'success' THEN 'idle' WHEN 'interrupted' THEN 'interrupted' ELSE 'error' END
                         FROM runs r WHERE r.team_id = $1 AND r.thread_id = $2
                        ORDER BY r.finished_at DESC NULLS LAST, r.created_at DESC LIMIT 1),
                      'idle')
            WHERE t.team_id = $1 AND t.id = $2""", team_id, thread_id)
