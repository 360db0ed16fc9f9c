"""Hermetic replay: record LLM answers as cassettes, serve them back offline.

Every request gets a key: the SHA-256 of its normalised, model-independent content (messages,
tools, response schema, temperature). The model name and alias are left out on purpose, so a
cassette recorded on one model replays on another. Tool-call ids, which providers make up at
random, are renumbered in order of appearance; tool-call arguments are re-serialised with sorted keys.

A cassette is one pretty-printed JSON file per request, `<step>-<key[:16]>.json`, holding the
request and the response; people read and review them in pull requests. A file in a cassette
folder that is not a cassette (empty, truncated, not JSON, the wrong shape) is a `ConfigError`
naming it, raised when the folder is loaded; token counts are checked by the router when served.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

from pydantic import StrictStr, TypeAdapter, ValidationError

from .errors import ConfigError, ReplayMiss

Mode = Literal["record", "replay"]
_MESSAGE_KEYS = ("role", "name", "content", "tool_call_id")
_MAX_DIFF_LINES = 40


# ---------------------------------------------------------------- keys


def normalise_request(
    messages: Sequence[Any],
    tools: Sequence[Any] | None = None,
    response_format: Any = None,
    temperature: float | Decimal | None = None,
) -> dict[str, Any]:
    """The model-independent content of a request, as it is hashed and stored."""
    ids: dict[str, str] = {}
    return {
        "messages": [_message(m, ids) for m in messages],
        "tools": [_plain(t) for t in tools or ()],
        "response_format": _schema(response_format),
        "temperature": None if temperature is None else format(Decimal(str(temperature)).normalize(), "f"),
    }


def request_key(normalised: dict[str, Any]) -> str:
    """The SHA-256 (hex) of a normalised request's canonical JSON."""
    return hashlib.sha256(_canonical(normalised).encode("utf-8")).hexdigest()


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _message(message: Any, ids: dict[str, str]) -> dict[str, Any]:
    """Keep only what a model reads; provider extras (reasoning, refusals, ids) are dropped."""
    source = _plain(message)
    out = {key: source[key] for key in _MESSAGE_KEYS if source.get(key) is not None}
    if "tool_call_id" in out:
        out["tool_call_id"] = _renumber(out["tool_call_id"], ids)
    if source.get("tool_calls"):
        out["tool_calls"] = [_tool_call(call, ids) for call in source["tool_calls"]]
    return out


def _tool_call(call: Any, ids: dict[str, str]) -> dict[str, Any]:
    call = _plain(call)
    function = call.get("function") or {}
    return {
        "id": _renumber(call.get("id") or "", ids),
        "name": function.get("name"),
        "arguments": _json_text(function.get("arguments") or "{}"),
    }


def _renumber(call_id: str, ids: dict[str, str]) -> str:
    return ids.setdefault(call_id, f"call_{len(ids) + 1}")


def _json_text(arguments: Any) -> str:
    """Arguments as canonical JSON text (providers differ in spacing and key order)."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return arguments  # kept verbatim: the key still changes when the text does
    return json.dumps(arguments, sort_keys=True, ensure_ascii=False)


def _schema(response_format: Any) -> Any:
    """A pydantic model class counts as its JSON schema; anything else as its JSON form."""
    if isinstance(response_format, type) and hasattr(response_format, "model_json_schema"):
        return {"type": "json_schema", "schema": response_format.model_json_schema()}
    return _plain(response_format)


def _plain(value: Any) -> Any:
    """Plain JSON data from dicts, lists or pydantic objects (litellm messages are pydantic)."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------- cassettes


@dataclass(frozen=True, slots=True)
class Cassette:
    """One recorded exchange: `key`, `step`, the normalised `request`, the `response`
    (`content`, `tool_calls`, `usage`), what it was `recorded_with`, and the `path` it lives at."""

    key: str
    step: str
    request: dict[str, Any]
    response: dict[str, Any]
    recorded_with: dict[str, Any]
    path: Path

    def to_json(self) -> str:
        """The file's text: pretty, keys sorted, non-ASCII kept readable."""
        body = {
            "key": self.key,
            "step": self.step,
            "recorded_with": self.recorded_with,
            "request": self.request,
            "response": self.response,
        }
        return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class _ToolCallShape(TypedDict):
    id: StrictStr
    name: StrictStr
    arguments: StrictStr


class _ResponseShape(TypedDict):
    content: NotRequired[StrictStr | None]
    tool_calls: NotRequired[list[_ToolCallShape]]
    usage: NotRequired[dict[str, Any]]


