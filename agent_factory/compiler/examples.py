"""The Examples section: `### ✅ Title` / `### ❌ Title` blocks, or the original project's
`### Clearly Correct` / `### Clearly Wrong` groups of `**Example N: Title**` items."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import ir
from .document import Element, Item, RawSection, RawSubsection
from .grammars import Token
from .lines import first, parse_line
from .span import Origin, Span

if TYPE_CHECKING:
    from .transform import Transformer

_LABEL = re.compile(r"^(?:[-*+]\s+)?\*\*(Input|Expect|Expected)s?:?\*\*:?\s*", re.IGNORECASE)
_BOLD_EXAMPLE = re.compile(r"^\*\*(Example\b[^*]*?):?\*\*:?\s*$", re.IGNORECASE)
_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):\s+(.*)$")
_SHORTHAND = re.compile(r"^(not\s+)?contains\s+(\".*\"|'.*')\s*$")
_GROUPS = {"clearly correct": "pass", "clearly wrong": "reject", "correct": "pass", "wrong": "reject", "edge cases": "pass"}
# the original project's `### Edge Case: Title` (or `### Edge Case 2 - Title`): an unusual input the agent must handle
_EDGE_CASE = re.compile(r"^edge[\s-]*case\s*\d*\s*[:\-–—]?\s*(.*)$", re.IGNORECASE)


class ExampleBuilder:
    """Builds `ir.Example` nodes for one Examples section."""

    def __init__(self, transformer: "Transformer") -> None:
        self.t = transformer
        inputs = transformer.fields.get("inputs") or ()
        self.input_names = {f.name for f in inputs} or {"query"}
        outputs = transformer.fields.get("outputs") or ()
        self.primary_output = outputs[0].name if outputs else "answer"

    def build(self, section: RawSection) -> tuple[ir.Example, ...]:
        for element in section.elements:
            self.t.not_understood(element, section.heading.title, "example (`### ✅ Title` or `### ❌ Title`)")
        out: list[ir.Example] = []
        for sub in section.subsections:
            out.extend(self.subsection(sub))
        return tuple(out)

    def subsection(self, sub: RawSubsection) -> list[ir.Example]:
        title = sub.heading.title.strip()
        group = _GROUPS.get(title.lower())
        edge = _EDGE_CASE.match(title)
        bold = any(_BOLD_EXAMPLE.match(self.line_of(e)[0]) for e in sub.elements if not _is_fence(e))
        if group and (bold or not edge):
            return [e for e in (self.example(t, s, group, body) for t, s, body in self.split(sub)) if e]
        if edge:
            example = self.example(edge.group(1) or title, self.t.heading_span(sub.heading), "pass", sub.elements)
            return [example] if example else []
        parsed = parse_line("example_head", title, Origin.at(self.t.file, sub.heading.line, sub.heading.column), "E082",
                            "example heading")
        mark = first(parsed.tree, "EXAMPLE_MARK") if parsed.tree is not None else None
        if mark is None:
            self.t.diags.add("E082", f"example heading `{title}` does not say whether the example must pass or be rejected",
                             self.t.heading_span(sub.heading),
                             hint=f"write `### ✅ {title}` (must pass) or `### ❌ {title}` (must be rejected)")
            return []
        description = first(parsed.tree, "DESCRIPTION")
        expected = "pass" if mark.value[0] in "✅✔" else "reject"
        example = self.example(description.value if description else "", self.t.heading_span(sub.heading), expected, sub.elements)
        return [example] if example else []

    def split(self, sub: RawSubsection) -> list[tuple[str, Span, list[Element]]]:
        """Cut a `Clearly Correct` group at its `**Example N: Title**` lines."""
        groups: list[tuple[str, Span, list[Element]]] = []
        for element in sub.elements:
            text = element.full_text() if isinstance(element, Item) else element.value.strip()
            match = _BOLD_EXAMPLE.match(text)
            if match:
                title = re.sub(r"^example\s*\d*\s*:?\s*", "", match.group(1), flags=re.IGNORECASE).strip()
                groups.append((title or match.group(1), self.t.element_span(element), []))
            elif groups:
                groups[-1][2].append(element)
            else:
                self.t.not_understood(element, sub.heading.title, "example (`**Example 1: Title**`)")
        return groups

    def example(self, title: str, span: Span, expected: str, elements: list[Element]) -> ir.Example | None:
        values: dict[str, object] = {}
        fields: list[tuple[str, str]] = []
        collecting_fields = False
        for element in elements:
            if isinstance(element, Token) and element.type == "FENCE":
                values["transcript"] = _transcript(element.value)
                continue
            text, origin = self.line_of(element)
            label = _LABEL.match(text)
            if label:
                rest = text[label.end():].strip()
                rest_origin = origin.shifted(label.end() + len(text[label.end():]) - len(text[label.end():].lstrip()))
                if label.group(1).lower() == "input":
                    collecting_fields = not rest
                    self.input(rest, fields, values)
                else:
                    collecting_fields = False
                    values["expect"] = self.expect(rest, rest_origin, span)
            elif collecting_fields and _FIELD.match(text.lstrip("-*+ ")):
                key, value = _FIELD.match(text.lstrip("-*+ ")).groups()
                fields.append((key, unquote(value.strip())))
            else:
                self.t.not_understood(element, "example", "`**Input:**` or `**Expect:**` line")
        if fields:
            values["fields"] = tuple(fields)
        if values.get("input") is None and not fields and not values.get("transcript"):
            self.t.diags.add("E082", f"example `{title}` has no `**Input:**`", span,
                             hint="add a line `**Input:** <text>` (or `**Input:** name: value`)")
            return None
        if values.get("expect") is None and not values.get("transcript"):
            if "expect" not in values:
                self.t.diags.add("E082", f"example `{title}` has no `**Expect:**`", span,
                                 hint='add a line such as `**Expect:** len(sources) >= 1` or `**Expect:** contains "agent"`')
            return None
        return ir.Example(span=span, title=title, expected=expected, **values)

    def line_of(self, element: Element) -> tuple[str, Origin]:
        """An element's text and where its characters are in the file."""
        if isinstance(element, Item):
            return element.full_text(), element.origin(self.t.file)
        stripped = element.value.lstrip()
        return stripped.rstrip(), Origin.at(self.t.file, element.line, len(element.value) - len(stripped) + 1)

    def input(self, rest: str, fields: list[tuple[str, str]], values: dict[str, object]) -> None:
        match = _FIELD.match(rest)
        if match and match.group(1) in self.input_names:
            fields.append((match.group(1), unquote(match.group(2).strip())))
        elif rest:
            values["input"] = rest

    def expect(self, rest: str, origin: Origin, span: Span) -> ir.Expression | None:
        if not rest:
            self.t.diags.add("E082", "`**Expect:**` has no condition", origin.span(0, 1),
                             hint='write an expression such as `verdict == "KILL"` or `contains "agent"`')
            return None
        shorthand = _SHORTHAND.match(rest)
        if not shorthand:
            return self.t.expression(rest, origin)
        literal = self.t.expression(shorthand.group(2), origin.shifted(rest.index(shorthand.group(2))))
        if literal is None:
            return None
        where = origin.span(0, len(rest))
        node: ir.Expr = ir.Binary(span=where, op="contains", left=ir.Path(span=where, parts=(self.primary_output,)), right=literal.tree)
        if shorthand.group(1):
            node = ir.Unary(span=where, op="not", operand=node)
        return ir.Expression(span=where, source=rest, tree=node)


def _is_fence(element: Element) -> bool:
    return isinstance(element, Token) and element.type == "FENCE"


def unquote(value: str) -> str:
    """An example value without the quotes around it: `"USD"` is the value USD."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _transcript(block: str) -> tuple[tuple[str, str], ...]:
    turns: list[tuple[str, str]] = []
    for line in block.split("\n")[1:-1]:
        match = re.match(r"^\s*(User|Agent|Assistant|System)\s*:\s*(.*)$", line, re.IGNORECASE)
        if match:
            turns.append((match.group(1).lower(), match.group(2)))
        elif turns and line.strip():
            speaker, text = turns[-1]
            turns[-1] = (speaker, f"{text}\n{line.strip()}")
    return tuple(turns)
