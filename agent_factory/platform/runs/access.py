"""Who is calling, for endpoints that must not hold a database connection for their whole life
(a run waited for, an event stream): the credential is checked in a short transaction of its own,
then each step opens its own tenant transaction (`db.tenant.tenant_transaction`)."""

from __future__ import annotations

from fastapi import Depends, Request

from ..auth import Principal, authenticate, reads_credential, request_credential


def caller(scope: str):
    """A dependency resolving the request's credential to a `Principal` with `scope` (401/403)."""

    async def dependency(request: Request) -> Principal:
        token = request_credential(request)
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            principal = await authenticate(conn, token)
        principal.require(scope)
        return principal

    return Depends(reads_credential(dependency))
