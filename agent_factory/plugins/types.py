"""Type checking (validate stage): every expression (invariant `check:`, edge and rule `when`,
example `**Expect:**`, `tool:` step arguments) against the spec's type environment
(`agent_factory.compiler.typing_`); prompt placeholders and rule message templates name
known fields; a `rules:` step's verdict output can hold every verdict of its table.

Typing rules: numbers, money (dollars) and durations (seconds) are numeric and compare with
`int`/`float` fields; `str`, `url` and enums are text and compare with each other; an enum
compared with (or tested `in` a list of) string literals must name its members.
"""

from __future__ import annotations

import re
from decimal import Decimal

from agent_factory.compiler import hookimpl
from agent_factory.compiler.diagnostics import Collector, did_you_mean
from agent_factory.compiler.ir import Binary, Call, Expression, ListExpr, Literal_, Path, Spec, Step, Unary
from agent_factory.compiler.passes import CompileContext, Pass, PassResult
from agent_factory.compiler.span import Span
from agent_factory.compiler.typing_ import (
    ANY, BOOL, FLOAT, INT, STR, Ty, TypeEnv, ancestors, placeholder_spans, placeholders, source_line, tool_arg_types, type_env,
)
from agent_factory.plugins.names import tool_params, tool_registry

_JSON_KINDS = {"string": ("str", "url", "enum"), "integer": ("int",), "number": ("int", "float"), "boolean": ("bool",),
               "array": ("list",)}


@hookimpl
def af_register_passes() -> list[Pass]:
    return [Pass(name="types", stage="validate", order=30, run=run)]


def run(spec: Spec, ctx: CompileContext) -> PassResult:
    out = Collector()
    env = type_env(spec)
    registry = tool_registry(ctx)
    env.args = tool_arg_types([tool_params(tool, registry) for tool in spec.tools])
    checker = Checker(env, out)
    for inv in spec.invariants:
        if inv.check is not None and inv.origin == "spec":
            checker.condition(inv.check, "a `check:`")
    for edge in spec.workflow.edges if spec.workflow else ():
        if edge.when is not None:
            checker.condition(edge.when, "a `when` condition")
    for table in spec.rules:
        for rule in table.rules:
            if rule.when is not None:
                checker.condition(rule.when, "a rule's `when`")
            if rule.message:
                messages(rule.message, rule.span, spec.sha256, env, out)
    for example in spec.examples:
        if example.expect is not None:
            checker.condition(example.expect, "an `**Expect:**`")
    for step in spec.workflow.steps if spec.workflow else ():
        step_args(spec, step, checker, ctx)
        prompt(spec, step, env, out)
        if step.kind == "rules":
            verdicts(spec, step, env, out)
    return PassResult(diagnostics=tuple(out.items))


