"""The run worker's machinery: a job queued while the worker was looking for one is taken at once,
not at the next poll (procrastinate's in-memory connector, which notifies like PostgreSQL); its
pooled checkpoint connections carry the tenant of the run holding them and no other."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import procrastinate
from procrastinate.testing import InMemoryConnector

from agent_factory.platform.worker.checkpoints import CheckpointConnections
from agent_factory.platform.worker.queue import notified_worker


async def work_until(done: asyncio.Event, app, **options) -> None:
    """Run a `notified_worker` with an hour between polls until `done` is set (10 s at most): what
    it takes in that time, a notification brought it."""
    worker = notified_worker(app, queues=["runs"], wait=True, listen_notify=True, install_signal_handlers=False,
                             fetch_job_polling_interval=3600, **options)
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        worker.stop()
        await asyncio.wait_for(running, 10)


def test_a_job_queued_while_the_worker_fetches_is_taken_without_waiting_for_a_poll():
    taken: list[str] = []

    async def scenario() -> None:
        app = procrastinate.App(connector=InMemoryConnector())
        done = asyncio.Event()

        @app.task(name="note", queue="runs")
        async def note(text: str) -> None:
            taken.append(text)
            done.set()

        real_fetch = app.job_manager.fetch_job
        fetches: list[object] = []

        async def fetch_job(queues, worker_id):
            job = await real_fetch(queues=queues, worker_id=worker_id)
            fetches.append(job)
            if len(fetches) == 1:  # the job is queued, and its NOTIFY handled, after this fetch found none
                await note.defer_async(text="queued during the fetch")
            return job

        app.job_manager.fetch_job = fetch_job
        async with app.open_async():
            await work_until(done, app)  # only the notification can bring the job in time
        assert fetches[0] is None

    asyncio.run(scenario())
    assert taken == ["queued during the fetch"]


def test_a_pooled_checkpoint_connection_carries_the_team_of_the_run_holding_it_and_none_after(database):
    first, second = uuid4(), uuid4()
    query = "SELECT pg_backend_pid() AS pid, current_setting('app.team_id', true) AS team"

    async def scenario() -> list[tuple[int, str]]:
        seen = []
        async with CheckpointConnections(database.app, 1) as connections:
            for team in (first, second):
                async with connections.saver(team) as saver:
                    await saver.drain()  # the tenant is set by the first statement the saver sends
                    row = await (await saver.conn.execute(query)).fetchone()
                    seen.append((row["pid"], row["team"]))
            async with connections.pool.connection() as conn:  # given back: the tenant is gone
                row = await (await conn.execute(query)).fetchone()
                seen.append((row["pid"], row["team"]))
        return seen

    seen = asyncio.run(scenario())
    pid = seen[0][0]
    assert seen == [(pid, str(first)), (pid, str(second)), (pid, "")]


def test_the_next_job_of_a_lock_is_taken_when_the_one_before_it_ends_without_waiting_for_a_poll():
    taken: list[str] = []

    async def scenario() -> None:
        app = procrastinate.App(connector=InMemoryConnector())
        done, blocked = asyncio.Event(), asyncio.Event()

        @app.task(name="note", queue="runs")
        async def note(text: str) -> None:
            if text == "first":  # ends only once the worker found the second one locked behind it
                await blocked.wait()
            taken.append(text)
            if len(taken) == 2:
                done.set()

        real_fetch = app.job_manager.fetch_job

        async def fetch_job(queues, worker_id):
            job = await real_fetch(queues=queues, worker_id=worker_id)
            if job is None and not taken:
                blocked.set()
            return job

        app.job_manager.fetch_job = fetch_job
        async with app.open_async():
            # two runs of one thread: the second may start only once the first has ended
            await note.configure(lock="thread-1").defer_async(text="first")
            await note.configure(lock="thread-1").defer_async(text="second")
            await work_until(done, app, concurrency=2)  # only the end of the first job can bring the second in time

    asyncio.run(scenario())
    assert taken == ["first", "second"]
