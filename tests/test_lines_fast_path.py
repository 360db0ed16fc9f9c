"""The regex fast path for common line forms builds exactly the tree Lark builds."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from agent_factory.compiler.grammars import Token, Tree, UnexpectedInput
from agent_factory.compiler.lines import _fast, _parser

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)
SPACE = st.sampled_from(["", " ", "  ", "\t"])
WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


def shape(tree: Tree) -> tuple:
    """Everything the transformer reads: rule names, token types, values and columns."""
    return (str(tree.data), [
        (c.type, str(c), c.column, c.end_column) if isinstance(c, Token) else shape(c) for c in tree.children
    ])


def lark_tree(form: str, text: str) -> Tree | None:
    try:
        return _parser().parse(text, start=form)
    except UnexpectedInput:
        return None


@st.composite
def lines(draw) -> tuple[str, str]:
    form = draw(st.sampled_from(["setting", "criterion", "field", "name_list", "edge", "invariant", "tool", "binding",
                                 "rule"]))
    s = draw(SPACE)
    if form == "setting":
        text = f"{s}{draw(NAMES)}{draw(SPACE)}:{draw(SPACE)}{draw(WORDS)}"
    elif form == "criterion":
        text = f"{s}[{draw(st.sampled_from([' ', 'x', 'X', 'y']))}]{draw(SPACE)}{draw(WORDS)}"
    elif form == "field":
        sep = draw(st.sampled_from(["", " — ", " – ", " - ", " -- ", "-", " —"]))
        optional = draw(st.sampled_from(["", "?", " ?"]))
        kind = draw(st.one_of(NAMES, st.sampled_from([
            "list[url]", "list[ str? ]", "list[]", "enum(A|B|-1)", "enum( BUILD | KILL )", "enum(1a)", "enum()",
            "enum(\"a\"|b)", "float[0..1]", "int[..5]", "int[-2..]", "float[0...1]", "int[0..1.5.2]", "list[enum(a|b)]",
        ])))
        text = f"{s}{draw(NAMES)}:{draw(SPACE)}{kind}{optional}{sep}{draw(WORDS)}"
    elif form == "name_list":
        names = draw(st.lists(NAMES, min_size=1, max_size=4))
        text = s + f"{draw(SPACE)},{draw(SPACE)}".join(names)
    elif form == "edge":
        left, right = (f"{draw(SPACE)},{draw(SPACE)}".join(draw(st.lists(NAMES, min_size=1, max_size=3))) for _ in "lr")
        text = f"{s}{left}{draw(SPACE)}{draw(st.sampled_from(['→', '->', '-', '>']))}{draw(SPACE)}{right}{draw(SPACE)}"
    elif form == "binding":
        kind = draw(st.sampled_from(["http:", "python:", "mcp:", "ftp:", "http"]))
        method = draw(st.sampled_from(["", "GET ", "POST", "GETTER ", "get "]))
        target = draw(st.sampled_from(["https://h/{q}", "a.b:c", "s/t", ")x", "", "x y"]))
        text = f"{s}{kind}{draw(SPACE)}{method}{target}{draw(SPACE)}"
    elif form == "rule":
        verdict = draw(st.one_of(NAMES, st.sampled_from(["otherwise", "when"])))
        when = draw(st.sampled_from(["when ", "when", "whenever "]))
        condition = draw(st.sampled_from(["x < 60", 'a contains ":"', "", "  y", 'z == "a"']))
        message = draw(st.sampled_from(["", ': "Too low ({x})."', ": 'm'", ': "a" b', ":", ': "q\\"x"']))
        text = f"{s}{verdict} {when}{condition}{message}{draw(SPACE)}"
    elif form == "tool":
        name = draw(st.one_of(NAMES, st.sampled_from(["**Web Search**", "**x**", "**", ""])))
        mark = draw(st.sampled_from(["", " (optional)", "(Optional) ", " (opt)"]))
        sep = draw(st.sampled_from(["", " — ", " – ", " - ", "-", " -- "]))
        binding = draw(st.sampled_from(["", " (http: GET https://h/{q})", "(python: a.b:c)", " (mcp: s/t) ", " (http: x", "(ftp: x)"]))
        text = f"{s}{name}{mark}{sep}{draw(WORDS)}{draw(st.sampled_from(['', ' (optional)', '(x)']))}{binding}"
    else:
        head = draw(st.sampled_from(["", "**INV-001 Title:** ", "**Name:**", "**x** ", "**", "*a*"]))
        modality = draw(st.sampled_from(["", "MUST ", "MUST NOT ", "SHOULD", "SHOULD  NOT ", "MUSTARD "]))
        check = draw(st.sampled_from(["", "`check: a > 1`", " `check: x`", "`check:`", "`code` "]))
        text = f"{s}{head}{modality}{draw(WORDS)}{check}{draw(SPACE)}"
    return form, text


@settings(max_examples=1500, deadline=None)
@given(lines())
@example(("field", "A:A- ?0"))  # a regex that backtracks into a name would split `A-` where Lark does not
def test_fast_path_matches_lark_whenever_it_answers(case):
    form, text = case
    fast = _fast(form, text)
    if fast is None:
        return
    slow = lark_tree(form, text)
    assert slow is not None, f"fast path accepted {text!r} as {form}, Lark rejects it"
    assert shape(fast) == shape(slow)


def test_fast_path_covers_the_common_forms():
    for form, text in [("setting", "max_cost_per_run: $0.05"), ("criterion", "[x] Answers in time"),
                       ("field", "idea: str — the idea"), ("field", "ok: bool?"), ("name_list", "a, b, c"),
                       ("edge", "START → a, b"), ("edge", "a, b -> c"), ("invariant", "**INV-001 T:** MUST x. `check: a`"),
                       ("invariant", ""), ("tool", "web_search — find things (optional)"),
                       ("tool", "lookup (optional) — fetch (http: GET https://h/{n})"),
                       ("binding", "http: GET https://h/{n}"), ("rule", 'KILL when x < 60: "Too low ({x})."')]:
        assert _fast(form, text) is not None
        assert shape(_fast(form, text)) == shape(lark_tree(form, text))
