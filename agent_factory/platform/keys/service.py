"""Issuing, listing and revoking API keys: `agf_` + 256 random bits, shown once, kept as SHA-256."""

from __future__ import annotations

import secrets
from uuid import UUID

import asyncpg

from ..audit import service as audit
from ..auth import KEY_PREFIX, Context, token_hash
from ..errors import Forbidden, NotFound
from . import repository


def new_key() -> str:
    """A fresh key: the prefix and 32 random bytes, URL-safe base64."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def issue(conn: asyncpg.Connection, team_id: UUID, user_id: UUID | None, name: str, scopes: list[str]) -> dict:
    """Store a new key for the team (the transaction's tenant) and return its row with `key`."""
    key = new_key()
    row = await repository.insert(conn, team_id, user_id, name, key[:12], token_hash(key), sorted(set(scopes)))
    return {**dict(row), "key": key}


async def create(ctx: Context, name: str, scopes: list[str]) -> dict:
    """A key for the caller's team with at most the caller's scopes."""
    missing = sorted(set(scopes) - ctx.principal.scopes)
    if missing:
        raise Forbidden(f"a key cannot have scopes its creator lacks: {', '.join(missing)}")
    created = await issue(ctx.conn, ctx.principal.team_id, ctx.principal.user_id, name, scopes)
    await audit.record(ctx, "key.create", f"key:{created['id']}", {"name": name, "scopes": created["scopes"]})
    return created


async def list_keys(ctx: Context) -> list[dict]:
    return [dict(r) for r in await repository.list_for_team(ctx.conn, ctx.principal.team_id)]


async def revoke(ctx: Context, key_id: UUID) -> None:
    """Revoke a key of the caller's team (404 for any other)."""
    if not await repository.revoke(ctx.conn, ctx.principal.team_id, key_id):
        raise NotFound("no such key")
    await audit.record(ctx, "key.revoke", f"key:{key_id}")
