"""The typed intermediate representation of a spec.

Every node is a frozen record (`record.py`: plain classes, so `check` does not import
pydantic) that rejects unknown fields, with a `span` pointing at the Markdown that produced
it. Passes never mutate nodes; they return copies (`node.model_copy(update=...)`).
`Spec.model_dump(mode="json")` is the `ir` target. Money is `Decimal` (exact; serialised as
a string), durations are seconds as `Decimal`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, Union

from .record import Record, RecordError, load_decimal
from .span import Span

IR_VERSION = 1
NUMERIC_LITERALS = frozenset({"number", "money", "duration"})


class Node(Record):
    """Base of every IR node: `span` is where in the source the node comes from."""

    span: Span


# ---------------------------------------------------------------- types

ScalarKind = Literal["str", "int", "float", "bool", "url"]


class TypeRef(Node):
    """A declared type. `kind`: str|int|float|bool|url|list|enum; `item` for lists;
    `members` for enums; `minimum`/`maximum` for ranges (`int[0..100]`); `optional` for `?`.
    A name the language does not know is kept as `kind="unknown"` with the `name` written,
    so the structure pass can report it with a suggestion."""

    kind: Literal["str", "int", "float", "bool", "url", "list", "enum", "unknown"]
    name: str | None = None
    item: TypeRef | None = None
    members: tuple[str, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    optional: bool = False

    def render(self) -> str:
        """The type as a spec author writes it."""
        if self.kind == "list":
            text = f"list[{self.item.render() if self.item else '?'}]"
        elif self.kind == "enum":
            text = f"enum({'|'.join(self.members)})"
        elif self.kind == "unknown":
            text = self.name or "?"
        elif self.minimum is not None or self.maximum is not None:
            text = f"{self.kind}[{_num(self.minimum)}..{_num(self.maximum)}]"
        else:
            text = self.kind
        return text + ("?" if self.optional else "")


def _num(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f") if value == value.to_integral() else str(value)


class FieldDecl(Node):
    """An input or output field: `name`, `type`, `description` (may be empty)."""

    name: str
    type: TypeRef
    description: str = ""


# ---------------------------------------------------------------- expressions


class Literal_(Node):
    """A literal: `type` is number|money|duration|string|bool; `value` is exact
    (Decimal for number, money in dollars and duration in seconds; str; bool)."""

    node: Literal["literal"] = "literal"
    type: Literal["number", "money", "duration", "string", "bool"]
    value: Decimal | str | bool

    @classmethod
    def _loaded(cls, values: dict[str, Any], where: str) -> dict[str, Any]:
        # JSON writes a Decimal as a string, so `"60"` alone could be text or a number: the
        # declared type says which it was, so `spec.ir.json` reads back equal to the IR it was
        # written from
        kind, value = values["type"], values["value"]
        if kind in NUMERIC_LITERALS:
            return {**values, "value": load_decimal(value, f"{where}.value")}
        if type(value) is not (str if kind == "string" else bool):
            needs = "a string" if kind == "string" else "true or false"
            raise RecordError(f"{where}.value: a {kind} literal needs {needs}, got {value!r}")
        return values


class Path(Node):
    """A field path such as `run.cost_usd`, `plan.needs_search` or a bare output name."""

    node: Literal["path"] = "path"
    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


class Unary(Node):
    """`not x` or `-x`."""

    node: Literal["unary"] = "unary"
    op: Literal["not", "-"]
    operand: Expr


class Binary(Node):
    """A binary operation: comparison, boolean, arithmetic, `in`, `contains`, `matches`."""

    node: Literal["binary"] = "binary"
    op: Literal["==", "!=", "<", "<=", ">", ">=", "and", "or", "+", "-", "*", "/", "in", "not in", "contains", "matches"]
    left: Expr
    right: Expr


class Call(Node):
    """A call of one of the few allowed functions (`len`)."""

    node: Literal["call"] = "call"
    func: Literal["len"]
    args: tuple[Expr, ...]


class ListExpr(Node):
    """A list literal `[a, b]` (used with `in`)."""

    node: Literal["list"] = "list"
    items: tuple[Expr, ...]


Expr = Union[Literal_, Path, Unary, Binary, Call, ListExpr]  # told apart by `node` when loaded


class Expression(Node):
    """An expression as written (`source`) and parsed (`tree`)."""

    source: str
    tree: Expr


# ---------------------------------------------------------------- sections


class Prose(Node):
    """Free text of a section (Purpose, Interface prose, notes)."""

    text: str


class ScopeItem(Node):
    """One Scope bullet; `included` is False for Out of Scope items (they become refusal rules)."""

    text: str
    included: bool


Modality = Literal["MUST", "MUST NOT", "SHOULD", "SHOULD NOT"]


class Invariant(Node):
    """A rule the agent obeys. `id` (given or numbered `INV-NNN`), `title`, `modality`,
    `text`, optional `check` expression; `origin` is `spec` or the constitution's path."""

    id: str
    id_given: bool = True
    title: str = ""
    modality: Modality | None = None
    text: str
    check: Expression | None = None
    origin: str = "spec"


