"""Source positions: every IR node and every diagnostic carries a `Span`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """A region of a source file.

    Fields: `file` (path as given to the compiler), `line` and `column` (1-based, columns
    count Unicode code points), `end_line` and `end_column` (exclusive end column).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, file: str, line: int, column: int = 1, length: int = 1) -> "Span":
        """A span on one line starting at `column` and `length` characters long."""
        return cls(file=file, line=line, column=column, end_line=line, end_column=column + max(length, 1))

    def shifted(self, line: int, column: int, length: int) -> "Span":
        """A one-line span inside the same file."""
        return Span.point(self.file, line, column, length)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def balance_end(text: str, start: int, end: int) -> int:
    """Extend `text[start:end]` over the closing brackets it leaves open.

    Lark drops anonymous punctuation from trees, so a span computed from a subtree's first
    and last tokens ends before `)` or `]` (`len(x` instead of `len(x)`). Indexes are 0-based.
    """
    depth = sum(1 for c in text[start:end] if c in "([") - sum(1 for c in text[start:end] if c in ")]")
    while depth > 0 and end < len(text):
        char = text[end]
        if char in ")]":
            depth -= 1
        elif not char.isspace():
            break
        end += 1
    return end
