"""The worker's checkpoint saver queues its writes and sends them in batches: what queued up while
a batch was in flight is committed together, in the order it was written; a failed batch commits
nothing, nothing after it is sent, and its error reaches `drain()` and every later write."""

from __future__ import annotations

import asyncio
from uuid import UUID

import psycopg
import pytest

from agent_factory.platform.worker.checkpoints import SET_TEAM, CheckpointConnections
from conftest import make_team

QUERY = "SELECT task_id, xmin::text FROM checkpoint_writes WHERE thread_id = 't' ORDER BY task_id"


def config(thread: str) -> dict:
    return {"configurable": {"thread_id": thread, "checkpoint_ns": "", "checkpoint_id": "c1"}}


async def committed(app_url: str, team: UUID) -> list:
    """The team's checkpoint writes committed so far, seen from another connection."""
    async with await psycopg.AsyncConnection.connect(app_url, autocommit=True) as other:
        await other.execute(SET_TEAM, (str(team),))
        return await (await other.execute(QUERY)).fetchall()


async def written_behind_a_batch(saver, writes: list[tuple[str, str]], app_url: str, team: UUID) -> list:
    """Make `writes` (thread, task) while a batch holds the connection; the rows committed then."""
    async with saver.lock:  # what a batch in flight holds
        for thread, task in writes:
            await saver.aput_writes(config(thread), [("channel", task)], task)
        return await committed(app_url, team)


def test_checkpoint_writes_queued_behind_a_batch_in_flight_are_committed_together_in_order(client, database):
    team = UUID(make_team(client, "Acme", "ada@acme.test").id)

    async def scenario():
        async with CheckpointConnections(database.app, 1) as connections, connections.saver(team) as saver:
            before = await written_behind_a_batch(saver, [("t", "a"), ("t", "b"), ("t", "c")], database.app, team)
            await saver.drain()
            return before, await committed(database.app, team)

    before, rows = asyncio.run(scenario())
    assert before == []  # the writes returned; nothing is committed until the batch goes
    assert [task for task, _ in rows] == ["a", "b", "c"]
    assert len({tx for _, tx in rows}) == 1  # one transaction


def test_a_failed_checkpoint_batch_commits_nothing_and_fails_the_drain_and_every_later_write(client, database):
    team = UUID(make_team(client, "Acme", "ada@acme.test").id)

    async def scenario():
        async with CheckpointConnections(database.app, 1) as connections:
            with pytest.raises(psycopg.DataError) as left:
                async with connections.saver(team) as saver:
                    await written_behind_a_batch(saver, [("t", "a"), ("t\x00", "b")], database.app, team)  # no NUL in text
                    with pytest.raises(psycopg.DataError) as drained:
                        await saver.drain()
                    with pytest.raises(psycopg.DataError) as later:
                        await saver.aput_writes(config("t"), [("channel", "c")], "c")
            return drained.value, later.value, left.value, await committed(database.app, team)

    drained, later, left, rows = asyncio.run(scenario())
    assert drained is later is left
    assert str(drained) == "PostgreSQL text fields cannot contain NUL (0x00) bytes"
    assert rows == []
