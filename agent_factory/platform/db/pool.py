"""The asyncpg pool the API uses, connected as the app role; JSON columns decode to Python."""

from __future__ import annotations

import json

import asyncpg


async def create_pool(app_url: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool of app-role connections with `jsonb` mapped to Python objects."""
    return await asyncpg.create_pool(app_url, min_size=min_size, max_size=max_size, init=_init)


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
