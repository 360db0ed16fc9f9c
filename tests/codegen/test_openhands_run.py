"""Real OpenHands conversations against the scripted stub LLM on 127.0.0.1.

The stub answers with tool calls (create files, run a command, finish); the OpenHands SDK
executes them with our workspace tools; then the acceptance commands run for real.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import STUB_KEY_ENV
from specs import component

from agent_factory.cli.codegen import codegen
from agent_factory.codegen.llm_config import LLMSettings
from agent_factory.codegen.runner import run_job
from agent_factory.testing import StubLLM, error, reply, scripted

CALC = "def add(a, b):  # REQ-CALC-001\n    return a + b\n"
TEST = "from calc import add\n\n\ndef test_req_calc_001_adds():\n    assert add(2, 3) == 5\n"
CHECK_CALC = ("python -c 'import calc; assert calc.add(2, 3) == 5'",)  # cheaper than pytest where pytest is not the point
BROKEN_TEST = "from calc import add\n\n\ndef test_req_calc_001_adds():\n    assert add(2, 3) == 6\n"


def create(path: str, text: str):
    """The stub model asks `file_editor` to create `path`."""
    return reply("", tool_calls=[{"name": "file_editor", "arguments": {"command": "create", "path": path, "file_text": text}}])


def terminal(command: str):
    return reply("", tool_calls=[{"name": "terminal", "arguments": {"command": command}}])


def finish(message: str = "REQ-CALC-001 is in calc.py and test_calc.py"):
    return reply("", tool_calls=[{"name": "finish", "arguments": {"message": message}}])


def run_cli(*args: str):
    return CliRunner().invoke(codegen, list(args), catch_exceptions=False)


def model_flags(stub: StubLLM) -> list[str]:
    return ["--model", "openai/gpt-4o-mini", "--base-url", stub.base_url, "--api-key-env", STUB_KEY_ENV]


def read_report(workspace: Path, name: str = "report.json") -> dict:
    return json.loads((workspace / ".agent-factory" / name).read_text(encoding="utf-8"))


def test_a_scripted_agent_writes_code_that_passes_and_the_report_maps_requirement_ids(tmp_path, write_job):
    job_dir, workspace = write_job(component()), tmp_path / "ws"
    script = scripted([create("calc.py", CALC), create("test_calc.py", TEST), terminal("python -m pytest -q"), finish()])
    with StubLLM(script) as stub:
        result = run_cli("run", str(job_dir), "--workspace", str(workspace), *model_flags(stub))
        first, last = stub.requests[0], stub.requests[-1]
    assert result.exit_code == 0, result.output
    assert (workspace / "calc.py").read_text() == CALC
    report = read_report(workspace)
    assert (report["status"], report["mode"], report["stale"], report["reasons"]) == ("pass", "run", False, [])
    assert report["agent"]["status"] == "finished" and report["agent"]["llm_calls"] == 4
    assert report["files_touched"] == [{"path": "calc.py", "change": "added"}, {"path": "test_calc.py", "change": "added"}]
    req = report["requirements"]["REQ-CALC-001"]
    assert (req["status"], req["evidence"]["files_touched"]) == ("pass", ["calc.py", "test_calc.py"])
    assert req["evidence"]["acceptance"] == [{"command": "python -m pytest -q", "passed": True, "exit_code": 0}]
    assert report["requirements"]["REQ-CALC-002"]["evidence"]["files_touched"] == []
    assert Decimal(report["cost"]["usd"]) > 0 and report["cost"]["budget_usd"] == "0.50"
    assert report["spec_sha256"] == report["workspace_spec_sha256"]
    # The coding agent got TASK.md (with every id) and our tools; it saw the test run's output.
    task = first["messages"][1]["content"]
    task = task if isinstance(task, str) else "".join(part["text"] for part in task)
    assert "### REQ-CALC-001 Add numbers" in task and "### REQ-CALC-002 No globals" in task
    assert {"file_editor", "terminal", "finish"} <= {tool["function"]["name"] for tool in first["tools"]}
    assert "1 passed" in json.dumps(last["messages"][-1])
    assert result.stdout.startswith("PASS: calc (run), report written to ")


def test_a_failing_acceptance_gives_a_failing_report_not_an_exception(tmp_path, write_job):
    job_dir, workspace = write_job(component()), tmp_path / "ws"
    with StubLLM(scripted([create("calc.py", CALC), create("test_calc.py", BROKEN_TEST), finish()])) as stub:
        result = run_cli("run", str(job_dir), "--workspace", str(workspace), *model_flags(stub), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report == read_report(workspace)
    assert report["status"] == "fail"
    assert report["reasons"] == ["acceptance command `python -m pytest -q` failed (exit 1)"]
    assert {rid: r["status"] for rid, r in report["requirements"].items()} == {"REQ-CALC-001": "fail", "REQ-CALC-002": "fail"}
    assert "assert 5 == 6" in report["acceptance"][0]["output"]


def test_the_model_alias_comes_from_the_runtime_config_and_prices_give_the_cost(tmp_path, write_job):
    job_dir, workspace = write_job(component(acceptance=CHECK_CALC)), tmp_path / "ws"
    with StubLLM(scripted([
        reply("", tool_calls=[{"name": "file_editor", "arguments": {"command": "create", "path": "calc.py", "file_text": CALC}}],
              prompt_tokens=1000, completion_tokens=100),
        reply("", tool_calls=[{"name": "finish", "arguments": {"message": "done"}}], prompt_tokens=2000, completion_tokens=10),
    ])) as stub:
        config = tmp_path / "agent-factory.toml"
        config.write_text(
            f'[models.coder]\nmodel = "openai/coder-model"\napi_base = "{stub.base_url}"\napi_key_env = "{STUB_KEY_ENV}"\n'
            "input_cost_per_token = 0.000001\noutput_cost_per_token = 0.00001\n"
        )
        result = run_cli("run", str(job_dir), "--workspace", str(workspace), "--config", str(config))
        models = {r["model"] for r in stub.requests}
    assert result.exit_code == 0, result.output
    report = read_report(workspace)
    assert models == {"coder-model"}
    assert report["agent"] == {"status": "finished", "model": "openai/coder-model", "llm_calls": 2, "detail": None}
    assert report["cost"] == {"usd": "0.0041", "prompt_tokens": 3000, "completion_tokens": 110, "budget_usd": "0.50"}


def test_verify_passes_on_the_generated_workspace_and_detects_an_older_spec_hash(tmp_path, write_job):
    job_dir, workspace = write_job(component(acceptance=CHECK_CALC)), tmp_path / "ws"
    with StubLLM(scripted([create("calc.py", CALC), create("test_calc.py", TEST), finish()])) as stub:
        assert run_cli("run", str(job_dir), "--workspace", str(workspace), *model_flags(stub)).exit_code == 0
    verified = run_cli("verify", str(job_dir), "--workspace", str(workspace))
    assert verified.exit_code == 0, verified.output
    report = read_report(workspace, "verify-report.json")
    assert (report["status"], report["mode"], report["agent"]) == ("pass", "verify", None)
    assert report["requirements"]["REQ-CALC-001"]["evidence"]["files_touched"] == ["calc.py", "test_calc.py"]

    newer = write_job(component(acceptance=CHECK_CALC, sha_seed="v2"), out=tmp_path / "out-v2")
    stale = run_cli("verify", str(newer), "--workspace", str(workspace), "--format", "json")
    assert stale.exit_code == 1
    report = json.loads(stale.output)
    assert (report["status"], report["stale"]) == ("fail", True)
    assert report["acceptance"][0]["passed"] is True  # the tests still pass, but for an older spec
    assert report["reasons"] == [
        f"the workspace was generated from spec sha256 {report['workspace_spec_sha256'][:12]}…, but the job is for "
        f"{report['spec_sha256'][:12]}… (specs/calc.md changed): run `agent-factory codegen run` again"
    ]


def test_verify_refuses_a_missing_workspace_and_fails_an_unmarked_one(tmp_path, write_job):
    job_dir = write_job(component(acceptance=("true",)))
    missing = run_cli("verify", str(job_dir), "--workspace", str(tmp_path / "nope"))
    assert (missing.exit_code, missing.output) == (2, f"error: {tmp_path / 'nope'}: no such workspace; generate it with `agent-factory codegen run`\n")
    (tmp_path / "plain").mkdir()
    unmarked = run_cli("verify", str(job_dir), "--workspace", str(tmp_path / "plain"))
    assert unmarked.exit_code == 1
    assert "reason: the workspace has no .agent-factory/job.json" in unmarked.output


def test_a_provider_that_keeps_failing_ends_the_agent_with_an_error_outcome(tmp_path, write_job):
    job_dir, workspace = write_job(component(acceptance=("true",))), tmp_path / "ws"
    with StubLLM(error(500, "provider down")) as stub:
        settings = LLMSettings(model="openai/gpt-4o-mini", base_url=stub.base_url, api_key="k", retries=0)
        report, _path = run_job(job_dir, workspace, settings, budget=None)
    assert report.agent.status == "error"
    assert "provider down" in report.agent.detail
    assert report.status == "pass"  # acceptance (`true`) still ran and passed; the warning says what happened
    assert report.warnings[0].startswith("the coding agent did not finish (error: ")


def test_the_budget_stops_the_agent(tmp_path, write_job):
    job_dir, workspace = write_job(component(acceptance=("true",))), tmp_path / "ws"
    with StubLLM(create("calc.py", CALC)) as stub:  # the model never finishes on its own
        settings = LLMSettings(
            model="openai/pricey", base_url=stub.base_url, api_key="k", retries=0,
            input_cost_per_token=Decimal("0.001"), output_cost_per_token=Decimal("0.001"),
        )
        report, _path = run_job(job_dir, workspace, settings, budget=Decimal("0.01"))
        calls = len(stub.requests)
    # the first call's worst case (its request size at $0.001 a token) is far above $0.01:
    # it is refused before it is sent, so nothing is spent
    assert report.agent.status == "budget"
    assert calls == 0 and report.cost.usd == Decimal(0)
    assert report.agent.detail.startswith("the next call could cost up to $")
    assert report.agent.detail.endswith("with $0.000000 spent that would pass the budget of $0.01")


def test_a_job_never_ends_above_its_budget(tmp_path, write_job):
    job_dir, workspace = write_job(component(acceptance=("true",))), tmp_path / "ws"
    with StubLLM(create("calc.py", CALC)) as stub:  # the model never finishes on its own
        settings = LLMSettings(
            model="openai/cheapish", base_url=stub.base_url, api_key="k", retries=0, max_output_tokens=100,
            input_cost_per_token=Decimal("0.0000001"), output_cost_per_token=Decimal("0.0000001"),
        )
        report, _path = run_job(job_dir, workspace, settings, budget=Decimal("0.003"))
        calls = len(stub.requests)
    assert report.agent.status == "budget"
    assert calls == report.agent.llm_calls == 2  # two calls fit, the third is refused before it is sent
    assert Decimal(0) < report.cost.usd <= Decimal("0.003")
    assert report.agent.detail.endswith(f"with ${report.cost.usd:.6f} spent that would pass the budget of $0.003")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../escape.py", "../escape.py: outside the workspace; use paths inside "),
        (".agent-factory/job.json", ".agent-factory/job.json: .agent-factory/ belongs to agent-factory; write elsewhere"),
    ],
)
def test_file_editor_refuses_paths_outside_the_workspace(tmp_path, path, message):
    from agent_factory.codegen.sdk import import_sdk

    import_sdk()
    from agent_factory.codegen.tools import WorkspaceFileAction, WorkspaceFileExecutor

    observation = WorkspaceFileExecutor(tmp_path)(WorkspaceFileAction(command="create", path=path, file_text="x"))
    assert observation.is_error and observation.text.startswith(message)
    assert not (tmp_path.parent / "escape.py").exists()


def test_file_editor_views_and_replaces_exactly_one_occurrence(tmp_path):
    from agent_factory.codegen.sdk import import_sdk

    import_sdk()
    from agent_factory.codegen.tools import WorkspaceFileAction, WorkspaceFileExecutor

    editor = WorkspaceFileExecutor(tmp_path)
    (tmp_path / "a.py").write_text("x = 1\nx = 1\ny = 2\n")
    twice = editor(WorkspaceFileAction(command="str_replace", path="a.py", old_str="x = 1", new_str="x = 3"))
    assert twice.text == "old_str occurs 2 times in a.py; it must occur exactly once"
    once = editor(WorkspaceFileAction(command="str_replace", path="a.py", old_str="y = 2", new_str="y = 4"))
    assert (once.is_error, (tmp_path / "a.py").read_text()) == (False, "x = 1\nx = 1\ny = 4\n")
    assert editor(WorkspaceFileAction(command="view", path="a.py")).text == "     1\tx = 1\n     2\tx = 1\n     3\ty = 4"
