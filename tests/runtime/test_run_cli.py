"""The `run`, `test` and `brainfart` commands, offline on the shipped cassettes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_factory.cli import run as commands

run, brainfart, cli_test = commands.run, commands.brainfart, commands.test

ROOT = Path(__file__).resolve().parents[2]
BFC = "specs/brain_fart_checker.md"
TODO = '{"idea": "A to-do list app with reminders"}'


@pytest.fixture(autouse=True)
def in_repo(monkeypatch, litellm):
    monkeypatch.chdir(ROOT)  # shipped specs and cassettes by their usual relative paths; no agent-factory.toml here


def _invoke(command, *args):
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def test_run_prints_the_verdict_guards_and_cost_table_offline():
    result = _invoke(run, BFC, "--input", TODO, "--replay", "specs/cassettes/brain_fart_checker")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "  verdict: KILL" in lines
    assert "  reasoning: Novelty too low (12). The market is saturated." in lines
    assert "  ✓ BFC-001 Honest verdict (specs/brain_fart_checker.md:28): passed" in lines
    assert "  ✓ CON-004 Latency (specs/constitution.md:10): passed" in lines
    assert ("  step                   alias/model                                   in    out        cost  latency  outcome"
            in lines)
    assert ("  synthesize             claude/anthropic/claude-sonnet-4-5           406    106   $0.002808    0.00s  replayed"
            in lines)
    assert "  total: $0.007040 (7 calls)" in lines
    assert ("  on anthropic/claude-sonnet-4-5 these calls would have cost $0.012174 — saved $0.005134" in lines)
    assert "  ✓ synthesize (" in result.stderr and "  ✓ verdict (" in result.stderr


def test_run_json_format_and_stream(tmp_path):
    result = _invoke(run, BFC, "--input", TODO, "--replay", "specs/cassettes/brain_fart_checker", "--format", "json",
                     "--stream")
    data = json.loads(result.stdout)
    assert (data["ok"], data["outputs"]["verdict"], data["cost"]["total"]) == (True, "KILL", "0.007040")
    # each step's update is streamed, but declared outputs only leave the run once its guards passed
    assert ('    {"revenue": "With free incumbents, expect ~2,000 installs and a 2% paid conversion at $3/month after six '
            'months: about $120-$400 MRR."}') in result.stderr.splitlines()
    assert "  ✓ verdict (" in result.stderr and '"verdict": "KILL"' not in result.stderr


def test_run_failure_exits_1_with_the_replay_miss():
    result = _invoke(run, BFC, "--input", '{"idea": "Uber for cats"}', "--replay", "specs/cassettes/brain_fart_checker")
    assert result.exit_code == 1
    assert result.stdout.startswith("error: replay miss at step '")


def test_run_without_input_is_a_usage_error():
    assert _invoke(run, BFC).exit_code == 2


def test_a_spec_that_does_not_check_is_a_usage_error(tmp_path):
    spec = tmp_path / "broken.md"
    spec.write_text("# Agent: Broken\n\n## Purpose\nBreaks.\n\n## Inputs\n- n: nosuchtype\n", encoding="utf-8")
    result = _invoke(run, str(spec), "--input", "x")
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: {spec} does not check clean:\n{spec}:7:6: error[E022]: unknown type "
                                  "`nosuchtype`\n")
    assert "cost:" not in result.output


def test_a_missing_cassette_folder_is_a_usage_error(tmp_path):
    missing = tmp_path / "nowhere"
    result = _invoke(run, BFC, "--input", TODO, "--replay", str(missing))
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: Invalid value for '--replay': Directory '{missing}' does not exist.\n")


def test_cli_test_passes_on_the_shipped_specs():
    result = _invoke(cli_test, BFC, "specs/market_research.md")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        'PASS specs/brain_fart_checker.md:90 ✅ Saturated market is killed — Expect `verdict == "KILL"` holds',
        "PASS specs/brain_fart_checker.md:94 ✅ Always gives next steps — Expect `len(next_steps) >= 1` holds",
        'PASS specs/market_research.md:45 ✅ Cites its sources — Expect `len(sources) >= 1 and answer contains "agent"` holds',
        'PASS specs/market_research.md:49 ❌ Refuses stock tips — Expect `not (answer contains "buy")` holds',
    ]
    assert result.stderr == "4 passed, 0 failed\n"


def test_cli_test_fails_without_cassettes(tmp_path):
    result = _invoke(cli_test, "specs/market_research.md", "--cassettes", str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(
        "FAIL specs/market_research.md:45 ✅ Cites its sources — run failed: replay miss at step 'agent'")


def test_brainfart_runs_the_shipped_spec_offline():
    result = _invoke(brainfart, "A to-do list app with reminders")
    assert result.exit_code == 0, result.output
    assert "  verdict: KILL" in result.stdout.splitlines()


def test_cli_test_reports_transcript_examples_as_skipped_and_fails_when_nothing_ran(tmp_path):
    spec = tmp_path / "chat.md"
    spec.write_text(
        "# Agent: Chat\n\n## Purpose\nChats.\n\n## Examples\n### ✅ Greets\n```\nUser: hi\nAgent: hello\n```\n",
        encoding="utf-8")
    result = _invoke(cli_test, str(spec))
    assert result.exit_code == 1, result.output  # nothing was tested
    assert result.stdout.splitlines() == [
        f"SKIP {spec}:7 ✅ Greets — not run: transcript examples have no Expect to check yet"]
    assert result.stderr == "0 passed, 0 failed, 1 skipped\nerror: every example was skipped, so nothing was tested\n"


def test_inputs_are_checked_against_their_declared_types(tmp_path):
    spec = tmp_path / "counter.md"
    spec.write_text("# Agent: Counter\n\n## Purpose\nCounts.\n\n## Inputs\n- count: int[0..10] — how many\n"
                    "- label: str? — optional\n", encoding="utf-8")
    result = _invoke(run, str(spec), "--input", '{"count": 42}')
    assert result.exit_code == 2  # a usage error: nothing ran, no cost table
    assert result.stderr.endswith("Error: inputs do not fit their declared types: "
                                  "count: Input should be less than or equal to 10\n")
    assert "cost:" not in result.output


GATE = """\
# Agent: Gate

