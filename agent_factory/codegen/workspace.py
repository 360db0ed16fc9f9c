"""The workspace a job is generated into: file snapshots, the job marker, id tracing.

`codegen run` copies the job into `<workspace>/.agent-factory/job.json` (the marker);
`codegen verify` compares that copy's spec hash with the job it is given, which is how a
workspace generated from an older spec is detected. Snapshots (path → SHA-256) taken
before and after the coding agent runs give the files it touched.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import CodegenError
from .job import Job, dump_job, parse_job

STATE_DIR = ".agent-factory"
MARKER_FILE = "job.json"
# Directories that are tool caches or our own state, never the agent's work.
IGNORED_DIRS = frozenset({STATE_DIR, ".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv", "node_modules"})
TRACE_LIMIT_BYTES = 1_000_000


@dataclass(frozen=True)
class Touched:
    """A file the coding agent changed: workspace-relative POSIX `path` and the `change`."""

    path: str
    change: Literal["added", "modified", "deleted"]


def state_dir(workspace: Path) -> Path:
    """`<workspace>/.agent-factory`, where the marker and the reports live."""
    return workspace / STATE_DIR


def write_marker(workspace: Path, job: Job) -> Path:
    """Record in the workspace which job (and so which spec hash) generated it."""
    path = state_dir(workspace) / MARKER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_job(job), encoding="utf-8")
    return path


def read_marker(workspace: Path) -> Job | None:
    """The job that generated `workspace`, or None when it was never generated."""
    path = state_dir(workspace) / MARKER_FILE
    if not path.is_file():
        return None
    try:
        return parse_job(path.read_text(encoding="utf-8"), str(path))
    except CodegenError:
        return None  # an unreadable marker is as good as none: the workspace is unverified


def snapshot(workspace: Path) -> dict[str, str]:
    """Every file under `workspace` (outside ignored directories) → its SHA-256."""
    files: dict[str, str] = {}
    for root, dirs, names in os.walk(workspace):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS)
        for name in names:
            path = Path(root) / name
            if path.is_file():
                files[path.relative_to(workspace).as_posix()] = _sha256(path)
    return dict(sorted(files.items()))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def touched(before: dict[str, str], after: dict[str, str]) -> list[Touched]:
    """The changes between two snapshots, sorted by path."""
    changes = [Touched(p, "added") for p in after if p not in before]
    changes += [Touched(p, "modified") for p in after if p in before and before[p] != after[p]]
    changes += [Touched(p, "deleted") for p in before if p not in after]
    return sorted(changes, key=lambda t: t.path)


def traced_in(workspace: Path, paths: list[str], requirement_id: str) -> list[str]:
    """Those of `paths` (existing files up to 1 MB) that quote `requirement_id`, sorted.

    The id matches in any case with `-` and `_` interchangeable, so a test named
    `test_req_wh_001_signs` traces REQ-WH-001; `REQ-WH-0012` does not."""
    pattern = id_pattern(requirement_id)
    found = []
    for rel in paths:
        path = workspace / rel
        if path.is_file() and path.stat().st_size <= TRACE_LIMIT_BYTES:
            if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
                found.append(rel)
    return sorted(found)


def id_pattern(requirement_id: str) -> re.Pattern[str]:
    """A regex finding `requirement_id` as a whole word, case-insensitive, `-` ≡ `_`."""
    parts = [re.escape(p) for p in re.split(r"[-_]", requirement_id)]
    return re.compile(r"(?<![A-Za-z0-9])" + "[-_]".join(parts) + r"(?![A-Za-z0-9])", re.IGNORECASE)
