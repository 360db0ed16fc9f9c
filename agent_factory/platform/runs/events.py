"""A run's events as they are written: read from `run_events` under the team's RLS, after a given
sequence number (an SSE client's `Last-Event-ID`), until the run has ended and all were sent.

The stream only reads: the run executes in a worker, so a client that goes away stops reading and
nothing else (the run goes on). No connection is held between polls.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg

from ..auth import Principal
from ..db.tenant import tenant_transaction
from . import repository

POLL_MIN_S, POLL_MAX_S = 0.01, 0.25


async def tail(pool: asyncpg.Pool, principal: Principal, run_id: UUID, after: int = 0) -> AsyncIterator[asyncpg.Record]:
    """Every event of the run after `after`, then the new ones until the run ends."""
    pause = POLL_MIN_S
    while True:
        async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
            status = await repository.status(conn, principal.team_id, run_id)
            rows = await repository.events_after(conn, principal.team_id, run_id, after)
        for row in rows:
            after = row["seq"]
            yield row
        if rows:
            pause = POLL_MIN_S
            continue
        if status is None or status in repository.TERMINAL:
            return
        await asyncio.sleep(pause)
        pause = min(pause * 2, POLL_MAX_S)


def last_event_id(header: str | None, query: int | None) -> int:
    """Where a stream resumes: the `Last-Event-ID` header, else `?after=`, else the start."""
    if header and header.strip().isdigit():
        return int(header.strip())
    return query or 0


def frame(event: str, data: Any, seq: int | None = None):
    """One SSE frame with one-line JSON data (sse-starlette would `str()` a dict)."""
    from sse_starlette import ServerSentEvent

    return ServerSentEvent(data=json.dumps(data, separators=(",", ":"), default=str), event=event,
                           id=None if seq is None else str(seq))


def heartbeat():
    from sse_starlette import ServerSentEvent

    return ServerSentEvent(comment="heartbeat")
