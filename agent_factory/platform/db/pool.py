"""The asyncpg pool the API uses, connected as the app role; JSON columns decode to Python."""

from __future__ import annotations

import json

import asyncpg


async def create_pool(app_url: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool of app-role connections with `jsonb` mapped to Python objects."""
    return await asyncpg.create_pool(app_url, min_size=min_size, max_size=max_size, init=init_connection,
                                     reset=_nothing_to_reset)


async def init_connection(conn: asyncpg.Connection) -> None:
    """Per connection: `jsonb` values arrive as Python objects and are sent from them."""
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    # asyncpg's default reset sends `RESET ALL; UNLISTEN *; CLOSE ALL; …` on every release: one more
    # round trip per request. The app keeps no session state — the tenant is set with
    # set_config(..., true) and ends with its transaction, which asyncpg always closes before
    # calling this — so there is nothing to reset.
    return None
