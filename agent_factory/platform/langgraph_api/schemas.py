"""Request bodies of the LangGraph-compatible API, as the `langgraph-sdk` client sends them.

The client keeps adding keys, so unknown keys are ignored; values this server does not support are
refused with 422. Identity never comes from a body: `config.configurable`, `checkpoint` and their
`thread_id`s are not read at all (the thread is the one in the path, minted by this server).

Keys read by nobody, on purpose: `config` (an assistant has no configurable fields), LangSmith's
`feedback_keys` and `langsmith_tracer`, `durability`/`checkpoint_during` (every step is
checkpointed), `stream_subgraphs` (no subgraphs), `stream_resumable` (every stream can be
rejoined), `on_completion` (a thread-less run is always kept, so it can be joined) and
`strict_resume` (no `command`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..runs.schemas import Json, storable_json

STREAM_MODES = ("values", "updates", "messages-tuple", "custom")
RunStatus = Literal["pending", "running", "success", "error", "timeout", "interrupted"]
SortOrder = Literal["asc", "desc"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AssistantSearch(_Body):
    graph_id: str | None = Field(None, max_length=200)
    name: str | None = Field(None, max_length=200)
    metadata: Json | None = None
    limit: int = Field(10, ge=1, le=1000, strict=True)
    offset: int = Field(0, ge=0, strict=True)
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: SortOrder | None = None
    select: list[str] | None = Field(None, max_length=50)


class ThreadCreate(_Body):
    thread_id: str | None = Field(None, max_length=200)
    metadata: Json | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    supersteps: list[Any] | None = None
    ttl: Any = None


class ThreadSearch(_Body):
    metadata: Json | None = None
    values: Json | None = None
    ids: list[str] | None = Field(None, max_length=1000)
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: int = Field(10, ge=1, le=1000, strict=True)
    offset: int = Field(0, ge=0, strict=True)
    sort_by: Literal["thread_id", "status", "created_at", "updated_at"] | None = None
    sort_order: SortOrder | None = None
    select: list[str] | None = Field(None, max_length=50)
    extract: Json | None = None


class RunCreate(_Body):
    """A run: `assistant_id` is an assistant id or a graph id; `input` the agent's inputs."""

    assistant_id: str = Field(min_length=1, max_length=200)
    input: Annotated[Any, AfterValidator(storable_json)] = None
    command: Json | None = None
    metadata: Json | None = None
    context: Json | None = None
    checkpoint: Json | None = None
    checkpoint_id: str | None = Field(None, max_length=200)
    after_seconds: float | None = None
    stream_mode: str | list[str] = Field("values", max_length=20)
    multitask_strategy: Literal["reject", "enqueue", "interrupt", "rollback"] = "enqueue"
    if_not_exists: Literal["create", "reject"] = "reject"
    on_disconnect: Literal["cancel", "continue"] = "continue"
    interrupt_before: Any = None
    interrupt_after: Any = None
    webhook: str | None = None

    def modes(self) -> list[str]:
        return [self.stream_mode] if isinstance(self.stream_mode, str) else list(self.stream_mode)


class StateAt(_Body):
    checkpoint: Json | None = None
    subgraphs: bool = False


class StateUpdate(_Body):
    values: Any = None
    as_node: str | None = Field(None, max_length=200)
    checkpoint: Json | None = None
    checkpoint_id: str | None = Field(None, max_length=200)


class HistoryQuery(_Body):
    limit: int = Field(10, ge=1, le=1000, strict=True)
    before: str | Json | None = None
    metadata: Json | None = None
    checkpoint: Json | None = None
