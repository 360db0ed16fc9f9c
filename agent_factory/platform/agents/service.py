"""Agents from specs: check and compile (in a worker thread), store versions, list, read, delete.

A spec with errors is refused with its diagnostics; a clean one becomes version 1 of a new agent,
or the next version of an existing one (the same text again keeps the version it has).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from ..audit import service as audit
from ..auth import Context, checked_principal, lookup_args
from ..errors import Conflict, InvalidRequest, NotFound, SpecInvalid
from ..settings import Settings
from . import repository
from .compile import Compiled, compile_spec


async def compile_text(text: str, settings: Settings) -> Compiled:
    """Check and compile off the event loop: compiling a spec takes tens of milliseconds of CPU."""
    return await asyncio.to_thread(compile_spec, text, settings.config_path)


async def _compiled_or_422(text: str, settings: Settings) -> Compiled:
    compiled = await compile_text(text, settings)
    if not compiled.ok:
        raise SpecInvalid(compiled.diagnostics)
    return compiled


async def create(ctx: Context, text: str, settings: Settings) -> dict[str, Any]:
    """A new agent from a clean spec (409 when the team has an agent of that name)."""
    compiled = await _compiled_or_422(text, settings)
    team_id = ctx.principal.team_id
    existing = await repository.name_taken(ctx.conn, team_id, compiled.name)
    if existing is not None:
        raise Conflict(f"an agent named `{compiled.name}` exists ({existing}); PUT /v1/agents/{existing} adds a version")
    try:
        agent_id = await repository.insert(ctx.conn, team_id, compiled.name, compiled.kind, compiled.description)
    except asyncpg.UniqueViolationError:  # another request stored the same name since the check above
        raise Conflict(f"an agent named `{compiled.name}` was just created by another request") from None
    await _store_version(ctx, agent_id, 1, text, compiled)
    await audit.record(ctx, "agent.create", f"agent:{agent_id}", {"name": compiled.name})
    return await get(ctx, agent_id)


async def update(ctx: Context, agent_id: UUID, text: str, settings: Settings) -> dict[str, Any]:
    """A new version of an agent; the unchanged text keeps the current version."""
    compiled = await _compiled_or_422(text, settings)
    team_id = ctx.principal.team_id
    current = await repository.get_for_update(ctx.conn, team_id, agent_id)
    if current is None:
        raise NotFound("no such agent")
    if await repository.latest_sha256(ctx.conn, team_id, agent_id, current["latest_version"]) == _sha256(text):
        return await get(ctx, agent_id)
    other = await repository.name_taken(ctx.conn, team_id, compiled.name)
    if other is not None and other != agent_id:
        raise Conflict(f"another agent is named `{compiled.name}` ({other})")
    number = current["latest_version"] + 1
    await _store_version(ctx, agent_id, number, text, compiled)
    await repository.set_latest(ctx.conn, team_id, agent_id, number, compiled.name, compiled.kind, compiled.description)
    await audit.record(ctx, "agent.update", f"agent:{agent_id}", {"version": number})
    return await get(ctx, agent_id)


async def _store_version(ctx: Context, agent_id: UUID, number: int, text: str, compiled: Compiled) -> None:
    await repository.insert_version(
        ctx.conn, ctx.principal.team_id, agent_id, number, text, _sha256(text), compiled.ir, compiled.diagnostics,
        compiled.summary, compiled.cost_usd_max, ctx.principal.user_id)


async def get(ctx: Context, agent_id: UUID) -> dict[str, Any]:
    row = await repository.get(ctx.conn, ctx.principal.team_id, agent_id)
    if row is None:
        raise NotFound("no such agent")
    return _agent(row)


async def read(pool: asyncpg.Pool, token: str, agent_id: UUID | None) -> dict[str, Any] | None:
    """`get` for a caller known only by its credential, in one round trip instead of four: the
    credential's lookup, the tenant and the read are one statement (`repository.read_as`), and its
    transaction is the request's. 401 and 403 as `tenant("agents:read")` answers them (a caller
    without the scope gets 403 and nothing of what the statement read); None when the caller's team
    has no such agent, or for `agent_id` None (authenticate only)."""
    digest, session = lookup_args(token)
    async with pool.acquire() as conn:
        row = await repository.read_as(conn, digest, session, agent_id)
    checked_principal(row, digest, "agents:read")
    return _agent(row) if row["id"] is not None else None


async def page(ctx: Context, cursor: str | None, limit: int, name: str | None, kind: str | None,
               query: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the team's agents and the cursor of the next (None at the end)."""
    rows = await repository.page(ctx.conn, ctx.principal.team_id, _decode(cursor), limit + 1, name, kind, query)
    more = len(rows) > limit
    rows = rows[:limit]
    return [_agent(r) for r in rows], (_encode(rows[-1]["created_at"], rows[-1]["id"]) if more else None)


async def versions(ctx: Context, agent_id: UUID) -> list[dict[str, Any]]:
    await get(ctx, agent_id)  # 404 for a deleted agent or another team's
    return [dict(r) for r in await repository.versions(ctx.conn, ctx.principal.team_id, agent_id)]


async def version(ctx: Context, agent_id: UUID, number: int) -> dict[str, Any]:
    row = await repository.version(ctx.conn, ctx.principal.team_id, agent_id, number)
    if row is None:
        raise NotFound("no such agent version")
    return dict(row)


async def delete(ctx: Context, agent_id: UUID) -> None:
    """Soft delete: the agent disappears from the API; its versions stay for the audit trail."""
    if not await repository.soft_delete(ctx.conn, ctx.principal.team_id, agent_id):
        raise NotFound("no such agent")
    await audit.record(ctx, "agent.delete", f"agent:{agent_id}")


async def check(text: str, settings: Settings) -> dict[str, Any]:
    compiled = await compile_text(text, settings)
    return {"ok": compiled.ok, "diagnostics": compiled.diagnostics}


def _agent(row) -> dict[str, Any]:
    summary = row["summary"]
    return {
        **{k: row[k] for k in ("id", "name", "kind", "description", "version", "spec_sha256", "created_at", "updated_at")},
        **{k: summary[k] for k in ("inputs_schema", "outputs_schema", "steps", "tools", "cost_estimate")},
        "warnings": row["diagnostics"],
    }


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _encode(created_at: datetime, agent_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{agent_id}".encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[datetime, UUID] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, agent_id = raw.split("|")
        return datetime.fromisoformat(stamp), UUID(agent_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("invalid cursor: pass the `next_cursor` of the previous page unchanged") from None
