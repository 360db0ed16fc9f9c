"""Render `TASK.md`, the instructions the coding agent receives, from a `Job`.

The template (`templates/TASK.md.j2`, StrictUndefined) only loops and branches; the
wording of labels, the choice of code fences and the order of everything are decided
here, so the output is byte-stable for a given job and header.
"""

from __future__ import annotations

import re
from functools import cache

import jinja2

from .job import Job

@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("agent_factory.codegen", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_task(job: Job, *, provenance_header: str) -> str:
    """TASK.md text for `job`, starting with `provenance_header` as a Markdown comment."""
    template = _environment().get_template("TASK.md.j2")
    return template.render(**task_context(job, provenance_header))


def task_context(job: Job, provenance_header: str) -> dict[str, object]:
    """The template's variables: plain strings, lists and dicts, already ordered."""
    return {
        "header_lines": comment_lines(provenance_header),
        "kind_label": job.spec.kind,
        "name": job.spec.name,
        "spec_path": job.provenance.spec,
        "purpose": job.purpose.strip(),
        "requirements": [req.model_dump() for req in job.requirements],
        "interface": _interface(job),
        "context": [section.model_dump() for section in job.context],
        "acceptance": [inline_code(c.command) for c in job.acceptance],
        "tools": ", ".join(f"`{name}`" for name in job.allowed_tools),
        "example_id": job.requirements[0].id if job.requirements else "REQ-XX-001",
    }


def _interface(job: Job) -> dict[str, object] | None:
    if job.interface is None:
        return None
    blocks = [
        {"fence": code_fence(b.code), "language": b.language, "code": b.code.rstrip("\n")}
        for b in job.interface.code
    ]
    return {"text": job.interface.text.strip(), "code": blocks}


def comment_lines(header: str) -> list[str]:
    """The header's lines, without `#`/`//` comment markers, safe inside `<!-- -->`."""
    lines = []
    for line in header.strip("\n").splitlines():
        text = re.sub(r"^\s*(#+|//)\s?", "", line).rstrip()
        lines.append(text.replace("--", "‐‐"))  # "--" may not appear inside an HTML comment
    return lines


def code_fence(code: str) -> str:
    """A backtick fence longer than any backtick run inside `code` (at least three)."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)


def inline_code(text: str) -> str:
    """`text` as Markdown inline code, even when it contains backticks."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
