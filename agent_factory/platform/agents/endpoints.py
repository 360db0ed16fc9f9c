"""`/v1/agents` and `/v1/check`: specs in, checked and compiled agents out."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import TypeAdapter, ValidationError

from ..auth import Context, reads_credential, request_credential, tenant
from ..errors import NotFound, error_responses
from ..fields import single_valued_query
from . import service
from .body import SPEC_BODY, spec_text
from .schemas import AgentOut, AgentPage, CheckOut, Kind, VersionDetail, VersionOut

router = APIRouter(tags=["agents"], responses=error_responses(400, 401, 403, 422), dependencies=[Depends(single_valued_query)])
SPEC_ERRORS = error_responses(413, 415)


@router.post("/v1/agents", status_code=201, response_model=AgentOut, openapi_extra=SPEC_BODY,
             responses={**SPEC_ERRORS, **error_responses(409)})
async def create_agent(request: Request, ctx: Context = tenant("agents:write")) -> AgentOut:
    """Store a spec as a new agent. A spec with errors is refused with 422 whose `detail` is the
    list of diagnostics (code, line, column, hint), as `agent-factory check --format json` prints."""
    text = await spec_text(request)
    return AgentOut(**await service.create(ctx, text, request.app.state.settings))


@router.get("/v1/agents", response_model=AgentPage)
async def list_agents(
    ctx: Context = tenant("agents:read"),
    cursor: str | None = Query(None, max_length=200, description="the `next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=100),
    name: str | None = Query(None, max_length=200, pattern=r"^[^\x00]*$", description="exact agent name"),
    kind: Kind | None = Query(None),
    q: str | None = Query(None, max_length=200, pattern=r"^[^\x00]*$", description="full-text search in names and purposes"),
) -> AgentPage:
    """The team's agents, oldest first, a page at a time."""
    items, next_cursor = await service.page(ctx, cursor, limit, name, kind, q)
    return AgentPage(items=items, next_cursor=next_cursor)


_AGENT_ID = TypeAdapter(UUID)


@reads_credential
async def agent_as_caller(request: Request) -> dict | None:
    """The path's agent as the caller's team has it, read in one statement (`service.read`), or None.
    It answers 401 and 403 as `tenant` does, before FastAPI validates the path: a malformed id
    authenticates only, and then gets FastAPI's 422, as with `tenant`."""
    try:
        agent_id = _AGENT_ID.validate_python(request.path_params["agent_id"])  # as FastAPI parses it
    except ValidationError:
        agent_id = None
    return await service.read(request.app.state.pool, request_credential(request), agent_id)


@router.get("/v1/agents/{agent_id}", response_model=AgentOut, responses=error_responses(404))
async def get_agent(agent_id: UUID, agent: dict | None = Depends(agent_as_caller)) -> dict:
    """One agent at its latest version."""
    if agent is None:
        raise NotFound("no such agent")
    return agent  # validated once, by the response model


@router.put("/v1/agents/{agent_id}", response_model=AgentOut, openapi_extra=SPEC_BODY,
            responses={**SPEC_ERRORS, **error_responses(404, 409)})
async def update_agent(agent_id: UUID, request: Request, ctx: Context = tenant("agents:write")) -> AgentOut:
    """Store a new version of the agent's spec; the same text again keeps the current version."""
    text = await spec_text(request)
    return AgentOut(**await service.update(ctx, agent_id, text, request.app.state.settings))


@router.get("/v1/agents/{agent_id}/versions", response_model=list[VersionOut], responses=error_responses(404))
async def list_versions(agent_id: UUID, ctx: Context = tenant("agents:read")) -> list[VersionOut]:
    """Every version of the agent, oldest first."""
    return [VersionOut(**row) for row in await service.versions(ctx, agent_id)]


@router.get("/v1/agents/{agent_id}/versions/{version}", response_model=VersionDetail, responses=error_responses(404))
async def get_version(agent_id: UUID, version: int = Path(..., ge=1, le=2**31 - 1), ctx: Context = tenant("agents:read")) -> VersionDetail:
    """One version with its spec text, IR and diagnostics."""
    return VersionDetail(**await service.version(ctx, agent_id, version))


@router.delete("/v1/agents/{agent_id}", status_code=204, responses=error_responses(404))
async def delete_agent(agent_id: UUID, ctx: Context = tenant("agents:write")) -> Response:
    """Delete the agent (soft: it is gone from the API, its history stays in the database)."""
    await service.delete(ctx, agent_id)
    return Response(status_code=204)


@router.post("/v1/check", response_model=CheckOut, openapi_extra=SPEC_BODY, responses=SPEC_ERRORS)
async def check_spec(request: Request, ctx: Context = tenant("agents:read")) -> CheckOut:
    """Check a spec without storing it (for editors): every diagnostic, `ok` when none is an error."""
    text = await spec_text(request)
    return CheckOut(**await service.check(text, request.app.state.settings))