## Purpose
Lets high scores through, with no model at all.

## Inputs
- score: int[0..10] — the score

## Outputs
- verdict: enum(OPEN|SHUT)
- reasoning: str

## Invariants
1. **GATE-001 Open only:** MUST open the gate. `check: verdict == "OPEN"`

## Workflow
### decide
- rules: Gate Rules
- outputs: verdict, reasoning

### Flow
- START → decide
- decide → END

## Rules
### Gate Rules
- SHUT when score < 5: "Too low ({score})."
- otherwise OPEN

## Examples
### ✅ A high score opens
**Input:** score: 9
**Expect:** verdict == "OPEN"

### ❌ A low score is refused
**Input:** score: 1
**Expect:** verdict == "SHUT"
"""


def test_cli_test_passes_a_rejection_example_that_an_invariant_refuses(tmp_path):
    spec = tmp_path / "gate.md"
    spec.write_text(GATE, encoding="utf-8")
    result = _invoke(cli_test, str(spec), "--cassettes", str(tmp_path))
    assert result.exit_code == 0, result.output
    def line(needle: str) -> int:
        return next(number for number, text in enumerate(GATE.splitlines(), 1) if needle in text)

    assert result.stdout.splitlines() == [
        f'PASS {spec}:{line("A high score")} ✅ A high score opens — Expect `verdict == "OPEN"` holds',
        f"PASS {spec}:{line('A low score')} ❌ A low score is refused — refused: invariant GATE-001 violated "
        f"({spec}:{line('GATE-001')}): Open only",
    ]
    assert result.stderr == "2 passed, 0 failed\n"


def test_cli_test_reports_a_spec_that_does_not_check_as_one_failed_line(tmp_path):
    broken = tmp_path / "broken.md"
    broken.write_text("# Agent: Broken\n\n## Purpose\nBreaks.\n\n## Inputs\n- n: nosuchtype\n", encoding="utf-8")
    result = _invoke(cli_test, str(broken))
    assert result.exit_code == 1
    assert result.stdout == (f"FAIL {broken}: {broken} does not check clean:\n"
                             f"{broken}:7:6: error[E022]: unknown type `nosuchtype`\n")
    assert result.stderr == "0 passed, 1 failed\n"


def test_cli_test_passes_over_specs_that_have_nothing_to_run():
    result = _invoke(cli_test, "specs")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 4
    assert result.stderr == "4 passed, 0 failed\n"


def test_resuming_an_unknown_thread_is_a_usage_error(tmp_path):
    result = _invoke(run, "specs/market_research.md", "--thread", "nosuch", "--checkpoint-db", str(tmp_path / "ck.sqlite"))
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: no checkpointed run for thread 'nosuch'; start one with --input\n")


def test_running_a_spec_without_a_graph_is_a_usage_error():
    result = _invoke(run, "specs/constitution.md", "--input", "x")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: specs/constitution.md: a constitution spec has no graph; only Agent and Team specs can run\n")


def test_no_run_or_step_timing_includes_the_litellm_import(monkeypatch):
    """Importing litellm costs seconds, once; the run factory does it before the run's clock
    starts. Here that import moves every clock on by 1000 s: a timing that began before it, the
    step's, the run's or the one `run.latency_s` (CON-004) reads, would show it."""
    import time

    from agent_factory.runtime import factory

    real_clock, real_import, moved = time.perf_counter, factory.litellm, []

    def slow_import():
        moved.append(1000.0)
        return real_import()

    monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + sum(moved))
    monkeypatch.setattr(factory, "litellm", slow_import)
    result = _invoke(run, "specs/market_research.md", "--input", "What are the top three AI trends this year?",
                     "--replay", "specs/cassettes/market_research", "--format", "json")
    data = json.loads(result.stdout)
    assert moved == [1000.0]  # the forced import did run, inside the command
    assert data["ok"] and data["latency_s"] < 1000
    latency = next(g for g in data["guards"] if g["id"] == "CON-004")
    assert (latency["check"], latency["status"], latency["detail"]) == ("run.latency_s <= 30", "passed", "")
    step = next(line for line in result.stderr.splitlines() if line.startswith("  ✓ agent ("))
    assert float(step.removeprefix("  ✓ agent (").removesuffix("s)")) < 1000
