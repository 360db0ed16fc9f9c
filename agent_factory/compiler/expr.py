"""Expressions: parse with expr.lark into typed IR trees whose spans point into the spec file."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from . import ir
from .diagnostics import Diagnostic, make
from .grammars import (
    Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, leaves, load_parser,
)
from .literals import duration_seconds
from .span import Origin, Span, balance_end

FUNCTIONS = ("len",)

# Common mistakes, recognised by the parser state they leave it in (lark's match_examples).
_MISTAKES: dict[str, list[str]] = {
    "an operator is missing its right-hand side": ["a <", "a and", "a ==", "not", "a +", "a or"],
    "a parenthesis is not closed": ["(a", "len(a", "not (a < 1"],
    "there is a closing parenthesis without an opening one": ["a)", "a < 1)"],
    "comparisons cannot be chained: write `a < b and b < c`": ["a < b < c", "a == b == c"],
}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # spans come from the tokens (see `_Builder.span`); tree positions are not needed
    return load_parser("expr")


def parse_expression(source: str, where: Span | Origin) -> tuple[ir.Expression | None, list[Diagnostic]]:
    """Parse `source`, which starts at `where` (a span's start, or the origin of each character
    when the source was joined from continued lines).

    Returns the expression (or None) and the syntax diagnostics (E100), never raises."""
    text = source.strip()
    origin = where if isinstance(where, Origin) else Origin.at(where.file, where.line, where.column)
    origin = origin.shifted(len(source) - len(source.lstrip()))
    base = origin.span(0, len(text))
    if not text:
        return None, [make("E100", "expected an expression, found nothing", base, hint="write a condition such as `len(sources) >= 1`")]
    tree = _fast_tree(text)
    if tree is None:
        try:
            tree = _parser().parse(text)
        except UnexpectedInput as error:
            return None, [_syntax_error(error, text, origin)]
    builder = _Builder(origin, base, text)
    node = builder.build(tree)
    if builder.errors:
        return None, builder.errors
    return ir.Expression(span=base, source=text, tree=node), []


# ---------------------------------------------------------------- fast path
# Most checks and conditions are one comparison of two simple operands (`len(sources) >= 1`,
# `verdict == "KILL"`, `run.cost_usd <= $0.10`). For those, one regular expression builds the
# tree Lark would build; everything else, and every error, goes through the grammar. The
# patterns mirror expr.lark's terminals (possessive, as Lark's lexer never gives characters back).
_KEYWORDS = {"and", "or", "not", "in", "contains", "matches", "true", "false"}
_W = r"[ \t]*+"
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*+"
_PATH = rf"{_IDENT}(?:\.{_IDENT})*+"
_DQ = r'"(?:[^"\\\n]|\\.)*+"'
_SQ = r"'(?:[^'\\\n]|\\.)*+'"
_OPERAND = (
    rf"(?:len{_W}\({_W}{_PATH}{_W}\)|\$[0-9]++(?:\.[0-9]++)?+|[0-9]++(?:\.[0-9]++)?+(?:ms|s|m|h)\b"
    rf"|[0-9]++(?:\.[0-9]++)?+(?![0-9A-Za-z_.])|{_DQ}|{_SQ}|{_PATH})"
)
_COMPARISON = re.compile(
    rf"^(?P<left>{_OPERAND}){_W}(?P<op>==|!=|<=|>=|<|>|not\s+in\b|in\b|contains\b|matches\b){_W}(?P<right>{_OPERAND})$"
)
_LEN = re.compile(rf"^len{_W}\({_W}(?P<path>{_PATH}){_W}\)$")
_MONEY = re.compile(r"^\$[0-9]+(?:\.[0-9]+)?$")
_DURATION = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h)$")
_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
_IDENT_RE = re.compile(_IDENT)


def _tok(kind: str, text: str, start: int, end: int) -> Token:
    return Token(kind, text[start:end], start_pos=start, line=1, column=start + 1, end_line=1, end_column=end + 1,
                 end_pos=end)


def _fast_tree(text: str) -> Tree | None:
    """The Lark tree of `text` when it is one comparison of simple operands, else None."""
    match = _COMPARISON.match(text)
    if match is None:
        return None
    left = _operand(text, match.start("left"), match.end("left"))
    right = _operand(text, match.start("right"), match.end("right"))
    if left is None or right is None:
        return None
    return Tree("comparison", [left, _tok("COMP_OP", text, *match.span("op")), right])


def _operand(text: str, start: int, end: int) -> Tree | None:
    piece = text[start:end]
    if piece[0] in "\"'":
        return Tree("string", [_tok("STRING", text, start, end)])
    if _MONEY.match(piece):
        return Tree("money", [_tok("MONEY", text, start, end)])
    if _DURATION.match(piece):
        return Tree("duration", [_tok("DURATION", text, start, end)])
    if _NUMBER.match(piece):
        return Tree("number", [_tok("NUMBER", text, start, end)])
    called = _LEN.match(piece)
    if called:
        inner = _path(text, start + called.start("path"), start + called.end("path"))
        return None if inner is None else Tree("call", [_tok("NAME", text, start, start + 3), inner])
    return _path(text, start, end)


def _path(text: str, start: int, end: int) -> Tree | None:
    names = [_tok("NAME", text, start + m.start(), start + m.end()) for m in _IDENT_RE.finditer(text[start:end])]
    if any(str(name) in _KEYWORDS for name in names):
        return None  # a keyword where a name stands: the grammar decides
    return Tree("path", names)


def _syntax_error(error: UnexpectedInput, text: str, origin: Origin) -> Diagnostic:
    column = getattr(error, "column", None)
    if isinstance(error, UnexpectedEOF) or column in (None, -1):
        column = len(text) + 1
    found = _found(error, text)
    label = _classify(error, text)
    if label is None:
        try:
            label = error.match_examples(_parser().parse, _MISTAKES, use_accepts=True)
        except Exception:  # noqa: BLE001 - a failed match only loses the friendlier wording
            label = None
    message = f"expression syntax error at {found}"
    hint = label or _expected_hint(error)
    width = max(len(found.strip("`")) if found.startswith("`") else 1, 1)
    where = origin.span(column - 1, column - 1 + width)
    return make("E100", message, where, hint=hint)


_VALUES = {"NAME", "NUMBER", "STRING", "MONEY", "DURATION", "TRUE", "FALSE", "LPAR", "LSQB"}


def _classify(error: UnexpectedInput, text: str) -> str | None:
    """Mistakes recognised from the offending character or token itself."""
    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream]
        if char in "\"'":
            return "a string is not closed: add the closing quote"
        if char == "=":
            return "use `==` to compare; `=` is not an operator"
        return (f"`{char}` is not part of the expression language; it has `== != < <= > >=`, `and or not`, "
                "`+ - * /`, `in`, `contains`, `matches` and `len(x)`")
    if isinstance(error, UnexpectedToken) and error.token.type in _VALUES:
        expected = set(getattr(error, "expected", ()) or ())
        if expected & {"COMP_OP", "_AND", "_OR", "ADD_OP", "MUL_OP"}:
            return "two values stand side by side: join them with an operator such as `and` or `==`"
    return None


def _found(error: UnexpectedInput, text: str) -> str:
    if isinstance(error, UnexpectedToken):
        if error.token.type == "$END":
            return "the end of the expression"
        return f"`{error.token.value}`"
    if isinstance(error, UnexpectedCharacters):
        return f"`{text[error.pos_in_stream]}`"
    return "the end of the expression"


_EXPECTED_NAMES = {
    "NAME": "a field name",
    "NUMBER": "a number",
    "MONEY": "a money amount like `$0.05`",
    "DURATION": "a duration like `20s`",
    "STRING": "a quoted string",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "COMP_OP": "a comparison (`==`, `<`, `in`, `contains`, …)",
    "_AND": "`and`",
    "_OR": "`or`",
    "_NOT": "`not`",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*` or `/`",
    "COMMA": "`,`",
    "DOT": "`.`",
    "MINUS": "`-`",
}


def _expected_hint(error: UnexpectedInput) -> str | None:
    expected = getattr(error, "expected", None) or getattr(error, "allowed", None) or set()
    names = sorted({_EXPECTED_NAMES.get(name, name) for name in expected if name != "$END"})
    if not names:
        return None
    if len(names) > 6:
        return "expected a value (field name, number, string, `$amount`, duration) or an operator"
    return "expected " + ", ".join(names)


class _Builder:
    """Turns the Lark tree into IR nodes with spans in the spec file."""

    def __init__(self, origin: Origin, base: Span, text: str) -> None:
        self.origin = origin
        self.base = base
        self.text = text
        self.errors: list[Diagnostic] = []

    def span(self, item: Tree | Token) -> Span:
        if isinstance(item, Token):
            first_token = last_token = item
        else:
            found = leaves(item)
            if not found:  # `[]`: the brackets are not kept in the tree
                return self.base
            first_token, last_token = found[0], found[-1]
        end_index = last_token.end_column - 1
        if not isinstance(item, Token):
            end_index = balance_end(self.text, first_token.column - 1, end_index)
        return self.origin.span(first_token.column - 1, end_index)

    def build(self, tree: Tree | Token) -> ir.Expr:
        handler = getattr(self, "_" + str(tree.data))
        return handler(tree)

    def _or_expr(self, tree: Tree) -> ir.Expr:
        return self._fold(tree, "or")

    def _and_expr(self, tree: Tree) -> ir.Expr:
        return self._fold(tree, "and")

    def _fold(self, tree: Tree, op: str) -> ir.Expr:
        node = self.build(tree.children[0])
        for child in tree.children[1:]:
            right = self.build(child)
            node = ir.Binary(span=self._join(node.span, right.span), op=op, left=node, right=right)
        return node

    def _chain(self, tree: Tree) -> ir.Expr:
        node = self.build(tree.children[0])
        for op, child in zip(tree.children[1::2], tree.children[2::2]):
            right = self.build(child)
            node = ir.Binary(span=self._join(node.span, right.span), op=" ".join(op.value.split()), left=node, right=right)
        return node

    _comparison = _chain
    _sum = _chain
    _product = _chain

    def _not_(self, tree: Tree) -> ir.Expr:
        return ir.Unary(span=self.span(tree), op="not", operand=self.build(tree.children[0]))

    def _neg(self, tree: Tree) -> ir.Expr:
        return ir.Unary(span=self.span(tree), op="-", operand=self.build(tree.children[0]))

    def _call(self, tree: Tree) -> ir.Expr:
        name, *args = tree.children
        built = tuple(self.build(a) for a in args if a is not None)
        if name.value not in FUNCTIONS:
            self.errors.append(
                make("E100", f"unknown function `{name.value}`", self.span(name), hint="the only function is `len(x)`")
            )
            return ir.Literal_(span=self.span(tree), type="bool", value=False)
        if len(built) != 1:
            self.errors.append(
                make("E100", f"`len` takes exactly one argument, found {len(built)}", self.span(tree), hint="write `len(field)`")
            )
        return ir.Call(span=self.span(tree), func="len", args=built)

    def _list(self, tree: Tree) -> ir.Expr:
        return ir.ListExpr(span=self.span(tree), items=tuple(self.build(c) for c in tree.children if c is not None))

    def _path(self, tree: Tree) -> ir.Expr:
        return ir.Path(span=self.span(tree), parts=tuple(t.value for t in tree.children))

    def _money(self, tree: Tree) -> ir.Expr:
        token = tree.children[0]
        return ir.Literal_(span=self.span(token), type="money", value=Decimal(token.value[1:]))

    def _duration(self, tree: Tree) -> ir.Expr:
        token = tree.children[0]
        return ir.Literal_(span=self.span(token), type="duration", value=duration_seconds(token.value))

    def _number(self, tree: Tree) -> ir.Expr:
        token = tree.children[0]
        return ir.Literal_(span=self.span(token), type="number", value=Decimal(token.value))

    def _string(self, tree: Tree) -> ir.Expr:
        token = tree.children[0]
        return ir.Literal_(span=self.span(token), type="string", value=_unquote(token.value))

    def _true(self, tree: Tree) -> ir.Expr:
        return ir.Literal_(span=self.span(tree.children[0]), type="bool", value=True)

    def _false(self, tree: Tree) -> ir.Expr:
        return ir.Literal_(span=self.span(tree.children[0]), type="bool", value=False)

    @staticmethod
    def _join(left: Span, right: Span) -> Span:
        return Span(file=left.file, line=left.line, column=left.column, end_line=right.end_line, end_column=right.end_column)


def _unquote(text: str) -> str:
    body = text[1:-1]
    out: list[str] = []
    chars = iter(body)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
        else:
            out.append(char)
    return "".join(out)
