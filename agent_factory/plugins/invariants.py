"""Invariant enforcement classes and compile-time checks (analyse stage).

Each invariant is one of:
- `static`: its `check:` names only run facts the graph decides (`"x" in run.tools_called`,
  `"s" in run.steps`, `run.cost_usd <= $X`) and it is decided on every execution path, so no
  run-time guard is needed. One that is false on some path is E601 (MUST / MUST NOT) or W602
  (SHOULD / SHOULD NOT), printing that path as a counter-example.
- `runtime`: it needs output values, or run facts the graph leaves open, so a guard checks it.
- `prompt`: no `check:`; it is a rule in the system prompt only.

Tools: a `tool:` step on a path calls its tool; an LLM step with `tools:` (and the implicit
ReAct step of a spec without a Workflow, over all its tools) MAY call them or skip them, and an
`agent:` step may call anything, so `"x" in run.tools_called` is left to the run-time guard there
rather than reported. Cost: `run.cost_usd <= $X` holds statically when the estimate's worst case at
the dearest allowed model is within $X, and is violated when even the path's prompt tokens at the
cheapest model cost more; otherwise the budget and the guard enforce it at run time.

The IR has no field for the class, so the pass leaves `{invariant id: class}` in
`ctx.cache["invariant_classes"]` (and under `("invariant_classes", spec.path)`); `classify()`
computes it for any checked spec.
"""

from __future__ import annotations

from decimal import Decimal

from agent_factory.compiler import hookimpl
from agent_factory.compiler.diagnostics import Collector
from agent_factory.compiler.ir import Binary, Invariant, ListExpr, Literal_, Path, Spec, Unary
from agent_factory.compiler.passes import CompileContext, Pass, PassResult

from . import cost

STATIC, RUNTIME, PROMPT = "static", "runtime", "prompt"
CACHE_KEY = "invariant_classes"
_SET_FACTS = {("run", "tools_called"), ("run", "steps")}
_COMPARISONS = {"<=", "<", ">=", ">", "==", "!="}
_FLIP = {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "==": "==", "!=": "!="}


@hookimpl
def af_register_passes() -> list[Pass]:
    return [Pass(name="invariants", stage="analyse", order=60, run=run)]


def run(spec: Spec, ctx: CompileContext) -> PassResult:
    out = Collector()
    classes = classify(spec, ctx, out)
    ctx.cache[CACHE_KEY] = classes
    ctx.cache[(CACHE_KEY, spec.path)] = classes
    return PassResult(diagnostics=tuple(out.items))


def classify(spec: Spec, ctx: CompileContext | None = None, out: Collector | None = None) -> dict[str, str]:
    """`{invariant id: "static" | "runtime" | "prompt"}`; violations go to `out` when given."""
    facts = PathFacts.of_spec(spec, ctx) if spec.kind == "agent" else []
    classes: dict[str, str] = {}
    for inv in spec.invariants:
        classes[inv.id] = _classify_one(inv, facts, out)
    return dict(sorted(classes.items()))


def _classify_one(inv: Invariant, facts: list["PathFacts"], out: Collector | None) -> str:
    if inv.check is None:
        return PROMPT
    if not facts or not names_static_facts_only(inv.check.tree):
        return RUNTIME
    outcomes = [(f, f.evaluate(inv.check.tree)) for f in facts]
    violated = next((f for f, value in outcomes if value is False), None)
    if violated is not None and out is not None:
        _report(inv, violated, out)
    return STATIC if all(value is not None for _f, value in outcomes) else RUNTIME


def _report(inv: Invariant, path: "PathFacts", out: Collector) -> None:
    should = inv.modality in ("SHOULD", "SHOULD NOT")
    title = f"{inv.id}" + (f" ({inv.title})" if inv.title else "")
    out.add("W602" if should else "E601",
            f"invariant {title} is violated on path {path.display}: `{inv.check.source}` is false there{path.why(inv.check.tree)}",
            inv.check.span, hint="change the workflow so every path satisfies the check, or relax the check")


