"""The platform's one exception family and the one handler that turns it into JSON.

Every error body is `{"error": code, "detail": ...}`: `code` is stable (clients branch on it),
`detail` says what was wrong in words, or carries the compiler's diagnostics for a spec.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field

log = logging.getLogger("agent_factory.platform")


class PlatformError(Exception):
    """Base of every error the API answers with; subclasses set `status` and `code`."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class Unauthorized(PlatformError):
    """No credential, or one that is unknown, revoked or expired."""

    status = 401
    code = "unauthorized"


class Forbidden(PlatformError):
    """The credential is valid but lacks the scope or role the action needs."""

    status = 403
    code = "forbidden"


class NotFound(PlatformError):
    """No such resource in the caller's team (another team's resource looks exactly the same)."""

    status = 404
    code = "not_found"


class Conflict(PlatformError):
    """The request clashes with the current state (a name in use, the last owner)."""

    status = 409
    code = "conflict"


class PayloadTooLarge(PlatformError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(PlatformError):
    status = 415
    code = "unsupported_media_type"


class InvalidRequest(PlatformError):
    """The body or a parameter does not have the expected shape or type."""

    status = 422
    code = "invalid_request"


class SpecInvalid(PlatformError):
    """The spec has errors; `detail` is the list of diagnostics, as `check --format json` prints them."""

    status = 422
    code = "spec_invalid"


class Unavailable(PlatformError):
    status = 503
    code = "unavailable"


class ErrorBody(BaseModel):
    """Every error response: a stable `error` code and a `detail` (a message, or a list of diagnostics)."""

    error: str = Field(description="stable error code, e.g. `not_found`, `spec_invalid`")
    detail: Any = Field(default=None, description="what was wrong: a message, or a list of objects")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting the error body for each status."""
    return {status: {"model": ErrorBody, "description": _DESCRIPTIONS.get(status, "error")} for status in statuses}


_DESCRIPTIONS = {
    400: "malformed request", 401: "missing, unknown or revoked credential", 402: "monthly run quota or spend ceiling reached",
    429: "rate limit reached; see `Retry-After`", 403: "the credential lacks the scope",
    404: "no such resource in your team", 409: "conflicts with the current state", 413: "body too large",
    415: "unsupported content type", 422: "invalid body or parameters", 503: "database unavailable",
}


def as_platform_error(exc: Exception) -> PlatformError:
    """Map framework exceptions (validation, routing) onto the family; anything else is a 500."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    if isinstance(exc, PlatformError):
        return exc
    if isinstance(exc, RequestValidationError):
        return InvalidRequest([validation_item(e) for e in exc.errors()])
    storage = _storage_error(exc)
    if storage is not None:
        return storage
    if isinstance(exc, HTTPException):
        error = PlatformError(exc.detail, headers=dict(exc.headers or {}))
        error.status, error.code = exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error")
        return error
    log.exception("unhandled error", exc_info=exc)
    error = PlatformError("internal error; it was logged")
    error.status, error.code = 500, "internal"
    return error


def _storage_error(exc: Exception) -> PlatformError | None:
    """A safety net for what the schemas should have refused before the database saw it."""
    import asyncpg

    if isinstance(exc, asyncpg.UniqueViolationError):
        return Conflict("a resource with the same unique name exists")
    if isinstance(exc, (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)):
        return InvalidRequest("text the database cannot store (a NUL character or invalid Unicode)")
    return None


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 401: "unauthorized", 403: "forbidden"}


def validation_item(error: dict[str, Any]) -> dict[str, Any]:
    # pydantic's own entries carry the rejected input and a URL; keep the location and the message
    return {"loc": [str(part) for part in error.get("loc", ())], "message": error.get("msg", ""), "type": error.get("type", "")}


async def handle(request, exc: Exception):
    """The one exception handler: every error leaves as `{"error": code, "detail": ...}`."""
    from fastapi.responses import JSONResponse

    error = as_platform_error(exc)
    if error.status == 405:
        error.headers = {"Allow": ", ".join(allowed_methods(request))}
    headers = {**(error.headers or {}), **({"WWW-Authenticate": "Bearer"} if error.status == 401 else {})}
    return JSONResponse({"error": error.code, "detail": error.detail}, status_code=error.status, headers=headers)


def allowed_methods(request) -> list[str]:
    """Every method some route serves at the request's path (one path may have several routes).
    Literal segments win over parameters, as in OpenAPI: `/threads/search` is not also
    `/threads/{thread_id}`, so only the routes with the fewest parameters that match count."""
    from starlette.routing import Match

    found: dict[int, set[str]] = {}
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE and getattr(route, "methods", None):
            found.setdefault(route.path.count("{"), set()).update(route.methods)
    return sorted(found[min(found)]) if found else []
