"""Choosing the coding agent's model and budget from the job, the runtime config and flags."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import STUB_KEY_ENV
from specs import component

from agent_factory.codegen import CodegenError
from agent_factory.codegen.job import ModelChoice
from agent_factory.codegen.llm_config import choose_alias, resolve_llm, run_budget
from agent_factory.codegen.lower import job_from_spec
from agent_factory.runtime.config import default_config, parse_config


def test_code_generation_picks_the_first_alias_serving_it_in_the_tier():
    assert choose_alias(ModelChoice(task="code_generation", tier="pro"), default_config()) == "claude"


def test_no_alias_for_the_task_in_the_tier_says_what_to_do():
    with pytest.raises(CodegenError) as raised:
        choose_alias(ModelChoice(task="code_generation"), default_config())
    assert str(raised.value) == (
        "no model alias in <embedded defaults> serves the task 'code_generation' in tier 'free'; "
        "pass --model (a litellm model) or --alias, or set a tier that allows such a model in the spec's Model section"
    )


def test_the_specs_allow_list_restricts_the_choice():
    choice = ModelChoice(task="simple", tier="pro", models=("perplexity",))
    assert choose_alias(choice, default_config()) == "perplexity"


def test_model_flag_bypasses_the_config():
    job = job_from_spec(component())
    settings = resolve_llm(job, default_config(), model="openai/gpt-4o-mini", base_url="http://127.0.0.1:1/v1", api_key_env=STUB_KEY_ENV)
    assert (settings.model, settings.base_url, settings.api_key, settings.alias) == (
        "openai/gpt-4o-mini", "http://127.0.0.1:1/v1", "stub-key", None,
    )
    assert "stub-key" not in repr(settings)


def test_the_jobs_alias_comes_from_the_config_with_its_prices():
    config = parse_config(
        '[models.coder]\nmodel = "openai/coder"\napi_base = "http://127.0.0.1:1/v1"\n'
        f'api_key_env = "{STUB_KEY_ENV}"\ninput_cost_per_token = 0.000001\noutput_cost_per_token = 0.000002\n'
    )
    settings = resolve_llm(job_from_spec(component()), config)
    assert (settings.model, settings.alias, settings.input_cost_per_token) == ("openai/coder", "coder", Decimal("0.000001"))


def test_an_unknown_alias_names_the_known_ones():
    with pytest.raises(CodegenError) as raised:
        resolve_llm(job_from_spec(component()), default_config())
    assert str(raised.value) == (
        "model alias 'coder' is not defined in <embedded defaults>; known aliases: local, perplexity, claude"
    )


def test_a_missing_api_key_variable_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("AF_NOT_SET", raising=False)
    with pytest.raises(CodegenError, match="the environment variable AF_NOT_SET"):
        resolve_llm(job_from_spec(component()), default_config(), model="openai/x", api_key_env="AF_NOT_SET")


def test_budget_is_the_smallest_of_spec_tier_and_flag():
    job = job_from_spec(component(max_cost=Decimal("0.50")))
    assert run_budget(job, None) == Decimal("0.50")
    assert run_budget(job, default_config()) == Decimal("0.05")  # the free tier's ceiling
    assert run_budget(job, None, Decimal("0.10")) == Decimal("0.10")
    assert run_budget(job_from_spec(component(max_cost=None)), None) is None