class Checker:
    """Infers the type of expression trees, reporting each problem once (a subtree that
    failed has type `any`, which fits everywhere, so errors do not cascade)."""

    def __init__(self, env: TypeEnv, out: Collector) -> None:
        self.env = env
        self.out = out
        self.given: frozenset[str] = frozenset()  # optional fields a surrounding `and`/`or` tested as given
        self.current: Expression | None = None  # the condition being checked (for hints), None for `args:` values

    def condition(self, expr: Expression, what: str) -> None:
        self.current = expr
        try:
            found = self.infer(expr.tree)
        finally:
            self.current = None
        if found.kind not in ("bool", "any") and not self._presence(expr.tree):
            self.out.add("E303", f"{what} must be a condition (bool), but `{expr.source}` is `{found.render()}`", expr.span,
                         hint="compare it with something, e.g. `" + _suggest_condition(expr.source, found) + "`")

    def infer(self, node) -> Ty:
        return getattr(self, "_" + node.node)(node)

    def _literal(self, node: Literal_) -> Ty:
        if node.type == "string":
            return STR
        if node.type == "bool":
            return BOOL
        if node.type == "number" and isinstance(node.value, Decimal) and node.value == node.value.to_integral_value():
            return INT
        return FLOAT

    def _path(self, node: Path) -> Ty:
        found, index, candidates = self.env.path(node.parts)
        if found is not None:
            return found
        shown = ".".join(node.parts[: index + 1])
        if index == 0 or candidates:
            prefix = ".".join(node.parts[:index]) + "." if index else ""
            full = [prefix + c for c in candidates]
            hint = did_you_mean(shown, full) or ("known: " + ", ".join(full) if full else None)
            self.out.add("E300", f"unknown field `{shown}`", node.span,
                         hint=hint or "declare it under `## Inputs` or `## Outputs`, or write it in a step's `outputs:`")
        else:
            base = ".".join(node.parts[:index])
            self.out.add("E300", f"`{base}` has no field `{node.parts[index]}`: only declared fields can be used", node.span,
                         hint=f"use `{base}` itself, or declare `{node.parts[index]}` as an output")
        return ANY

    def _unary(self, node: Unary) -> Ty:
        operand = self.infer(node.operand)
        want = BOOL if node.op == "not" else None
        if node.op == "not" and operand.kind not in ("bool", "any") and not self._presence(node.operand):
            self._mismatch(node.span, f"`not` needs a bool, found `{operand.render()}`", "write a condition after `not`")
        elif node.op == "-" and operand.kind != "any" and not operand.numeric:
            self._mismatch(node.span, f"`-` needs a number, found `{operand.render()}`", "negate numbers only")
            return ANY
        elif node.op == "-":
            self._needs_value(node, "-", node.operand, operand)
        return want or operand

    def _call(self, node: Call) -> Ty:
        arg = self.infer(node.args[0]) if node.args else ANY
        if arg.kind not in ("str", "url", "enum", "list", "any"):
            self._mismatch(node.span, f"`len()` needs a str or a list, found `{arg.render()}`",
                           "`len` counts the characters of a text or the items of a list")
        elif self._presence(node.args[0]) and node.args[0].parts[0] not in self.given:
            name = node.args[0].parts[0]
            self.out.add("E310", f"`len({name})`: `{name}` is optional (`{arg.render()}?`) and has no length when it "
                                 "is not given", node.span,
                         hint=f"test that it was given first: `{name} and len({name}) > 0`, or "
                              f"`not {name} or len({name}) > 0`; or make `{name}` required")
        return INT

    def _needs_value(self, node, op: str, operand, ty: Ty) -> None:
        """E311 when `operand` is an optional field no surrounding test showed was given, and
        `op` fails at run time without a value (arithmetic, `<`, `matches`, `in` a text...);
        `==` and `!=` are fine: a field that was not given equals nothing."""
        if not self._presence(operand) or operand.parts[0] in self.given:
            return
        name = operand.parts[0]
        self.out.add("E311", f"`{name}` is optional (`{ty.render()}?`) and has no value when it is not given, which "
                             f"`{op}` needs", node.span, hint=self._guard_hint(name))

    def _guard_hint(self, name: str) -> str:
        """How to test that `name` was given around the condition being checked."""
        if self.current is None:
            return f"make `{name}` required, or compute the value from fields that always have one"
        source, tree = self.current.source, self.current.tree
        inner = f"({source})" if isinstance(tree, Binary) and tree.op == "or" else source
        return (f"test that it was given first: `{name} and {inner}`, or `not {name} or {source}`; "
                f"or make `{name}` required")

    def _presence(self, node) -> bool:
        """Whether `node` is an optional field on its own: used as a condition, it tests that
        the field was given."""
        return isinstance(node, Path) and len(node.parts) == 1 and node.parts[0] in self.env.optional

    def _tested(self, node, given: bool) -> frozenset[str]:
        """The optional fields that are given whenever `node` is `given` (true) or not (false)."""
        if self._presence(node):
            return frozenset(node.parts) if given else frozenset()
        if isinstance(node, Unary) and node.op == "not":
            return self._tested(node.operand, not given)
        if isinstance(node, Binary) and node.op == ("and" if given else "or"):
            return self._tested(node.left, given) | self._tested(node.right, given)
        return frozenset()

    def _guarded(self, node: Binary) -> tuple[Ty, Ty]:
        """Infer both sides of `and` / `or`; the right side runs only when the left is true
        (`and`) or false (`or`), so the optional fields that decides are given there."""
        left = self.infer(node.left)
        outer = self.given
        self.given = outer | self._tested(node.left, node.op == "and")
        try:
            right = self.infer(node.right)
        finally:
            self.given = outer
        return left, right

    def _list(self, node: ListExpr) -> Ty:
        items = [self.infer(item) for item in node.items]
        known = [t for t in items if t.kind != "any"]
        if known and all(t.numeric for t in known):
            return Ty("list", FLOAT if any(t.kind == "float" for t in known) else INT)
        if known and all(t == known[0] for t in known):
            return Ty("list", known[0])
        return Ty("list", ANY)

    def _binary(self, node: Binary) -> Ty:
        if node.op in ("and", "or"):
            left, right = self._guarded(node)
        else:
            left, right = self.infer(node.left), self.infer(node.right)
        for operand, ty in _needing_values(node, left, right):
            self._needs_value(node, node.op, operand, ty)
        if ANY in (left, right) and node.op not in ("and", "or"):
            return BOOL if node.op not in ("+", "-", "*", "/") else ANY
        handler = {"and": self._boolean, "or": self._boolean, "==": self._equal, "!=": self._equal,
                   "in": self._in, "not in": self._in, "contains": self._contains, "matches": self._matches}
        if node.op in handler:
            return handler[node.op](node, left, right)
        if node.op in ("<", "<=", ">", ">="):
            return self._order(node, left, right)
        return self._arith(node, left, right)

    def _boolean(self, node: Binary, left: Ty, right: Ty) -> Ty:
        for side, ty, operand in (("left", left, node.left), ("right", right, node.right)):
            if ty.kind not in ("bool", "any") and not self._presence(operand):
                self._mismatch(node.span, f"`{node.op}` joins conditions, but its {side} side is `{ty.render()}`",
                               "both sides of `and` / `or` must be conditions such as `x > 1`")
                break
        return BOOL

    def _equal(self, node: Binary, left: Ty, right: Ty) -> Ty:
        if self._enum_member(node, left, node.right) or self._enum_member(node, right, node.left):
            return BOOL
        if not _comparable(left, right):
            self._mismatch(node.span, f"`{node.op}` compares `{_show(node.left)}` (`{left.render()}`) with "
                           f"`{_show(node.right)}` (`{right.render()}`), which can never be equal",
                           "compare values of the same type")
        return BOOL

    def _order(self, node: Binary, left: Ty, right: Ty) -> Ty:
        if not ((left.numeric and right.numeric) or (left.kind in ("str", "url") and right.kind in ("str", "url"))):
            bad, ty = (node.left, left) if not left.numeric else (node.right, right)
            self._mismatch(node.span, f"`{node.op}` compares numbers, but `{_show(bad)}` is `{ty.render()}`",
                           _order_hint(ty, bad))
        return BOOL

    def _arith(self, node: Binary, left: Ty, right: Ty) -> Ty:
        if left.numeric and right.numeric:
            return FLOAT if "float" in (left.kind, right.kind) or node.op == "/" else INT
        if node.op == "+" and left.text and right.text:
            return STR
        if node.op == "+" and left.kind == right.kind == "list":
            return left
        self._mismatch(node.span, f"`{node.op}` does not apply to `{left.render()}` and `{right.render()}`",
                       "arithmetic needs numbers (`+` also joins two texts or two lists)")
        return ANY

    def _in(self, node: Binary, left: Ty, right: Ty) -> Ty:
        if right.kind == "list":
            if isinstance(node.right, ListExpr) and left.kind == "enum":
                for item in node.right.items:
                    self._enum_member(node, left, item)
            elif right.item and right.item.kind != "any" and not _comparable(left, right.item):
                self._mismatch(node.span, f"`{node.op}` looks for a `{left.render()}` in a `{right.render()}`",
                               "the value must have the type of the list's items")
        elif right.text:
            if not left.text:
                self._mismatch(node.span, f"`{node.op}` looks for a `{left.render()}` in a text; it needs a str",
                               "only a text can be found in a text")
        else:
            self._mismatch(node.span, f"`{node.op}` needs a list or a str on its right, but `{_show(node.right)}` is "
                           f"`{right.render()}`", "write `x in [\"a\", \"b\"]` or `\"word\" in text`")
        return BOOL

    def _contains(self, node: Binary, left: Ty, right: Ty) -> Ty:
        if left.text:
            if not right.text:
                self._mismatch(node.span, f"`contains` on a text needs a str, found `{right.render()}`", "write `x contains \"word\"`")
        elif left.kind == "list":
            if left.item and left.item.kind != "any" and not _comparable(left.item, right):
                self._mismatch(node.span, f"`contains` looks for a `{right.render()}` in a `{left.render()}`",
                               "the value must have the type of the list's items")
        else:
            self._mismatch(node.span, f"`contains` needs a str or a list on its left, but `{_show(node.left)}` is "
                           f"`{left.render()}`", "use `contains` on texts and lists")
        return BOOL

    def _matches(self, node: Binary, left: Ty, right: Ty) -> Ty:
        if not left.text:
            self._mismatch(node.span, f"`matches` needs a str on its left, but `{_show(node.left)}` is `{left.render()}`",
                           "match regular expressions against texts")
        if not (isinstance(node.right, Literal_) and node.right.type == "string"):
            self._mismatch(node.right.span, "`matches` needs a quoted regular expression on its right",
                           "write `x matches \"^[A-Z]+$\"`")
            return BOOL
        try:
            re.compile(str(node.right.value))
        except re.error as error:
            self.out.add("E304", f"`{node.right.value}` is not a valid regular expression: {error}", node.right.span,
                         hint="check brackets, parentheses and escapes (`\\\\.` for a literal dot)")
        return BOOL

    def _enum_member(self, node: Binary, ty: Ty, other) -> bool:
        """For an enum against a string literal: report a non-member; True when handled."""
        if ty.kind != "enum" or not (isinstance(other, Literal_) and other.type == "string"):
            return False
        if other.value not in ty.members:
            self.out.add("E302", f"`{other.value}` is not one of {_members(ty)}", other.span,
                         hint=did_you_mean(str(other.value), ty.members) or "use one of the enum's members")
        return True

    def _mismatch(self, span: Span, message: str, hint: str) -> None:
        self.out.add("E301", message, span, hint=hint)


