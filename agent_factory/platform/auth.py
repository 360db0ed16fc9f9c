"""Who is calling: API keys and session tokens, resolved inside the request's tenant transaction.

A request carries `Authorization: Bearer <token>` or `X-Api-Key: <key>`. Keys (`agf_…`) and
session tokens (`afs_…`) are looked up by their SHA-256 through SECURITY DEFINER functions (the
tenant is not known yet), the stored hash is compared again in constant time, and the tenant of
the transaction is set with `set_config('app.team_id', …, true)` to the credential's team before
any endpoint code runs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from .errors import Forbidden, Unauthorized

KEY_PREFIX = "agf_"
SESSION_PREFIX = "afs_"
SCOPES = ("agents:read", "agents:write", "runs:write", "admin")
ROLE_SCOPES = {
    "owner": frozenset(SCOPES),
    "admin": frozenset(SCOPES),
    "member": frozenset({"agents:read", "agents:write", "runs:write"}),
    "viewer": frozenset({"agents:read"}),
}

bearer = HTTPBearer(auto_error=False, description="an API key (`agf_…`) or a session token (`afs_…`)")
api_key_header = APIKeyHeader(name="X-Api-Key", auto_error=False, description="an API key (`agf_…`)")
SECURITY_SCHEMES = (bearer, api_key_header)


@dataclass(frozen=True)
class Principal:
    """The caller: its team, the user behind it, the key or session used, and its scopes."""

    team_id: UUID
    user_id: UUID | None
    scopes: frozenset[str]
    key_id: UUID | None = None
    session_id: UUID | None = None

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this credential lacks the `{scope}` scope")


@dataclass(frozen=True)
class Context:
    """What an endpoint works with: the connection (in the tenant transaction) and the caller."""

    conn: asyncpg.Connection
    principal: Principal


def token_hash(token: str) -> bytes:
    """The SHA-256 under which a key or session token is stored."""
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()


def credential(request_bearer: HTTPAuthorizationCredentials | None, header_key: str | None) -> str:
    """The token the request carries (from the `bearer` and `api_key_header` dependencies), or 401."""
    token = header_key or (request_bearer.credentials if request_bearer else None)
    if not token:
        raise Unauthorized("send an API key as `Authorization: Bearer agf_…` or `X-Api-Key: agf_…`")
    return token


def request_credential(request: Request) -> str:
    """The token the request carries, or 401: the same reading of `X-Api-Key` and
    `Authorization: Bearer` as `credential`, straight from the headers. Resolving the two schemes
    as FastAPI `Security` sub-dependencies cost a quarter of the framework's time per request
    (bench/bench_api.py); `document_security` keeps them in the OpenAPI document."""
    headers = request.headers
    token = headers.get("x-api-key")
    if not token:
        scheme, value = get_authorization_scheme_param(headers.get("authorization"))
        token = value if scheme.lower() == "bearer" else None
    return credential(None, token)


# The lookup also makes the credential's team the tenant of the transaction, in the same statement:
# one round trip fewer on every request (see docs/performance.md). Should the credential be refused
# after all, the endpoint's transaction is rolled back before any other statement runs.
_SET_TENANT_FROM_ROW = "set_config('app.team_id', c.team_id::text, true), set_config('app.user_id', coalesce(c.user_id::text, ''), true)"
_KEY_LOOKUP = f"SELECT c.key_id, c.team_id, c.user_id, c.scopes, c.key_hash, {_SET_TENANT_FROM_ROW} FROM af_key_lookup($1) c"
_SESSION_LOOKUP = f"SELECT c.session_id, c.team_id, c.user_id, c.role, c.token_hash, {_SET_TENANT_FROM_ROW} FROM af_session_lookup($1) c"


async def authenticate(conn: asyncpg.Connection, token: str) -> Principal:
    """Resolve `token` to a principal and make its team the tenant of the connection's current
    transaction (401 when the token is unknown, revoked or expired)."""
    digest = token_hash(token)
    if token.startswith(KEY_PREFIX):
        row = await conn.fetchrow(_KEY_LOOKUP, digest)
        if row is not None and hmac.compare_digest(row["key_hash"], digest):
            return Principal(row["team_id"], row["user_id"], frozenset(row["scopes"]), key_id=row["key_id"])
    elif token.startswith(SESSION_PREFIX):
        row = await conn.fetchrow(_SESSION_LOOKUP, digest)
        if row is not None and hmac.compare_digest(row["token_hash"], digest):
            return Principal(row["team_id"], row["user_id"], ROLE_SCOPES[row["role"]], session_id=row["session_id"])
    raise Unauthorized("unknown, revoked or expired credential")


def lookup_args(token: str) -> tuple[bytes, bool]:
    """The SHA-256 of `token` and whether it is a session token, for a statement that authenticates
    it itself (`af_agent_read`); 401 for a token that is neither a key nor a session token."""
    if token.startswith(KEY_PREFIX) or token.startswith(SESSION_PREFIX):
        return token_hash(token), token.startswith(SESSION_PREFIX)
    raise Unauthorized("unknown, revoked or expired credential")


def checked_principal(row: asyncpg.Record | None, digest: bytes, scope: str) -> Principal:
    """The caller a statement found for the credential hashed as `digest` (columns `credential_id`,
    `team_id`, `user_id`, `scopes` of a key or `role` of a session, `credential_hash`), with the same
    checks as `tenant`: 401 when it found none, 403 when the caller lacks `scope`."""
    if row is None or not hmac.compare_digest(row["credential_hash"], digest):
        raise Unauthorized("unknown, revoked or expired credential")
    if row["role"] is None:
        principal = Principal(row["team_id"], row["user_id"], frozenset(row["scopes"]), key_id=row["credential_id"])
    else:
        principal = Principal(row["team_id"], row["user_id"], ROLE_SCOPES[row["role"]], session_id=row["credential_id"])
    principal.require(scope)
    return principal


def tenant(scope: str):
    """A dependency giving the endpoint a `Context` whose transaction is set to the caller's team,
    after checking the caller has `scope` (403 otherwise). The transaction commits when the
    endpoint returns, before the response is sent; an error rolls it back."""

    async def dependency(request: Request) -> AsyncIterator[Context]:
        token = request_credential(request)
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            principal = await authenticate(conn, token)  # sets the tenant too
            principal.require(scope)
            yield Context(conn, principal)

    return Depends(reads_credential(dependency), scope="function")


# the dependencies that read the credential with `request_credential`, for `document_security`
_READS_CREDENTIAL: set = set()


def reads_credential(dependency):
    """Mark `dependency` as reading the credential with `request_credential`, so the OpenAPI
    document lists the two security schemes on every operation that depends on it."""
    _READS_CREDENTIAL.add(dependency)
    return dependency


def document_security(document: dict[str, Any], routes) -> dict[str, Any]:
    """The OpenAPI `document` with the credential's two security schemes on every operation of
    `routes` that reads it with `request_credential`: what FastAPI writes for an operation whose
    dependencies include `Security(bearer)` and `Security(api_key_header)`."""
    schemes = {scheme.scheme_name: jsonable_encoder(scheme.model, by_alias=True, exclude_none=True)
               for scheme in SECURITY_SCHEMES}
    for route in routes:
        operations = document.get("paths", {}).get(getattr(route, "path_format", None), {})
        if not operations or not _reads_credential(route.dependant):
            continue
        for method in route.methods:
            security = operations[method.lower()].setdefault("security", [])
            security.extend({name: []} for name in schemes if {name: []} not in security)
    if any(_reads_credential(getattr(route, "dependant", None)) for route in routes):
        document.setdefault("components", {}).setdefault("securitySchemes", {}).update(schemes)
    return document


def _reads_credential(dependant) -> bool:
    return dependant is not None and any(
        sub.call in _READS_CREDENTIAL or _reads_credential(sub) for sub in dependant.dependencies)
