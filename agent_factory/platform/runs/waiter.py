"""Wake-ups for requests waiting on runs (`wait=true`, `runs.wait`, `join`): one LISTEN connection
per API process on the channel workers NOTIFY when a run ends (with the run id only: no data
crosses tenants). Waiters still re-read the run under RLS, and poll now and then in case a
notification was missed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import asyncpg

CHANNEL = "af_run_done"


class RunWaiter:
    """Events per run id, set when a worker reports the run ended."""

    def __init__(self) -> None:
        self.waiting: dict[str, set[asyncio.Event]] = {}
        self.conn: asyncpg.Connection | None = None

    async def start(self, app_url: str) -> None:
        self.conn = await asyncpg.connect(app_url)
        await self.conn.add_listener(CHANNEL, self._notified)

    async def close(self) -> None:
        if self.conn is not None:
            with suppress(Exception):
                await self.conn.close()

    def _notified(self, _conn, _pid, _channel, run_id: str) -> None:
        for event in self.waiting.get(run_id, ()):
            event.set()

    @contextmanager
    def watch(self, run_id: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self.waiting.setdefault(run_id, set()).add(event)
        try:
            yield event
        finally:
            watchers = self.waiting.get(run_id, set())
            watchers.discard(event)
            if not watchers:
                self.waiting.pop(run_id, None)