def names_static_facts_only(node) -> bool:
    """True when every field path in the expression is `run.tools_called`, `run.steps` or `run.cost_usd`."""
    if isinstance(node, Path):
        return tuple(node.parts) in (*_SET_FACTS, ("run", "cost_usd"))
    if isinstance(node, Literal_):
        return True
    if isinstance(node, Unary):
        return node.op == "not" and names_static_facts_only(node.operand)
    if isinstance(node, Binary):
        return names_static_facts_only(node.left) and names_static_facts_only(node.right)
    if isinstance(node, ListExpr):
        return all(names_static_facts_only(i) for i in node.items)
    return False


class PathFacts:
    """What one execution path fixes: steps run, tools surely and possibly called, cost bounds."""

    def __init__(self, path: "cost.PathCost | None", execution: "cost.Execution", spec: Spec) -> None:
        self.display = execution.display()
        self.steps = set(execution.steps) if spec.workflow else set()
        steps = [spec.step(n) for n in execution.steps] if spec.workflow else []
        self.surely = {s.target for s in steps if s and s.kind == "tool"}
        self.maybe = {t for s in steps if s and s.kind == "llm" for t in s.tools}
        self.anything = spec.workflow is None or any(s and s.kind == "agent" for s in steps)
        if spec.workflow is None:
            self.maybe = {t.name for t in spec.tools}
        known = path is not None and path.complete
        self.cost_low = path.usd_floor if path is not None else Decimal(0)
        self.cost_high = path.usd_max if known else None

    @classmethod
    def of_spec(cls, spec: Spec, ctx: CompileContext | None) -> list["PathFacts"]:
        found = cost.estimate(spec, ctx)
        if found is not None:
            return [cls(p, p.execution, spec) for p in found.paths]
        return [cls(None, e, spec) for e in cost.executions(spec)]

    def evaluate(self, node):
        """Three-valued: True, False, or None when the path leaves it open."""
        if isinstance(node, Unary):
            value = self.evaluate(node.operand)
            return None if value is None else not value
        if not isinstance(node, Binary):
            return None
        if node.op in ("and", "or"):
            return _logic(node.op, self.evaluate(node.left), self.evaluate(node.right))
        if node.op in ("in", "not in"):
            value = self._member(node.left, node.right)
            return value if value is None or node.op == "in" else not value
        if node.op in _COMPARISONS:
            return self._cost(node)
        return None

    def _member(self, item, container):
        if not (isinstance(item, Literal_) and isinstance(container, Path) and tuple(container.parts) in _SET_FACTS):
            return None
        name = str(item.value)
        if container.parts[1] == "steps":
            return name in self.steps
        if name in self.surely:
            return True
        return None if name in self.maybe or self.anything else False

    def _cost(self, node: Binary):
        op, left, right = node.op, node.left, node.right
        if isinstance(left, Literal_):
            op, left, right = _FLIP[op], right, left
        if not (isinstance(left, Path) and tuple(left.parts) == ("run", "cost_usd") and isinstance(right, Literal_)
                and isinstance(right.value, Decimal)):
            return None
        limit = right.value
        if op in ("<=", "<"):
            if self.cost_high is not None and (self.cost_high < limit or (op == "<=" and self.cost_high == limit)):
                return True
            return False if self.cost_low > limit or (op == "<" and self.cost_low == limit) else None
        if op in (">=", ">"):
            if self.cost_low > limit or (op == ">=" and self.cost_low == limit):
                return True
            return False if self.cost_high is not None and self.cost_high < limit else None
        return None

    def why(self, node) -> str:
        """A few words on the facts behind a violation."""
        if self._mentions(node, ("run", "cost_usd")):
            return f" (its prompts alone cost at least ${cost.money(self.cost_low)})"
        if self._mentions(node, ("run", "tools_called")):
            called = sorted(self.surely | self.maybe)
            return " (tools called on it: " + (", ".join(called) if called else "none") + ")"
        return ""

    def _mentions(self, node, parts: tuple[str, ...]) -> bool:
        if isinstance(node, Path):
            return tuple(node.parts) == parts
        children = [getattr(node, a) for a in ("left", "right", "operand") if hasattr(node, a)]
        return any(self._mentions(c, parts) for c in children)


def _logic(op: str, left, right):
    if op == "and":
        if left is False or right is False:
            return False
        return True if left is True and right is True else None
    if left is True or right is True:
        return True
    return False if left is False and right is False else None
