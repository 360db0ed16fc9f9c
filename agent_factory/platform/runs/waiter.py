"""Wake-ups for requests waiting on runs (`wait=true`, `runs.wait`, `join`): one LISTEN connection
per API process on the channel workers NOTIFY when a run ends (with the run id only: no data
crosses tenants). Waiters then re-read the run under RLS, and poll now and then in case a
notification was missed.

A run that this process's own worker holds is not read again: the worker hands the ended run (as
its fenced write returned it, once committed) to the waiters, which take it if it is their team's.
The notification of such a run is left to the worker (it would wake the waiters before the hand-
over, the commit's answer and the notification arriving together); when the worker lets go of
the run without ending it (it lost the run, or stopped), its waiters wake and read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from uuid import UUID

import asyncpg

CHANNEL = "af_run_done"


class RunWaiter:
    """Events per run id, set when a worker reports the run ended."""

    def __init__(self) -> None:
        self.waiting: dict[str, set[asyncio.Event]] = {}
        self.held: set[str] = set()  # runs the in-process worker is running
        self.handed: dict[str, dict[str, Any]] = {}  # runs it ended, until a waiter takes them
        self.conn: asyncpg.Connection | None = None

    async def start(self, app_url: str) -> None:
        self.conn = await asyncpg.connect(app_url)
        await self.conn.add_listener(CHANNEL, self._notified)

    async def close(self) -> None:
        if self.conn is not None:
            with suppress(Exception):
                await self.conn.close()

    def _notified(self, _conn, _pid, _channel, run_id: str) -> None:
        if run_id not in self.held:
            self._wake(run_id)

    def _wake(self, run_id: str) -> None:
        for event in self.waiting.get(run_id, ()):
            event.set()

    @contextmanager
    def holding(self, run_id: str) -> Iterator[None]:
        """The in-process worker runs `run_id` meanwhile; its waiters wake when it lets go."""
        self.held.add(run_id)
        try:
            yield
        finally:
            self.held.discard(run_id)
            self._wake(run_id)

    def ended(self, run: dict[str, Any]) -> None:
        """The in-process worker committed the end of `run`: wake its waiters with it."""
        run_id = str(run["id"])
        if run_id in self.waiting:
            self.handed[run_id] = run
            self._wake(run_id)

    def take(self, run_id: str, team_id: UUID) -> dict[str, Any] | None:
        """The run as the in-process worker ended it, if it did and the run is `team_id`'s (once:
        a later wake-up reads the run again)."""
        run = self.handed.get(run_id)
        if run is None or run["team_id"] != team_id:
            return None
        return self.handed.pop(run_id)

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
                self.handed.pop(run_id, None)