class _CassetteShape(TypedDict):
    """What a cassette file must hold (other keys are allowed: people annotate them)."""

    key: StrictStr
    step: StrictStr
    request: dict[str, Any]
    response: _ResponseShape
    recorded_with: NotRequired[dict[str, Any]]


_SHAPE = TypeAdapter(_CassetteShape)


def read_cassette(path: Path) -> dict[str, Any]:
    """The JSON of the cassette at `path`, checked for shape; `ConfigError` naming the file and
    what is wrong when it is unreadable, empty, not JSON or not a cassette."""
    data = _read_json(path)
    try:
        _SHAPE.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: not a cassette ({_problems(exc)})") from None
    return data


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read this cassette: {exc}") from None
    if not text.strip():
        raise ConfigError(f"{path}: this cassette is empty; record it again or delete it")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ConfigError(f"{path}: this cassette is not valid JSON ({exc}); record it again or delete it") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'the file'}: {e['msg']}" for e in exc.errors())


def cassette_name(step: str, key: str) -> str:
    """The file name of a cassette: the step (made filename-safe) and the key's first 16 digits."""
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', step) or 'step'}-{key[:16]}.json"


class ReplayStore:
    """Cassettes in `directory`: `mode="record"` writes one per answered request,
    `mode="replay"` serves them and raises `ReplayMiss` for a request it has none for."""

    def __init__(self, directory: str | Path, mode: Mode) -> None:
        self.directory = Path(directory)
        self.mode = mode
        self._by_key: dict[str, Cassette] = self._load() if mode == "replay" else {}

    @property
    def replaying(self) -> bool:
        """True when answers come from cassettes, not providers."""
        return self.mode == "replay"

    def _load(self) -> dict[str, Cassette]:
        cassettes = {}
        for path in sorted(self.directory.glob("*.json")):
            data = read_cassette(path)
            fields = {k: data[k] for k in ("key", "step", "request", "response")}
            cassettes[data["key"]] = Cassette(**fields, recorded_with=data.get("recorded_with", {}), path=path)
        return cassettes

    def lookup(self, step: str, key: str, request: dict[str, Any]) -> Cassette:
        """The cassette for `key`, or `ReplayMiss` naming the step, showing the request and the nearest cassette."""
        found = self._by_key.get(key)
        if found is None:
            raise ReplayMiss(step, key, self._miss_message(step, key, request))
        return found

    def save(
        self, step: str, key: str, request: dict[str, Any], response: dict[str, Any], recorded_with: dict[str, Any]
    ) -> Cassette:
        """Write the cassette of one answered request (same key, same file: re-recording overwrites)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / cassette_name(step, key)
        cassette = Cassette(key, step, request, response, recorded_with, path)
        path.write_text(cassette.to_json(), encoding="utf-8")
        self._by_key[key] = cassette
        return cassette

    # ------------------------------------------------------------ the miss message

    def _miss_message(self, step: str, key: str, request: dict[str, Any]) -> str:
        shown = _pretty(request)
        lines = [
            f"replay miss at step '{step}': no cassette for request key {key[:16]} in {self.directory}",
            "request:",
            *("  " + line for line in shown.splitlines()),
        ]
        nearest = self._nearest(step, shown)
        if nearest is None:
            lines.append(f"no cassettes recorded in {self.directory}")
            return "\n".join(lines)
        where = f"step '{nearest.step}', key {nearest.key[:16]}"
        lines.append(f"nearest cassette: {nearest.path.name} ({where}); differences:")
        lines += ["  " + line for line in _diff(_pretty(nearest.request), shown)]
        return "\n".join(lines)

    def _nearest(self, step: str, shown: str) -> Cassette | None:
        """The most similar cassette, preferring those of the same step."""
        def score(cassette: Cassette) -> tuple[bool, float, str]:
            ratio = difflib.SequenceMatcher(None, _pretty(cassette.request), shown).ratio()
            return (cassette.step == step, ratio, cassette.path.name)

        return max(self._by_key.values(), key=score, default=None)


def _pretty(request: dict[str, Any]) -> str:
    return json.dumps(request, indent=2, sort_keys=True, ensure_ascii=False)


def _diff(recorded: str, requested: str) -> list[str]:
    diff = difflib.unified_diff(recorded.splitlines(), requested.splitlines(), "cassette", "request", n=1, lineterm="")
    lines = list(diff)
    if len(lines) > _MAX_DIFF_LINES:
        lines = [*lines[:_MAX_DIFF_LINES], f"... ({len(lines) - _MAX_DIFF_LINES} more diff lines)"]
    return lines