def _needing_values(node: Binary, left: Ty, right: Ty) -> list[tuple[object, Ty]]:
    """The operands of `node` that must have a value at run time: both sides of arithmetic,
    `<` `<=` `>` `>=` and `matches`; the list or text of `in` / `contains`, and the value looked
    for when that is a text (a missing value is simply not found in a list)."""
    both = [(node.left, left), (node.right, right)]
    if node.op in ("+", "-", "*", "/", "<", "<=", ">", ">=", "matches"):
        return both
    if node.op in ("in", "not in"):
        return both if right.text else [(node.right, right)]
    if node.op == "contains":
        return both if left.text else [(node.left, left)]
    return []


def _comparable(a: Ty, b: Ty) -> bool:
    if "any" in (a.kind, b.kind):
        return True
    if a.numeric and b.numeric or a.text and b.text:
        return True
    if a.kind == b.kind == "list":
        return a.item is None or b.item is None or _comparable(a.item, b.item)
    return a.kind == b.kind


def _members(ty: Ty) -> str:
    return "`" + "`, `".join(ty.members) + "`"


def _show(node) -> str:
    if isinstance(node, Path):
        return node.dotted
    if isinstance(node, Literal_):
        return f'"{node.value}"' if node.type == "string" else str(node.value).lower() if node.type == "bool" else str(node.value)
    return "the expression"


