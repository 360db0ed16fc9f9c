"""Team secrets: provider keys a team brings for its own runs. Stored encrypted, listed by name,
never returned, never logged; a run of the team sees them as the environment variables its
models' `api_key_env` name (they win over the server's own)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from ..audit import service as audit
from ..auth import Context
from ..errors import NotFound
from . import repository
from .vault import Vault, require


async def put(ctx: Context, vault: Vault | None, name: str, value: str) -> None:
    await repository.put(ctx.conn, ctx.principal.team_id, name, require(vault).seal(ctx.principal.team_id, name, value))
    await audit.record(ctx, "secret.put", f"secret:{name}")


async def names(ctx: Context) -> list[dict[str, Any]]:
    return [dict(r) for r in await repository.names(ctx.conn, ctx.principal.team_id)]


async def delete(ctx: Context, name: str) -> None:
    if not await repository.delete(ctx.conn, ctx.principal.team_id, name):
        raise NotFound("no such secret")
    await audit.record(ctx, "secret.delete", f"secret:{name}")


def for_run(vault: Vault | None, team_id: UUID, sealed: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """The team's secrets in clear, for one of its runs, from their (name, ciphertext) pairs as
    its claim read them (none without a vault)."""
    if vault is None:
        return {}
    found = {}
    for name, ciphertext in sealed:
        value = vault.open(team_id, name, ciphertext)
        if value is not None:
            found[name] = value
    return found
