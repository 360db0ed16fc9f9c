"""A private folder in the user's cache directory for what one start can hand the next.

`check` runs in editors, pre-commit hooks and CI loops, where starting the process is most of
its time. Two things it needs seldom change between starts and are slow to find out: the
validated view of `agent-factory.toml` (`runtime/config_view.py`) and the plugins installed
in the environment (`compiler/passes.py`). Each is kept as a JSON file named by a hash of what
it was derived from (files by their `stamp`), so a change to any of that is a new name, never a
stale read.

The folder (`agent-factory/<kind>/` in the user's cache directory) is made 0700 and not used
when someone else owns it; a file that cannot be read, written or parsed only means deriving
the value again. `AGENT_FACTORY_NO_CACHE=1` turns the cache off.
"""

from __future__ import annotations

import json
import os
import sys
from _thread import get_ident
from pathlib import Path
from typing import Any

CACHE_ENV = "AGENT_FACTORY_NO_CACHE"


def folder(kind: str) -> Path | None:
    """The private folder for files of `kind`, created 0700; None when the cache is off or the
    folder cannot be made or is someone else's."""
    if os.environ.get(CACHE_ENV):
        return None
    path = cache_home() / "agent-factory" / kind
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if hasattr(os, "getuid") and path.stat().st_uid != os.getuid():
            return None  # someone else's folder: never read what they wrote
    except OSError:
        return None
    return path


def cache_home() -> Path:
    """The user's cache directory, as `platformdirs.user_cache_path()` gives it.

    On Linux, in the common case of an absolute `XDG_CACHE_HOME` or `HOME`, that is the XDG
    rule written out here: importing platformdirs (which imports tempfile, random and shutil)
    took 7 ms of a 140 ms check. A test compares the two; anything else asks platformdirs."""
    if sys.platform == "linux":
        xdg, home = os.environ.get("XDG_CACHE_HOME", ""), os.environ.get("HOME", "")
        if os.path.isabs(xdg):
            return Path(xdg)
        if os.path.isabs(home):
            return Path(home) / ".cache"
    from platformdirs import user_cache_path

    return user_cache_path()


def stamp(path: str | os.PathLike[str]) -> str:
    """The file or folder at `path` as a cache key names it: its path, size, modification and
    change times and inode, so a rewrite is a new key even when an installer keeps the archive's
    modification time and the size is the same (a rewrite sets the change time, a replacement
    is another inode); only the path when there is nothing there (appearing is then a new key)."""
    try:
        found = os.stat(path)
    except OSError:
        return str(path)
    return f"{path}\t{found.st_size}\t{found.st_mtime_ns}\t{found.st_ctime_ns}\t{found.st_ino}"


def read(kind: str, key: str) -> Any:
    """The JSON value stored for `key`, None when there is none (or it cannot be read)."""
    where = folder(kind)
    if where is None:
        return None
    try:
        return json.loads((where / f"{key}.json").read_bytes())
    except (OSError, ValueError, RecursionError):  # RecursionError: nested past the parser's depth
        return None


def write(kind: str, key: str, value: Any) -> None:
    """Store `value` for `key`, whole or not at all (another process may read it meanwhile)."""
    where = folder(kind)
    if where is None:
        return
    partial = where / f"{key}.{os.getpid()}.{get_ident()}.tmp"  # one per writer, threads included
    try:
        partial.write_text(json.dumps(value), encoding="utf-8")
        os.replace(partial, where / f"{key}.json")
    except OSError:
        partial.unlink(missing_ok=True)
