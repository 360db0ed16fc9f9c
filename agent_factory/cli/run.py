"""The `run`, `test` and `brainfart` commands (registered in `agent_factory.cli.COMMANDS`).

- `run SPEC --input TEXT|JSON`: runs a spec; prints outputs, guard results and the cost table,
  a progress line per step on stderr (`--stream`: every node's update as it happens);
- `test SPEC...`: runs each spec's Examples offline against its cassettes
  (`specs/cassettes/<spec-stem>/` beside the spec by default), one line per example;
- `brainfart "idea"`: the shipped Brain Fart Checker on one idea (offline when its cassettes
  hold the idea, else live).

Exit codes are `Exit`'s: 0 ok, 1 a run or an example failed, 2 usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .configs import note_unused_configs
from .exit import Exit

TIERS = click.Choice(["free", "pro", "enterprise"])
BRAINFART_SPEC = "brain_fart_checker.md"


def _progress(stream: bool):
    """The `on_event` callback printing progress on stderr."""
    def show(event: dict[str, Any]) -> None:
        kind, step = event.get("event"), event.get("step")
        if kind == "end" and not str(step).rsplit("/", 1)[-1].startswith("__"):
            click.echo(f"  ✓ {step} ({event.get('elapsed', 0):.2f}s)", err=True)
            if stream and event.get("update"):
                click.echo(f"    {json.dumps(event['update'], ensure_ascii=False, default=str)}", err=True)
        elif kind == "error":
            click.echo(f"  ✗ {step}: {event.get('error')}", err=True)
        elif stream and kind == "start":
            click.echo(f"  … {step}", err=True)
        elif stream and kind in ("route", "branch"):
            click.echo(f"  → {step} → {event.get('member') or event.get('target')}", err=True)

    return show


def _quiet_misses(show):
    """Progress without the replay misses of a first, offline attempt."""
    def quiet(event: dict[str, Any]) -> None:
        if event.get("event") == "error" and "replay miss" in str(event.get("error", "")):
            return
        show(event)

    return quiet


@click.command("run")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("--input", "input_", metavar="TEXT|JSON", help="The input text (for a one-input spec) or a JSON object.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False),
              help="agent-factory.toml to use (default: the working folder's, never one beside the spec; else built-in).")
@click.option("--replay", type=click.Path(exists=True, file_okay=False),
              help="Serve LLM and tool answers from this cassette folder (no network; a missing answer fails the run).")
@click.option("--record", type=click.Path(file_okay=False),
              help="Record LLM and tool answers into this cassette folder (calls real providers).")
@click.option("--thread", help="Checkpoint the run under this id; without --input, resume it.")
@click.option("--checkpoint-db", type=click.Path(dir_okay=False), help="SQLite checkpoint file "
              "(default: this project's database in your user data folder).")
@click.option("--stream", is_flag=True, help="Print every step's update as it happens.")
@click.option("--tier", type=TIERS, help="Override the spec's tier.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json for tools (outputs, guards, ledger, cost comparison).")
def run(spec: str, input_: str | None, config: str | None, replay: str | None, record: str | None,
        thread: str | None, checkpoint_db: str | None, stream: bool, tier: str | None, fmt: str) -> None:
    """Run SPEC once and print its outputs, guard results and cost table.

    Without --replay the run calls real providers (keys from the environment, models from
    agent-factory.toml); tools such as web_search need their provider configured too (see
    docs/tools.md). --replay and --record cannot be combined. Exit codes: 0 the run succeeded,
    1 it failed (the reason is printed first), 2 usage errors (bad input, a spec that cannot run).
    """
    from agent_factory.runtime.executor import run_spec

    if replay and record:
        raise click.UsageError("give --replay or --record, not both")
    if input_ is None and not thread:
        raise click.UsageError("give --input (or --thread to resume a checkpointed run)")
    note_unused_configs([spec], "run", config)
    click.echo(f"running {spec}", err=True)
    result = run_spec(spec, input_, config=config, replay=replay, record=record, thread=thread, tier=tier,
                      checkpoint_db=checkpoint_db, on_event=_progress(stream))
    _usage_error(result)
    click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False, default=str) if fmt == "json"
               else result.render_text())
    if not result.ok:
        sys.exit(Exit.ERRORS)


def _usage_error(result: Any) -> None:
    """A run that could not start (bad input, a spec that does not check or cannot run, a bad
    config) is a usage error: exit 2 with the reason, and no empty cost table."""
    if not result.ok and not result.ledger and not result.steps and result.error_type in (
        "ValueError", "InputError", "SpecError", "NoGraph", "ConfigError"
    ):
        raise click.UsageError(result.error)


# ---------------------------------------------------------------- test


def cassette_dir(spec_path: Path) -> Path:
    """The default cassettes of a spec: `cassettes/<stem>/` in the spec's folder."""
    return spec_path.parent / "cassettes" / spec_path.stem


