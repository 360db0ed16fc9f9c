"""Waiting on runs in the API process: a run its own worker ended is handed to the waiters of the
run's team and not read again; the worker's notification, which arrives with its commit, does not
wake them before the hand-over; a worker letting go of a run without ending it wakes them to read
it."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from agent_factory.platform.auth import Principal
from agent_factory.platform.runs import service
from agent_factory.platform.runs.waiter import CHANNEL, RunWaiter

TEAM, OTHER, RUN = uuid4(), uuid4(), uuid4()
PENDING = {"id": RUN, "team_id": TEAM, "status": "pending"}
ENDED = {"id": RUN, "team_id": TEAM, "status": "success", "output": {"text": "polished"}}


class Read(Exception):
    """The waiter read the run from the database."""


class Database:
    """Stands for the pool: any read raises `Read`."""

    def acquire(self):
        raise Read


def waiting(waiter: RunWaiter, team=TEAM) -> asyncio.Task:
    caller = Principal(team, None, frozenset({"runs:write"}))
    return asyncio.create_task(service.wait(Database(), caller, RUN, 5, waiter, created=PENDING))


def test_the_waiter_takes_the_run_its_process_worker_ended_without_reading_it():
    async def scenario():
        waiter = RunWaiter()
        with waiter.holding(str(RUN)):
            task = waiting(waiter)
            await asyncio.sleep(0.01)
            waiter._notified(None, 0, CHANNEL, str(RUN))  # the worker's NOTIFY, come with its commit
            await asyncio.sleep(0.05)
            woken_early = task.done()
            waiter.ended(ENDED)
            return woken_early, await asyncio.wait_for(task, 1)

    assert asyncio.run(scenario()) == (False, ENDED)


def test_a_run_handed_over_is_not_taken_by_a_waiter_of_another_team():
    async def scenario():
        waiter = RunWaiter()
        with waiter.holding(str(RUN)):
            task = waiting(waiter, team=OTHER)
            await asyncio.sleep(0.01)
            waiter.ended(ENDED)
            await asyncio.wait_for(task, 1)

    with pytest.raises(Read):
        asyncio.run(scenario())


def test_a_worker_letting_go_of_a_run_it_did_not_end_wakes_its_waiters_to_read_it():
    async def scenario():
        waiter = RunWaiter()
        with waiter.holding(str(RUN)):
            task = waiting(waiter)
            await asyncio.sleep(0.01)
        await asyncio.wait_for(task, 0.5)  # well before the waiter's own poll, a second

    with pytest.raises(Read):
        asyncio.run(scenario())
