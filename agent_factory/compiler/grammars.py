"""Loading the Lark grammars, with their LALR tables cached on disk.

Building the three LALR parsers takes longer than checking a spec; Lark can save the built
tables and load them again. The cache lives in a private folder of the user's cache directory
(`platformdirs.user_cache_path`), never in the package folder, one file per grammar, Lark
version and Python version. Lark checks each file against the grammar text and options before
using it, so an edited grammar rebuilds its file. `AGENT_FACTORY_NO_GRAMMAR_CACHE=1` turns the
cache off; an unusable folder (read-only home, no permission) only means building as before.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from lark import Lark

CACHE_ENV = "AGENT_FACTORY_NO_GRAMMAR_CACHE"


def open_grammar(name: str, **options: Any) -> Lark:
    """The Lark parser of `grammar/<name>` beside this module (LALR options as given)."""
    folder = cache_folder()
    if folder is not None:
        options["cache"] = str(folder / _cache_name(name, options))
    return Lark.open(f"grammar/{name}", rel_to=__file__, **options)


def cache_folder() -> Path | None:
    """The private folder the tables are cached in, created 0700; None when caching is off or
    the folder cannot be made."""
    if os.environ.get(CACHE_ENV):
        return None
    from platformdirs import user_cache_path

    folder = user_cache_path("agent-factory", appauthor=False) / "grammars"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if hasattr(os, "getuid") and folder.stat().st_uid != os.getuid():
            return None  # someone else's folder: never load what they wrote
    except OSError:
        return None
    return folder


def _cache_name(name: str, options: dict[str, Any]) -> str:
    """One file per grammar, Lark version and Python version (Lark checks the rest)."""
    import lark

    return f"{Path(name).stem}-lark{lark.__version__}-py{sys.version_info[0]}{sys.version_info[1]}.cache"
