"""Agent bodies: the spec going in, the stored agent and its versions coming out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..fields import Text

Kind = Literal["agent", "team", "component", "constitution"]


class SpecIn(BaseModel):
    """The spec's Markdown as a JSON string (or send the raw text as `text/markdown`)."""

    model_config = ConfigDict(extra="forbid")

    spec: Text = Field(min_length=1, examples=["---\nid: hello\n---\n# Agent: Hello\n..."])


class DiagnosticOut(BaseModel):
    """One problem, exactly as `agent-factory check --format json` prints it."""

    code: str
    severity: Literal["error", "warning", "note"]
    message: str
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    hint: str | None


class CostEstimate(BaseModel):
    """The static worst-case cost of one run, in dollars as exact decimal strings (6 places)."""

    usd_min: str
    usd_max: str
    worst_case_usd: str
    max_cost_per_run: str | None
    complete: bool = Field(description="false when a step could not be priced or a path loops: a lower bound")


class AgentOut(BaseModel):
    """A stored agent at its latest version: what to send (`inputs_schema`), what comes back
    (`outputs_schema`), and what a run may cost."""

    id: UUID
    name: str
    kind: Kind
    description: str
    version: int
    spec_sha256: str
    inputs_schema: dict[str, Any]
    outputs_schema: dict[str, Any]
    steps: list[str]
    tools: list[str]
    cost_estimate: CostEstimate | None
    warnings: list[DiagnosticOut]
    created_at: datetime
    updated_at: datetime


class AgentPage(BaseModel):
    """A page of agents, oldest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[AgentOut]
    next_cursor: str | None


class VersionOut(BaseModel):
    """One version of an agent's spec."""

    version: int
    spec_sha256: str
    created_by: UUID | None
    created_at: datetime


class VersionDetail(VersionOut):
    """A version with its spec text, IR and diagnostics (warnings and notes)."""

    spec: str
    ir: dict[str, Any]
    diagnostics: list[DiagnosticOut]


class CheckOut(BaseModel):
    """The outcome of `POST /v1/check`: `ok` when there is no error; every diagnostic."""

    ok: bool
    diagnostics: list[DiagnosticOut]