def run_example(spec_path: Path, example: Any, cassettes: Path, config: str | None) -> tuple[bool | None, str]:
    """Run one example offline; (passed — None when it was not run —, what happened)."""
    from agent_factory.runtime.evaluate import EvaluationError, evaluate
    from agent_factory.runtime.executor import run_spec

    if example.expect is None:
        return None, "not run: transcript examples have no Expect to check yet"
    inputs: Any = dict(example.fields) if example.fields else example.input
    result = run_spec(spec_path, inputs, config=config, replay=cassettes)
    if not result.ok:
        refused = result.error_type == "GuardViolation"
        if example.expected == "reject" and refused:
            return True, f"refused: {result.error}"
        return False, f"run failed: {result.error}"
    facts = {"cost_usd": float(result.cost_usd), "latency_s": result.latency_s, "tools_called": result.tools_called,
             "steps": result.steps, "model": next((a.model for a in reversed(result.ledger)), "")}
    try:
        holds = bool(evaluate(example.expect, {**result.state, **result.outputs, "run": facts}))
    except EvaluationError as exc:
        return False, f"Expect could not be evaluated: {exc}"
    verb = "holds" if holds else "does not hold"
    return holds, f"Expect `{example.expect.source}` {verb}"


@click.command("test")
@click.argument("specs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--cassettes", type=click.Path(exists=True, file_okay=False),
              help="Cassette folder (default: cassettes/<spec-stem>/ beside each spec).")
@click.option("--config", type=click.Path(exists=True, dir_okay=False),
              help="agent-factory.toml to use (default: the working folder's, never one beside the spec; else built-in).")
def test(specs: tuple[str, ...], cassettes: str | None, config: str | None) -> None:
    """Run the Examples of each SPEC offline against replay cassettes.

    A ✅ example passes when the run succeeds and its Expect holds; a ❌ example passes when the
    run is refused by an invariant, or succeeds with its Expect (which describes the rejection)
    holding. One line per example (PASS, FAIL, or SKIP for transcript examples, which have no
    Expect yet); a spec that does not check is one FAIL line; constitutions and components in a
    folder are passed over. The summary goes to stderr; exit 1 when anything failed or when
    every example was skipped (nothing was tested)."""
    from agent_factory.compiler import spec_files

    from agent_factory.runtime.executor import NoGraph, SpecError, load_spec

    files, missing = spec_files(list(specs))
    if missing or not files:
        raise click.UsageError(f"no spec files in {', '.join(missing or specs)}")
    note_unused_configs(files, "test", config)
    failures = total = skipped = 0
    for path in files:
        try:
            spec, _ = load_spec(path)  # checked once here; each example's run reuses it
        except NoGraph:
            continue  # a constitution or a component has no examples to run
        except SpecError as exc:
            click.echo(f"FAIL {path}: {exc}")
            failures += 1
            total += 1
            continue
        folder = Path(cassettes) if cassettes else cassette_dir(path)
        for example in spec.examples:
            total += 1
            passed, detail = run_example(path, example, folder, config)
            skipped += passed is None
            failures += passed is False
            mark = "✅" if example.expected == "pass" else "❌"
            status = "SKIP" if passed is None else "PASS" if passed else "FAIL"
            click.echo(f"{status} {path}:{example.span.line} {mark} {example.title} — {detail}")
    tail = f", {skipped} skipped" if skipped else ""
    click.echo(f"{total - failures - skipped} passed, {failures} failed{tail}", err=True)
    if total and skipped == total:
        # nothing was verified: a CI job must not pass on examples that never ran
        click.echo("error: every example was skipped, so nothing was tested", err=True)
    if failures or (total and skipped == total):
        sys.exit(Exit.ERRORS)


# ---------------------------------------------------------------- brainfart


def shipped_spec(name: str) -> Path:
    """A shipped spec: `specs/<name>` in the working folder, else beside the installed package."""
    local = Path("specs") / name
    if local.is_file():
        return local
    return Path(__file__).resolve().parents[2] / "specs" / name


@click.command("brainfart")
@click.argument("idea")
@click.option("--config", type=click.Path(exists=True, dir_okay=False),
              help="agent-factory.toml to use (default: the working folder's, never one beside the spec; else built-in).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json for tools.")
def brainfart(idea: str, config: str | None, fmt: str) -> None:
    """Check a startup IDEA with the shipped Brain Fart Checker: BUILD, ITERATE or KILL.

    Offline when the shipped cassettes hold answers for IDEA (the spec's examples and "A to-do
    list app with reminders"); any other idea runs live, which needs provider keys
    (ANTHROPIC_API_KEY, PERPLEXITY_API_KEY) and a web_search provider (docs/tools.md)."""
    from agent_factory.runtime.executor import run_spec

    spec = shipped_spec(BRAINFART_SPEC)
    if not spec.is_file():
        raise click.UsageError(f"the shipped spec {BRAINFART_SPEC} is not installed here")
    cassettes = cassette_dir(spec)
    result = None
    if cassettes.is_dir():
        result = run_spec(spec, {"idea": idea}, config=config, replay=cassettes, on_event=_quiet_misses(_progress(False)))
        if result.error_type in ("ReplayMiss", "ToolReplayMiss"):
            click.echo("no recorded answers for this idea; running live", err=True)
            result = None
    if result is None:
        result = run_spec(spec, {"idea": idea}, config=config, on_event=_progress(False))
    _usage_error(result)
    click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False, default=str) if fmt == "json"
               else result.render_text())
    if not result.ok:
        sys.exit(Exit.ERRORS)

