"""Checking and compiling a hosted spec with the compiler's public functions.

A hosted spec is checked as the file `spec.md` in a folder that holds only the platform's own
`constitution.md`, so it can never reach files of the server (`extends:` finds nothing else);
paths in diagnostics and IR are shown relative to that folder. The work is CPU-bound and runs in
a worker thread (`compile_spec` is synchronous), one at a time: the pass manager's caches are shared.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from agent_factory.compiler import PassManager, Spec, check_text, emit, hookimpl

HOSTED = Path(__file__).parent / "hosted"
SPEC_PATH = HOSTED / "spec.md"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Compiled:
    """The outcome: `diagnostics` always; the rest only when the spec has no errors (`ok`)."""

    ok: bool
    diagnostics: list[dict[str, Any]]
    name: str = ""
    kind: str = ""
    description: str = ""
    ir: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    cost_usd_max: Decimal | None = None


class _HostedConstitution:
    """The plugin that makes every hosted spec inherit the platform's constitution."""

    @hookimpl
    def af_find_constitution(self, spec_path: Path, extends: str | None) -> Path:
        return HOSTED / "constitution.md"


@lru_cache(maxsize=None)
def _manager(config_path: Path | None) -> PassManager:
    manager = PassManager(plugins=[_HostedConstitution()])
    if config_path is not None:
        from agent_factory.runtime.config import load_config

        # the cost pass reads the router configuration from this cache key (plugins/cost.py)
        manager.cache["cost.config"] = load_config(config_path)
    return manager


def compile_spec(text: str, config_path: Path | None = None) -> Compiled:
    """Check `text` with every pass and, when clean, build its IR and summary."""
    with _LOCK:
        manager = _manager(config_path)
        result = check_text(text, str(SPEC_PATH), manager)
        diagnostics = [_relative(d.as_dict()) for d in result.diagnostics]
        if not result.ok:
            return Compiled(False, diagnostics)
        spec = result.spec
        ir = json.loads(_strip_folder(next(iter(emit(spec, "ir", manager).values()))))
        summary = summarize(spec, manager)
    cost = summary.get("cost_estimate")
    return Compiled(True, diagnostics, spec.name, spec.kind, spec.purpose.text if spec.purpose else "", ir, summary,
                    Decimal(cost["usd_max"]) if cost else None)


def checked_spec(text: str, config_path: Path | None = None) -> tuple[Spec | None, list[str]]:
    """The checked spec of a stored version, or None and its errors as `check` prints them
    (`spec.md:line:col: error[CODE]: message`) when it no longer checks clean."""
    with _LOCK:
        result = check_text(text, str(SPEC_PATH), _manager(config_path))
    if result.ok:
        return result.spec, []
    return None, [_first_line(_relative(d.as_dict())) for d in result.diagnostics if d.severity.value == "error"]


def _first_line(d: dict[str, Any]) -> str:
    return f"{d['file']}:{d['line']}:{d['column']}: {d['severity']}[{d['code']}]: {d['message']}"


def summarize(spec: Spec, manager: PassManager) -> dict[str, Any]:
    """What a client needs to call the agent: kind, schemas of inputs and outputs, steps, tools, cost."""
    from .schema import fields_schema

    return {
        "kind": spec.kind,
        "name": spec.name,
        "inputs_schema": fields_schema(spec.inputs),
        "outputs_schema": fields_schema(spec.outputs),
        "steps": [s.name for s in spec.workflow.steps] if spec.workflow else [],
        "tools": [t.name for t in spec.tools],
        "cost_estimate": _cost(spec, manager),
    }


def _cost(spec: Spec, manager: PassManager) -> dict[str, Any] | None:
    from agent_factory.compiler import CompileContext
    from agent_factory.plugins.cost import estimate, money

    found = estimate(spec, CompileContext(manager=manager, path=SPEC_PATH, cache=manager.cache))
    if found is None:
        return None
    worst = found.worst
    return {
        "usd_min": money(found.usd_min),
        "usd_max": money(found.usd_max),
        "worst_case_usd": money(worst.usd_min) if worst else money(Decimal(0)),
        "max_cost_per_run": None if found.limit is None else money(found.limit),
        "complete": all(p.complete for p in found.paths),
    }


def _relative(diagnostic: dict[str, Any]) -> dict[str, Any]:
    file = diagnostic.get("file") or ""
    prefix = f"{HOSTED}/"
    return {**diagnostic, "file": file[len(prefix):] if file.startswith(prefix) else file}


def _strip_folder(text: str) -> str:
    # the IR names its source file; the server's folder is not the client's business
    return text.replace(json.dumps(f"{HOSTED}/")[1:-1], "")
