"""What a generated `graph.py` (the `langgraph` target) exposes, so the generated code stays
the plan and nothing else: `spec_beside(__file__)` loads the IR written next to it, and
`graph_module(PLAN, SPEC, globals())` returns its `build`, `make_graph` and module `__getattr__`.

Nothing here imports the runtime's graph builder until `build` is called, so a generated module
imports without models, tools or configuration.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent_factory.compiler.ir import Spec
from agent_factory.compiler.plan import GraphPlan

IR_FILE = "spec.ir.json"


def spec_beside(module_file: str) -> Spec:
    """The spec in the `spec.ir.json` next to a generated module."""
    document = json.loads(Path(module_file).with_name(IR_FILE).read_text(encoding="utf-8"))
    return Spec.model_validate(document["spec"])


def graph_module(plan: GraphPlan, spec: Spec, namespace: dict[str, Any]) -> tuple[Callable, Callable, Callable]:
    """`build(runtime=None)` (the uncompiled `StateGraph`), `make_graph()` (compiled with the
    default runtime) and a module `__getattr__` that makes `graph` on first access and keeps it."""

    def build(runtime: Any = None) -> Any:
        from agent_factory.runtime.graph import build_graph  # here: importing the module needs no runtime

        return build_graph(plan, spec, runtime)

    def make_graph() -> Any:
        return build().compile()

    def module_getattr(name: str) -> Any:
        if name == "graph":
            graph = namespace["graph"] = make_graph()
            return graph
        raise AttributeError(f"module {namespace.get('__name__')!r} has no attribute {name!r}")

    return build, make_graph, module_getattr
