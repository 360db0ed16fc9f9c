"""Parsing one line (or one item) against a line form of lines.lark, with friendly errors."""

from __future__ import annotations

import re
from functools import lru_cache


from .diagnostics import Diagnostic, make
from .grammars import Lark, Token, Tree, UnexpectedEOF, UnexpectedInput, UnexpectedToken, leaves, load_parser
from .span import Origin, Span, balance_end

FORMS = (
    "setting", "title", "meta_line", "field", "invariant", "tool", "binding", "edge", "name_list",
    "chain", "args", "rule", "member", "requirement_head", "modal_item", "criterion", "example_head",
)

# What each form looks like, for the `help:` line of a syntax error.
SHAPES = {
    "setting": "`key: value`",
    "title": "`Agent: Name` (or `Team:`, `Component:`, `Constitution:`)",
    "meta_line": "`**Key:** value`",
    "field": "`name: type — description`, for example `query: str — the user's question`",
    "invariant": "`**ID Title:** MUST <rule> `check: <expr>``",
    "tool": "`tool_name — why` with an optional binding `(http: GET https://host/{arg})`",
    "binding": "`(http: GET https://host/path/{arg})`, `(python: package.module:function)` or `(mcp: server/tool)`",
    "edge": "`a, b → c`, `a → b when <expr>` or `a → c otherwise`",
    "name_list": "names separated by commas, for example `market_data, competitors`",
    "chain": "aliases joined by arrows, for example `local → perplexity → claude`",
    "args": "`name = <expr>, name = <expr>`",
    "rule": "`VERDICT when <expr>: \"message\"` or `otherwise VERDICT`",
    "member": "`name: path/to/member.md — routes: word, word`",
    "requirement_head": "`REQ-XX-001 Title`",
    "modal_item": "`MUST <requirement>` (or MUST NOT, SHOULD, SHOULD NOT)",
    "criterion": "`[ ] criterion` or `[x] criterion`",
    "example_head": "`✅ Title` (must pass) or `❌ Title` (must be rejected)",
}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # Spans come from the tokens (see `_bounds`); propagating positions to every tree node
    # costs a fifth of the parse time.
    return load_parser("lines")


class LineParse:
    """The result of parsing a line: `tree` or `error`, and where the text came from."""

    __slots__ = ("tree", "error", "origin", "text")

    def __init__(self, tree: Tree | None, error: Diagnostic | None, origin: Origin, text: str = "") -> None:
        self.text = text
        self.tree = tree
        self.error = error
        self.origin = origin

    @property
    def file(self) -> str:
        return self.origin.file

    @property
    def line(self) -> int:
        return self.origin.line

    def span(self, item: Token | Tree) -> Span:
        """The span of a token or subtree in the spec file."""
        first_token, last_token = _bounds(item)
        if first_token is None:  # a rule that matched nothing has no position
            return self.origin.span(0, 1)
        first_index = first_token.column - 1
        end_index = balance_end(self.text, first_index, last_token.end_column - 1) if isinstance(item, Tree) else last_token.end_column - 1
        return self.origin.span(first_index, end_index)

    def origin_of(self, item: Token, skip: int = 0) -> Origin:
        """Where the text of `item`, after its first `skip` characters, came from."""
        return self.origin.shifted(item.column - 1 + skip)


