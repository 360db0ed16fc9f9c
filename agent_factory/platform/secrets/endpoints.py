"""`/v1/secrets`: a team's provider keys, write-only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ..auth import Context, tenant
from ..errors import error_responses
from ..fields import Text
from . import service

router = APIRouter(tags=["secrets"], responses=error_responses(400, 401, 403, 422))
SecretName = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{0,63}$", description="the `api_key_env` a model reads, e.g. OPENAI_API_KEY")]


class SecretIn(BaseModel):
    """The secret's value (never shown again)."""

    model_config = ConfigDict(extra="forbid")

    value: Text = Field(min_length=1, max_length=4096)


class SecretOut(BaseModel):
    """A stored secret: its name and when it was set; never its value."""

    name: str
    created_at: datetime
    updated_at: datetime


@router.put("/v1/secrets/{name}", status_code=204, responses=error_responses(503))
async def put_secret(name: SecretName, body: SecretIn, request: Request, ctx: Context = tenant("admin")) -> Response:
    """Store (or replace) a provider key for the team's runs, encrypted at rest. Runs of the team
    use it wherever the operator's configuration has a model read `api_key_env = "<name>"`."""
    await service.put(ctx, request.app.state.vault, name, body.value)
    return Response(status_code=204)


@router.get("/v1/secrets", response_model=list[SecretOut])
async def list_secrets(ctx: Context = tenant("admin")) -> list[SecretOut]:
    """The team's secrets by name (their values are never returned)."""
    return [SecretOut(**row) for row in await service.names(ctx)]


@router.delete("/v1/secrets/{name}", status_code=204, responses=error_responses(404))
async def delete_secret(name: SecretName, ctx: Context = tenant("admin")) -> Response:
    """Delete the secret; the team's runs fall back to the server's own key, if any."""
    await service.delete(ctx, name)
    return Response(status_code=204)
