"""Run bodies: what starts a run, and the run as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..fields import storable


def storable_json(value: Any) -> Any:
    """`value` unchanged, or ValueError when a string or key in it could not be stored in `jsonb`."""
    if isinstance(value, str):
        storable(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key)
            storable_json(item)
    elif isinstance(value, list):
        for item in value:
            storable_json(item)
    return value


Json = Annotated[dict[str, Any], AfterValidator(storable_json)]

Status = Literal["pending", "running", "success", "error", "timeout", "interrupted"]


class RunIn(BaseModel):
    """The agent's inputs by name (`input`); with `thread_id`, the run continues that thread (no
    inputs resumes it from its last checkpoint)."""

    model_config = ConfigDict(extra="forbid")

    input: Json = Field(default_factory=dict, examples=[{"topic": "note-taking apps"}])
    thread_id: UUID | None = None
    metadata: Json = Field(default_factory=dict)
    multitask_strategy: Literal["reject", "enqueue", "interrupt"] = Field(
        "enqueue", description="when the thread is busy: refuse (409), queue behind it, or interrupt it")


class RunOut(BaseModel):
    """A run: its status, the version it ran, inputs and outputs, guard results and every LLM
    attempt (alias, model, tokens, cost, latency, outcome); money as exact decimal strings."""

    id: UUID
    agent_id: UUID
    version: int
    spec_sha256: str
    thread_id: UUID | None
    status: Status
    input: dict[str, Any]
    output: dict[str, Any] | None
    error: str | None
    error_type: str | None
    guards: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    cost_usd: str | None
    attempt: int
    metadata: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ThreadIn(BaseModel):
    """A new thread; its id is minted by the server."""

    model_config = ConfigDict(extra="forbid")

    metadata: Json = Field(default_factory=dict)


class ThreadOut(BaseModel):
    """A thread: `busy` while a run on it is queued or running, else how its last run ended."""

    id: UUID
    agent_id: UUID | None
    status: Literal["idle", "busy", "interrupted", "error"]
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class ThreadState(BaseModel):
    """The thread's values after its last run, and its newest checkpoint."""

    thread_id: UUID
    status: Literal["idle", "busy", "interrupted", "error"]
    values: dict[str, Any]
    checkpoint_id: str | None
