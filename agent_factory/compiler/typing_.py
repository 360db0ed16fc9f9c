"""The type environment of a spec: what a name in an expression or a prompt can mean.

Fields are the declared Inputs (default `query: str`) and Outputs (default `answer: str`),
the outputs steps write (an output a step writes but Outputs does not declare is `str`: it
is the text a step produced), `step.output` paths, `input.x` / `output.x` paths and the run
facts (`run.cost_usd`, `run.latency_s`, `run.tools_called`, `run.steps`, `run.model`).
Also small flow-graph helpers shared by the names, types and graph passes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from .ir import Spec, TypeRef
from .span import Span

START, END = "START", "END"
NUMERIC = ("int", "float")
TEXT = ("str", "url", "enum")


@dataclass(frozen=True)
class Ty:
    """A type as the checker sees it: `kind` str|url|int|float|bool|list|enum|any; `item`
    of a list; `members` of an enum. `any` is the type of something already reported."""

    kind: str
    item: "Ty | None" = None
    members: tuple[str, ...] = ()

    def render(self) -> str:
        if self.kind == "list":
            return f"list[{self.item.render() if self.item else 'any'}]"
        if self.kind == "enum":
            return f"enum({'|'.join(self.members)})"
        return self.kind

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC

    @property
    def text(self) -> bool:
        return self.kind in TEXT


ANY, STR, INT, FLOAT, BOOL = Ty("any"), Ty("str"), Ty("int"), Ty("float"), Ty("bool")
RUN_FACTS: dict[str, Ty] = {
    "cost_usd": FLOAT,
    "latency_s": FLOAT,
    "tools_called": Ty("list", STR),
    "steps": Ty("list", STR),
    "model": STR,
}


def from_ref(ref: TypeRef) -> Ty:
    """The checker's type of a declared type."""
    if ref.kind == "list":
        return Ty("list", from_ref(ref.item) if ref.item else ANY)
    if ref.kind == "enum":
        return Ty("enum", members=ref.members)
    if ref.kind == "unknown":
        return ANY
    return Ty(ref.kind)


@dataclass
class TypeEnv:
    """Names and their types for one spec: `inputs`, `outputs` (declared), `written`
    (output name -> steps that write it), `steps` (step name -> its outputs)."""

    inputs: dict[str, Ty]
    outputs: dict[str, Ty]
    written: dict[str, list[str]] = field(default_factory=dict)
    steps: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # `args.<name>`: the arguments of the spec's tools (checked by a guard before the call);
    # None when some tool's arguments are only known at run time (python and mcp bindings)
    args: dict[str, Ty] | None = field(default_factory=dict)
    # inputs and outputs declared optional (`name: type?`): absent unless given or written
    optional: frozenset[str] = frozenset()

    def field(self, name: str) -> Ty | None:
        """The type of a bare name: an input, a declared output, or an output some step writes."""
        if name in self.inputs:
            return self.inputs[name]
        if name in self.outputs:
            return self.outputs[name]
        return STR if name in self.written else None

    def names(self) -> list[str]:
        """Every bare name, sorted (for "did you mean")."""
        return sorted({*self.inputs, *self.outputs, *self.written})

    def path(self, parts: tuple[str, ...]) -> tuple[Ty | None, int, list[str]]:
        """Resolve a path: (its type or None, the index of the first part that did not
        resolve, the names that part could have been)."""
        head = parts[0]
        if len(parts) > 1 and self.field(head) is None:
            scoped = {"input": self.inputs, "inputs": self.inputs, "output": self.outputs, "outputs": self.outputs}
            if head == "run":
                return _member(RUN_FACTS, parts)
            if head == "args":
                if self.args is None:
                    return (ANY, 2, []) if len(parts) == 2 else (None, 2, [])
                return _member(self.args, parts)
            if head in scoped:
                return _member(scoped[head], parts)
            if head in self.steps:
                return _member({name: self.field(name) or STR for name in self.steps[head]}, parts)
        found = self.field(head)
        if found is None:
            return None, 0, self.names()
        return (found, 1, []) if len(parts) == 1 else (None, 1, [])


def _member(table: dict[str, Ty], parts: tuple[str, ...]) -> tuple[Ty | None, int, list[str]]:
    """`parts[1]` looked up in `table`; nothing may follow it (no attribute access)."""
    found = table.get(parts[1])
    if found is None:
        return None, 1, sorted(table)
    return (found, 2, []) if len(parts) == 2 else (None, 2, [])


_JSON_TYPES = {"string": STR, "integer": INT, "number": FLOAT, "boolean": BOOL, "array": Ty("list", ANY)}


def tool_arg_types(schemas: list[dict | None]) -> dict[str, Ty] | None:
    """`args.<name>` types from the tools' JSON Schemas (None for a schema not known statically)."""
    if any(schema is None for schema in schemas):
        return None
    out: dict[str, Ty] = {}
    for schema in schemas:
        for name, prop in (schema.get("properties") or {}).items():
            kind = prop.get("type")
            out.setdefault(name, _JSON_TYPES.get(kind, ANY) if isinstance(kind, str) else ANY)
    return out


def type_env(spec: Spec) -> TypeEnv:
    """The type environment of `spec`."""
    inputs = {f.name: from_ref(f.type) for f in spec.inputs} if spec.inputs_declared or spec.inputs else {"query": STR}
    outputs = {f.name: from_ref(f.type) for f in spec.outputs} if spec.outputs_declared or spec.outputs else {"answer": STR}
    optional = frozenset(f.name for f in (*spec.inputs, *spec.outputs) if f.type.optional)
    env = TypeEnv(inputs=inputs, outputs=outputs, optional=optional)
    for step in spec.workflow.steps if spec.workflow else ():
        env.steps.setdefault(step.name, step.outputs)
        for name in step.outputs:
            env.written.setdefault(name, []).append(step.name)
    return env