class ToolBinding(Node):
    """How an in-spec tool is reached: `kind` http|python|mcp; `method`+`target` for http
    (`GET`, URL template), `target` `package.module:function` for python, `server/tool` for mcp."""

    kind: Literal["http", "python", "mcp"]
    method: str | None = None
    target: str


class ToolRef(Node):
    """A tool the spec uses: `name` (snake_case), `description`, `optional`, `binding` or None
    for a registry tool."""

    name: str
    description: str = ""
    optional: bool = False
    binding: ToolBinding | None = None


TaskType = Literal["simple", "classification", "research", "complex_reasoning", "code_generation"]
Tier = Literal["free", "pro", "enterprise"]


class Setting(Node):
    """One `key: value` line as written (Model, Routing, front matter); `span` covers the
    line, `value_span` the value alone."""

    key: str
    value: str
    value_span: Span | None = None


class ModelConfig(Node):
    """The Model section. Money in dollars, latency in seconds; `settings` keeps each line's span."""

    task: TaskType | None = None
    tier: Tier | None = None
    max_cost_per_run: Decimal | None = None
    max_latency_s: Decimal | None = None
    temperature: Decimal | None = None
    max_tokens: int | None = None
    models: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()
    settings: tuple[Setting, ...] = ()

    def setting(self, key: str) -> Setting | None:
        return next((s for s in self.settings if s.key == key), None)


class StepArg(Node):
    """`name = <expr>` of a `tool:` step."""

    name: str
    value: Expression


class Step(Node):
    """A workflow step. `kind` llm|tool|agent|rules and its `target` (task type, tool name,
    spec path or rule table name); `prompt`, `outputs`, `args`, `tools`, `max_iterations`."""

    name: str
    kind: Literal["llm", "tool", "agent", "rules"]
    target: str
    prompt: str | None = None
    prompt_span: Span | None = None
    outputs: tuple[str, ...] = ()
    args: tuple[StepArg, ...] = ()
    tools: tuple[str, ...] = ()
    max_iterations: int | None = None


class Edge(Node):
    """A flow edge: all `sources` → all `targets`; `when` condition, or `otherwise`.
    `START` and `END` are the entry and exit."""

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    when: Expression | None = None
    otherwise: bool = False


class Workflow(Node):
    """Steps and flow edges. A spec without a Workflow has `workflow = None` (one ReAct step)."""

    steps: tuple[Step, ...]
    edges: tuple[Edge, ...]


class Rule(Node):
    """One decision-table row: `verdict` `when` condition, or `otherwise`; optional message template."""

    verdict: str
    when: Expression | None = None
    otherwise: bool = False
    message: str | None = None


class RuleTable(Node):
    """A named decision table (`### Kill Criteria`); first match wins."""

    name: str
    rules: tuple[Rule, ...]


class Example(Node):
    """A behaviour example: `expected` pass (✅) or reject (❌); `input` text or `fields`;
    `expect` expression; or a `transcript` of (speaker, text) turns."""

    title: str
    expected: Literal["pass", "reject"]
    input: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    expect: Expression | None = None
    transcript: tuple[tuple[str, str], ...] = ()


