"""Who is calling, for endpoints that must not hold a database connection for their whole life
(a run waited for, an event stream): the credential is checked in a short transaction of its own,
then each step opens its own tenant transaction (`db.tenant.tenant_transaction`)."""

from __future__ import annotations

from uuid import UUID

from fastapi import Depends, Request
from pydantic import TypeAdapter, ValidationError

from ..auth import Principal, authenticate, reads_credential, request_credential
from . import service


def caller(scope: str):
    """A dependency resolving the request's credential to a `Principal` with `scope` (401/403)."""

    async def dependency(request: Request) -> Principal:
        token = request_credential(request)
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            principal = await authenticate(conn, token)
        principal.require(scope)
        return principal

    return Depends(reads_credential(dependency))


_AGENT_ID = TypeAdapter(UUID)


@reads_credential
async def run_starter(request: Request) -> service.Starter:
    """The caller of a run start with `runs:write`, its team's plan and the path's agent, read in
    one statement (`service.starter`). It answers 401 and 403 as `caller("runs:write")` does, before
    FastAPI validates the request; a malformed agent id (or a route without one) authenticates and
    reads the plan only."""
    raw = request.path_params.get("agent_id")
    try:
        agent_id = None if raw is None else _AGENT_ID.validate_python(raw)  # as FastAPI parses it
    except ValidationError:
        agent_id = None
    return await service.starter(request.app.state.pool, request_credential(request), agent_id)
