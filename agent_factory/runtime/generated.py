"""What a generated `graph.py` (the `langgraph` target) calls, so the generated code stays the
plan and nothing else: `specs_beside(__file__)` loads the IR written next to it (the spec, and
the specs of its Team members and `agent:` steps), and `app_graph(PLAN, SPEC, NESTED, __file__)`
builds the module's `graph`.

The graph is built when the module is imported: the configuration (`$AGENT_FACTORY_CONFIG`, else
the `agent-factory.toml` beside the module or in the application folder above it, else the
working folder's or the defaults), its `[tools]` table, litellm and the price map are all loaded
then — LangGraph's server imports graph modules off its event loop and refuses blocking calls on
it. Every invocation of `graph` is a fresh run (budget, ledger, guards, clock, tools).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent_factory.compiler.ir import Spec
from agent_factory.compiler.plan import GraphPlan

IR_FILE = "spec.ir.json"
NESTED_KEY = "nested"
"""The key of `spec.ir.json` holding the nested specs by the path the plan names them with."""


def specs_beside(module_file: str) -> tuple[Spec, dict[str, Spec]]:
    """The spec in the `spec.ir.json` next to a generated module, and its nested specs."""
    document = json.loads(Path(module_file).with_name(IR_FILE).read_text(encoding="utf-8"))
    nested = {path: Spec.model_validate(ir) for path, ir in (document.get(NESTED_KEY) or {}).items()}
    return Spec.model_validate(document["spec"]), nested


def app_graph(plan: GraphPlan, spec: Spec, nested: dict[str, Spec], module_file: str) -> Any:
    """The compiled `AgentGraph` of a generated module (see the module doc)."""
    from agent_factory.runtime.factory import RunFactory, config_beside
    from agent_factory.runtime.graph import agent_graph

    factory = RunFactory.load(spec, plan=plan, config=config_beside(module_file), nested=nested)
    return agent_graph(factory)
