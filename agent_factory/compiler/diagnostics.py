"""The one `Diagnostic` type, the catalogue of stable codes, and a collector.

Every problem a user can cause is a `Diagnostic` with a code listed in `CODES`;
docs/diagnostics.md documents each code with a bad and a fixed example, and a test
keeps the two in step.
"""

from __future__ import annotations

import difflib
from enum import StrEnum
from typing import Any, Iterable

from .record import Record
from .span import Span


class Severity(StrEnum):
    """How bad a diagnostic is: errors fail `check`, warnings and notes do not."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


# code -> (default severity, one-line title). Codes are stable: never renumber, only add.
CODES: dict[str, tuple[Severity, str]] = {
    # documents and front matter
    "E001": (Severity.ERROR, "file cannot be read"),
    "E002": (Severity.ERROR, "front matter is not closed"),
    "E003": (Severity.ERROR, "malformed front matter line"),
    "E004": (Severity.ERROR, "bad front matter value"),
    "E005": (Severity.ERROR, "missing or unknown document kind"),
    "E006": (Severity.ERROR, "code fence is not closed"),
    "W007": (Severity.WARNING, "unknown front matter key"),
    # sections
    "E010": (Severity.ERROR, "required section missing"),
    "E011": (Severity.ERROR, "section appears twice"),
    "W012": (Severity.WARNING, "unknown section kept as notes"),
    "W013": (Severity.WARNING, "section does not apply to this kind of document"),
    "W014": (Severity.WARNING, "section is empty"),
    "W015": (Severity.WARNING, "line not understood in this section"),
    "W016": (Severity.WARNING, "indented bullet"),
    # fields and types
    "E020": (Severity.ERROR, "malformed field"),
    "E021": (Severity.ERROR, "field declared twice"),
    "E022": (Severity.ERROR, "unknown type"),
    "E023": (Severity.ERROR, "bad range"),
    "E024": (Severity.ERROR, "enum value listed twice"),
    # literals
    "E030": (Severity.ERROR, "bad money literal"),
    "E031": (Severity.ERROR, "bad duration literal"),
    "E032": (Severity.ERROR, "bad number"),
    # invariants
    "E040": (Severity.ERROR, "malformed invariant"),
    "E041": (Severity.ERROR, "invariant id used twice"),
    # tools
    "E050": (Severity.ERROR, "malformed tool"),
    "E051": (Severity.ERROR, "bad tool binding"),
    "E052": (Severity.ERROR, "tool listed twice"),
    "W053": (Severity.WARNING, "tool binding runs code with your permissions"),
    # model
    "E060": (Severity.ERROR, "unknown model setting"),
    "E061": (Severity.ERROR, "bad model setting value"),
    "E062": (Severity.ERROR, "model setting given twice"),
    # workflow
    "E070": (Severity.ERROR, "malformed step"),
    "E071": (Severity.ERROR, "unknown step setting"),
    "E072": (Severity.ERROR, "step kind missing or given twice"),
    "E073": (Severity.ERROR, "malformed flow edge"),
    "E074": (Severity.ERROR, "step declared twice"),
    "E075": (Severity.ERROR, "malformed step argument"),
    "E076": (Severity.ERROR, "name listed twice in a step"),
    # rules and examples
    "E080": (Severity.ERROR, "malformed rule"),
    "E081": (Severity.ERROR, "rule table has no otherwise"),
    "E082": (Severity.ERROR, "malformed example"),
    # teams and components
    "E090": (Severity.ERROR, "malformed member"),
    "E091": (Severity.ERROR, "malformed routing setting"),
    "E092": (Severity.ERROR, "malformed requirement"),
    "E093": (Severity.ERROR, "malformed acceptance command"),
    "E094": (Severity.ERROR, "member name used twice"),
    # expressions
    "E100": (Severity.ERROR, "expression syntax error"),
    # names
    "E200": (Severity.ERROR, "unknown tool"),
    "E201": (Severity.ERROR, "flow edge names an unknown step"),
    "E202": (Severity.ERROR, "step may call a tool the spec does not list"),
    "E203": (Severity.ERROR, "tool step runs a tool the spec does not list"),
    "E204": (Severity.ERROR, "unknown rule table"),
    "E205": (Severity.ERROR, "spec file not found"),
    "E206": (Severity.ERROR, "routing default is not a member"),
    "E207": (Severity.ERROR, "missing required tool argument"),
    "E208": (Severity.ERROR, "unknown tool argument"),
    "E209": (Severity.ERROR, "tool registered by more than one plugin"),
    "W210": (Severity.WARNING, "declared tool is never used"),
    "W211": (Severity.WARNING, "output is never written"),
    "E213": (Severity.ERROR, "unknown task of an llm step"),
    "E214": (Severity.ERROR, "nested specs form a cycle"),
    "E215": (Severity.ERROR, "nested file is not an agent or team spec"),
    "E216": (Severity.ERROR, "team member requires an input the team does not pass"),
    "W217": (Severity.WARNING, "keyword routes to more than one member"),
    "W218": (Severity.WARNING, "tool named by its LangChain class"),
    "E219": (Severity.ERROR, "agent step's spec requires an input this spec does not have"),
    # types
    "E300": (Severity.ERROR, "unknown field"),
    "E301": (Severity.ERROR, "operator does not apply to these types"),
    "E302": (Severity.ERROR, "value is not a member of the enum"),
    "E303": (Severity.ERROR, "condition is not a bool"),
    "E304": (Severity.ERROR, "invalid regular expression"),
    "E305": (Severity.ERROR, "prompt placeholder names no input or earlier output"),
    "E306": (Severity.ERROR, "rule message names an unknown field"),
    "E307": (Severity.ERROR, "rule verdicts missing from the output's enum"),
    "E308": (Severity.ERROR, "tool argument has the wrong type"),
    "E309": (Severity.ERROR, "example input does not match the declared inputs"),
    "E310": (Severity.ERROR, "len() of an optional value"),
    "E311": (Severity.ERROR, "optional value used by an operator that needs a value"),
    # graph
    "E400": (Severity.ERROR, "workflow has no entry"),
    "E401": (Severity.ERROR, "step is unreachable"),
    "E402": (Severity.ERROR, "step never reaches END"),
    "E403": (Severity.ERROR, "cycle without an exit"),
    "E404": (Severity.ERROR, "branching step needs exactly one otherwise"),
    "E405": (Severity.ERROR, "conditional and unconditional edges mixed"),
    "W406": (Severity.WARNING, "join may wait forever"),
    "E407": (Severity.ERROR, "value used before it is written"),
    "E408": (Severity.ERROR, "START or END used on the wrong side of an edge"),
    # constitution
    "E500": (Severity.ERROR, "spec loosens its constitution"),
    "E501": (Severity.ERROR, "constitution not found"),
    "E502": (Severity.ERROR, "constitution has errors"),
    "E503": (Severity.ERROR, "tool not allowed by the constitution"),
    "E601": (Severity.ERROR, "invariant is violated on some path"),
    "W602": (Severity.WARNING, "SHOULD invariant is violated on some path"),
    "W701": (Severity.WARNING, "worst-case cost exceeds max_cost_per_run"),
    "E801": (Severity.ERROR, "target does not support a feature the spec uses"),
    "E802": (Severity.ERROR, "two specs compile to the same output file"),
    # the compiler itself
    "E900": (Severity.ERROR, "internal compiler error"),
}


class Related(Record):
    """Another place that explains a diagnostic (for example the constitution line a spec loosens)."""

    message: str
    span: Span


class Diagnostic(Record):
    """One problem: `code` (stable, listed in `CODES`), `severity`, `message`, `span`,
    optional `hint` (printed as `help:`) and `related` locations."""

    code: str
    severity: Severity
    message: str
    span: Span
    hint: str | None = None
    related: tuple[Related, ...] = ()

    def __init__(self, **values: Any) -> None:
        # plugins build diagnostics too, and pydantic took a severity's text and a list of related places
        if "severity" in values:
            values["severity"] = Severity(values["severity"])
        values["related"] = tuple(values.get("related", ()))
        super().__init__(**values)

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.line, self.span.column, self.code, self.message)

    def as_dict(self) -> dict:
        """The `--format json` shape."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "hint": self.hint,
        }


def make(code: str, message: str, span: Span, hint: str | None = None, related: Iterable[Related] = ()) -> Diagnostic:
    """Build a diagnostic with the code's default severity."""
    severity, _title = CODES[code]
    return Diagnostic(code=code, severity=severity, message=message, span=span, hint=hint, related=related)


def article(word: str) -> str:
    """`a` or `an` before `word` (by its first letter; enough for the words messages use)."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """A `did you mean` hint naming the closest candidate, or None when nothing is close."""
    lowered = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return f"did you mean `{lowered[match[0]]}`?" if match else None


class Collector:
    """Collects the diagnostics of one stage; `errors` tells whether the stage failed."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, code: str, message: str, span: Span, hint: str | None = None, related: Iterable[Related] = ()) -> None:
        self.items.append(make(code, message, span, hint, related))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