_NAME = r"[A-Za-z_][A-Za-z0-9_-]*+"  # possessive: Lark's lexer never gives characters back
_FAST = {
    "setting": re.compile(rf"^[ \t]*+(?P<KEY>{_NAME})[ \t]*+:[ \t]*+(?P<VALUE>\S(?:.*\S)?)?[ \t]*+$"),
    "criterion": re.compile(r"^[ \t]*+(?P<CHECKBOX>\[[ xX]\])[ \t]*+(?P<DESCRIPTION>\S(?:.*\S)?)[ \t]*+$"),
    "field": re.compile(
        rf"^[ \t]*+(?P<NAME>{_NAME})[ \t]*+:[ \t]*+(?P<TYPE>{_NAME})[ \t]*+(?P<OPTIONAL>\?)?+[ \t]*+"
        r"(?:(?:—|–|--?(?=\s))[ \t]*+(?P<DESCRIPTION>\S(?:.*\S)?)?)?[ \t]*+$"
    ),
    "name_list": re.compile(rf"^[ \t]*+{_NAME}(?:[ \t]*+,[ \t]*+{_NAME})*[ \t]*+$"),
    "edge": re.compile(
        rf"^[ \t]*+(?P<LEFT>{_NAME}(?:[ \t]*+,[ \t]*+{_NAME})*+)[ \t]*+(?P<ARROW>→|->)"
        rf"[ \t]*+(?P<RIGHT>{_NAME}(?:[ \t]*+,[ \t]*+{_NAME})*+)[ \t]*+$"
    ),
    "invariant": re.compile(
        r"^[ \t]*+(?P<BOLD_HEAD>\*\*[^*\n]+\*\*:?)?+[ \t]*+(?P<MODALITY>(?:MUST\s+NOT|MUST|SHOULD\s+NOT|SHOULD)\b)?+"
        r"[ \t]*+(?P<RULE_TEXT>(?:[^`\s]|`(?!check:))(?:[^`]|`(?!check:))*+)?(?P<CHECK>`check:[^`]*`)?[ \t]*+$"
    ),
    "tool": re.compile(
        rf"^[ \t]*+(?P<NAME>{_NAME})?+(?P<BOLD_NAME>\*\*[^*\n]+\*\*)?+[ \t]*+(?P<OPT1>(?i:\(optional\)))?+[ \t]*+"
        r"(?:(?:—|–|--?(?=\s))[ \t]*+(?P<TOOL_TEXT>(?:[^(\s]|\((?!optional\)|http:|python:|mcp:))"
        r"(?:[^(]|\((?!optional\)|http:|python:|mcp:))*+)?+)?+[ \t]*+(?P<OPT2>(?i:\(optional\)))?+[ \t]*+"
        r"(?P<BINDING>\((?:http|python|mcp):[^\n]*\)\s*$)?+[ \t]*+$"
    ),
    "binding": re.compile(
        r"^[ \t]*+(?:(?P<HTTP_KIND>http:)[ \t]*+(?P<HTTP_METHOD>(?:GET|POST|PUT|PATCH|DELETE)\b)?+"
        r"|(?P<OTHER_KIND>(?:python|mcp):))[ \t]*+(?P<TARGET>[^\s)][^\s]*+)[ \t]*+$"
    ),
    "rule": re.compile(
        rf"^[ \t]*+(?P<NAME>{_NAME})[ \t]*+(?P<WHEN>when\b)[ \t]*+"
        r"(?P<RULE_EXPR>\S.*?(?=\s*:\s*(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')\s*$|\s*$))"
        r"(?:[ \t]*+:[ \t]*+(?P<QUOTED>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'))?+[ \t]*+$"
    ),
}
_NAME_RE = re.compile(_NAME)
_NUM = r"-?[0-9]++(?:\.[0-9]++)?+"
_W = r"[ \t]*+"
# a field whose type has brackets: `list[url]`, `enum(A|B)`, `float[0..1]` (one level, as written
# in practice; nested or quoted forms go to Lark)
_FIELD_BRACKETED = re.compile(
    rf"^{_W}(?P<NAME>{_NAME}){_W}:{_W}(?P<TYPE>{_NAME}){_W}(?:"
    rf"\[{_W}(?P<INNER>{_NAME}){_W}(?P<INNER_OPT>\?)?+{_W}\]"
    rf"|\[{_W}(?P<LO>{_NUM})?+{_W}(?P<DOTS>\.\.){_W}(?P<HI>{_NUM})?+{_W}\]"
    rf"|\({_W}(?P<MEMBERS>(?:{_NAME}|{_NUM})(?:{_W}\|{_W}(?:{_NAME}|{_NUM}))*+){_W}\)"
    rf"){_W}(?P<OPTIONAL>\?)?+{_W}"
    r"(?:(?:—|–|--?(?=\s))[ \t]*+(?P<DESCRIPTION>\S(?:.*\S)?)?)?[ \t]*+$"
)
_MEMBER_RE = re.compile(rf"{_NAME}|{_NUM}")


def _token(kind: str, text: str, start: int, end: int) -> Token:
    return Token(kind, text[start:end], start_pos=start, line=1, column=start + 1, end_line=1,
                 end_column=end + 1, end_pos=end)


def _bracketed_field(text: str) -> Tree | None:
    """The tree of a field with a bracketed type (see `_FIELD_BRACKETED`)."""
    match = _FIELD_BRACKETED.match(text)
    if match is None:
        return None
    name = _token("NAME", text, *match.span("TYPE"))
    if match.group("INNER"):
        inner = [_token("NAME", text, *match.span("INNER"))]
        if match.group("INNER_OPT"):
            inner.append(_token("OPTIONAL", text, *match.span("INNER_OPT")))
        kind, parts = "generic_type", [name, Tree("named_type", inner)]
    elif match.group("DOTS"):
        parts = [name]
        if match.group("LO"):
            parts.append(Tree("bound", [_token("SIGNED_NUMBER", text, *match.span("LO"))]))
        parts.append(_token("RANGE_DOTS", text, *match.span("DOTS")))
        if match.group("HI"):
            parts.append(Tree("bound", [_token("SIGNED_NUMBER", text, *match.span("HI"))]))
        kind = "ranged_type"
    else:
        offset = match.start("MEMBERS")
        members = []
        for m in _MEMBER_RE.finditer(match.group("MEMBERS")):
            kind_of = "NAME" if not (m.group()[0].isdigit() or m.group()[0] == "-") else "SIGNED_NUMBER"
            members.append(Tree("enum_member", [_token(kind_of, text, offset + m.start(), offset + m.end())]))
        kind, parts = "enum_type", [name, *members]
    if match.group("OPTIONAL"):
        parts.append(_token("OPTIONAL", text, *match.span("OPTIONAL")))
    children = [_token("NAME", text, *match.span("NAME")), Tree(kind, parts)]
    if match.group("DESCRIPTION"):
        children.append(_token("DESCRIPTION", text, *match.span("DESCRIPTION")))
    return Tree("field", children)


