"""An example Agent Factory plugin: the `dice_roll` tool and a "spec owner missing" check.

Registered through the `agent_factory` entry point in this package's pyproject.toml. Active
only when `AF_EXAMPLE_PLUGIN=1`, so that installing it for the tests leaves every other
compiler output unchanged.
"""

from __future__ import annotations

import os
import random

from agent_factory.compiler import CompileContext, Diagnostic, Severity, Span, Spec, hookimpl
from agent_factory.runtime.tools.model import ToolSpec

ENV = "AF_EXAMPLE_PLUGIN"
OWNER_MISSING = "W901"  # the plugin's own code: outside the compiler's CODES, so built directly


def _active() -> bool:
    return os.environ.get(ENV) == "1"


async def _roll(args: dict, ctx) -> dict:
    sides = int(args.get("sides", 6))
    return {"sides": sides, "value": random.randint(1, sides)}


DICE_ROLL = ToolSpec(
    name="dice_roll",
    description="Roll a die with the given number of sides.",
    parameters={"type": "object", "properties": {"sides": {"type": "integer", "minimum": 2}}, "required": []},
    result="{sides, value}",
    handler=_roll,
)


@hookimpl
def af_register_tools() -> list[ToolSpec]:
    return [DICE_ROLL] if _active() else []


@hookimpl
def af_validate_spec(spec: Spec, ctx: CompileContext) -> list[Diagnostic]:
    if not _active() or spec.kind == "constitution" or spec.meta.owner:
        return []
    return [Diagnostic(
        code=OWNER_MISSING, severity=Severity.WARNING,
        message=f"spec `{spec.name}` has no owner",
        span=Span.point(spec.path, 1, 1),
        hint="add front matter with `owner: <team>` so someone answers for this spec",
    )]