def _order_hint(ty: Ty, node) -> str:
    name = _show(node)
    if isinstance(node, Path) and (ty.text or ty.kind == "list"):
        return f"to compare its length write `len({name})`"
    return "compare numbers (int, float, money or durations)"


def _suggest_condition(source: str, ty: Ty) -> str:
    if ty.numeric:
        return f"{source} > 0"
    if ty.kind == "list":
        return f"len({source}) >= 1"
    return f'{source} == "..."'


# ---------------------------------------------------------------- step arguments and templates


def step_args(spec: Spec, step: Step, checker: Checker, ctx: CompileContext) -> None:
    tool = next((t for t in spec.tools if t.name == step.target), None) if step.kind == "tool" else None
    props = (tool_params(tool, tool_registry(ctx)) or {}).get("properties", {}) if tool else {}
    for arg in step.args:
        found = checker.infer(arg.value.tree)
        want = props.get(arg.name, {}).get("type")
        allowed = {k for t in ([want] if isinstance(want, str) else want or []) for k in _JSON_KINDS.get(t, (t,))}
        if allowed and found.kind != "any" and found.kind not in allowed:
            checker.out.add("E308", f"argument `{arg.name}` of `{step.target}` is `{want}`, but `{arg.value.source}` is "
                            f"`{found.render()}`", arg.value.span, hint="pass a value of the argument's type")


