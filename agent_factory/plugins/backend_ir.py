"""The `ir` target: the checked spec as JSON, with its provenance."""

from __future__ import annotations

import json
from pathlib import Path

from agent_factory.compiler import hookimpl
from agent_factory.compiler.ir import Spec
from agent_factory.compiler.passes import Backend, CompileContext
from agent_factory.compiler.provenance import provenance


def ir_json(spec: Spec) -> str:
    """The IR as deterministic JSON text (sorted keys, two-space indent, final newline)."""
    document = {"provenance": provenance(spec), "spec": spec.model_dump(mode="json")}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def emit(spec: Spec, ctx: CompileContext) -> dict[str, str]:
    return {f"{Path(spec.path).stem}.ir.json": ir_json(spec)}


@hookimpl
def af_register_backends() -> list[Backend]:
    from agent_factory.plugins.capabilities import ALL_FEATURES

    # the IR represents everything the language can say
    return [Backend(name="ir", description="the typed IR as JSON", emit=emit, features=ALL_FEATURES)]
