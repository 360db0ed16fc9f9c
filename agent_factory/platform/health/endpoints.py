"""`/health` (the process is up) and `/ready` (the database answers and its schema is current)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ..db.migrate import migration_ids
from ..errors import Unavailable, error_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """`status` is `ok`."""

    status: str


class Ready(BaseModel):
    """`status` is `ready`; `migrations` lists the applied migration ids."""

    status: str
    migrations: list[str]


@router.get("/health", response_model=Health)
async def health() -> Health:
    """The process is up (no database access)."""
    return Health(status="ok")


@router.get("/ready", response_model=Ready, responses=error_responses(503))
async def ready(request: Request) -> Ready:
    """The database answers as the app role and every migration shipped with this version is applied."""
    try:
        async with request.app.state.pool.acquire(timeout=5) as conn:
            applied = [r["migration_id"] for r in await conn.fetch("SELECT migration_id FROM _yoyo_migration")]
    except Exception as error:  # noqa: BLE001 - any failure to reach the database means not ready
        raise Unavailable(f"the database is not reachable: {type(error).__name__}") from None
    missing = sorted(set(migration_ids()) - set(applied))
    if missing:
        raise Unavailable(f"migrations not applied: {', '.join(missing)}; run `agent-factory db upgrade`")
    return Ready(status="ready", migrations=sorted(applied))
