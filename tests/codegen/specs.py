"""Hand-built IR specs for codegen tests that must not depend on the parser."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from agent_factory.compiler import ir
from agent_factory.compiler.span import Span

PATH = "specs/calc.md"


def span(line: int, path: str = PATH) -> Span:
    """A one-line span in `path`."""
    return Span.point(path, line)


def component(
    *,
    acceptance: tuple[str, ...] = ("python -m pytest -q",),
    sha_seed: str = "v1",
    max_cost: Decimal | None = Decimal("0.50"),
) -> ir.Spec:
    """A small Component spec: two requirements, an interface, acceptance commands."""
    reqs = (
        ir.Requirement(
            span=span(8), id="REQ-CALC-001", title="Add numbers",
            items=(ir.RequirementItem(span=span(9), modality="MUST", text="add two integers"),),
        ),
        ir.Requirement(
            span=span(10), id="REQ-CALC-002", title="No globals",
            items=(ir.RequirementItem(span=span(11), modality="MUST NOT", text="keep global state"),),
        ),
    )
    return ir.Spec(
        span=span(1), kind="component", name="Calc", path=PATH,
        sha256=hashlib.sha256(sha_seed.encode()).hexdigest(),
        meta=ir.FrontMatter(span=span(1), id="calc", version="1.0.0", target="openhands"),
        purpose=ir.Prose(span=span(5), text="A tiny calculator."),
        requirements=reqs,
        interface=ir.Interface(
            span=span(13), text="One function.",
            code=(ir.CodeBlock(span=span(14), language="python", code="def add(a: int, b: int) -> int: ..."),),
        ),
        acceptance=tuple(ir.Command(span=span(18 + i), command=c) for i, c in enumerate(acceptance)),
        model=ir.ModelConfig(span=span(21), task="code_generation", max_cost_per_run=max_cost, models=("coder",)),
    )


def agent() -> ir.Spec:
    """An Agent spec with `target: openhands`: an invariant, an example, typed fields, a tool."""
    path = "specs/greeter.md"
    s = lambda line: span(line, path)  # noqa: E731
    str_t = ir.TypeRef(span=s(6), kind="str")
    return ir.Spec(
        span=s(1), kind="agent", name="Greeter", path=path, sha256="ab" * 32,
        meta=ir.FrontMatter(span=s(1), target="openhands"),
        purpose=ir.Prose(span=s(4), text="Greets people."),
        inputs=(ir.FieldDecl(span=s(6), name="name", type=str_t, description="who to greet"),),
        outputs=(
            ir.FieldDecl(span=s(8), name="greeting", type=str_t),
            ir.FieldDecl(span=s(9), name="tone", type=ir.TypeRef(span=s(9), kind="enum", members=("warm", "formal"))),
        ),
        invariants=(ir.Invariant(span=s(11), id="INV-001", title="Polite", modality="MUST NOT", text="insult anyone"),),
        tools=(ir.ToolRef(span=s(13), name="current_time", description="to say good morning"),),
        examples=(ir.Example(span=s(15), title="Greets Ada", expected="pass", input="Ada"),),
        model=ir.ModelConfig(span=s(18), task="simple", settings=(ir.Setting(span=s(18), key="task", value="simple"),)),
    )
