"""Generate `agent_factory/compiler/lark_standalone.py`: the three LALR parsers, without Lark.

    .venv/bin/python scripts/generate_parsers.py           # rewrite the module
    .venv/bin/python scripts/generate_parsers.py --check   # exit 1 when it is stale

Importing the `lark` package (its grammar loader, the `regex` module it tries) is a good part
of `agent-factory check`'s start, and checking never needs more of Lark than the LALR parser
and its trees. Lark's standalone generator (`python -m lark.tools.standalone`) writes exactly
that: Lark's runtime code and the parse tables as Python literals. It does so for one grammar
per module, each module with its own `Token` and `Tree` classes, while the compiler passes
tokens of the document grammar to code that reads trees of the line grammar; so this script
follows the generator (same code sections, same table format) but writes the runtime once
and the tables of all three grammars after it (`DATA[name]`, `MEMO[name]`).

Two edits to the generated code, each asserted so a Lark upgrade that changes the code fails
here: the `regex` import is dropped (the grammars use the `re` module, `regex=False`), and
the document grammar's custom lexer class is stored as the name `"custom"`
(`agent_factory.compiler.grammars.load_parser` puts `TokenListLexer` back).

The generated code is under the Mozilla Public License 2.0, as Lark's generator says in the
header it copies (docs/decisions.md). `tests/test_grammars.py` fails when the module is not
what this script writes from the grammars and the installed Lark.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path
from pprint import pformat

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR_DIR = ROOT / "agent_factory" / "compiler" / "grammar"
TARGET = ROOT / "agent_factory" / "compiler" / "lark_standalone.py"
CUSTOM_LEXER = "custom"  # stands for the class `load_parser` passes
REGEX_IMPORT = "try:\n    import regex\n    _has_regex = True\nexcept ImportError:\n    _has_regex = False\n"
NO_REGEX = "_has_regex = False  # agent-factory: the grammars use the re module; `regex` is not imported\n"


def grammar_options() -> dict[str, dict]:
    """The Lark options each grammar is built with (name -> options)."""
    from lark.lexer import Lexer

    from agent_factory.compiler.lines import FORMS

    class Replay(Lexer):  # the tables do not depend on the lexer; its class is stored by name
        def __init__(self, lexer_conf) -> None:
            pass

        def lex(self, data):  # type: ignore[override]
            return iter(data)

    return {
        "document": {"lexer": Replay, "maybe_placeholders": False},
        "expr": {},
        "lines": {"start": list(FORMS)},
    }


def runtime_code() -> str:
    """Lark's runtime, extracted as `lark.tools.standalone.gen_standalone` extracts it."""
    import lark
    from lark.tools import standalone

    parts = [f"__version__ = {lark.__version__!r}\n"]
    for index, pyfile in enumerate(standalone.EXTRACT_STANDALONE_FILES):
        with open(os.path.join(standalone._larkdir, pyfile), encoding="utf-8") as f:
            code = standalone.extract_sections(f)["standalone"]
        if index:  # the generator keeps the first file's comments: the licence header
            code = standalone.strip_docstrings(partial(next, iter(code.splitlines(True))))
        parts.append(code + "\n")
    code = "".join(parts)
    if code.count(REGEX_IMPORT) != 1:
        raise SystemExit("Lark's runtime no longer imports regex as expected: update REGEX_IMPORT")
    return code.replace(REGEX_IMPORT, NO_REGEX)


def tables(name: str, options: dict) -> tuple[dict, dict]:
    """(data, memo) of one grammar's parser, as `Lark.memo_serialize` gives them."""
    from lark import Lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    parser = Lark.open(str(GRAMMAR_DIR / f"{name}.lark"), parser="lalr", **options)
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    lexer = options.get("lexer")
    if isinstance(lexer, type):
        if data["options"]["lexer"] is not lexer or data["parser"]["lexer_conf"]["lexer_type"] is not lexer:
            raise SystemExit("Lark no longer stores a custom lexer where expected: update tables()")
        data["options"]["lexer"] = data["parser"]["lexer_conf"]["lexer_type"] = CUSTOM_LEXER
    data["parser"]["parser"] = canonical(data["parser"]["parser"])
    return data, memo


def canonical(table: dict) -> dict:
    """The LALR table with its states and symbols numbered in one fixed order.

    Lark numbers them in the iteration order of sets of objects hashed by identity, so two
    builds of one grammar differ in numbering only; renumbered (symbols by name, states in
    breadth-first order from the start states, following symbols by name) the same grammar
    always gives the same text."""
    names = table["tokens"]
    symbol = {name: index for index, name in enumerate(sorted(names.values()))}
    states = table["states"]
    order: list[int] = []
    queue = [table["start_states"][start] for start in sorted(table["start_states"])]
    while queue:
        state = queue.pop(0)
        if state in order:
            continue
        order.append(state)
        actions = sorted(states[state].items(), key=lambda item: names[item[0]])
        queue += [arg for _, (action, arg) in actions if action == 0]
    if len(order) != len(states):
        raise SystemExit("a parser state is unreachable from the start states: cannot number it")
    number = {state: index for index, state in enumerate(order)}

    def renumbered(actions: dict) -> dict:
        moves = {symbol[names[token]]: (action, number[arg] if action == 0 else arg) for token, (action, arg) in actions.items()}
        return dict(sorted(moves.items()))

    return {
        **table,
        "tokens": {index: name for name, index in symbol.items()},
        "states": {number[state]: renumbered(states[state]) for state in order},
        "start_states": {start: number[state] for start, state in table["start_states"].items()},
        "end_states": {start: number[table["end_states"][start]] for start in table["start_states"]},
    }


def generate() -> str:
    """The text of `lark_standalone.py`."""
    import lark

    grammars = grammar_options()
    data, memo = {}, {}
    for name, options in grammars.items():
        data[name], memo[name] = tables(name, options)
    header = (
        f"# Generated by scripts/generate_parsers.py from agent_factory/compiler/grammar/"
        f"{{{','.join(grammars)}}}.lark\n# with Lark {lark.__version__}'s standalone generator code. "
        "Do not edit: change the grammar and run the script.\n"
    )
    return (
        header + runtime_code()
        + f"DATA = {pformat(data, width=120, sort_dicts=False)}\n"
        + f"MEMO = {pformat(memo, width=120, sort_dicts=False)}\n"
        + "Shift = 0\nReduce = 1\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the module is stale, write nothing")
    args = parser.parse_args()
    text = generate()
    current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else ""
    if args.check:
        if text != current:
            print(f"{TARGET.relative_to(ROOT)} is stale: run scripts/generate_parsers.py", file=sys.stderr)
            return 1
        return 0
    if text != current:
        TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