class Member(Node):
    """A Team member: `name`, spec `path` (relative to the team spec's folder), routing words."""

    name: str
    path: str
    routes: tuple[str, ...] = ()
    description: str = ""


class Routing(Node):
    """Team routing: `strategy` keyword|llm and the `default` member."""

    strategy: Literal["keyword", "llm"] = "keyword"
    default: str | None = None


class RequirementItem(Node):
    """One MUST/SHOULD bullet of a requirement."""

    modality: Modality
    text: str


class Requirement(Node):
    """A Component requirement `### REQ-XX-NNN Title` with its bullets."""

    id: str
    title: str
    items: tuple[RequirementItem, ...]


class CodeBlock(Node):
    """A fenced code block: `language` and `code`."""

    language: str = ""
    code: str


class Interface(Node):
    """A Component's interface: prose and code blocks."""

    text: str
    code: tuple[CodeBlock, ...] = ()


class Command(Node):
    """An acceptance shell command."""

    command: str


class Criterion(Node):
    """A Success Criteria checkbox: `text`, `done`, and the `group` subsection if any."""

    text: str
    done: bool
    group: str | None = None


class Note(Node):
    """A section kept as notes (unknown, or known but not compiled)."""

    title: str
    text: str


class ConstitutionRef(Node):
    """The constitution merged into this spec: its `path` and SHA-256."""

    path: str
    sha256: str


class FrontMatter(Node):
    """Front matter keys (all optional). `entries` keeps every line as written (for checks);
    typed fields are set only from valid values."""

    id: str | None = None
    version: str | None = None
    status: Literal["draft", "review", "approved", "deprecated"] | None = None
    owner: str | None = None
    extends: str | None = None
    target: str | None = None
    tags: tuple[str, ...] = ()
    created: str | None = None
    entries: tuple[Setting, ...] = ()


class SectionRef(Node):
    """An H2 heading as written: `title`, and `key`, the canonical section it names
    (`tools` for `Tools Required`), or None for an unknown section; `lines`, how many
    content lines (items, paragraphs, blocks, subsections) it has."""

    title: str
    key: str | None
    lines: int = 0


DocKind = Literal["agent", "team", "component", "constitution"]


class Spec(Node):
    """A whole spec document after transformation (and, after the constitution pass, merging).

    `kind`, `name`, `path`, `sha256` of the source, front `meta`, then one field per section.
    """

    ir_version: int = IR_VERSION
    kind: DocKind
    name: str
    path: str
    sha256: str
    meta: FrontMatter
    sections: tuple[SectionRef, ...] = ()
    purpose: Prose | None = None
    scope: tuple[ScopeItem, ...] = ()
    inputs: tuple[FieldDecl, ...] = ()
    outputs: tuple[FieldDecl, ...] = ()
    inputs_declared: bool = False
    outputs_declared: bool = False
    invariants: tuple[Invariant, ...] = ()
    tools: tuple[ToolRef, ...] = ()
    tools_declared: bool = False
    model: ModelConfig | None = None
    workflow: Workflow | None = None
    rules: tuple[RuleTable, ...] = ()
    examples: tuple[Example, ...] = ()
    members: tuple[Member, ...] = ()
    routing: Routing | None = None
    requirements: tuple[Requirement, ...] = ()
    interface: Interface | None = None
    acceptance: tuple[Command, ...] = ()
    success_criteria: tuple[Criterion, ...] = ()
    notes: tuple[Note, ...] = ()
    constitution: ConstitutionRef | None = None

    def field(self, name: str) -> FieldDecl | None:
        """The input or output field called `name`."""
        return next((f for f in (*self.inputs, *self.outputs) if f.name == name), None)

    def step(self, name: str) -> Step | None:
        return next((s for s in self.workflow.steps if s.name == name), None) if self.workflow else None

    def rule_table(self, name: str) -> RuleTable | None:
        return next((t for t in self.rules if t.name.lower() == name.lower()), None)

