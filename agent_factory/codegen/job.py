"""The code-generation job: what a coding agent is asked to build, as data.

A job is compiled from one spec (`lower.job_from_spec`) and stored in a job folder as
`job.json` (this model, serialised deterministically) beside `TASK.md` (the instructions,
rendered from the same model). The runner and the verifier read the folder back with
`load_job`. Money is `Decimal`, serialised as a string, like everywhere in the IR.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import CodegenError

JOB_SCHEMA_VERSION = 1
JOB_FILE = "job.json"
TASK_FILE = "TASK.md"


class JobNode(BaseModel):
    """Base of every job model: frozen, no unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Provenance(JobNode):
    """Where the job comes from, in the same fields every target records
    (`agent_factory.compiler.provenance`): the `generator` (agent-factory and its version),
    the `spec` path and its `spec_sha256`, the `constitution` path and its SHA-256 (None
    without a constitution). No timestamps."""

    generator: str
    spec: str
    spec_sha256: str
    constitution: str | None = None
    constitution_sha256: str | None = None


class SpecInfo(JobNode):
    """The spec the job implements: `id` (front matter id, or the name slugged), `name`,
    `kind` (component|agent), `version` from the front matter."""

    id: str
    name: str
    kind: Literal["component", "agent"]
    version: str | None = None


class RequirementItem(JobNode):
    """One bullet of a requirement: `modality` (MUST, MUST NOT, SHOULD, SHOULD NOT) and `text`."""

    modality: str
    text: str


class Requirement(JobNode):
    """A requirement the generated code must meet: stable `id`, `title`, the `file` and
    `line` it comes from (the constitution's file for inherited invariants) and its `items`."""

    id: str
    title: str
    file: str
    line: int
    items: tuple[RequirementItem, ...]


class CodeBlock(JobNode):
    """A fenced code block of the interface: `language` and `code`."""

    language: str = ""
    code: str


class Interface(JobNode):
    """The interface to implement: prose `text` and `code` blocks."""

    text: str = ""
    code: tuple[CodeBlock, ...] = ()


class AcceptanceCommand(JobNode):
    """A shell command that must exit 0 in the workspace, and its spec `line` (0 when defaulted)."""

    command: str
    line: int


class Budget(JobNode):
    """Limits of one run: `max_cost_usd` (None: unlimited), `max_iterations` of the agent
    loop, `acceptance_timeout_s` per acceptance command."""

    max_cost_usd: Decimal | None = None
    max_iterations: int
    acceptance_timeout_s: int


class ModelChoice(JobNode):
    """The model the coding agent uses, as the spec asks for it: `alias` (a model alias of
    the runtime config, `agent-factory.toml`; None lets the runner pick one serving `task`),
    `task`, `tier`, allowed `models`, `fallback` chain, `temperature`, `max_tokens`."""

    alias: str | None = None
    task: str
    tier: str | None = None
    models: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()
    temperature: Decimal | None = None
    max_tokens: int | None = None


class ContextSection(JobNode):
    """Extra background for the coding agent (scope, inputs, tools, examples …): a `title`
    and its bullet `items`."""

    title: str
    items: tuple[str, ...]


class Job(JobNode):
    """A code-generation job. `job_id` names the job folder; `task_file` is the TASK.md
    beside `job.json`; `allowed_tools` are the coding agent's tools (OpenHands' `finish`
    and `think` are always there too)."""

    schema_version: int = JOB_SCHEMA_VERSION
    kind: Literal["openhands-job"] = "openhands-job"
    job_id: str
    provenance: Provenance
    spec: SpecInfo
    purpose: str = ""
    requirements: tuple[Requirement, ...] = ()
    interface: Interface | None = None
    acceptance: tuple[AcceptanceCommand, ...] = ()
    context: tuple[ContextSection, ...] = ()
    allowed_tools: tuple[str, ...]
    budget: Budget
    model: ModelChoice
    task_file: str = TASK_FILE

    @property
    def spec_sha256(self) -> str:
        """The SHA-256 of the spec this job was compiled from."""
        return self.provenance.spec_sha256


def dump_job(job: Job) -> str:
    """`job.json` text: keys sorted, two-space indent, trailing newline (byte-stable)."""
    return dump_json(job.model_dump(mode="json"))


def dump_json(data: object) -> str:
    """The project's deterministic JSON form: sorted keys, indent 2, UTF-8 text, newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_job(job_dir: Path) -> tuple[Job, str]:
    """Read a job folder; returns the job and its TASK.md text.

    `job_dir` may also be the `job.json` file itself. Raises `CodegenError` with a message
    naming the file when the folder, the JSON or the TASK.md is missing or malformed.
    """
    job_dir = job_dir.parent if job_dir.name == JOB_FILE else job_dir
    job_path = job_dir / JOB_FILE
    if not job_path.is_file():
        raise CodegenError(f"{job_path}: no job file here; compile a spec with `agent-factory compile --target openhands`")
    job = parse_job(job_path.read_text(encoding="utf-8"), str(job_path))
    task_path = job_dir / job.task_file
    if not task_path.is_file():
        raise CodegenError(f"{task_path}: the job's task file is missing; recompile the spec")
    return job, task_path.read_text(encoding="utf-8")


def parse_job(text: str, origin: str) -> Job:
    """Validate `job.json` text; `origin` names the file in error messages."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CodegenError(f"{origin}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    if isinstance(data, dict) and data.get("schema_version") != JOB_SCHEMA_VERSION:
        found = data.get("schema_version")
        raise CodegenError(f"{origin}: job schema_version {found!r}, expected {JOB_SCHEMA_VERSION}; recompile the spec")
    try:
        return Job.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CodegenError(f"{origin}: invalid job ({where}: {first['msg']}); recompile the spec") from exc
