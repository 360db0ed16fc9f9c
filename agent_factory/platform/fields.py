"""Field types shared by the domains' schemas.

PostgreSQL `text` and `jsonb` cannot hold a NUL character, and UTF-8 cannot encode a lone
surrogate (JSON allows both as `\\u0000` and `\\ud800`): such strings are refused as 422 here,
where the request is validated, instead of failing in the driver as a 500.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from starlette.requests import Request


def storable(text: str) -> str:
    """`text` unchanged, or ValueError when PostgreSQL could not store it."""
    if "\x00" in text:
        raise ValueError("text may not contain NUL characters (\\u0000)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"text is not valid Unicode (a lone surrogate at position {error.start})") from None
    return text


Text = Annotated[str, AfterValidator(storable)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(storable)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"),
    AfterValidator(storable),
    Field(examples=["ada@example.com"]),
]


async def single_valued_query(request: Request) -> None:
    """A route dependency: 422 when a query parameter is given more than once (each of the route's
    takes one value; FastAPI would silently keep the last)."""
    from .errors import InvalidRequest

    seen: set[str] = set()
    for key, _ in request.query_params.multi_items():
        if key in seen:
            raise InvalidRequest([{"loc": ["query", key], "message": "given more than once", "type": "repeated"}])
        seen.add(key)
