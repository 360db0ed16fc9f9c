"""Code generation: Component specs compiled to jobs that an OpenHands coding agent runs.

    spec.md ──compile --target openhands──▶ <job>/job.json + TASK.md
            ──codegen run──▶ workspace with code, .agent-factory/report.json
            ──codegen verify──▶ acceptance re-run, stale-spec check

Modules: `job` (the job model), `lower` (spec IR → job), `task` (TASK.md), `workspace`
(marker, snapshots, tracing), `acceptance`, `report`, `llm_config`, `sdk` (lazy import of
the optional `openhands` extra), `tools` and `agent` (the OpenHands side), `runner`,
`verify`, `commands` (the click group `codegen`). Importing this package does not import
the SDK.
"""

from .errors import CodegenError, MissingExtra, UnsupportedSpec
from .job import Job, dump_job, load_job
from .lower import job_from_spec
from .report import Report
from .task import render_task

__all__ = [
    "CodegenError", "Job", "MissingExtra", "Report", "UnsupportedSpec",
    "dump_job", "job_from_spec", "load_job", "render_task",
]