# ---------------------------------------------------------------- flow graph


@dataclass
class Flow:
    """The flow graph: `succ`/`pred` adjacency over step names plus START and END."""

    succ: dict[str, list[str]] = field(default_factory=dict)
    pred: dict[str, list[str]] = field(default_factory=dict)

    def reach(self, start: str, forward: bool = True, avoid: frozenset[str] = frozenset()) -> set[str]:
        """Every node reachable from `start` (following edges backward when not `forward`),
        never entering a node of `avoid`."""
        graph = self.succ if forward else self.pred
        seen, todo = {start}, [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen and nxt not in avoid:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen


def flow(spec: Spec) -> Flow:
    """The flow graph of a spec's workflow (empty without one)."""
    graph = Flow()
    for edge in spec.workflow.edges if spec.workflow else ():
        for source in edge.sources:
            for target in edge.targets:
                _add(graph.succ, source, target)
                _add(graph.pred, target, source)
    return graph


def _add(table: dict[str, list[str]], key: str, value: str) -> None:
    items = table.setdefault(key, [])
    if value not in items:
        items.append(value)


def ancestors(spec: Spec, step: str) -> set[str]:
    """Steps that can run before `step` (its ancestors in the flow graph, itself excluded
    unless it is on a cycle)."""
    graph = flow(spec)
    found = set()
    for before in graph.pred.get(step, ()):
        found |= graph.reach(before, forward=False)
    return found - {START, END}


# ---------------------------------------------------------------- templates

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")


def placeholders(text: str) -> Iterator[tuple[str, int, int]]:
    """`{name}` placeholders of a template: (name, line index, column index); `{{` and `}}` escape."""
    for index, line in enumerate(text.split("\n")):
        for match in _PLACEHOLDER.finditer(line):
            if match.group(1):
                yield match.group(1), index, match.start()


def prompt_span(span: Span, inline: bool, line_index: int, column_index: int, length: int) -> Span:
    """Where a placeholder sits: inline prompts start at `span`; fenced ones one line below it."""
    if inline:
        return Span.point(span.file, span.line, span.column + column_index, length)
    return Span.point(span.file, span.line + 1 + line_index, column_index + 1, length)


def placeholder_spans(prompt: str, span: Span, sha256: str) -> Iterator[tuple[str, Span]]:
    """Each `{name}` placeholder of a step's prompt (whose span is `span`) with its own span.

    A fenced prompt starts on the line below its fence; an inline prompt at `span`, and one
    continued over several lines is joined with spaces, so its placeholders are found in the
    source lines themselves (or, when the compiled text is not on disk, shown at the prompt)."""
    first_line = source_line(span.file, span.line, sha256)
    single = span.end_line == span.line
    fenced = first_line.lstrip().startswith(("```", "~~~")) if first_line else (not single and "\n" in prompt)
    if fenced or single:
        for name, line, column in placeholders(prompt):
            yield name, prompt_span(span, not fenced, line, column, len(name) + 2)
        return
    line, column = span.line, span.column - 1
    for name, _line, _column in placeholders(prompt):
        found = _find_from(span, "{" + name + "}", line, column, sha256)
        if found is None:
            yield name, Span.point(span.file, span.line, span.column, len(name) + 2)
            continue
        line, column = found.line, found.end_column - 1
        yield name, found


def _find_from(span: Span, text: str, line: int, column: int, sha256: str) -> Span | None:
    """The first `text` at or after `line`:`column` (0-based column) up to `span.end_line`."""
    for number in range(line, span.end_line + 1):
        at = source_line(span.file, number, sha256).find(text, column if number == line else 0)
        if at >= 0:
            return Span.point(span.file, number, at + 1, len(text))
    return None


@lru_cache(maxsize=64)
def _lines(path: str, stamp: int, sha256: str) -> tuple[str, ...]:
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ()
    # Only the very text that was compiled: an edited or unsaved file must not move carets.
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != sha256:
        return ()
    return tuple(line.rstrip("\r") for line in text.split("\n"))


def source_lines(path: str, sha256: str) -> tuple[str, ...]:
    """The lines of the file at `path` when it is still the compiled text (its SHA-256 is
    `sha256`), else none."""
    try:
        stamp = Path(path).stat().st_mtime_ns
    except OSError:
        return ()
    return _lines(path, stamp, sha256)


def source_line(path: str, line: int, sha256: str) -> str:
    """Line `line` (1-based) of the file at `path` when the file is still the compiled text
    (its SHA-256 is `sha256`), else ""."""
    lines = source_lines(path, sha256)
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def word_span(span: Span, word: str, sha256: str, lines_after: int = 0) -> Span:
    """The span of `word` (a whole word) on the line of `span` at or after its column, or on
    one of the `lines_after` following lines up to the next heading; `span` itself when the
    word is not found. The IR keeps one span per step or edge; this finds a name inside it,
    in the source whose SHA-256 is `sha256` (the spec's)."""
    pattern = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(word) + r"(?![A-Za-z0-9_])")
    for line in range(span.line, span.line + lines_after + 1):
        text = source_line(span.file, line, sha256)
        if line > span.line and text.lstrip().startswith("#"):
            break  # the next heading: the word is not in this block
        start = span.column - 1 if line == span.line else 0
        match = pattern.search(text, max(start, 0))
        if match:
            return Span.point(span.file, line, match.start() + 1, len(word))
    return span