def _fast(form: str, text: str) -> Tree | None:
    """The tree Lark would build for the commonest line forms, from one regular expression.

    Half of a spec's lines are `key: value` settings, simple fields and name lists; Lark's
    per-call overhead dominates for them. Each pattern accepts a subset of what the grammar
    accepts and builds the identical tree (a test compares the two on generated lines);
    anything else, including every error, goes to Lark.
    """
    pattern = _FAST.get(form)
    match = pattern.match(text) if pattern else None
    if match is None:
        return _bracketed_field(text) if form == "field" else None
    if form == "name_list":
        return Tree(form, [_token("NAME", text, m.start(), m.end()) for m in _NAME_RE.finditer(text)])
    if form == "edge":
        def names(group: str) -> Tree:
            offset = match.start(group)
            return Tree("name_list", [_token("NAME", text, offset + m.start(), offset + m.end())
                                      for m in _NAME_RE.finditer(match.group(group))])

        return Tree(form, [names("LEFT"), _token("ARROW", text, *match.span("ARROW")), names("RIGHT")])
    if form == "field":
        type_children = [_token("NAME", text, *match.span("TYPE"))]
        if match.group("OPTIONAL"):
            type_children.append(_token("OPTIONAL", text, *match.span("OPTIONAL")))
        children = [_token("NAME", text, *match.span("NAME")), Tree("named_type", type_children)]
        if match.group("DESCRIPTION"):
            children.append(_token("DESCRIPTION", text, *match.span("DESCRIPTION")))
        return Tree(form, children)
    if form == "rule":
        if match.group("NAME") == "otherwise":
            return None  # Lark reads `otherwise` as the keyword
        return Tree("conditional_rule", [_token(name, text, *match.span(name))
                                         for name in pattern.groupindex if match.group(name)])
    if form == "tool":
        if bool(match.group("NAME")) == bool(match.group("BOLD_NAME")):
            return None  # exactly one of the two starts a tool line
        kinds = {"OPT1": "OPTIONAL_MARK", "OPT2": "OPTIONAL_MARK"}
        return Tree(form, [_token(kinds.get(name, name), text, *match.span(name))
                           for name in pattern.groupindex if match.group(name)])
    return Tree(form, [_token(name, text, *match.span(name)) for name in pattern.groupindex if match.group(name)])


def parse_line(form: str, text: str, origin: Origin, code: str, what: str) -> LineParse:
    """Parse `text` (whose characters come from `origin`) as `form`; a syntax error becomes `code`."""
    tree = _fast(form, text)
    if tree is not None:
        return LineParse(tree, None, origin, text)
    try:
        tree = _parser().parse(text, start=form)
    except UnexpectedInput as error:
        return LineParse(None, _error(error, form, text, origin, code, what), origin, text)
    return LineParse(tree, None, origin, text)


def _error(error: UnexpectedInput, form: str, text: str, origin: Origin, code: str, what: str) -> Diagnostic:
    offset = getattr(error, "column", -1)
    if isinstance(error, UnexpectedEOF) or offset in (None, -1) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        offset = len(text.rstrip()) + 1
        found = "end of line"
    elif isinstance(error, UnexpectedToken):
        found = f"`{error.token.value}`"
    else:
        found = f"`{text[error.pos_in_stream]}`"
    where = origin.span(offset - 1, offset)
    return make(code, f"malformed {what}: unexpected {found}", where, hint=f"expected {SHAPES[form]}")


def _bounds(item: Token | Tree) -> tuple[Token | None, Token | None]:
    """The first and last token of a token or subtree."""
    if isinstance(item, Token):
        return item, item
    found = leaves(item)
    return (found[0], found[-1]) if found else (None, None)


def tokens(tree: Tree, kind: str) -> list[Token]:
    """The direct child tokens of `tree` of type `kind`."""
    return [c for c in tree.children if isinstance(c, Token) and c.type == kind]


def first(tree: Tree, kind: str) -> Token | None:
    found = tokens(tree, kind)
    return found[0] if found else None
