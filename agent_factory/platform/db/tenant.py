"""Tenant transactions: every query of the app runs inside one.

`set_config(..., true)` is transaction-local, so the tenant can never leak to the next user of a
pooled connection; with no tenant set, the policies match no row. Use `tenant_transaction` from
anywhere that is not a request (a worker, an admin command); requests get the same through
`agent_factory.platform.auth`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg

SET_TENANT = "SELECT set_config('app.team_id', $1, true), set_config('app.user_id', $2, true)"


async def set_tenant(conn: asyncpg.Connection, team_id: UUID, user_id: UUID | None = None) -> None:
    """Make `team_id` (and `user_id`) the tenant of the connection's current transaction."""
    await conn.execute(SET_TENANT, str(team_id), str(user_id) if user_id else "")


@asynccontextmanager
async def tenant_transaction(pool: asyncpg.Pool, team_id: UUID, user_id: UUID | None = None) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection in a transaction whose tenant is `team_id`; commits on success."""
    async with pool.acquire() as conn, conn.transaction():
        await set_tenant(conn, team_id, user_id)
        yield conn
