"""Where `--thread` checkpoints live, and how they are read without running anything from them.

A checkpoint database is data a run reads back, so it is treated as untrusted input:

- its default place is the user's data folder, one file per project
  (`<user data>/agent-factory/checkpoints/<hash of the project folder>.sqlite`), never the
  working folder, so a cloned repository cannot ship one that a run would pick up;
- blobs are decoded strictly: only msgpack (what the runtime writes), and within it only the
  value types of LangGraph's safe list (dates, UUIDs, `Decimal`, sets, paths, LangGraph's own
  commands). A blob naming any other callable (`os.system`) comes back as plain data: it is
  never imported nor called. LangGraph's default serializer would call it;
- a file that is not a checkpoint database, or a blob that does not decode, is a `ConfigError`
  naming the file, never a traceback.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from .errors import AgentRuntimeError, ConfigError

PROJECT_MARKERS = ("agent-factory.toml", ".git", "pyproject.toml")
STORED_FORMATS = frozenset({"msgpack", "null", "bytes", "bytearray"})
"""What the runtime's checkpoints are written in; "json" (LangChain's reviver) and "pickle" are refused."""


def project_root(start: Path | None = None) -> Path:
    """The project a run belongs to: the nearest folder from `start` (the working folder) up that
    holds `agent-factory.toml`, `.git` or `pyproject.toml`; `start` itself when none does."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            return folder
    return here


def default_checkpoint_db(start: Path | None = None) -> Path:
    """The checkpoint database of the project around `start`, in the user's data folder."""
    from platformdirs import user_data_path

    digest = hashlib.sha256(str(project_root(start)).encode("utf-8")).hexdigest()[:16]
    return user_data_path("agent-factory", appauthor=False) / "checkpoints" / f"{digest}.sqlite"


class StrictSerializer(JsonPlusSerializer):
    """LangGraph's serializer in strict mode: its safe type list only, no pickle, msgpack only."""

    def __init__(self, path: Path) -> None:
        super().__init__(pickle_fallback=False, allowed_msgpack_modules=None)
        self.path = path

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Decode one blob; `ConfigError` naming the database when it is not one the runtime wrote."""
        kind = data[0]
        if kind not in STORED_FORMATS:
            raise ConfigError(f"{self.path}: a checkpoint is stored as '{kind}', which is refused "
                              "(only msgpack is read); delete the file to start afresh")
        try:
            return super().loads_typed(data)
        except Exception as exc:  # ormsgpack's decode errors and anything a crafted blob provokes
            raise ConfigError(f"{self.path}: a checkpoint cannot be decoded ({_reason(exc)}); "
                              "delete the file to start afresh") from None


class CheckedSqliteSaver(AsyncSqliteSaver):
    """`AsyncSqliteSaver` whose failures to read or write the file are `ConfigError`s naming it."""

    path: Path

    async def setup(self) -> None:
        """Create the tables (first use); a file that is not SQLite fails here."""
        await self._checked(super().setup())

    async def aget_tuple(self, config: Any) -> Any:
        """The latest (or the given) checkpoint of a thread."""
        return await self._checked(super().aget_tuple(config))

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        """Store one checkpoint."""
        return await self._checked(super().aput(config, checkpoint, metadata, new_versions))

    async def aput_writes(self, config: Any, writes: Any, task_id: str, task_path: str = "") -> None:
        """Store a step's pending writes."""
        await self._checked(super().aput_writes(config, writes, task_id, task_path))

    async def _checked(self, pending: Any) -> Any:
        try:
            return await pending
        except AgentRuntimeError:
            raise
        except (sqlite3.Error, ValueError, TypeError, KeyError) as exc:  # a damaged file or row
            raise ConfigError(f"{self.path}: not a usable checkpoint database ({_reason(exc)}); "
                              "delete the file to start afresh") from None


@asynccontextmanager
async def open_checkpointer(db: str | Path | None) -> AsyncIterator[CheckedSqliteSaver]:
    """The checkpointer of a `--thread` run: `db`, or the project's default database; a saver
    object as `db` is used as it is (the hosted API opens one per team, in PostgreSQL)."""
    import aiosqlite

    if db is not None and not isinstance(db, (str, Path)):
        yield db
        return
    path = Path(db) if db else default_checkpoint_db()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the checkpoint folder ({_reason(exc)})") from None
    connection = aiosqlite.connect(str(path))
    try:
        await connection
    except sqlite3.Error as exc:
        raise ConfigError(f"{path}: cannot open the checkpoint database ({_reason(exc)})") from None
    try:
        saver = CheckedSqliteSaver(connection, serde=StrictSerializer(path))
        saver.path = path
        yield saver
    finally:
        await connection.close()


def _reason(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).splitlines()[0][:200]
