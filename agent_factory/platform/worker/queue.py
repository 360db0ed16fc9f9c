"""The run queue: a procrastinate app on the platform's database, its run task, the worker loop and
the sweeper that hands the jobs of dead workers to live ones.

`agent-factory worker` runs `serve_worker` in its own process; `serve` runs the same loop inside
the API process unless `--no-worker`. Any number of them may share one database.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from uuid import UUID

import asyncpg

from ..db.pool import create_pool
from ..runs.repository import ROLLBACK_TASK
from ..runs.rollback import rollback_job
from ..runs.waiter import RunWaiter
from ..settings import Settings
from .checkpoints import CheckpointConnections
from .tasks import run_job

log = logging.getLogger("agent_factory.platform.worker")
TASK = "agent_factory.run"
ROLLBACK_TRIES = 300  # a thread-less run's rollback waits for its job to end, a second per try


def queue_app(settings: Settings, pool: asyncpg.Pool, pool_size: int, checkpoints: CheckpointConnections | None = None,
              waiter: RunWaiter | None = None):
    """The procrastinate app with the run task bound to `pool` (the platform's asyncpg pool),
    `checkpoints` (the worker's checkpoint connections) and `waiter` (the API process's, for an
    in-process worker: see `runs.waiter`)."""
    import procrastinate

    from ..secrets.vault import Vault

    connector = procrastinate.PsycopgConnector(conninfo=settings.database.app, min_size=1, max_size=pool_size)
    app = procrastinate.App(connector=connector)
    vault = Vault.from_environment()

    # retries cover infrastructure failures and shutdowns; a run's own failure never raises
    @app.task(name=TASK, queue=settings.runs.queue, pass_context=True,
              retry=procrastinate.RetryStrategy(max_attempts=settings.runs.max_attempts, wait=1))
    async def run(context, run_id: str, team_id: str) -> None:
        await run_job(pool, settings, UUID(run_id), UUID(team_id), context.abort_reason, vault, checkpoints, waiter)

    # a rolled-back run's deletion, queued behind the run's own job on its thread (runs/rollback.py)
    @app.task(name=ROLLBACK_TASK, queue=settings.runs.queue,
              retry=procrastinate.RetryStrategy(max_attempts=ROLLBACK_TRIES, wait=1))
    async def roll_back(run_id: str, team_id: str, actor_user: str | None = None, actor_key: str | None = None) -> None:
        await rollback_job(pool, UUID(run_id), UUID(team_id), actor_user, actor_key)

    return app


async def serve_worker(settings: Settings, concurrency: int, pool: asyncpg.Pool | None = None,
                       install_signal_handlers: bool = False, waiter: RunWaiter | None = None) -> None:
    """Take run jobs until cancelled (or a signal, when `install_signal_handlers`); a worker that
    fails (the database restarted, its heartbeat lost) starts again after a pause. `waiter`: the
    API process's `RunWaiter`, handed the runs this worker ends (a worker inside `serve`)."""
    from agent_factory.runtime.llm import litellm

    # seconds of imports, off the event loop: a blocked loop would miss the worker's heartbeats
    await asyncio.to_thread(litellm)
    while True:
        try:
            await _work(settings, concurrency, pool, install_signal_handlers, waiter)
            return
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - logged; the runs it held are retried by the sweepers
            log.exception("the run worker stopped; starting it again in 2 s")
            await asyncio.sleep(2)


async def _work(settings: Settings, concurrency: int, pool: asyncpg.Pool | None, install_signal_handlers: bool,
                waiter: RunWaiter | None) -> None:
    own_pool = pool is None
    if own_pool:
        pool = await create_pool(settings.database.app, 1, concurrency * 3 + 2)
    checkpoints = CheckpointConnections(settings.database.app, concurrency)
    app = queue_app(settings, pool, concurrency + 2, checkpoints, waiter)
    stalled = settings.runs.stalled_after_s
    try:
        async with checkpoints, app.open_async():
            sweeper = asyncio.create_task(sweep(app, settings.runs.queue, stalled))
            try:
                await notified_worker(
                    app, queues=[settings.runs.queue], concurrency=concurrency, wait=True, listen_notify=True,
                    install_signal_handlers=install_signal_handlers, shutdown_graceful_timeout=stalled,
                    update_heartbeat_interval=min(1.0, stalled / 4), stalled_worker_timeout=stalled).run()
            finally:
                sweeper.cancel()
                with suppress(asyncio.CancelledError):
                    await sweeper
    finally:
        if own_pool:
            await pool.close()


def notified_worker(app, **options):
    """procrastinate's worker, except that a job queued while the worker was looking for one is
    taken at once, and so is the next job of a lock whose job just ended.

    procrastinate 3.10 clears its new-job flag after each fetch, so the NOTIFY of a job inserted
    while a fetch that found nothing was under way is forgotten, and the job waits for the next
    poll (5 s): one run in twenty did when runs followed each other. This worker counts the
    notifications and looks again when one came in during its last round of fetches.
    """
    from procrastinate.worker import Worker

    class NotifiedWorker(Worker):
        inserted = 0  # job notifications handled so far

        async def _handle_notification(self, *, channel, notification):
            if notification["type"] == "job_inserted":
                self.inserted += 1
            await super()._handle_notification(channel=channel, notification=notification)

        async def _fetch_and_process_jobs(self):
            while True:
                seen = self.inserted
                await super()._fetch_and_process_jobs()
                if self.inserted == seen or self._stop_event.is_set():
                    return

        async def _process_job(self, context):
            # a job holding a lock (a thread's run, a rollback) frees the jobs queued behind it
            # when it ends, and nothing notifies them: look again now rather than at the next poll
            await super()._process_job(context)
            if context.job.lock is not None:
                self._new_job_event.set()

    return NotifiedWorker(app=app, **options)


async def sweep(app, queue: str, stalled_after_s: float) -> None:
    """Every few seconds, put the jobs of workers that stopped heartbeating back in the queue;
    the run's attempt fence keeps a worker that was only slow from writing over its successor."""
    while True:
        await asyncio.sleep(max(0.2, stalled_after_s / 3))
        try:
            for job in await app.job_manager.get_stalled_jobs(queue=queue, seconds_since_heartbeat=stalled_after_s):
                log.warning("run job %s: its worker stopped; retrying it", job.id)
                await app.job_manager.retry_job(job)
        except Exception:  # noqa: BLE001 - a failed sweep is tried again at the next tick
            log.exception("sweeping stalled run jobs failed")
