"""LangGraph's Postgres saver, its writes sent in batches behind the run.

LangGraph saves a run's checkpoints in the background (`durability="async"`, its default): a
step's writes and its checkpoint are handed to the saver while the next step runs. The stock
saver sends them one at a time, each its own commit, and LangGraph chains the checkpoints (each
waits for the one before it), so on a busy machine the checkpoints fall behind the steps and the
run ends waiting for the line. `BatchingSaver` keeps the saver's SQL but takes each write into a
queue and returns; the queue is sent a batch at a time, everything that queued up while the
previous batch was in flight in one pipeline and one transaction. A write is thus committed no
later than the stock saver would commit it, in the order the writes were made, all of a batch or
none of it, and nothing after a batch that failed. What LangGraph no longer waits for, its
caller does: `drain()` before anything relies on the checkpoints (the worker, before it writes a
run's outcome; a saver context, when it ends).

Two round trips a run used to start with are saved too: the statement that sets the connection's
tenant can be the first of the first batch (`first`: before every statement the saver sends, reads
included), and a thread made for this run (`new_thread`) is known to have no checkpoint, so
LangGraph's first look at it is answered without asking.

A checkpoint's values and a step's writes are serialized where they are queued, not in a worker
thread as the stock saver does: for a step's few small values the hop cost more than the work (the
thread then waits for the event loop to let go of the interpreter), and each checkpoint waited for
the hop of the one before it. `aput` and `aput_writes` therefore repeat the stock methods' few lines
that build the statements (langgraph-checkpoint-postgres 3.2, pinned; a test compares the statements
and parameters of both savers).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.checkpoint.base import WRITES_IDX_MAP, get_serializable_checkpoint_metadata
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

Statement = tuple[bool, str, Any]  # (executemany?, query, parameters)


class _Recorder:
    """Stands for the cursor of a write: keeps its statements for the queue."""

    def __init__(self) -> None:
        self.statements: list[Statement] = []

    async def execute(self, query: str, params: Any = None) -> None:
        self.statements.append((False, query, params))

    async def executemany(self, query: str, params_seq: Any) -> None:
        self.statements.append((True, query, list(params_seq)))


class BatchingSaver(AsyncPostgresSaver):
    """An `AsyncPostgresSaver` whose writes (`aput`, `aput_writes`, `adelete_thread`: the saver's
    pipelined cursors, which only send) are queued and sent a batch at a time; a read waits for
    the writes queued before it, and `drain()` for all of them."""

    def __init__(self, conn, serde=None, first: Statement | None = None, new_thread: str | None = None) -> None:
        super().__init__(conn, serde=serde)
        self.queue: list[Statement] = [first] if first else []
        self.new_thread = new_thread  # no checkpoint until the saver writes one
        self.sender: asyncio.Task | None = None
        self.failed: BaseException | None = None  # why a batch failed: nothing is sent after it

    async def aget_tuple(self, config) -> Any:
        if config["configurable"]["thread_id"] == self.new_thread:
            return None
        return await super().aget_tuple(config)

    async def aput(self, config, checkpoint, metadata, new_versions) -> dict[str, Any]:
        """Queue the checkpoint: the stock statements, its values serialized here (see the module doc)."""
        self._raise_failure()
        configurable = config["configurable"]
        thread_id, checkpoint_ns = configurable["thread_id"], configurable["checkpoint_ns"]
        inline = {**checkpoint, "channel_values": dict(checkpoint["channel_values"])}
        blobs = {}  # values stored apart, in checkpoint_blobs: all but None and the primitives
        for channel, value in checkpoint["channel_values"].items():
            if isinstance(value, _DeltaSnapshot):
                blobs[channel] = inline["channel_values"].pop(channel)
                inline["channel_values"][channel] = True  # the marker a reader takes for "see the blob"
            elif not (value is None or isinstance(value, (str, int, float, bool))):
                blobs[channel] = inline["channel_values"].pop(channel)
        statements: list[Statement] = []
        if versions := {channel: v for channel, v in new_versions.items() if channel in blobs}:
            statements.append((True, self.UPSERT_CHECKPOINT_BLOBS_SQL,
                               self._dump_blobs(thread_id, checkpoint_ns, blobs, versions)))
        statements.append((False, self.UPSERT_CHECKPOINTS_SQL, (
            thread_id, checkpoint_ns, checkpoint["id"], configurable.get("checkpoint_id"), Jsonb(inline),
            Jsonb(get_serializable_checkpoint_metadata(config, metadata)))))
        self._enqueue(statements)
        return {"configurable": {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns, "checkpoint_id": checkpoint["id"]}}

    async def aput_writes(self, config, writes, task_id: str, task_path: str = "") -> None:
        """Queue a task's writes: the stock statement, its values serialized here."""
        self._raise_failure()
        configurable = config["configurable"]
        upsert = all(channel in WRITES_IDX_MAP for channel, _ in writes)
        rows = self._dump_writes(configurable["thread_id"], configurable["checkpoint_ns"], configurable["checkpoint_id"],
                                 task_id, task_path, writes)
        self._enqueue([(True, self.UPSERT_CHECKPOINT_WRITES_SQL if upsert else self.INSERT_CHECKPOINT_WRITES_SQL, rows)])

    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[Any]:
        if not pipeline:  # a read (or the saver's setup)
            await self.drain()
            async with super()._cursor() as cur:
                yield cur
            return
        self._raise_failure()  # the saver's other writes (deleting a thread)
        recorder = _Recorder()
        yield recorder
        self._enqueue(recorder.statements)

    def _enqueue(self, statements: list[Statement]) -> None:
        self.queue.extend(statements)
        self.new_thread = None
        self._send_queued()

    def _send_queued(self) -> None:
        if self.queue and (self.sender is None or self.sender.done()):
            self.sender = self.loop.create_task(self._send_queue())

    async def drain(self) -> None:
        """Wait until every write queued so far is committed; raises why one was not."""
        self._send_queued()
        while self.sender is not None and not self.sender.done():
            await asyncio.shield(self.sender)
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self.failed is not None:
            raise self.failed

    async def _send_queue(self) -> None:
        async with self.lock:  # the saver's reads take it too
            while self.queue and self.failed is None:
                batch, self.queue = self.queue, []
                try:
                    await self._send(batch)
                except BaseException as exc:  # noqa: BLE001 - kept for drain() and the next write
                    self.failed, self.queue = exc, []
                    if not isinstance(exc, Exception):
                        raise

    async def _send(self, statements: list[Statement]) -> None:
        """One pipeline, one transaction: one round trip, and nothing committed unless all is (the
        transaction is spelled out: a pipeline's implicit one would commit the statements sent
        before one that could not be sent)."""
        try:
            async with self.conn.pipeline(), self.conn.cursor(binary=True) as cur:
                await cur.execute("BEGIN")
                for many, query, params in statements:
                    if many:
                        await cur.executemany(query, params)
                    else:
                        await cur.execute(query, params)
                await cur.execute("COMMIT")
        except Exception:
            if self.conn.info.transaction_status != TransactionStatus.IDLE:
                await self.conn.execute("ROLLBACK")
            raise
