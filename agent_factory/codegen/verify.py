"""`codegen verify`: re-run a job's acceptance commands on an existing workspace (no LLM).

It also compares the spec hash the workspace was generated from (its
`.agent-factory/job.json`) with the job's: a workspace generated from an older spec fails
verification even when its tests pass, because it no longer implements the current spec.
The files a requirement is traced to come from the last `codegen run` report.
"""

from __future__ import annotations

from pathlib import Path

from .acceptance import run_acceptance
from .errors import CodegenError
from .job import load_job
from .report import Report, build_report, read_report, write_report
from .runner import RUN_REPORT
from .workspace import Touched, read_marker, state_dir

VERIFY_REPORT = "verify-report.json"


def verify_job(job_dir: Path, workspace: Path, *, report_path: Path | None = None) -> tuple[Report, Path]:
    """Verify `workspace` against the job in `job_dir`; returns the report and its path
    (`<workspace>/.agent-factory/verify-report.json` unless `report_path`)."""
    job, _task = load_job(job_dir)
    if not workspace.is_dir():
        raise CodegenError(f"{workspace}: no such workspace; generate it with `agent-factory codegen run`")
    marker = read_marker(workspace)
    previous = read_report(state_dir(workspace) / RUN_REPORT)
    files = [Touched(f["path"], f["change"]) for f in previous.files_touched] if previous else []
    results = run_acceptance(job.acceptance, workspace, job.budget.acceptance_timeout_s)
    report = build_report(
        job, mode="verify", workspace=workspace, workspace_sha=marker.spec_sha256 if marker else None,
        acceptance=results, files_touched=files,
    )
    path = report_path or state_dir(workspace) / VERIFY_REPORT
    return report, write_report(report, path)