def prompt(spec: Spec, step: Step, env: TypeEnv, out: Collector) -> None:
    if not step.prompt or step.prompt_span is None:
        return
    before = ancestors(spec, step.name)
    if not any("START" in e.sources for e in spec.workflow.edges):
        # No entry yet: the graph pass reports that (E400); judge names only, not order.
        before = set(env.steps) - {step.name}
    available = {*env.inputs, *(o for s in before for o in env.steps.get(s, ()))}
    for name, where in placeholder_spans(step.prompt, step.prompt_span, spec.sha256):
        head = name.split(".")[0]
        if head in available or (head in before and "." in name and name.split(".")[1] in env.steps.get(head, ())):
            continue
        writers = env.written.get(head, [])
        if writers:
            message = (f"`{{{name}}}` in the prompt of `{step.name}` is written by "
                       + ", ".join(f"`{w}`" for w in writers) + f", which does not run before `{step.name}`")
            hint = f"add a flow edge so that `{writers[0]}` runs before `{step.name}`"
        else:
            message = f"`{{{name}}}` in the prompt of `{step.name}` is not an input or an output of an earlier step"
            hint = did_you_mean(head, sorted(available)) or (
                "available here: " + ", ".join(sorted(available)) + " (write `{{` for a literal brace)")
        out.add("E305", message, where, hint=hint)


def messages(message: str, span: Span, sha256: str, env: TypeEnv, out: Collector) -> None:
    text = source_line(span.file, span.line, sha256)
    offset = text.find(message, span.column - 1)
    for name, _line, column in placeholders(message):
        if env.path(tuple(name.split(".")))[0] is not None:
            continue
        where = Span.point(span.file, span.line, offset + column + 1, len(name) + 2) if offset >= 0 else span
        out.add("E306", f"the rule message names `{{{name}}}`, which is not a field", where,
                hint=did_you_mean(name, env.names()) or "fields: " + ", ".join(env.names()))


def verdicts(spec: Spec, step: Step, env: TypeEnv, out: Collector) -> None:
    table = spec.rule_table(step.target)
    if table is None:
        return
    table_verdicts = list(dict.fromkeys(r.verdict for r in table.rules))
    if not step.outputs:
        out.add("E307", f"rules step `{step.name}` has no `outputs:` to write its verdict to", step.span,
                hint=f"add `outputs: verdict` and declare `- verdict: enum({'|'.join(table_verdicts)})` under Outputs")
        return
    target = step.outputs[0]
    ty = env.outputs.get(target)
    if ty is None or ty.kind == "str":
        return
    decl = next(f for f in spec.outputs if f.name == target)
    if ty.kind != "enum":
        out.add("E307", f"rules step `{step.name}` writes its verdict to `{target}`, which is `{ty.render()}`, not an enum",
                decl.type.span, hint=f"declare `{target}: enum({'|'.join(table_verdicts)})`")
        return
    missing = [v for v in table_verdicts if v not in ty.members]
    if missing:
        out.add("E307", f"`{target}` is `{ty.render()}`, which lacks the verdict{'s' if len(missing) > 1 else ''} "
                + ", ".join(f"`{m}`" for m in missing) + f" of rule table `{table.name}` (run by step `{step.name}`)",
                decl.type.span, hint=f"declare `{target}: enum({'|'.join([*ty.members, *missing])})`")
