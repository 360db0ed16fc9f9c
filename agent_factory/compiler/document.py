"""Document structure: lexed lines → Lark (document.lark) → front matter, preamble, sections.

The result (`RawDocument`) is still untyped text with positions; the section builders in
`transform.py` turn it into IR.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .grammars import Lark, Token, Tree, load_parser
from .lexer import LexResult, TokenListLexer, lex
from .span import Origin

_HEADING_TEXT = re.compile(r"^ {0,3}#{1,6}[ \t]*(.*?)[ \t]*#*[ \t]*$")
_BULLET_TEXT = re.compile(r"^( {0,3}(?:[-*+]|(\d{1,9})[.)])[ \t]*)")


@dataclass
class Item:
    """A bullet or numbered item: its first line and its continuation lines."""

    token: Token
    conts: list[Token] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.token.line

    @property
    def marker_width(self) -> int:
        """How many characters the bullet marker and its spaces take."""
        return len(_BULLET_TEXT.match(self.token.value).group(1))

    @property
    def numbered(self) -> bool:
        return _BULLET_TEXT.match(self.token.value).group(2) is not None

    @property
    def text(self) -> str:
        """The item's first line without its marker."""
        return self.token.value[self.marker_width :].rstrip()

    @property
    def column(self) -> int:
        """Column where the item's text starts."""
        return self.marker_width + 1

    def full_text(self) -> str:
        """First line and continuation lines joined with single spaces."""
        return " ".join([self.text, *(c.value.strip() for c in self.conts)]).strip()

    def origin(self, file: str) -> Origin:
        """Where each character of `full_text()` is in the file (continuations on their own lines)."""
        parts = [(self.text, self.line, self.column)]
        parts += [(c.value.strip(), c.line, len(c.value) - len(c.value.lstrip()) + 1) for c in self.conts]
        joined = " ".join(text for text, _, _ in parts)
        index = -(len(joined) - len(joined.lstrip()))  # full_text() strips what an empty first line leaves
        pieces = []
        for text, line, column in parts:
            pieces.append((index, line, column))
            index += len(text) + 1
        return Origin(file, tuple(pieces))


Element = Item | Token


@dataclass
class Heading:
    """A heading token and its text."""

    token: Token

    @property
    def title(self) -> str:
        return _HEADING_TEXT.match(self.token.value).group(1)

    @property
    def column(self) -> int:
        return self.token.value.find(self.title) + 1 if self.title else 1

    @property
    def line(self) -> int:
        return self.token.line


@dataclass
class RawSubsection:
    """`### Title` and what follows it."""

    heading: Heading
    elements: list[Element]


@dataclass
class RawSection:
    """`## Title`, the elements before its first subsection, and its subsections."""

    heading: Heading
    elements: list[Element]
    subsections: list[RawSubsection]

    def all_elements(self) -> list[Element]:
        return [*self.elements, *(e for sub in self.subsections for e in sub.elements)]


@dataclass
class RawDocument:
    """The structure of one file before any line is interpreted."""

    path: str
    lines: list[str]
    front_matter: list[Token] | None
    front_matter_line: int
    preamble: list[Element]
    sections: list[RawSection]
    lexed: LexResult


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return load_parser("document", lexer=TokenListLexer)


def parse_document(text: str, path: str) -> RawDocument:
    """Lex and parse `text`. The grammar accepts every token sequence the lexer can produce,
    so this only fails on a compiler bug."""
    lexed = lex(text, path)
    tree = _parser().parse(lexed.tokens)
    front: list[Token] | None = None
    preamble: list[Element] = []
    sections: list[RawSection] = []
    for child in tree.children:
        if child.data == "front_matter":
            front = [t for t in child.children if t.type == "FM_LINE"]
        elif child.data == "preamble":
            preamble = _elements(child.children)
        elif child.data == "section":
            sections.append(_section(child))
    return RawDocument(path, lexed.lines, front, 1, preamble, sections, lexed)


def _section(tree: Tree) -> RawSection:
    head, *rest = tree.children
    subs = [c for c in rest if isinstance(c, Tree) and c.data == "subsection"]
    elements = [c for c in rest if not (isinstance(c, Tree) and c.data == "subsection")]
    return RawSection(
        Heading(head),
        _elements(elements),
        [RawSubsection(Heading(s.children[0]), _elements(s.children[1:])) for s in subs],
    )


def _elements(children: list) -> list[Element]:
    out: list[Element] = []
    for child in children:
        if isinstance(child, Tree) and child.data == "item":
            bullet, *conts = child.children
            out.append(Item(bullet, list(conts)))
        else:
            out.append(child)
    return out
