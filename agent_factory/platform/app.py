"""The FastAPI application: routers of every domain, the one error handler, the pool's lifetime.

`create_app(settings)` builds an app for one database; the pool opens on startup and closes on
shutdown. A later domain adds its router to `ROUTERS`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from .. import __version__
from . import errors
from .agents.endpoints import router as agents
from .audit.endpoints import router as audit
from .auth import document_security
from .db.pool import create_pool
from .health.endpoints import router as health
from .keys.endpoints import router as keys
from .limits import BodyLimit
from .langgraph_api.endpoints import info_router as langgraph_info
from .langgraph_api.endpoints import router as langgraph
from .runs.endpoints import router as runs
from .secrets.endpoints import router as secrets
from .settings import Settings
from .tenancy.endpoints import router as teams
from .tenancy.endpoints import sessions
from .worker.lifespan import hosted_runs

ROUTERS = (agents, teams, sessions, keys, audit, health, runs, secrets, langgraph_info, langgraph)

DESCRIPTION = """Agent Factory's hosted API: store specs, check and compile them into agents, per team.

Authenticate with an API key (`Authorization: Bearer agf_…` or `X-Api-Key: agf_…`) or a session
token from `POST /v1/sessions`. Every error is `{"error": code, "detail": …}`; a resource of
another team answers 404, exactly like a missing one."""


def create_app(settings: Settings) -> FastAPI:
    """The API for `settings.database` (connects as the app role)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(settings.database.app, settings.pool_min, settings.pool_max)
        try:
            async with hosted_runs(app, settings):
                yield
        finally:
            await app.state.pool.close()

    app = FastAPI(title="Agent Factory API", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    for router in ROUTERS:
        # the routes join the app's own table instead of an included router each: FastAPI matches
        # included routers one layer at a time, which cost a tenth of a request's CPU (bench_api.py)
        app.router.routes.extend(router.routes)
    for exc_type in (errors.PlatformError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(exc_type, errors.handle)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    _document_security(app)
    return app


def _document_security(app: FastAPI) -> None:
    """The tenant dependency reads the credential from the headers itself (faster than two
    `Security` sub-dependencies), so FastAPI does not see its schemes: add them to the document."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document_security(generate(), app.routes)
        return app.openapi_schema

    app.openapi = openapi
