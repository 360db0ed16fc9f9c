"""The `openhands` backend: a Component spec (or an Agent spec with `target: openhands`)
compiles to a code-generation job folder.

`emit_job` returns the folder's files keyed by path relative to the output directory:
`<job_id>/job.json` (the job as data, with the `provenance` object every target records)
and `<job_id>/TASK.md` (the coding agent's instructions, starting with the provenance
header as a Markdown comment). Output is deterministic: no timestamps, sorted JSON keys,
source-ordered lists. `agent-factory codegen run <out>/<job_id> --workspace DIR` runs it.
"""

from __future__ import annotations

from agent_factory.compiler import hookimpl
from agent_factory.compiler.ir import Spec
from agent_factory.compiler.passes import Backend, CompileContext
from agent_factory.compiler.provenance import header_lines

TARGET = "openhands"


def emit_job(spec: Spec, *, provenance_header: str | None = None) -> dict[str, str]:
    """The job folder for `spec`: relative filename → file text, sorted by name.

    `provenance_header` is the header every generated file starts with (comment markers
    such as `#` are stripped; it goes in a `<!-- -->` comment); when None, it is the
    compiler's `header_lines(spec)`. Raises `UnsupportedSpec` (a `ValueError`) for Team
    and Constitution specs.
    """
    # imported here: the codegen package (and jinja2) is for compiling, never for `check`
    from agent_factory.codegen.job import JOB_FILE, TASK_FILE, dump_job
    from agent_factory.codegen.lower import job_from_spec
    from agent_factory.codegen.task import render_task

    job = job_from_spec(spec)
    header = provenance_header if provenance_header is not None else "\n".join(header_lines(spec))
    files = {
        f"{job.job_id}/{JOB_FILE}": dump_job(job),
        f"{job.job_id}/{TASK_FILE}": render_task(job, provenance_header=header),
    }
    return dict(sorted(files.items()))


def emit(spec: Spec, ctx: CompileContext) -> dict[str, str]:
    """The backend's `emit`: the job folder of `spec` (see `emit_job`)."""
    return emit_job(spec)


@hookimpl
def af_register_backends() -> list[Backend]:
    from agent_factory.plugins.capabilities import ALL_FEATURES

    return [
        Backend(
            name=TARGET,
            description="a code-generation job (job.json + TASK.md) for the OpenHands coding agent",
            emit=emit,
            # a job describes a whole agent or component as text for the coding agent;
            # a team (a router over other specs) or a constitution is not a program to write
            features=ALL_FEATURES - {"team", "constitution"},
            opt_in_kinds=frozenset({"agent"}),
        )
    ]
