"""`agent-factory codegen run|verify`: run a compiled code-generation job, or re-check its workspace.

Exit codes follow the rest of the CLI: 0 the acceptance commands pass, 1 they fail (or the
workspace is stale), 2 a usage problem (no job, no model configured, the `openhands` extra
missing). `--format json` prints the report itself on stdout.
"""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from agent_factory.codegen.errors import CodegenError

from .exit import Exit

if TYPE_CHECKING:
    from agent_factory.codegen.report import Report

FORMAT = click.Choice(["text", "json"])
JOB_ARG = click.Path(exists=True, path_type=Path)
WORKSPACE = click.Path(file_okay=False, path_type=Path)


@click.group()
def codegen() -> None:
    """Run code-generation jobs compiled with `agent-factory compile --target openhands`.

    \b
      agent-factory compile specs/webhook_signer.md -t openhands -o out
      agent-factory codegen run out/webhook-signer --workspace build/webhook-signer
      agent-factory codegen verify out/webhook-signer --workspace build/webhook-signer
    """


@codegen.command(short_help="Let the OpenHands coding agent implement a job, then check it.")
@click.argument("job", type=JOB_ARG)
@click.option("--workspace", "-w", type=WORKSPACE, required=True, help="Folder the coding agent works in (created if missing).")
@click.option("--model", help="A litellm model name to use instead of the configured alias (e.g. openai/gpt-4o).")
@click.option("--alias", help="A model alias of the runtime config to use instead of the job's.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Runtime config (default: ./agent-factory.toml, else built-in).")
@click.option("--base-url", help="The model's API base URL (overrides the alias's api_base).")
@click.option("--api-key-env", help="Environment variable holding the model's API key (overrides the alias's).")
@click.option("--max-cost", help="Spend at most this many dollars (can only lower the spec's budget).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), help="Where to write report.json.")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True, help="Print a summary or the report JSON.")
def run(job: Path, workspace: Path, model, alias, config_path, base_url, api_key_env, max_cost, report_path, fmt) -> None:
    """Let the OpenHands coding agent implement JOB in the workspace, then run its acceptance commands.

    Writes <workspace>/.agent-factory/report.json: each requirement id with its status and
    evidence (acceptance results, the files that quote it), the overall status and the cost.
    Needs the optional extra: pip install 'agent-factory[openhands]'.
    """
    from agent_factory.codegen.job import load_job
    from agent_factory.codegen.llm_config import load_runtime_config, resolve_llm, run_budget
    from agent_factory.codegen.runner import run_job

    try:
        loaded, _task = load_job(job)
        config = load_runtime_config(config_path)
        settings = resolve_llm(loaded, config, model=model, alias=alias, base_url=base_url, api_key_env=api_key_env)
        budget = run_budget(loaded, None if model else config, _money(max_cost))
        progress = None if fmt == "json" else _progress
        report, path = run_job(job, workspace, settings, budget=budget, report_path=report_path, progress=progress)
    except CodegenError as exc:
        _fail(exc)
    _finish(report, path, fmt)


@codegen.command(short_help="Re-run a job's acceptance commands in its workspace (no LLM).")
@click.argument("job", type=JOB_ARG)
@click.option("--workspace", "-w", type=WORKSPACE, required=True, help="The workspace `codegen run` generated.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the report.")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True, help="Print a summary or the report JSON.")
def verify(job: Path, workspace: Path, report_path: Path | None, fmt: str) -> None:
    """Re-run JOB's acceptance commands in the workspace (no LLM; cheap enough for CI).

    Fails when a command fails, and when the workspace was generated from another version of
    the spec than the job's (its .agent-factory/job.json records the spec hash).
    """
    from agent_factory.codegen.verify import verify_job

    try:
        report, path = verify_job(job, workspace, report_path=report_path)
    except CodegenError as exc:
        _fail(exc)
    _finish(report, path, fmt)


def _money(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip().removeprefix("$"))
    except InvalidOperation:
        raise CodegenError(f"--max-cost: expected dollars such as 0.50, got {text!r}") from None
    if value < 0:
        raise CodegenError(f"--max-cost: must not be negative, got {text!r}")
    return value


def _progress(message: str) -> None:
    click.echo(f"  {message}", err=True)


def _fail(exc: CodegenError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(Exit.USAGE)


def _finish(report: Report, path: Path, fmt: str) -> None:
    """Print the report (summary or JSON) and exit 0 on pass, 1 on fail."""
    if fmt == "json":
        click.echo(path.read_text(encoding="utf-8"), nl=False)
    else:
        click.echo(summary(report, path))
    sys.exit(Exit.OK if report.status == "pass" else Exit.ERRORS)


def summary(report: Report, path: Path) -> str:
    """A few lines for a terminal: verdict, each requirement, reasons, warnings, cost."""
    lines = [f"{report.status.upper()}: {report.job_id} ({report.mode}), report written to {path}"]
    for rid, req in report.requirements.items():
        traced = ", ".join(req.evidence.files_touched) or "not traced"
        lines.append(f"  {req.status:4}  {rid} {req.title}  [{traced}]")
    lines += [f"  reason: {reason}" for reason in report.reasons]
    lines += [f"  warning: {warning}" for warning in report.warnings]
    if report.mode == "run":
        budget = f" of ${report.cost.budget_usd}" if report.cost.budget_usd is not None else ""
        lines.append(f"  cost: ${report.cost.usd}{budget}, {report.cost.prompt_tokens}+{report.cost.completion_tokens} tokens")
    return "\n".join(lines)
