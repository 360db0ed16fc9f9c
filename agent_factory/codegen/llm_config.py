"""Which model the coding agent talks to, and the run's budget.

The job says what the spec asks for (an alias from its `models:` allow-list, or just the
`code_generation` task, a tier and a fallback chain); the runtime configuration
(`agent-factory.toml`, `agent_factory.runtime.config`) says what each alias is. Command-line
options override both: `--model` names a litellm model directly, `--alias` a configured alias.
`choose_alias` is deliberately small; when the router grows a public "pick a model for this
task" function it should be called from here instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal

from agent_factory.runtime.config import RuntimeConfig, load_config
from agent_factory.runtime.errors import ConfigError

from .errors import CodegenError
from .job import Job, ModelChoice


@dataclass(frozen=True)
class LLMSettings:
    """What the SDK's `LLM` is built from: litellm `model`, `base_url`, `api_key` (never
    printed), prices per token (None: litellm's cost map), `timeout_s`, `temperature`,
    `max_output_tokens`, `retries`, and the config `alias` it came from (None for `--model`)."""

    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    input_cost_per_token: Decimal | None = None
    output_cost_per_token: Decimal | None = None
    timeout_s: float | None = None
    temperature: Decimal | None = None
    max_output_tokens: int | None = None
    retries: int = 3
    alias: str | None = None


def load_runtime_config(path: str | None) -> RuntimeConfig:
    """`agent_factory.runtime.config.load_config`, its errors turned into `CodegenError`."""
    try:
        return load_config(path)
    except ConfigError as exc:
        raise CodegenError(str(exc)) from None


def resolve_llm(
    job: Job,
    config: RuntimeConfig,
    *,
    model: str | None = None,
    alias: str | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
) -> LLMSettings:
    """The coding agent's LLM: `--model` as given, else the alias `--alias`, the job's alias
    or the first alias of the chain serving the job's task in its tier."""
    choice = job.model
    if model:
        return LLMSettings(
            model=model, base_url=base_url, api_key=api_key(api_key_env),
            temperature=choice.temperature, max_output_tokens=choice.max_tokens,
        )
    name = alias or choice.alias or choose_alias(choice, config)
    if name not in config.models:
        raise CodegenError(f"model alias '{name}' is not defined in {config.source}; known aliases: {', '.join(config.models)}")
    entry = config.alias(name)
    return LLMSettings(
        model=entry.model, base_url=base_url or entry.api_base, api_key=api_key(api_key_env or entry.api_key_env),
        input_cost_per_token=entry.input_cost_per_token, output_cost_per_token=entry.output_cost_per_token,
        # not the router's per-call timeout: a coding agent's calls write whole files and run long
        timeout_s=entry.timeout_seconds,
        temperature=choice.temperature, max_output_tokens=choice.max_tokens, alias=name,
    )


def choose_alias(choice: ModelChoice, config: RuntimeConfig) -> str:
    """The first alias in the fallback chain that serves the task, is allowed by the tier
    and (when the spec lists models) by the spec."""
    tier = choice.tier or config.router.default_tier
    allowed = set(config.tier(tier).models)
    for name in config.chain(choice.fallback):
        entry = config.models[name]
        if name in allowed and choice.task in entry.tasks and (not choice.models or name in choice.models):
            return name
    raise CodegenError(
        f"no model alias in {config.source} serves the task '{choice.task}' in tier '{tier}'; "
        "pass --model (a litellm model) or --alias, or set a tier that allows such a model in the spec's Model section"
    )


def api_key(env_name: str | None) -> str | None:
    """The key held by the environment variable `env_name` (None when no name is given)."""
    if not env_name:
        return None
    value = os.environ.get(env_name)
    if not value:
        raise CodegenError(f"the environment variable {env_name} (the model's API key) is not set")
    return value


def run_budget(job: Job, config: RuntimeConfig | None, max_cost: Decimal | None = None) -> Decimal | None:
    """The run's limit in dollars: the smallest of the spec's `max_cost_per_run`, `--max-cost`
    and, when the model comes from `config`, its tier's ceiling (None when none is set)."""
    tier_limit = config.tier(job.model.tier or config.router.default_tier).max_cost_per_run if config else None
    limits = [job.budget.max_cost_usd, tier_limit, max_cost]
    set_limits = [limit for limit in limits if limit is not None]
    return min(set_limits) if set_limits else None
