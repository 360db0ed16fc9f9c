"""Reshape a parsed document into IR.

Each section has a builder that parses its lines with the line-form grammar and builds IR
nodes. Lines that do not fit their form are syntax errors reported here; what the lines
*mean* (unknown types, bad amounts, duplicates, missing sections) is checked by passes.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from typing import Callable

from . import ir
from .diagnostics import Collector, did_you_mean
from .document import Element, Heading, Item, RawDocument, RawSection, RawSubsection
from .expr import parse_expression
from .grammars import Token, Tree
from .lines import LineParse, first, parse_line, tokens
from .literals import LiteralError, duration_seconds, money, number
from .span import Origin, Span
from .tool_aliases import builtin_for

# canonical section key for each accepted H2 title (lower-cased, spaces folded)
SECTION_KEYS = {
    "purpose": "purpose", "scope": "scope", "inputs": "inputs", "outputs": "outputs",
    "invariants": "invariants", "tools": "tools", "tools required": "tools", "model": "model",
    "workflow": "workflow", "rules": "rules", "examples": "examples", "behavior examples": "examples",
    "behaviour examples": "examples", "members": "members", "routing": "routing",
    "requirements": "requirements", "interface": "interface", "acceptance": "acceptance",
    "success criteria": "success_criteria",
}
# sections of the original project kept as notes without a warning
NOTE_SECTIONS = ("data models", "evaluation criteria", "deployment plan", "open questions", "version history")
DOC_KINDS = {"agent": "agent", "agent spec": "agent", "team": "team", "component": "component", "constitution": "constitution"}
# the sections each kind of document compiles; others draw W013 and are skipped
SECTIONS_BY_KIND = {
    "agent": {"purpose", "scope", "inputs", "outputs", "invariants", "tools", "model", "workflow", "rules",
              "examples", "success_criteria"},
    "team": {"purpose", "scope", "inputs", "outputs", "invariants", "model", "members", "routing", "examples",
             "success_criteria"},
    "component": {"purpose", "scope", "invariants", "tools", "model", "requirements", "interface", "acceptance",
                  "success_criteria"},
    "constitution": {"purpose", "scope", "invariants", "tools", "model"},
}
FRONT_MATTER_KEYS = ("id", "version", "status", "owner", "extends", "target", "tags", "created")
STEP_KINDS = ("llm", "tool", "agent", "rules")
STEP_KEYS = (*STEP_KINDS, "prompt", "outputs", "args", "tools", "max_iterations")
_ID = re.compile(r"^([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d+)\b\s*")
_EXAMPLE_LINE = re.compile(r"^\*\*(Input|Expect|Expected|Output)s?:?\*\*:?\s*(.*)$", re.IGNORECASE)
_BOLD_EXAMPLE = re.compile(r"^\*\*(Example\b[^*]*)\*\*\s*$", re.IGNORECASE)
_SNAKE = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def section_key(title: str) -> str | None:
    """The canonical key of an H2 title, or None when the language does not know it."""
    return SECTION_KEYS.get(" ".join(title.lower().split()))


def snake_case(name: str) -> str:
    """`Web Search` → `web_search`; `WebSearch` → `web_search`."""
    spaced = _CAMEL.sub("_", name.strip())
    return _SNAKE.sub("_", spaced).strip("_").lower()


class Transformer:
    """Builds one `ir.Spec` from a `RawDocument`, collecting syntax diagnostics."""

    def __init__(self, doc: RawDocument, text: str) -> None:
        self.doc = doc
        self.file = doc.path
        self.text = text
        self.diags = Collector()
        self.fields: dict[str, object] = {}

    # ------------------------------------------------------------ helpers
    def heading_span(self, heading: Heading) -> Span:
        return Span.point(self.file, heading.line, heading.column, max(len(heading.title), 1))

    def element_span(self, element: Element) -> Span:
        if isinstance(element, Item):
            return Span.point(self.file, element.line, element.column, max(len(element.text), 1))
        value = element.value.split("\n")[0]
        indent = len(value) - len(value.lstrip())
        return Span(file=self.file, line=element.line, column=indent + 1, end_line=element.end_line or element.line,
                    end_column=element.end_column or len(value) + 1)

    def parse(self, form: str, text: str, line: int, column: int, code: str, what: str) -> LineParse:
        """Parse `text`, found at `line`:`column`, as `form`."""
        return self.parse_at(form, text, Origin.at(self.file, line, column), code, what)

    def parse_at(self, form: str, text: str, origin: Origin, code: str, what: str) -> LineParse:
        """Parse `text`, whose characters come from `origin`, as `form`."""
        result = parse_line(form, text, origin, code, what)
        if result.error:
            self.diags.extend([result.error])
        return result

    def parse_item(self, form: str, item: Item, code: str, what: str) -> LineParse:
        return self.parse_at(form, item.full_text(), item.origin(self.file), code, what)

    def expression(self, source: str, origin: Origin) -> ir.Expression | None:
        node, errors = parse_expression(source, origin)
        self.diags.extend(errors)
        return node

    def not_understood(self, element: Element, section: str, expected: str) -> None:
        self.diags.add("W015", f"this line is not understood in the {section} section and is ignored",
                       self.element_span(element),
                       hint=f"expected here: {expected}; rewrite the line in that form or move it to another section")

    # ------------------------------------------------------------ document
    def build(self) -> ir.Spec | None:
        doc = self.doc
        meta = self.front_matter()
        title = self.title(meta)
        if title is None:
            return None
        kind, name, span, version = title
        if version and meta.version is None:
            meta = meta.model_copy(update={"version": version})
        sections = []
        seen: set[str] = set()
        notes: list[ir.Note] = []
        for section in doc.sections:
            key = section_key(section.heading.title)
            size = len(section.elements) + sum(1 + len(sub.elements) for sub in section.subsections)
            sections.append(ir.SectionRef(span=self.heading_span(section.heading), title=section.heading.title, key=key,
                                          lines=size))
            if key is not None and key not in SECTIONS_BY_KIND[kind]:
                continue  # reported by the structure pass (W013) and not compiled
            if key is None:
                notes.append(ir.Note(span=self.heading_span(section.heading), title=section.heading.title,
                                     text=self.prose(section.all_elements())))
            elif key not in seen:
                seen.add(key)
                getattr(self, "section_" + key)(section)
        whole = Span(file=self.file, line=1, column=1, end_line=max(len(doc.lines), 1),
                     end_column=len(doc.lines[-1]) + 1 if doc.lines else 1)
        return ir.Spec(
            span=whole, kind=kind, name=name, path=self.file,
            sha256=hashlib.sha256(self.text.encode("utf-8")).hexdigest(), meta=meta,
            sections=tuple(sections), notes=tuple(notes), **self.fields,
        )

    def front_matter(self) -> ir.FrontMatter:
        values: dict[str, object] = {}
        entries: list[ir.Setting] = []
        for token in self.doc.front_matter or []:
            indent = len(token.value) - len(token.value.lstrip())
            parsed = self.parse("setting", token.value.strip(), token.line, indent + 1, "E003", "front matter line")
            if parsed.tree is None:
                continue
            key_token = first(parsed.tree, "KEY")
            value_token = first(parsed.tree, "VALUE")
            value = value_token.value if value_token else ""
            entries.append(ir.Setting(span=Span.point(self.file, token.line, indent + 1, len(token.value.strip())),
                                      key=key_token.value, value=value,
                                      value_span=parsed.span(value_token) if value_token else None))
            values.update(_front_value(key_token.value.lower(), value))
        for element in self.doc.preamble:
            meta = self._meta_line(element)
            if meta:
                entries.append(meta)
                values.update(_front_value(meta.key, meta.value))
        first_line = self.doc.front_matter[0].line if self.doc.front_matter else 1
        return ir.FrontMatter(span=Span.point(self.file, max(first_line - 1, 1), 1, 3), entries=tuple(entries), **values)

    def _meta_line(self, element: Element) -> ir.Setting | None:
        """`**Status:** DRAFT` under the title (the original project's form)."""
        if not isinstance(element, Token) or element.type != "TEXT" or not element.value.startswith("**"):
            return None
        parsed = parse_line("meta_line", element.value.strip(), Origin.at(self.file, element.line, 1), "E003", "metadata line")
        if parsed.tree is None:
            return None
        key = first(parsed.tree, "BOLD_KEY").value.strip("*: ").lower()
        value = first(parsed.tree, "VALUE")
        text = value.value if value else ""
        return ir.Setting(span=parsed.span(parsed.tree), key=key, value=text.lower() if key == "status" else text)

    def title(self, meta: ir.FrontMatter) -> tuple[str, str, Span, str | None] | None:
        heading = next((Heading(e) for e in self.doc.preamble if isinstance(e, Token) and e.type == "H1"), None)
        if heading is None:
            line = self.doc.sections[0].heading.line if self.doc.sections else 1
            self.diags.add("E005", "the spec has no title saying what it is", Span.point(self.file, line, 1),
                           hint="start the document with a title such as `# Agent: Market Research`")
            return None
        parsed = parse_line("title", heading.title, Origin.at(self.file, heading.line, heading.column), "E005", "title")
        if parsed.tree is None:
            word = heading.title.split(":")[0].strip()
            guess = did_you_mean(word, ["Agent", "Team", "Component", "Constitution"])
            self.diags.add("E005", f"`{heading.title}` does not say what kind of document this is",
                           self.heading_span(heading),
                           hint=guess or "write `# Agent: Name`, `# Team: Name`, `# Component: Name` or `# Constitution: Name`")
            return None
        kind_token = first(parsed.tree, "DOC_KIND")
        name_token = first(parsed.tree, "TITLE_NAME")
        version = first(parsed.tree, "VERSION")
        kind = DOC_KINDS[" ".join(kind_token.value.lower().split())]
        version_text = version.value.strip().lstrip("v") if version else None
        return kind, name_token.value.strip(), self.heading_span(heading), version_text

    # ------------------------------------------------------------ prose sections
    def prose(self, elements: list[Element]) -> str:
        parts = []
        for element in elements:
            if isinstance(element, Item):
                parts.append("- " + element.full_text())
            else:
                parts.append(element.value.strip())
        return "\n".join(parts)

    def section_purpose(self, section: RawSection) -> None:
        text = self.prose(section.all_elements())
        self.fields["purpose"] = ir.Prose(span=self.heading_span(section.heading), text=text)

    def section_scope(self, section: RawSection) -> None:
        items: list[ir.ScopeItem] = []
        groups = [(None, section.elements)] + [(s.heading.title.lower(), s.elements) for s in section.subsections]
        for group, elements in groups:
            for element in elements:
                if not isinstance(element, Item):
                    continue
                text = element.full_text()
                included = not (group and group.startswith("out"))
                if text and text[0] in "✅❌":
                    included = text[0] == "✅"
                    text = text[1:].lstrip("\ufe0f").strip()
                items.append(ir.ScopeItem(span=self.element_span(element), text=text, included=included))
        self.fields["scope"] = tuple(items)

    # ------------------------------------------------------------ fields
    def section_inputs(self, section: RawSection) -> None:
        self.fields["inputs"] = self.field_list(section, "input")
        self.fields["inputs_declared"] = True

    def section_outputs(self, section: RawSection) -> None:
        self.fields["outputs"] = self.field_list(section, "output")
        self.fields["outputs_declared"] = True

    def field_list(self, section: RawSection, what: str) -> tuple[ir.FieldDecl, ...]:
        out = []
        for element in section.all_elements():
            if not isinstance(element, Item):
                self.not_understood(element, section.heading.title, f"{what} field")
                continue
            parsed = self.parse_item("field", element, "E020", f"{what} field")
            if parsed.tree is None:
                continue
            name = first(parsed.tree, "NAME")
            type_tree = next(c for c in parsed.tree.children if isinstance(c, Tree))
            description = first(parsed.tree, "DESCRIPTION")
            out.append(ir.FieldDecl(span=parsed.span(name), name=name.value, type=self.type_ref(type_tree, parsed),
                                    description=description.value if description else ""))
        return tuple(out)

    def type_ref(self, tree: Tree, parsed: LineParse) -> ir.TypeRef:
        name = tree.children[0]
        optional = any(isinstance(c, Token) and c.type == "OPTIONAL" for c in tree.children)
        span = parsed.span(tree)
        base = name.value.lower()
        known = base in ("str", "int", "float", "bool", "url", "list", "enum")
        if tree.data == "generic_type":
            inner = next(c for c in tree.children[1:] if isinstance(c, Tree))
            kind = "list" if base == "list" else "unknown"
            return ir.TypeRef(span=span, kind=kind, name=None if kind == "list" else name.value,
                              item=self.type_ref(inner, parsed), optional=optional)
        if tree.data == "enum_type":
            members = tuple(m.children[0].value.strip("\"'") for m in tree.children if isinstance(m, Tree))
            kind = "enum" if base == "enum" else "unknown"
            return ir.TypeRef(span=span, kind=kind, name=None if kind == "enum" else name.value, members=members, optional=optional)
        if tree.data == "ranged_type":
            bounds = [c for c in tree.children if isinstance(c, Tree)]
            dots = first(tree, "RANGE_DOTS")
            low = next((Decimal(b.children[0].value) for b in bounds if b.children[0].column < dots.column), None)
            high = next((Decimal(b.children[0].value) for b in bounds if b.children[0].column > dots.column), None)
            return ir.TypeRef(span=span, kind=base if known else "unknown", name=None if known else name.value,
                              minimum=low, maximum=high, optional=optional)
        if known and base not in ("list", "enum"):
            return ir.TypeRef(span=span, kind=base, optional=optional)
        return ir.TypeRef(span=span, kind="unknown", name=name.value, optional=optional)

    # ------------------------------------------------------------ invariants
    def section_invariants(self, section: RawSection) -> None:
        out: list[ir.Invariant] = []
        for element in section.all_elements():
            if not isinstance(element, Item):
                self.not_understood(element, section.heading.title, "invariant")
                continue
            invariant = self.invariant(element, len(out) + 1)
            if invariant:
                out.append(invariant)
        self.fields["invariants"] = _number_unlabelled(out)

    def invariant(self, item: Item, number: int) -> ir.Invariant | None:
        parsed = self.parse_item("invariant", item, "E040", "invariant")
        if parsed.tree is None:
            return None
        head = first(parsed.tree, "BOLD_HEAD")
        modality = first(parsed.tree, "MODALITY")
        text = first(parsed.tree, "RULE_TEXT")
        check = first(parsed.tree, "CHECK")
        if text is None and modality is None:
            self.diags.add("E040", "malformed invariant: the rule has no text", parsed.span(head or parsed.tree),
                           hint="write the rule after the title, for example `**INV-001 Cite:** MUST cite a source`")
            return None
        title = head.value.strip("*: ") if head else ""
        match = _ID.match(title)
        given = bool(match)
        inv_id = match.group(1) if match else f"INV-{number:03d}"
        if match:
            title = title[match.end():].strip()
        expression = None
        if check:
            inner = check.value[len("`check:"):-1]
            expression = self.expression(inner, parsed.origin_of(check, skip=len("`check:")))
        return ir.Invariant(
            span=parsed.span(head or modality or text), id=inv_id, id_given=given, title=title,
            modality=" ".join(modality.value.split()) if modality else None,
            text=text.value.strip() if text else "", check=expression,
        )

    # ------------------------------------------------------------ tools
    def section_tools(self, section: RawSection) -> None:
        out: list[ir.ToolRef] = []
        groups = [(False, section.elements)] + [
            ("optional" in s.heading.title.lower(), s.elements) for s in section.subsections
        ]
        for optional_group, elements in groups:
            for element in elements:
                if not isinstance(element, Item):
                    self.not_understood(element, section.heading.title, "tool")
                    continue
                tool = self.tool(element, optional_group)
                if tool:
                    out.append(tool)
        self.fields["tools"] = tuple(out)
        self.fields["tools_declared"] = True

    def tool(self, item: Item, optional_group: bool) -> ir.ToolRef | None:
        parsed = self.parse_item("tool", item, "E050", "tool")
        if parsed.tree is None:
            return None
        name = first(parsed.tree, "NAME") or first(parsed.tree, "BOLD_NAME")
        text = first(parsed.tree, "TOOL_TEXT")
        binding_token = first(parsed.tree, "BINDING")
        binding = self.binding(binding_token, parsed) if binding_token else None
        if binding_token and binding is None:
            return None  # the binding's syntax error is reported; an unbound tool would only add noise
        return ir.ToolRef(
            span=parsed.span(name), name=self.tool_name(name, parsed), description=text.value.strip() if text else "",
            optional=optional_group or bool(tokens(parsed.tree, "OPTIONAL_MARK")), binding=binding,
        )

    def tool_name(self, token: Token, parsed: LineParse) -> str:
        """The tool's name in snake_case; a LangChain class name of the original project is the
        built-in it stands for (W218 says what to write)."""
        written = token.value.strip("*").strip()
        name = snake_case(written)
        builtin = builtin_for(name)
        if builtin is None:
            return name
        self.diags.add("W218", f"`{written}` is a LangChain tool class of the original project; it is the built-in "
                               f"tool `{builtin}` here", parsed.span(token), hint=f"write `{builtin}`")
        return builtin

    def binding(self, token: Token, parsed: LineParse) -> ir.ToolBinding | None:
        inner = token.value.strip()[1:-1]
        result = self.parse_at("binding", inner, parsed.origin_of(token, skip=1), "E051", "tool binding")
        if result.tree is None:
            return None
        kind = (first(result.tree, "HTTP_KIND") or first(result.tree, "OTHER_KIND")).value.rstrip(":")
        method = first(result.tree, "HTTP_METHOD")
        target = first(result.tree, "TARGET")
        if kind == "http" and method is None:
            method_value = "GET"
        else:
            method_value = method.value if method else None
        return ir.ToolBinding(span=parsed.span(token), kind=kind, method=method_value, target=target.value)

    # ------------------------------------------------------------ model and routing
    def settings(self, section: RawSection, code: str, what: str) -> list[ir.Setting]:
        out = []
        for element in section.all_elements():
            if isinstance(element, Item):
                parsed = self.parse_item("setting", element, code, what)
            elif isinstance(element, Token) and element.type == "TEXT":
                parsed = self.parse("setting", element.value.strip(), element.line, 1 + len(element.value) - len(element.value.lstrip()), code, what)
            else:
                self.not_understood(element, section.heading.title, what)
                continue
            if parsed.tree is None:
                continue
            key = first(parsed.tree, "KEY")
            value = first(parsed.tree, "VALUE")
            out.append(ir.Setting(span=parsed.span(parsed.tree), key=key.value.lower(), value=value.value if value else "",
                                  value_span=parsed.span(value) if value else None))
        return out

    def section_model(self, section: RawSection) -> None:
        settings = self.settings(section, "E061", "model setting")
        typed: dict[str, object] = {}
        for setting in settings:
            typed.update(_model_value(setting))
        self.fields["model"] = ir.ModelConfig(span=self.heading_span(section.heading), settings=tuple(settings), **typed)

    def section_routing(self, section: RawSection) -> None:
        settings = self.settings(section, "E091", "routing setting")
        values: dict[str, object] = {}
        for setting in settings:
            if setting.key == "strategy" and setting.value.lower() in ("keyword", "llm"):
                values["strategy"] = setting.value.lower()
            elif setting.key == "default":
                values["default"] = setting.value.strip()
            else:
                self.diags.add("E091", f"routing setting `{setting.key}: {setting.value}` is not understood", setting.span,
                               hint="routing takes `strategy: keyword` or `strategy: llm`, and `default: <member>`")
        self.fields["routing"] = ir.Routing(span=self.heading_span(section.heading), **values)

    def section_members(self, section: RawSection) -> None:
        out = []
        for element in section.all_elements():
            if not isinstance(element, Item):
                self.not_understood(element, section.heading.title, "member")
                continue
            parsed = self.parse_item("member", element, "E090", "member")
            if parsed.tree is None:
                continue
            name = first(parsed.tree, "NAME")
            routes = next((c for c in parsed.tree.children if isinstance(c, Tree)), None)
            description = first(parsed.tree, "DESCRIPTION")
            out.append(ir.Member(
                span=parsed.span(name), name=name.value, path=first(parsed.tree, "PATH").value,
                routes=tuple(w.value.strip() for w in routes.children) if routes else (),
                description=description.value if description else "",
            ))
        self.fields["members"] = tuple(out)

    # ------------------------------------------------------------ workflow
    def section_workflow(self, section: RawSection) -> None:
        steps: list[ir.Step] = []
        edges: list[ir.Edge] = []
        for element in section.elements:
            self.not_understood(element, section.heading.title, "step (`### step_name`) or `### Flow`")
        for sub in section.subsections:
            if sub.heading.title.strip().lower() == "flow":
                edges.extend(e for e in (self.edge(el, sub) for el in sub.elements) if e)
            else:
                step = self.step(sub)
                if step:
                    steps.append(step)
        self.fields["workflow"] = ir.Workflow(span=self.heading_span(section.heading), steps=tuple(steps), edges=tuple(edges))

    def edge(self, element: Element, sub: RawSubsection) -> ir.Edge | None:
        if not isinstance(element, Item):
            self.not_understood(element, "Flow", "edge")
            return None
        parsed = self.parse_item("edge", element, "E073", "flow edge")
        if parsed.tree is None:
            return None
        lists = [c for c in parsed.tree.children if isinstance(c, Tree)]
        condition = first(parsed.tree, "EXPR_TEXT")
        when = self.expression(condition.value, parsed.origin_of(condition)) if condition else None
        return ir.Edge(
            span=parsed.span(parsed.tree), sources=tuple(t.value for t in lists[0].children),
            targets=tuple(t.value for t in lists[1].children), when=when,
            otherwise=first(parsed.tree, "OTHERWISE") is not None,
        )

    def step(self, sub: RawSubsection) -> ir.Step | None:
        name = sub.heading.title.strip()
        span = self.heading_span(sub.heading)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            self.diags.add("E070", f"step name `{name}` is not a valid name", span,
                           hint=f"use letters, digits and underscores, for example `{snake_case(name) or 'step_1'}`")
            return None
        values: dict[str, object] = {}
        kinds: list[tuple[str, str, Span]] = []
        pending_prompt: Span | None = None
        for element in sub.elements:
            if isinstance(element, Token) and element.type == "FENCE":
                if pending_prompt is not None:
                    values["prompt"] = _fence_body(element.value)
                    values["prompt_span"] = self.element_span(element)
                    pending_prompt = None
                else:
                    self.not_understood(element, "step", "step setting")
                continue
            setting = self.step_setting(element)
            if setting is None:
                continue
            key, value, value_origin, setting_span = setting
            if key in STEP_KINDS:
                kinds.append((key, value.strip(), setting_span))
            elif key == "prompt":
                if value.strip():
                    values["prompt"] = value.strip()
                    values["prompt_span"] = value_origin.span(0, len(value.strip()))
                else:
                    pending_prompt = setting_span
            elif key in ("outputs", "tools"):
                names = self.parse_at("name_list", value, value_origin, "E070", f"`{key}` list")
                if names.tree is not None:
                    values[key] = tuple(t.value for t in names.tree.children)
            elif key == "args":
                values["args"] = self.step_args(value, value_origin)
            elif key == "max_iterations":
                if value.strip().isdigit() and int(value) > 0:
                    values["max_iterations"] = int(value)
                else:
                    self.diags.add("E070", f"`max_iterations` must be a positive whole number, found `{value.strip()}`",
                                   setting_span, hint="write for example `max_iterations: 3`")
            else:
                guess = did_you_mean(key, STEP_KEYS)
                self.diags.add("E071", f"unknown step setting `{key}`", setting_span,
                               hint=guess or "a step takes llm, tool, agent, rules, prompt, outputs, args, tools, max_iterations")
        if pending_prompt is not None and "prompt" not in values:
            self.diags.add("E070", "`prompt:` is empty and no fenced block follows it", pending_prompt,
                           hint="write the prompt after `prompt:` or in a fenced block on the next lines")
        if len(kinds) != 1:
            message = (f"step `{name}` does not say what it runs" if not kinds
                       else f"step `{name}` says more than one thing to run ({', '.join(k for k, _, _ in kinds)})")
            self.diags.add("E072", message, kinds[1][2] if len(kinds) > 1 else span,
                           hint="give exactly one of `llm: <task>`, `tool: <name>`, `agent: <spec>`, `rules: <table>`")
            return None
        kind, target, _ = kinds[0]
        return ir.Step(span=span, name=name, kind=kind, target=target, **values)

    def step_setting(self, element: Element) -> tuple[str, str, Origin, Span] | None:
        """A step's `key: value` line: the key, the value, where the value is, the key's span."""
        if isinstance(element, Item):
            text, origin = element.full_text(), element.origin(self.file)
        elif isinstance(element, Token) and element.type == "TEXT":
            stripped = element.value.lstrip()
            text, origin = stripped.rstrip(), Origin.at(self.file, element.line, len(element.value) - len(stripped) + 1)
        else:
            self.not_understood(element, "step", "step setting")
            return None
        parsed = self.parse_at("setting", text, origin, "E070", "step setting")
        if parsed.tree is None:
            return None
        key = first(parsed.tree, "KEY")
        value = first(parsed.tree, "VALUE")
        value_origin = parsed.origin_of(value) if value else origin.shifted(len(text))
        return key.value.lower(), value.value if value else "", value_origin, parsed.span(key)

    def step_args(self, text: str, origin: Origin) -> tuple[ir.StepArg, ...]:
        parsed = self.parse_at("args", text, origin, "E075", "step argument list")
        if parsed.tree is None:
            return ()
        out = []
        for arg in parsed.tree.children:
            name, expr_token = arg.children
            value = self.expression(expr_token.value, parsed.origin_of(expr_token))
            if value is not None:
                out.append(ir.StepArg(span=parsed.span(name), name=name.value, value=value))
        return tuple(out)

    # ------------------------------------------------------------ rules
    def section_rules(self, section: RawSection) -> None:
        tables = []
        if any(isinstance(e, Item) for e in section.elements):
            tables.append(self.rule_table("rules", self.heading_span(section.heading), section.elements))
        for sub in section.subsections:
            tables.append(self.rule_table(sub.heading.title.strip(), self.heading_span(sub.heading), sub.elements))
        self.fields["rules"] = tuple(tables)

    def rule_table(self, name: str, span: Span, elements: list[Element]) -> ir.RuleTable:
        rules = []
        for element in elements:
            if not isinstance(element, Item):
                self.not_understood(element, "Rules", "rule")
                continue
            parsed = self.parse_item("rule", element, "E080", "rule")
            if parsed.tree is None:
                continue
            verdict = first(parsed.tree, "NAME")
            message = first(parsed.tree, "QUOTED")
            condition = first(parsed.tree, "RULE_EXPR")
            when = self.expression(condition.value, parsed.origin_of(condition)) if condition else None
            if condition and when is None:
                continue
            rules.append(ir.Rule(span=parsed.span(verdict), verdict=verdict.value, when=when,
                                 otherwise=parsed.tree.data == "otherwise_rule",
                                 message=message.value[1:-1] if message else None))
        return ir.RuleTable(span=span, name=name, rules=tuple(rules))

    # ------------------------------------------------------------ examples
    def section_examples(self, section: RawSection) -> None:
        from .examples import ExampleBuilder  # the example forms are many; they live in their own module

        self.fields["examples"] = ExampleBuilder(self).build(section)

    # ------------------------------------------------------------ component
    def section_requirements(self, section: RawSection) -> None:
        out = []
        for element in section.elements:
            self.not_understood(element, section.heading.title, "requirement (`### REQ-XX-001 Title`)")
        for sub in section.subsections:
            head = self.parse("requirement_head", sub.heading.title, sub.heading.line, sub.heading.column, "E092",
                              "requirement heading")
            if head.tree is None:
                continue
            title = first(head.tree, "TITLE_NAME")
            items = []
            for element in sub.elements:
                if not isinstance(element, Item):
                    self.not_understood(element, "requirement", "MUST/SHOULD bullet")
                    continue
                parsed = self.parse_item("modal_item", element, "E092", "requirement bullet")
                if parsed.tree is None:
                    continue
                modality = first(parsed.tree, "MODALITY")
                items.append(ir.RequirementItem(span=parsed.span(modality), modality=" ".join(modality.value.split()),
                                                text=first(parsed.tree, "RULE_TEXT").value.strip()))
            out.append(ir.Requirement(span=self.heading_span(sub.heading), id=first(head.tree, "REQ_ID").value,
                                      title=title.value.strip() if title else "", items=tuple(items)))
        self.fields["requirements"] = tuple(out)

    def section_interface(self, section: RawSection) -> None:
        text, code = [], []
        for element in section.all_elements():
            if isinstance(element, Token) and element.type == "FENCE":
                language = element.value.split("\n", 1)[0].strip().lstrip("`~").strip()
                code.append(ir.CodeBlock(span=self.element_span(element), language=language, code=_fence_body(element.value)))
            elif isinstance(element, Item):
                text.append("- " + element.full_text())
            else:
                text.append(element.value.strip())
        self.fields["interface"] = ir.Interface(span=self.heading_span(section.heading), text="\n".join(text), code=tuple(code))

    def section_acceptance(self, section: RawSection) -> None:
        out = []
        for element in section.all_elements():
            if isinstance(element, Item):
                command = element.full_text().strip()
                if command.startswith("`") and command.endswith("`") and len(command) > 1:
                    command = command.strip("`").strip()
                if not command:
                    self.diags.add("E093", "acceptance command is empty", self.element_span(element),
                                   hint="write a shell command such as `python -m pytest -q`")
                    continue
                out.append(ir.Command(span=self.element_span(element), command=command))
            elif isinstance(element, Token) and element.type == "FENCE":
                body = _fence_body(element.value)
                for offset, line in enumerate(body.split("\n")):
                    if line.strip():
                        out.append(ir.Command(span=Span.point(self.file, element.line + 1 + offset, 1, len(line)), command=line.strip()))
            else:
                self.not_understood(element, section.heading.title, "command")
        self.fields["acceptance"] = tuple(out)

    def section_success_criteria(self, section: RawSection) -> None:
        out = []
        groups = [(None, section.elements)] + [(s.heading.title.strip(), s.elements) for s in section.subsections]
        for group, elements in groups:
            for element in elements:
                if not isinstance(element, Item):
                    self.not_understood(element, section.heading.title, "checkbox")
                    continue
                parsed = parse_line("criterion", element.full_text(), element.origin(self.file), "W015", "criterion")
                if parsed.tree is None:
                    text = element.full_text()
                    done = False
                else:
                    text = first(parsed.tree, "DESCRIPTION").value
                    done = first(parsed.tree, "CHECKBOX").value.lower() == "[x]"
                out.append(ir.Criterion(span=self.element_span(element), text=text, done=done, group=group))
        self.fields["success_criteria"] = tuple(out)


def _number_unlabelled(invariants: list[ir.Invariant]) -> tuple[ir.Invariant, ...]:
    """Give unlabelled invariants `INV-NNN` ids by position, skipping the ids the spec uses."""
    taken = {inv.id for inv in invariants if inv.id_given}
    out, number = [], 0
    for inv in invariants:
        if not inv.id_given:
            number += 1
            while f"INV-{number:03d}" in taken:
                number += 1
            inv = inv.model_copy(update={"id": f"INV-{number:03d}"})
        out.append(inv)
    return tuple(out)


def _fence_body(block: str) -> str:
    lines = block.split("\n")
    body = lines[1:-1] if len(lines) > 1 and lines[-1].strip().startswith(lines[0].strip()[:3]) else lines[1:]
    return "\n".join(body)


def _front_value(key: str, value: str) -> dict[str, object]:
    """Typed front matter fields from valid values; invalid values are left to the structure pass."""
    value = value.strip()
    if key in ("id", "owner", "extends", "target", "created") and value:
        return {key: value}
    if key == "version" and re.fullmatch(r"\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?", value):
        return {"version": value}
    if key == "status" and value.lower() in ("draft", "review", "approved", "deprecated"):
        return {"status": value.lower()}
    if key == "tags" and value:
        return {"tags": tuple(t.strip() for t in value.strip("[]").split(",") if t.strip())}
    return {}


def _model_value(setting: ir.Setting) -> dict[str, object]:
    """Typed Model fields from valid values; invalid values are left to the structure pass."""
    converters: dict[str, Callable[[str], object]] = {
        "task": lambda v: v if v in ("simple", "classification", "research", "complex_reasoning", "code_generation") else None,
        "tier": lambda v: v if v in ("free", "pro", "enterprise") else None,
        "max_cost_per_run": money,
        "max_latency": duration_seconds,
        "temperature": number,
        "max_tokens": lambda v: int(v) if v.isdigit() else None,
        "models": lambda v: tuple(m.strip() for m in v.split(",") if m.strip()) or None,
        "fallback": lambda v: tuple(a.strip() for a in re.split(r"→|->", v) if a.strip()) or None,
    }
    convert = converters.get(setting.key)
    if convert is None:
        return {}
    try:
        value = convert(setting.value.strip())
    except LiteralError:
        return {}
    if value is None:
        return {}
    field = "max_latency_s" if setting.key == "max_latency" else setting.key
    return {field: value}
