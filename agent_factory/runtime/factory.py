"""`RunFactory`: what every run of one spec shares, loaded once; and the fresh `Runtime` of each run.

A compiled graph is shared by every run of its spec (in `agent-factory run`, under `langgraph
dev`, in the hosted API, in a user's own `graph.invoke`), so nothing a run accumulates may live
on it. The factory holds only what does not change between runs — the checked spec and its plan,
the runtime configuration, the `[tools]` table, the tier, the price book, the specs of nested
agents — and `open()` makes each run its own `Runtime`: budget, cost ledger, router, guard
results, clock and a tool runner with the configured providers, closed when the run ends.

Everything that blocks (reading the configuration files, importing litellm, pricing the aliases)
happens in `RunFactory.load`, at import or build time: LangGraph's server refuses blocking calls
on its event loop, which is where nodes run.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_factory.compiler import GraphPlan, Spec, plan_graph

from .budget import Budget, CostLedger
from .config import RuntimeConfig, load_config
from .config_view import CONFIG_FILENAME
from .errors import ConfigError
from .llm import litellm
from .nodes import Runtime, ToolTape
from .pricing import PriceBook
from .replay import ReplayStore
from .router import Router
from .tools import ToolConfig, ToolContext, ToolRunner, resolve_tools

CONFIG_ENV = "AGENT_FACTORY_CONFIG"
"""Names the `agent-factory.toml` a generated graph module uses (else the one beside it)."""


@dataclass(frozen=True)
class RunFactory:
    """The read-only half of a spec's runs (see the module doc). `nested` holds the specs of
    Team members and `agent:` steps by the path the plan names them with; `providers` are tool
    provider objects by tool name (plugins and tests), given to every run's tool context."""

    spec: Spec
    plan: GraphPlan
    config: RuntimeConfig
    tool_config: ToolConfig
    tier: str
    prices: PriceBook
    nested: Mapping[str, Spec] = field(default_factory=dict)
    providers: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(
        cls, spec: Spec, *, plan: GraphPlan | None = None, config: RuntimeConfig | str | Path | None = None,
        tool_config: ToolConfig | None = None, tier: str | None = None, nested: Mapping[str, Spec] | None = None,
        providers: Mapping[str, Any] | None = None,
    ) -> RunFactory:
        """Read the configuration (a `RuntimeConfig`, a path, or `./agent-factory.toml` / the
        defaults) and its `[tools]` table, import litellm and price the aliases, all now."""
        runtime_config = config if isinstance(config, RuntimeConfig) else load_config(config)
        chosen = tier or (spec.model.tier if spec.model and spec.model.tier else runtime_config.router.default_tier)
        prices = PriceBook(runtime_config)
        litellm()  # seconds on first use: here, not in the first run's first node
        _price_every_alias(prices, runtime_config)
        return cls(spec, plan or plan_graph(spec), runtime_config, tool_config or tools_table(config), chosen, prices,
                   dict(nested or {}), dict(providers or {}))

    def runtime(
        self, *, replay: str | Path | None = None, record: str | Path | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None, tool_context: ToolContext | None = None,
    ) -> Runtime:
        """A fresh run of the spec: its own budget, ledger, router, tool runner and clock.
        Enter its tool runner (`async with rt.tools`), or use `open`, which does."""
        store = ReplayStore(replay, "replay") if replay else ReplayStore(record, "record") if record else None
        tape = ToolTape(replay, "replay") if replay else ToolTape(record, "record") if record else None
        router = Router(self.config, CostLedger(), Budget.for_run(self.spec.model, self.config, self.tier), store,
                        prices=self.prices)
        context = tool_context or ToolContext(config=self.tool_config, providers=dict(self.providers))
        runner = ToolRunner(resolve_tools(self.spec.tools), context=context)
        # the run's clock starts here, after `load` imported litellm: no timing includes that import
        return Runtime(self.spec, self.plan, self.config, router, runner, self.tier, tape=tape, on_event=on_event,
                       nested=self.nested, started=time.perf_counter())

    @asynccontextmanager
    async def open(self, **options: Any) -> AsyncIterator[Runtime]:
        """`runtime(**options)` with its tool runner open for the run, closed after it."""
        rt = self.runtime(**options)
        async with rt.tools:
            yield rt


def _price_every_alias(prices: PriceBook, config: RuntimeConfig) -> None:
    """Price each alias now (litellm's cost map is read from disk); an alias priced nowhere is
    left for the run that plans it to report, as it always was."""
    for name in config.models:
        try:
            prices.price(name)
        except ConfigError:
            pass


def tools_table(config: RuntimeConfig | str | Path | None) -> ToolConfig:
    """The `[tools]` table of the configuration file in use (defaults when there is none)."""
    if isinstance(config, RuntimeConfig):
        path = Path(config.source)
    else:
        path = Path(config) if config is not None else Path(CONFIG_FILENAME)
    if not path.is_file():
        return ToolConfig()
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("tools", {})
        return ToolConfig.model_validate(table)
    except (OSError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: invalid [tools] table: {exc}") from None


def config_beside(module_file: str | Path) -> Path | None:
    """The configuration a generated module runs with: `$AGENT_FACTORY_CONFIG`, else the
    `agent-factory.toml` in the module's folder or the application folder above it; None
    (the working folder's, else the defaults) when there is none."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        return Path(named)
    folder = Path(module_file).resolve().parent
    return next((p for p in (folder / CONFIG_FILENAME, folder.parent / CONFIG_FILENAME) if p.is_file()), None)
