"""Jinja2 templates of the generated files, rendered with `render(name, **values)`.

Templates only loop and branch: the backends decide every name, literal and order in Python
and pass them in. Undefined values are errors (StrictUndefined), never empty text.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


@lru_cache(maxsize=1)
def _environment() -> "jinja2.Environment":
    import jinja2  # here, not at import: registering the backends must not load jinja2 (`check` never renders)

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name: str, **values: object) -> str:
    """The template `name` (a file in this folder) rendered with `values`."""
    return _environment().get_template(name).render(**values)
