"""The static cost estimate: calls × (prompt + max output tokens) × price, per step and path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_factory.cli.cost import cost as cost_command
from agent_factory.plugins import cost
from agent_factory.testing.plugins import compile_with_plugins

ROOT = Path(__file__).resolve().parents[2]

LOOP = """# Agent: Loop

## Purpose
A research loop.

## Tools
- web_search — recent facts

## Model
- tier: {tier}
{extra}
## Workflow
### research
- llm: {task}
- tools: web_search
- max_iterations: 4
- outputs: answer
- prompt: Research {{query}}.

### lookup
- tool: web_search
- args: query = query

### Flow
- START → research
- research → lookup
- lookup → END
"""


def _estimate(tier: str = "free", task: str = "research", extra: str = "") -> cost.Estimate:
    result = compile_with_plugins(LOOP.format(tier=tier, task=task, extra=extra))
    assert result.ok, result.diagnostics
    return cost.estimate(result.spec)


def test_a_step_row_is_calls_times_tokens_times_the_cheapest_allowed_price():
    found = _estimate()
    research = found.steps[0]
    sonar_in, sonar_out = cost.model_price("perplexity/sonar")
    assert (sonar_in, sonar_out) == (Decimal("0.000001"), Decimal("0.000001"))
    # max_iterations 4: four tool rounds, the answer and one repair request
    assert (research.calls, research.max_output_tokens, research.low.alias) == (6, cost.DEFAULT_MAX_TOKENS, "perplexity")
    assert research.usd_min == 6 * (research.prompt_tokens * sonar_in + 1024 * sonar_out)


def test_the_dearest_allowed_model_prices_the_max_column():
    found = _estimate(tier="pro")
    research = found.steps[0]
    assert (research.low.alias, research.high.alias) == ("perplexity", "claude")
    claude_in, claude_out = cost.model_price("anthropic/claude-sonnet-4-5")
    assert research.usd_max == 6 * (research.prompt_tokens * claude_in + 1024 * claude_out)


def test_tool_steps_make_no_llm_calls_and_paths_sum_their_steps():
    found = _estimate()
    assert [(s.step, s.calls, s.usd_min) for s in found.steps[1:]] == [("lookup", 0, Decimal(0))]
    (path,) = found.paths
    assert path.display() == "START → research → lookup → END"
    assert path.usd_min == found.steps[0].usd_min and path.complete


def test_a_step_no_allowed_model_serves_is_left_out_and_marks_the_path_incomplete():
    found = _estimate(task="complex_reasoning")
    assert found.steps[0].note == "no priced model serves task `complex_reasoning` at this tier"
    assert not found.paths[0].complete


def test_max_tokens_comes_from_the_model_section():
    found = _estimate(extra="- max_tokens: 100\n")
    assert found.steps[0].max_output_tokens == 100


def test_worst_case_above_the_budget_warns_with_path_and_numbers():
    result = compile_with_plugins(LOOP.format(tier="free", task="research", extra="- max_cost_per_run: $0.001\n"))
    (warning,) = result.diagnostics
    worst = cost.estimate(result.spec).worst.usd_min
    assert warning.code == "W701"
    assert warning.message == (f"the worst-case cost of a run is ${cost.money(worst)}, above max_cost_per_run $0.001000"
                               " (path START → research → lookup → END: 6 LLM calls at the cheapest allowed model)")


def test_react_agent_counts_the_runtimes_most_calls():
    result = compile_with_plugins("# Agent: R\n\n## Purpose\nAnswers.\n\n## Model\n- task: research\n")
    (step,) = cost.estimate(result.spec).steps
    assert (step.step, step.calls) == ("agent", 7)  # 5 tool rounds, the answer, one repair


def test_the_estimate_uses_the_runtimes_bounds():
    from agent_factory.runtime import nodes

    assert cost.DEFAULT_TOOL_ROUNDS == nodes.DEFAULT_TOOL_ROUNDS
    assert cost.DEFAULT_MAX_TOKENS == nodes.DEFAULT_MAX_TOKENS


def test_branches_give_one_path_each():
    text = LOOP.format(tier="free", task="research", extra="").replace(
        "- research → lookup\n- lookup → END", "- research → lookup when answer == \"\"\n- research → END otherwise\n- lookup → END")
    result = compile_with_plugins(text)
    assert result.ok, result.diagnostics
    assert [p.display() for p in cost.estimate(result.spec).paths] == [
        "START → research → lookup → END", "START → research → END"]


def test_config_prices_override_litellm(tmp_path, monkeypatch):
    (tmp_path / "agent-factory.toml").write_text(
        '[models.cheap]\nmodel = "my/model"\ninput_cost_per_token = 0.5\noutput_cost_per_token = 0.25\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    found = _estimate()
    step = found.steps[0]
    assert step.low.alias == "cheap"
    assert step.usd_min == 6 * (step.prompt_tokens * Decimal("0.5") + 1024 * Decimal("0.25"))


def test_cost_command_prints_the_table_and_json(tmp_path):
    spec = tmp_path / "loop.md"
    spec.write_text(LOOP.format(tier="free", task="research", extra=""), encoding="utf-8")
    text = CliRunner().invoke(cost_command, [str(spec)])
    assert text.exit_code == 0, text.output
    assert text.output.splitlines()[1].split() == ["step", "calls", "prompt", "tok", "max", "out", "tok", "model", "(min",
                                                   "/", "max)", "$", "min", "$", "max"]
    assert "START → research → lookup → END" in text.output
    data = json.loads(CliRunner().invoke(cost_command, [str(spec), "--format", "json"]).output)
    assert data["steps"][0]["cheapest"]["model"] == "perplexity/sonar"
    assert Decimal(data["worst_case_usd"]) == Decimal(data["steps"][0]["usd_min"])
    money = [data["usd_min"], data["usd_max"], data["worst_case_usd"], *(s[k] for s in data["steps"] for k in ("usd_min", "usd_max"))]
    assert all(len(value.split(".")[1]) == 6 for value in money), money


def test_cost_command_refuses_a_team_and_a_spec_with_errors(tmp_path):
    broken = tmp_path / "broken.md"
    broken.write_text("# Agent: B\n", encoding="utf-8")
    assert CliRunner().invoke(cost_command, [str(broken)]).exit_code == 1


def test_the_estimate_does_not_import_litellm():
    code = ("import sys; from agent_factory.compiler import check; from agent_factory.plugins import cost; "
            "r = check('specs/market_research.md'); cost.estimate(r.spec); print('litellm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cost_of_a_component_is_a_usage_error():
    from click.testing import CliRunner

    from agent_factory.cli.cost import cost

    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    result = CliRunner().invoke(cost, [str(root / "specs" / "webhook_signer.md")])
    assert result.exit_code == 2
    assert result.output == f"error: {root / 'specs' / 'webhook_signer.md'} is a component; cost estimates are for Agent specs\n"


DRAFTER = """# Agent: Drafter

