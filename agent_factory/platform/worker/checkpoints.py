"""LangGraph checkpoints in PostgreSQL, one team at a time.

A run checkpoints on a connection (autocommit, as the saver wants it) whose session tenant is the
run's team: the checkpoint tables fill `team_id` from it and their policies show only that team's
rows, so even a wrong thread id cannot reach another team's checkpoints. A worker keeps these
connections in a pool (`CheckpointConnections`): opening one cost more than a short run's
checkpoints. The tenant is set by the first statement a run's saver sends (before its reads and
writes) and reset when the run gives the connection back.
Checkpoints are read strictly: only the value types LangGraph's serializer lists as safe are
revived, never pickle. A run's saver queues its writes and sends them in batches
(`saver.BatchingSaver`); its connection goes back only once they are in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from uuid import UUID

SET_TEAM = "SELECT set_config('app.team_id', %s, false)"  # session-wide: the saver commits each statement on its own


def strict_serializer():
    """The checkpoint serializer: JSON-plus with msgpack limited to the safe built-in types."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer(allowed_msgpack_modules=None)


def _connection_options() -> dict:
    from psycopg.rows import dict_row

    return {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}


class CheckpointConnections:
    """A worker's checkpoint connections: at most one per run it takes at a time."""

    def __init__(self, app_url: str, size: int) -> None:
        from psycopg_pool import AsyncConnectionPool

        self.pool = AsyncConnectionPool(app_url, min_size=1, max_size=size, kwargs=_connection_options(),
                                        reset=_forget_team, open=False, name="checkpoints")

    async def __aenter__(self) -> CheckpointConnections:
        await self.pool.open()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def saver(self, team_id: UUID, new_thread: str | None = None) -> AsyncIterator[object]:
        """A saver on a pooled connection, its tenant `team_id` until it is given back (set by the
        first statement the saver sends; a connection given back in a transaction or mid-query is
        closed by the pool, not reused). `new_thread`: a thread just made for the run."""
        async with self.pool.connection() as conn:
            async with _saver_on(conn, (False, SET_TEAM, (str(team_id),)), new_thread) as saver:
                yield saver


async def _forget_team(conn) -> None:
    """Reset a connection given back to the pool: no tenant until the next run sets its own."""
    await conn.execute("RESET app.team_id")


@asynccontextmanager
async def team_saver(app_url: str, team_id: UUID, batching: bool = False) -> AsyncIterator[object]:
    """A saver on a connection of its own, its tenant set to `team_id`: LangGraph's own (a write
    or two: a thread's state update), or with `batching` a run's (a run processed outside a
    worker's pool)."""
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg import AsyncConnection

    conn = await AsyncConnection.connect(app_url, **_connection_options())
    try:
        await conn.execute(SET_TEAM, (str(team_id),))
        if batching:
            async with _saver_on(conn) as saver:
                yield saver
        else:
            yield AsyncPostgresSaver(conn, serde=strict_serializer())
    finally:
        await conn.close()


@asynccontextmanager
async def _saver_on(conn, first=None, new_thread: str | None = None) -> AsyncIterator[object]:
    """A `BatchingSaver` on `conn`; the context ends once its writes are committed, raising why
    one was not (unless it ends on an error of its own)."""
    from .saver import BatchingSaver

    saver = BatchingSaver(conn, serde=strict_serializer(), first=first, new_thread=new_thread)
    try:
        yield saver
    except BaseException:
        with suppress(Exception):
            await saver.drain()
        raise
    await saver.drain()


async def latest_checkpoint(saver, thread: str) -> str | None:
    """The id of the newest checkpoint of `thread` (None when it has none)."""
    found = await saver.aget_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}})
    return None if found is None else found.config["configurable"]["checkpoint_id"]
