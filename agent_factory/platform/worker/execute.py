"""The seam between hosted runs and the runtime: run one stored spec version once.

Everything the platform asks of the runtime goes through `execute`: the checked spec (cached by
its text's SHA-256, so a known version costs neither a check nor a thread hop), the run's inputs (None resumes the thread from its last checkpoint), the team's tier,
the checkpointer, and a callback receiving progress events and each LLM attempt as it is recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..agents.compile import checked_spec
from ..errors import PlatformError


class SpecNoLongerChecks(PlatformError):
    """The stored version does not check clean under this server's compiler and configuration, or
    that configuration does not load: no attempt could do better, so a queued run fails at once,
    and a request to start one is answered 422."""

    status = 422
    code = "spec_no_longer_checks"


def _config_broken(exc: Exception, config_path: Path | None) -> SpecNoLongerChecks:
    # its message names the file: the operator's path is not the team's business
    problem = str(exc).replace(str(config_path), "agent-factory.toml")
    return SpecNoLongerChecks(f"the server's configuration does not load; tell its operator: {problem}")


@lru_cache(maxsize=128)
def _spec(text: str, config_path: Path | None):
    from agent_factory.runtime.errors import ConfigError

    try:
        spec, errors = checked_spec(text, config_path)
    except ConfigError as exc:
        raise _config_broken(exc, config_path) from None
    if spec is None:
        raise SpecNoLongerChecks("the stored spec no longer checks clean on this server; store a new version:\n"
                                 + "\n".join(errors))
    return spec


_CHECKED: OrderedDict[tuple[str, Path | None], tuple[Any, Any]] = OrderedDict()  # (sha256, config) -> spec, plan
CHECKED_MAX = 128


def known(sha256: str, config_path: Path | None) -> tuple[Any, Any] | None:
    """The checked spec and plan of the text with this SHA-256, when this process checked it already."""
    found = _CHECKED.get((sha256, config_path))
    if found is not None:
        _CHECKED.move_to_end((sha256, config_path))
    return found


async def checked(text: str, config_path: Path | None) -> tuple[Any, Any]:
    """The checked spec of a stored version and its plan: from the cache, else checked in a thread
    (milliseconds of CPU the event loop must not wait for). Raises `SpecNoLongerChecks`."""
    key = (hashlib.sha256(text.encode("utf-8")).hexdigest(), config_path)
    found = known(*key)
    if found is None:
        found = await asyncio.to_thread(spec_and_plan, text, config_path)
        _CHECKED[key] = found
        while len(_CHECKED) > CHECKED_MAX:
            _CHECKED.popitem(last=False)
    return found


_CONFIGURATION: dict[tuple[Path | None, str], tuple[Any, Any]] = {}  # (file, its stamp) -> config, [tools]


def configuration(config_path: Path | None) -> tuple[Any, Any]:
    """The runtime configuration of this server's runs and its `[tools]` table, parsed and validated
    once per version of the file (`config_path`, else the working folder's, else the defaults): a
    run would otherwise spend about a millisecond reading them. Raises `SpecNoLongerChecks` when
    the file no longer loads."""
    from agent_factory.runtime.config import load_config
    from agent_factory.runtime.config_view import CONFIG_FILENAME
    from agent_factory.runtime.errors import ConfigError
    from agent_factory.runtime.factory import tools_table
    from agent_factory.usercache import stamp

    key = (config_path, stamp(config_path if config_path is not None else Path(CONFIG_FILENAME).absolute()))
    found = _CONFIGURATION.get(key)
    if found is None:
        try:
            found = load_config(config_path), tools_table(config_path)
        except ConfigError as exc:
            raise _config_broken(exc, config_path) from None
        _CONFIGURATION.clear()  # one server, one configuration: only its latest version is kept
        _CONFIGURATION[key] = found
    return found


async def execute(text: str, inputs: dict[str, Any] | None, *, thread: str, saver: Any, tier: str | None,
                  config_path: Path | None, replay_dir: Path | None,
                  on_event: Callable[[dict[str, Any]], None]) -> Any:
    """Run the spec `text` on `thread`; returns the runtime's `RunResult` (a failed run does not raise)."""
    from agent_factory.runtime.executor import arun_spec

    spec, _ = await checked(text, config_path)
    config, tools = configuration(config_path)
    seen = [0]

    def relay(event: dict[str, Any]) -> None:
        # the model attempts recorded since the last event first: a step's calls come before its end
        for attempt in _new_attempts(seen):
            on_event({"event": "llm", **attempt})
        on_event(event)

    return await arun_spec(spec, inputs, config=config, tool_config=tools, replay=replay_dir, thread=thread, tier=tier,
                           checkpoint_db=saver, on_event=relay)


def _new_attempts(seen: list[int]) -> list[dict[str, Any]]:
    """LLM attempts the run recorded since the last call: the ledger of the run carried by the
    LangGraph config of the node emitting the event."""
    from langgraph.config import get_config

    from agent_factory.runtime.graph import run_of

    try:
        runtime = run_of(get_config())
    except RuntimeError:  # called outside a node
        return []
    if runtime is None:
        return []
    attempts = runtime.router.ledger.attempts
    fresh = attempts[seen[0]:]
    seen[0] = len(attempts)
    return [a.as_json() for a in fresh]


def ledger_json(result: Any) -> list[dict[str, Any]]:
    """The attempts of a finished run as JSON."""
    return [a.as_json() for a in result.ledger]


@lru_cache(maxsize=128)
def spec_and_plan(text: str, config_path: Path | None = None):
    """The checked spec of a stored version and its graph plan (cached by text)."""
    from agent_factory.compiler import plan_graph

    spec = _spec(text, config_path)
    return spec, plan_graph(spec)
