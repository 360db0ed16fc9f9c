"""`/v1/keys`: create (the key is shown once), list, revoke. Needs the `admin` scope."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from ..auth import Context, tenant
from ..errors import error_responses
from . import service
from .schemas import KeyCreated, KeyIn, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=error_responses(400, 401, 403, 422))


@router.post("", status_code=201, response_model=KeyCreated)
async def create_key(body: KeyIn, ctx: Context = tenant("admin")) -> KeyCreated:
    """Create an API key with the given scopes; the response is the only time `key` is shown."""
    return KeyCreated(**await service.create(ctx, body.name, body.scopes))


@router.get("", response_model=list[KeyOut])
async def list_keys(ctx: Context = tenant("admin")) -> list[KeyOut]:
    """Every key of the team, revoked ones included, without the keys themselves."""
    return [KeyOut(**row) for row in await service.list_keys(ctx)]


@router.delete("/{key_id}", status_code=204, responses=error_responses(404))
async def revoke_key(key_id: UUID, ctx: Context = tenant("admin")) -> Response:
    """Revoke a key: from now on it is refused with 401."""
    await service.revoke(ctx, key_id)
    return Response(status_code=204)
