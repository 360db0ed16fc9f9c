"""`codegen run`: generate code for a job in a workspace, then check it.

Order of work: load the job; make sure the SDK imports (before touching the workspace);
mark the workspace with the job (`.agent-factory/job.json`) and keep a copy of TASK.md
there; snapshot the files; let the coding agent work; snapshot again (the difference is
what it touched); run the acceptance commands; write `report.json`.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from .acceptance import run_acceptance
from .agent import Progress, run_agent
from .job import TASK_FILE, load_job
from .llm_config import LLMSettings
from .report import Report, build_report, write_report
from .sdk import import_sdk
from .workspace import snapshot, state_dir, touched, write_marker

RUN_REPORT = "report.json"


def run_job(
    job_dir: Path,
    workspace: Path,
    settings: LLMSettings,
    *,
    budget: Decimal | None,
    report_path: Path | None = None,
    progress: Progress | None = None,
) -> tuple[Report, Path]:
    """Run the job in `job_dir` in `workspace` (created if needed); returns the report and
    where it was written (`<workspace>/.agent-factory/report.json` unless `report_path`)."""
    job, task = load_job(job_dir)
    import_sdk()
    workspace.mkdir(parents=True, exist_ok=True)
    write_marker(workspace, job)
    (state_dir(workspace) / TASK_FILE).write_text(task, encoding="utf-8")
    before = snapshot(workspace)
    outcome, cost = run_agent(job, task, workspace, settings, budget, progress)
    changes = touched(before, snapshot(workspace))
    if progress:
        progress(f"acceptance: {len(job.acceptance)} command(s)")
    results = run_acceptance(job.acceptance, workspace, job.budget.acceptance_timeout_s)
    report = build_report(
        job, mode="run", workspace=workspace, workspace_sha=job.spec_sha256,
        acceptance=results, files_touched=changes, agent=outcome, cost=cost,
    )
    path = report_path or state_dir(workspace) / RUN_REPORT
    return report, write_report(report, path)
