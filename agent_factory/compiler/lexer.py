"""Line lexer: classifies each Markdown line into a token for the document grammar.

Markdown's block structure is decided line by line (is this a heading, a bullet, the inside
of a fence?), which a regular lexer over the whole text cannot do without context. This
lexer keeps that context (front matter, fences, HTML comments, the item being continued)
and hands Lark a list of whole-line tokens. Problems it finds (an unclosed fence or front
matter) become diagnostics, and the token stream stays well formed so parsing continues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .diagnostics import Collector
from .grammars import Lexer, Token
from .span import Span

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)")
_BULLET = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_INDENTED = re.compile(r"^(?: {2,}|\t)")
_RULE = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_COMMENT_OPEN = "<!--"
_COMMENT_CLOSE = "-->"


@dataclass
class LexResult:
    """The tokens of one file and the diagnostics found while lexing."""

    tokens: list[Token]
    lines: list[str]
    diagnostics: Collector = field(default_factory=Collector)


def _token(kind: str, text: str, line: int, end_line: int | None = None, end_column: int | None = None) -> Token:
    end_line = line if end_line is None else end_line
    end_column = (len(text) + 1) if end_column is None else end_column
    return Token(kind, text, start_pos=0, line=line, column=1, end_line=end_line, end_column=end_column, end_pos=0)


class _State:
    def __init__(self, path: str, lines: list[str]) -> None:
        self.path = path
        self.lines = lines
        self.tokens: list[Token] = []
        self.diagnostics = Collector()
        self.in_item = False


def lex(text: str, path: str) -> LexResult:
    """Split `text` into line tokens: FM_DELIM, FM_LINE, H1, H2, H3, HMINOR, BULLET, CONT,
    FENCE (a whole fenced block) and TEXT. Blank lines, thematic breaks and HTML comments
    produce no token."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.rstrip("\r") for line in lines]
    state = _State(path, lines)
    index = _front_matter(state)
    while index < len(lines):
        index = _line(state, index)
    return LexResult(state.tokens, lines, state.diagnostics)


def _front_matter(state: _State) -> int:
    lines = state.lines
    if not lines or lines[0].strip() != "---":
        return 0
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            state.tokens.append(_token("FM_DELIM", lines[0], 1))
            for number in range(1, end):
                if lines[number].strip():
                    state.tokens.append(_token("FM_LINE", lines[number], number + 1))
            state.tokens.append(_token("FM_DELIM", lines[end], end + 1))
            return end + 1
    state.diagnostics.add(
        "E002",
        "front matter starts on line 1 but has no closing `---`",
        Span.point(state.path, 1, 1, 3),
        hint="add a line `---` after the last `key: value` line",
    )
    return 1


def _line(state: _State, index: int) -> int:
    line = state.lines[index]
    number = index + 1
    if not line.strip() or _RULE.match(line):
        return index + 1
    if line.lstrip().startswith(_COMMENT_OPEN):
        return _comment(state, index)
    fence = _FENCE.match(line)
    if fence:
        state.in_item = False
        return _fence(state, index, fence.group(1))
    if _INDENTED.match(line) and _BULLET.match(line.lstrip()):
        return _indented_bullet(state, index)
    if state.in_item and _INDENTED.match(line):
        state.tokens.append(_token("CONT", line, number))
        return index + 1
    heading = _HEADING.match(line)
    if heading:
        state.in_item = False
        level = len(heading.group(1))
        kind = {1: "H1", 2: "H2", 3: "H3"}.get(level, "HMINOR")
        state.tokens.append(_token(kind, line, number))
        return index + 1
    if _BULLET.match(line):
        state.in_item = True
        state.tokens.append(_token("BULLET", line, number))
        return index + 1
    state.in_item = False
    state.tokens.append(_token("TEXT", line, number))
    return index + 1


def _indented_bullet(state: _State, index: int) -> int:
    """A bullet indented by a tab or two or more spaces (W016). The language has no nested
    lists: after an item it continues that item, as any indented line does; elsewhere it is
    not a bullet at all, and is left out."""
    line = state.lines[index]
    indent = len(line) - len(line.lstrip())
    shown = "a tab" if "\t" in line[:indent] else f"{indent} spaces"
    where = Span.point(state.path, index + 1, indent + 1, len(line.strip()))
    if state.in_item:
        state.diagnostics.add("W016", f"this bullet is indented by {shown}, so it continues the item above: "
                                      "the spec language has no nested lists", where,
                              hint="start it at the left margin to make it an item of its own, or drop the `-` "
                                   "if it continues the line above")
        state.tokens.append(_token("CONT", line, index + 1))
    else:
        state.diagnostics.add("W016", f"this bullet is indented by {shown}, so it is not read as a bullet and is "
                                      "ignored", where, hint="start the bullet at the left margin")
    return index + 1


def _comment(state: _State, index: int) -> int:
    """Skip an HTML comment (possibly several lines long); text after it on its last line is lexed."""
    for end in range(index, len(state.lines)):
        line = state.lines[end]
        start = line.find(_COMMENT_OPEN) + len(_COMMENT_OPEN) if end == index else 0
        close = line.find(_COMMENT_CLOSE, start)
        if close >= 0:
            return end + 1
    return len(state.lines)


def _fence(state: _State, index: int, marker: str) -> int:
    """Take a fenced block as one FENCE token whose value is the whole block."""
    lines = state.lines
    closing = re.compile(r"^ {0,3}" + re.escape(marker[0]) + "{" + str(len(marker)) + r",}\s*$")
    for end in range(index + 1, len(lines)):
        if closing.match(lines[end]):
            block = "\n".join(lines[index : end + 1])
            state.tokens.append(_token("FENCE", block, index + 1, end + 1, len(lines[end]) + 1))
            return end + 1
    state.diagnostics.add(
        "E006",
        f"code fence opened with `{marker}` is never closed",
        Span.point(state.path, index + 1, 1, len(marker)),
        hint=f"add a line `{marker}` where the code block ends",
    )
    block = "\n".join(lines[index:])
    state.tokens.append(_token("FENCE", block, index + 1, len(lines), len(lines[-1]) + 1))
    return len(lines)


class TokenListLexer(Lexer):
    """Lark custom lexer that replays a pre-lexed token list (see `lex`)."""

    def __init__(self, lexer_conf) -> None:  # noqa: D107 - Lark's interface
        pass

    def lex(self, data):  # type: ignore[override]
        return iter(data)
