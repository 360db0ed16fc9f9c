"""`/v1/teams/me`, `/v1/members` and `/v1/sessions`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from ..auth import Context, tenant
from ..errors import error_responses
from . import service
from .schemas import MemberIn, MemberOut, RoleIn, SessionIn, SessionOut, TeamOut

router = APIRouter(tags=["teams"], responses=error_responses(400, 401, 403, 422))


@router.get("/v1/teams/me", response_model=TeamOut)
async def my_team(ctx: Context = tenant("agents:read")) -> TeamOut:
    """The team the credential belongs to."""
    return TeamOut(**await service.team(ctx))


@router.get("/v1/members", response_model=list[MemberOut])
async def list_members(ctx: Context = tenant("agents:read")) -> list[MemberOut]:
    """Every member of the team with their role."""
    return [MemberOut(**row) for row in await service.members(ctx)]


@router.post("/v1/members", status_code=201, response_model=MemberOut, responses=error_responses(409))
async def invite_member(body: MemberIn, ctx: Context = tenant("admin")) -> MemberOut:
    """Add a user by e-mail (created when new) with a role; only an owner may add an owner."""
    return MemberOut(**await service.invite(ctx, body.email, body.role))


@router.patch("/v1/members/{user_id}", response_model=MemberOut, responses=error_responses(404, 409))
async def change_role(user_id: UUID, body: RoleIn, ctx: Context = tenant("admin")) -> MemberOut:
    """Change a member's role; the last owner cannot be demoted."""
    return MemberOut(**await service.change_role(ctx, user_id, body.role))


@router.delete("/v1/members/{user_id}", status_code=204, responses=error_responses(404, 409))
async def remove_member(user_id: UUID, ctx: Context = tenant("admin")) -> Response:
    """Remove a member (their keys for this team are revoked); the last owner cannot be removed."""
    await service.remove(ctx, user_id)
    return Response(status_code=204)


sessions = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=error_responses(400, 401, 422))


@sessions.post("", status_code=201, response_model=SessionOut, openapi_extra={"security": []})
async def log_in(body: SessionIn, request: Request) -> SessionOut:
    """Log in with e-mail and password: a session token for one team (send it as a Bearer token)."""
    state = request.app.state
    return SessionOut(**await service.login(state.pool, state.settings, body.email, body.password, body.team_id))


@sessions.delete("/current", status_code=204, responses=error_responses(403))
async def log_out(ctx: Context = tenant("agents:read")) -> Response:
    """End the session whose token made this request."""
    await service.logout(ctx)
    return Response(status_code=204)
