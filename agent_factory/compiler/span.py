"""Source positions: every IR node and every diagnostic carries a `Span`."""

from __future__ import annotations

from .record import Record


class Span(Record):
    """A region of a source file.

    Fields: `file` (path as given to the compiler), `line` and `column` (1-based, columns
    count Unicode code points), `end_line` and `end_column` (exclusive end column).
    """

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


class Origin:
    """Where each character of a text assembled from source lines comes from.

    An item continued over several lines is parsed as one text (its lines joined with single
    spaces), so an index into that text maps back to the source line it was taken from, not
    to a column past the end of the item's first line. `pieces` are (index in the text, line,
    column) triples in text order; indexes are 0-based, lines and columns 1-based.
    """

    __slots__ = ("file", "pieces")

    def __init__(self, file: str, pieces: tuple[tuple[int, int, int], ...]) -> None:
        self.file = file
        self.pieces = pieces

    @classmethod
    def at(cls, file: str, line: int, column: int) -> "Origin":
        """A text that sits on one line, starting at `line`:`column`."""
        return cls(file, ((0, line, column),))

    @property
    def line(self) -> int:
        return self.locate(0)[0]

    @property
    def column(self) -> int:
        return self.locate(0)[1]

    def locate(self, index: int) -> tuple[int, int]:
        """The (line, column) of the text's character at `index`."""
        start, line, column = self.pieces[0]
        for piece in self.pieces[1:]:
            if piece[0] > index:
                break
            start, line, column = piece
        return line, column + index - start

    def span(self, start: int, end: int) -> Span:
        """The span of `text[start:end]` (at least one character wide)."""
        line, column = self.locate(start)
        end_line, last = self.locate(max(end, start + 1) - 1)
        return Span(file=self.file, line=line, column=column, end_line=end_line, end_column=last + 1)

    def shifted(self, offset: int) -> "Origin":
        """The origin of `text[offset:]`."""
        line, column = self.locate(offset)
        rest = tuple((index - offset, piece_line, piece_column) for index, piece_line, piece_column in self.pieces
                     if index > offset)
        return Origin(self.file, ((0, line, column), *rest))
