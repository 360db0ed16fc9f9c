"""Acceptance commands, workspace snapshots, id tracing and the report — no LLM, no SDK."""

from __future__ import annotations

import time
from decimal import Decimal

from specs import component

from agent_factory.codegen.acceptance import run_acceptance, run_command, truncate
from agent_factory.codegen.job import AcceptanceCommand
from agent_factory.codegen.lower import job_from_spec
from agent_factory.codegen.report import build_report
from agent_factory.codegen.workspace import Touched, id_pattern, snapshot, touched, traced_in


def cmd(text: str) -> AcceptanceCommand:
    return AcceptanceCommand(command=text, line=1)


def test_passing_and_failing_commands_both_run_and_report_exit_codes(tmp_path):
    results = run_acceptance((cmd("exit 3"), cmd("echo ok")), tmp_path, timeout_s=30)
    assert [(r.exit_code, r.passed, r.output) for r in results] == [(3, False, ""), (0, True, "ok\n")]


def test_commands_run_in_the_workspace(tmp_path):
    (tmp_path / "marker.txt").write_text("here")
    assert run_command(cmd("cat marker.txt"), tmp_path, 30).output == "here"


def test_acceptance_finds_this_interpreter_as_python(tmp_path):
    result = run_command(cmd("python -c 'import click; print(click.__name__)'"), tmp_path, 60)
    assert (result.passed, result.output) == (True, "click\n")


def test_a_timeout_kills_the_whole_command_and_fails(tmp_path):
    started = time.monotonic()
    result = run_command(cmd("sleep 30 | cat"), tmp_path, 0.5)
    assert time.monotonic() - started < 10
    assert (result.exit_code, result.passed, result.timed_out) == (None, False, True)
    assert result.output.endswith("[timed out after 0.5 s]")


def test_long_output_keeps_its_tail():
    assert truncate("x" * 10 + "END", limit=5) == "[… 8 characters cut …]\nxxEND"
    assert truncate("short", limit=5) == "short"


def test_snapshots_show_added_modified_and_deleted_files_but_not_caches(tmp_path):
    (tmp_path / "keep.py").write_text("1")
    (tmp_path / "edit.py").write_text("1")
    (tmp_path / "gone.py").write_text("1")
    before = snapshot(tmp_path)
    (tmp_path / "edit.py").write_text("2")
    (tmp_path / "gone.py").unlink()
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "new.py").write_text("1")
    for cache in ("__pycache__", ".agent-factory", ".pytest_cache"):
        (tmp_path / cache).mkdir()
        (tmp_path / cache / "x").write_text("1")
    assert touched(before, snapshot(tmp_path)) == [
        Touched("edit.py", "modified"), Touched("gone.py", "deleted"), Touched("pkg/new.py", "added"),
    ]


def test_requirement_ids_trace_in_any_case_with_dash_or_underscore_but_not_as_prefixes(tmp_path):
    pattern = id_pattern("REQ-WH-001")
    assert pattern.search("def test_req_wh_001_signs():")
    assert pattern.search("# REQ-WH-001: constant time")
    assert not pattern.search("REQ-WH-0012")
    assert not pattern.search("XREQ-WH-001")
    (tmp_path / "a.py").write_text("# REQ-WH-001\n")
    (tmp_path / "b.py").write_text("nothing\n")
    assert traced_in(tmp_path, ["b.py", "a.py", "missing.py"], "REQ-WH-001") == ["a.py"]


def report_for(tmp_path, acceptance, workspace_sha="same", files=()):
    job = job_from_spec(component(acceptance=acceptance))
    sha = job.spec_sha256 if workspace_sha == "same" else workspace_sha
    results = run_acceptance(job.acceptance, tmp_path, 30)
    return build_report(job, mode="verify", workspace=tmp_path, workspace_sha=sha, acceptance=results, files_touched=list(files))


def test_a_failing_acceptance_command_fails_every_requirement_with_the_reason(tmp_path):
    report = report_for(tmp_path, ("true", "exit 1"))
    assert report.status == "fail"
    assert report.reasons == ("acceptance command `exit 1` failed (exit 1)",)
    assert {rid: r.status for rid, r in report.requirements.items()} == {"REQ-CALC-001": "fail", "REQ-CALC-002": "fail"}
    assert report.requirements["REQ-CALC-001"].evidence.acceptance == (
        {"command": "true", "passed": True, "exit_code": 0},
        {"command": "exit 1", "passed": False, "exit_code": 1},
    )


def test_passing_acceptance_passes_and_maps_traced_files_to_requirements(tmp_path):
    (tmp_path / "calc.py").write_text("def add(a, b):  # REQ-CALC-001\n    return a + b\n")
    report = report_for(tmp_path, ("true",), files=[Touched("calc.py", "added")])
    assert report.status == "pass" and report.reasons == ()
    assert report.requirements["REQ-CALC-001"].evidence.files_touched == ("calc.py",)
    assert report.warnings == ("REQ-CALC-002 is not quoted in any file the run touched",)
    assert report.cost.budget_usd == Decimal("0.50")


def test_no_acceptance_commands_means_nothing_was_verified(tmp_path):
    report = report_for(tmp_path, ())
    assert (report.status, report.reasons) == ("fail", ("the job has no acceptance commands, so nothing was verified",))


def test_a_workspace_from_another_spec_hash_is_stale_even_when_tests_pass(tmp_path):
    report = report_for(tmp_path, ("true",), workspace_sha="0" * 64)
    assert (report.status, report.stale) == ("fail", True)
    assert report.reasons[0].startswith("the workspace was generated from spec sha256 000000000000…, but the job is for ")


def test_a_workspace_without_marker_is_unverified(tmp_path):
    report = report_for(tmp_path, ("true",), workspace_sha=None)
    assert report.reasons == (
        "the workspace has no .agent-factory/job.json: it was not generated by `agent-factory codegen run`",
    )
