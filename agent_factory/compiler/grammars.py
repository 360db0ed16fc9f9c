"""The three LALR parsers (document structure, line forms, expressions), loaded without Lark.

`lark_standalone.py` holds Lark's parser runtime and the parse tables of `grammar/*.lark`, as
Python literals; `scripts/generate_parsers.py` writes it from the grammars and a test fails
when it is stale. Importing the `lark` package and building (or unpickling) the tables took
about a sixth of a check's start; loading the tables from the module's literals does not
import Lark's grammar compiler, and the module is compiled to bytecode like any other.

The compiler's modules take the Lark names they use (`Token`, `Tree`, `Lexer`, the parse
errors) from here, so there is one set of these classes in the process.
"""

from __future__ import annotations

from . import lark_standalone as _lark
from .lark_standalone import (
    Lark,
    Lexer,
    Token,
    Tree,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

__all__ = [
    "Lark", "Lexer", "Token", "Tree", "UnexpectedCharacters", "UnexpectedEOF", "UnexpectedInput",
    "UnexpectedToken", "leaves", "load_parser",
]


def load_parser(name: str, lexer: type[Lexer] | None = None) -> Lark:
    """The parser of `grammar/<name>.lark`, built with the options the generator gave it;
    `lexer` is the custom lexer class of a grammar generated with one (stored by name)."""
    data = _lark.DATA[name]
    if lexer is not None:
        parser = data["parser"]
        data = {
            **data,
            "options": {**data["options"], "lexer": lexer},
            "parser": {**parser, "lexer_conf": {**parser["lexer_conf"], "lexer_type": lexer}},
        }
    return Lark._load_from_dict(data, _lark.MEMO[name])


def leaves(tree: Tree) -> list[Token]:
    """The tokens of `tree`, left to right (Lark's `Tree.scan_values`, which its standalone
    runtime leaves out)."""
    found: list[Token] = []
    for child in tree.children:
        if isinstance(child, Tree):
            found += leaves(child)
        elif isinstance(child, Token):
            found.append(child)
    return found
