"""LangGraph checkpoints in PostgreSQL, one team at a time.

A run gets its own connection (autocommit, as the saver wants it) whose session tenant is the
run's team: the checkpoint tables fill `team_id` from it and their policies show only that team's
rows, so even a wrong thread id cannot reach another team's checkpoints. Checkpoints are read
strictly: only the value types LangGraph's serializer lists as safe are revived, never pickle.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID


def strict_serializer():
    """The checkpoint serializer: JSON-plus with msgpack limited to the safe built-in types."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer(allowed_msgpack_modules=None)


@asynccontextmanager
async def team_saver(app_url: str, team_id: UUID) -> AsyncIterator[object]:
    """An `AsyncPostgresSaver` on a connection of its own, its tenant set to `team_id`."""
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg import AsyncConnection
    from psycopg.rows import dict_row

    conn = await AsyncConnection.connect(app_url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    try:
        # session-wide (not transaction-local): the saver commits each statement on its own
        await conn.execute("SELECT set_config('app.team_id', %s, false)", (str(team_id),))
        yield AsyncPostgresSaver(conn, serde=strict_serializer())
    finally:
        await conn.close()


async def latest_checkpoint(saver, thread: str) -> str | None:
    """The id of the newest checkpoint of `thread` (None when it has none)."""
    found = await saver.aget_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}})
    return None if found is None else found.config["configurable"]["checkpoint_id"]
