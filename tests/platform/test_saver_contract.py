"""`BatchingSaver` overrides langgraph-checkpoint-postgres's private `_cursor`, and repeats the
statement-building lines of `aput` and `aput_writes`: what it relies on still holds in the installed
version (the pin in pyproject.toml keeps it to versions checked so)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
import inspect
import tomllib
from importlib.metadata import version
from pathlib import Path

from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.types import ERROR, _DeltaSnapshot
from psycopg.types.json import Jsonb

from agent_factory.platform.worker.checkpoints import strict_serializer
from agent_factory.platform.worker.saver import BatchingSaver, _Recorder

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}


class Kept(BatchingSaver):
    """Keeps each batch instead of sending it (there is no connection: a write that used one fails)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.batches: list[list] = []

    async def _send(self, statements) -> None:
        self.batches.append(statements)


class Stock(AsyncPostgresSaver):
    """LangGraph's own saver, its pipelined writes recorded instead of sent."""

    def __init__(self) -> None:
        super().__init__(None)
        self.recorder = _Recorder()

    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False):
        assert pipeline, "a write only"
        yield self.recorder


def test_the_private_cursor_has_the_signature_the_override_keeps():
    def parameters(function) -> str:
        return str(inspect.signature(function).replace(return_annotation=inspect.Signature.empty))

    assert parameters(AsyncPostgresSaver._cursor) == parameters(BatchingSaver._cursor) == "(self, *, pipeline: 'bool' = False)"


def test_every_write_goes_through_a_pipelined_cursor_and_only_sends():
    # a write that read from its cursor, or opened it otherwise, would fail here: the recorder
    # has no fetch methods and the saver no connection
    async def write() -> list[str]:
        saver = Kept()
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"messages": ["hello"], "count": 1}
        saved = await saver.aput(CONFIG, checkpoint, {"source": "loop", "step": 0}, {"messages": 1, "count": 1})
        await saver.aput_writes(saved, [("messages", ["again"])], "task-1")
        await saver.adelete_thread("t")
        await saver.drain()
        return [query for batch in saver.batches for _, query, _ in batch]

    queries = asyncio.run(write())
    assert queries == [AsyncPostgresSaver.UPSERT_CHECKPOINT_BLOBS_SQL, AsyncPostgresSaver.UPSERT_CHECKPOINTS_SQL,
                       AsyncPostgresSaver.INSERT_CHECKPOINT_WRITES_SQL,
                       "DELETE FROM checkpoints WHERE thread_id = %s", "DELETE FROM checkpoint_blobs WHERE thread_id = %s",
                       "DELETE FROM checkpoint_writes WHERE thread_id = %s"]


def test_the_pin_allows_only_the_minor_version_checked_here():
    # any release may change a private method: a new minor version is checked by this file, then allowed
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    [pin] = [req for req in project["dependencies"] if req.startswith("langgraph-checkpoint-postgres")]
    assert (pin, version("langgraph-checkpoint-postgres").rsplit(".", 1)[0]) == (
        "langgraph-checkpoint-postgres>=3.2,<3.3", "3.2")


def test_checkpoints_and_writes_are_queued_as_the_stock_saver_sends_them():
    # every kind of channel value the stock `aput` sorts (inline primitives and None, blobs, a delta
    # snapshot's marker, a channel without a new version) and both kinds of writes
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"text": "hi", "count": 2, "ratio": 0.5, "done": False, "none": None,
                                    "messages": [{"role": "user", "content": "hello"}], "history": _DeltaSnapshot([1, 2]),
                                    "old": {"kept": True}}
    versions = {"text": "2", "messages": "3", "history": "4"}
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "parent"}}
    metadata = {"source": "loop", "step": 3}

    async def statements(kind) -> tuple:
        saver = kind()
        saver.serde = strict_serializer()
        saved = await saver.aput(config, checkpoint, metadata, versions)
        await saver.aput_writes(saved, [("messages", ["again"]), ("count", 3)], "task-1", "path")
        await saver.aput_writes(saved, [(ERROR, {"error": "boom"})], "task-2")
        if isinstance(saver, Stock):
            return saved, saver.recorder.statements
        await saver.drain()
        return saved, [statement for batch in saver.batches for statement in batch]

    def plain(value):  # Jsonb wraps without equality: compare what it wraps
        if isinstance(value, Jsonb):
            return ("jsonb", value.obj)
        if isinstance(value, (list, tuple)):
            return type(value)(plain(v) for v in value)
        return value

    ours, theirs = asyncio.run(statements(Kept)), asyncio.run(statements(Stock))
    assert ours[0] == theirs[0] == {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": checkpoint["id"]}}
    assert plain(ours[1]) == plain(theirs[1])
    assert [query for _, query, _ in ours[1]] == [
        AsyncPostgresSaver.UPSERT_CHECKPOINT_BLOBS_SQL, AsyncPostgresSaver.UPSERT_CHECKPOINTS_SQL,
        AsyncPostgresSaver.INSERT_CHECKPOINT_WRITES_SQL, AsyncPostgresSaver.UPSERT_CHECKPOINT_WRITES_SQL]
    inline = ours[1][1][2][4].obj["channel_values"]
    assert inline == {"text": "hi", "count": 2, "ratio": 0.5, "done": False, "none": None, "history": True}