## Purpose
Drafts and reviews a text until it is good.

## Inputs
- topic: str

## Outputs
- draft: str
- quality: int[0..10]
{model}
## Workflow
### draft
- llm: simple
- outputs: draft
- max_iterations: {limit}
- prompt: Draft a text about {{topic}}.

### review
- llm: simple
- outputs: quality
- prompt: Rate {{draft}} from 0 to 10.

### Flow
- START → draft
- draft → review
- review → END when quality >= 8
- review → draft otherwise
"""


def test_a_loop_counts_each_of_its_steps_as_often_as_max_iterations_lets_it_run():
    result = compile_with_plugins(DRAFTER.format(model="", limit=3))
    assert result.ok, result.diagnostics
    found = cost.estimate(result.spec)
    assert [(p.display(), p.calls, p.complete) for p in found.paths] == [
        ("START → draft → review → END", 4, True),  # one visit each: the answer and a repair
        ("START → draft → review", 12, True),  # the loop: three visits of both steps
    ]
    assert found.worst.calls == 12


def test_a_loop_without_max_iterations_is_an_incomplete_lower_bound():
    text = DRAFTER.format(model="", limit=3).replace("- max_iterations: 3\n", "")
    result = compile_with_plugins(text)
    assert result.ok, result.diagnostics
    looping = cost.estimate(result.spec).paths[1]
    assert (looping.calls, looping.complete) == (4, False)


def test_a_spec_without_a_budget_is_compared_with_its_tiers(tmp_path, monkeypatch):
    (tmp_path / "agent-factory.toml").write_text(
        '[models.cheap]\nmodel = "my/model"\ninput_cost_per_token = 0.001\noutput_cost_per_token = 0.001\n'
        'tasks = ["simple"]\n\n[tiers.free]\nmodels = ["cheap"]\nmax_cost_per_run = 1.5\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = compile_with_plugins(DRAFTER.format(model="", limit=3))
    found = cost.estimate(result.spec)
    assert (found.limit, found.limit_source) == (Decimal("1.5"), "`free` tier")
    (warning,) = result.diagnostics
    assert (warning.code, warning.message, warning.hint) == (
        "W701",
        f"the worst-case cost of a run is ${cost.money(found.worst.usd_min)}, above the `free` tier's max_cost_per_run "
        "$1.500000 (path START → draft → review: 12 LLM calls at the cheapest allowed model)",
        "raise the `free` tier's budget (agent-factory.toml), lower max_tokens or max_iterations, or allow a cheaper "
        "model; the runtime budget refuses the call that would cross the limit; see `agent-factory cost`")
    spec = tmp_path / "drafter.md"
    spec.write_text(DRAFTER.format(model="", limit=3), encoding="utf-8")
    assert CliRunner().invoke(cost_command, [str(spec)]).output.splitlines()[-1].endswith(
        "(max_cost_per_run $1.500000, the `free` tier's)")


@pytest.fixture
def fresh_cost_map():
    """The cost-map caches emptied before and after (another text may be put in)."""
    for cached in (cost.cost_entry, cost.cost_map):
        cached.cache_clear()
    yield cost
    for cached in (cost.cost_entry, cost.cost_map, cost.cost_map_text, cost.cost_map_path, cost._known_prices,
                   cost._cost_map_id):
        cached.cache_clear()


def test_a_price_looked_up_once_is_read_from_the_user_cache_next_time(fresh_cost_map, tmp_path, monkeypatch):
    cost = fresh_cost_map
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("AGENT_FACTORY_NO_CACHE", raising=False)
    cost._known_prices.cache_clear()
    assert cost.model_price("perplexity/sonar") == (Decimal("0.000001"), Decimal("0.000001"))
    assert cost.model_price("no-such-model") is None
    cost._known_prices.cache_clear()  # a new process
    monkeypatch.setattr(cost, "cost_entry", lambda key: pytest.fail(f"the cost map was searched for {key}"))
    assert cost.model_price("perplexity/sonar") == (Decimal("0.000001"), Decimal("0.000001"))
    assert cost.model_price("no-such-model") is None


def test_a_model_price_is_read_without_parsing_the_whole_cost_map(fresh_cost_map):
    cost = fresh_cost_map
    entry = cost.cost_entry("gpt-4o")
    assert cost.cost_map.cache_info().currsize == 0  # the 3 MB map was not parsed
    assert entry == json.loads(cost.cost_map_text())["gpt-4o"]
    assert cost.cost_entry("no-such-model") is None
    assert cost.cost_map.cache_info().currsize == 0


def test_the_cost_map_entry_is_the_one_json_loads_keeps_whatever_the_layout(fresh_cost_map, monkeypatch):
    cost = fresh_cost_map
    pretty = '{\n    "m": {"input_cost_per_token": 1},\n    "n": "text",\n    "m": {\n        "input_cost_per_token": 2\n    }\n}'
    compact = '{"m": {"input_cost_per_token": 3}, "n": {"input_cost_per_token": 4}}'
    for text, expected in ((pretty, {"m": {"input_cost_per_token": 2}, "n": "text"}),
                           (compact, {"m": {"input_cost_per_token": 3}, "n": {"input_cost_per_token": 4}})):
        monkeypatch.setattr(cost, "cost_map_text", lambda text=text: text)
        for cached in (cost.cost_entry, cost.cost_map):
            cached.cache_clear()
        assert {key: cost.cost_entry(key) for key in ("m", "n")} == expected
        assert cost.cost_entry("x") is None


def test_prices_are_looked_up_again_in_a_cost_map_replaced_with_the_same_size_and_time(
        fresh_cost_map, tmp_path, monkeypatch):
    # an installer may keep the archive's modification time, and two releases' maps one size
    cost = fresh_cost_map
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("AGENT_FACTORY_NO_CACHE", raising=False)
    path = tmp_path / cost.COST_MAP_FILE
    monkeypatch.setattr(cost, "cost_map_path", lambda: path)

    def install(price: str) -> None:
        new = tmp_path / "new.json"
        new.write_text(json.dumps({"m": {"input_cost_per_token": float(price), "output_cost_per_token": float(price)}},
                                  indent=4), encoding="utf-8")
        os.utime(new, ns=(0, 10**18))
        os.replace(new, path)

    def first_check() -> tuple[Decimal, Decimal] | None:
        for cached in (cost.cost_entry, cost.cost_map, cost.cost_map_text, cost._known_prices, cost._cost_map_id):
            cached.cache_clear()
        return cost.model_price("m")

    install("0.1")
    assert first_check() == (Decimal("0.1"), Decimal("0.1"))
    install("0.2")
    assert first_check() == (Decimal("0.2"), Decimal("0.2"))
