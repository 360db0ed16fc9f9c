"""`python:` bindings: `(python: package.module:function)`.

A python binding runs code with the process's permissions, so it runs only when the
operator's `[tools] allow_python` lists its module (or the exact target); otherwise each call
is refused. Compiling or checking a spec never imports the function. When a run starts,
`prepared` imports an allowed function and gives the tool a closed argument schema built from
its signature (the model may pass only the parameters the function declares).

The function is called with the tool arguments as keyword arguments, awaited when it is a
coroutine function and run in a worker thread otherwise (a blocking function must not stall the
event loop, and the tool timeout still fires: the run goes on while the thread finishes).
Import problems, bad arguments and exceptions the function raises all come back as tool errors.
What cannot be prevented in-process: the function sees the process's environment (and so any
keys in it), its files and its network; use an MCP server for code you do not trust as much.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .model import ToolError, ToolSpec
from .schema import arg, object_schema

if TYPE_CHECKING:
    from agent_factory.compiler.ir import ToolRef

    from .config import ToolConfig
    from .context import ToolContext

_TARGET = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
_OPEN_SCHEMA = {"type": "object", "properties": {}, "required": [], "additionalProperties": True}
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}
# Modules using `from __future__ import annotations` leave annotations as strings.
_JSON_TYPES_BY_NAME = {kind.__name__: name for kind, name in _JSON_TYPES.items()}


def parse_target(target: str) -> tuple[str, str]:
    """`package.module:attr.path` as (module, attribute path); `ValueError` when malformed."""
    if not _TARGET.match(target):
        raise ValueError(f"a python binding must look like 'package.module:function', got {target!r}")
    module, _, attribute = target.partition(":")
    return module, attribute


def load_callable(target: str) -> Callable[..., Any]:
    """Import the callable named by `target`; `ToolError` says why it cannot be loaded."""
    module_name, attribute = parse_target(target)
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ToolError(f"cannot import module '{module_name}' for python binding '{target}': {exc}") from None
    except Exception as exc:  # the module itself failed while importing
        raise ToolError(f"importing module '{module_name}' failed: {type(exc).__name__}: {exc}") from None
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise ToolError(f"module '{module_name}' has no attribute '{attribute}' (python binding '{target}')")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ToolError(f"python binding '{target}' is not callable")
    return obj


async def call_python(target: str, args: dict[str, Any]) -> Any:
    """Call the bound function with `args` as keyword arguments and return JSON-able content."""
    func = load_callable(target)
    try:
        inspect.signature(func).bind(**args)
    except TypeError as exc:
        raise ToolError(f"bad arguments for '{target}': {exc}") from None
    except ValueError:
        pass  # builtins without a signature: let the call itself complain
    try:
        if inspect.iscoroutinefunction(func):
            value = await func(**args)
        else:
            value = await asyncio.to_thread(func, **args)
            if inspect.isawaitable(value):
                value = await value
    except Exception as exc:
        raise ToolError(f"{type(exc).__name__}: {exc}") from None
    return jsonable(value)


def jsonable(value: Any) -> Any:
    """Pydantic models and dataclasses as plain data; everything else unchanged."""
    if hasattr(value, "model_dump") and callable(value.model_dump):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def python_binding_tool(ref: ToolRef, *, inspect_target: bool = False) -> ToolSpec:
    """The `ToolSpec` of a spec tool bound with `python:`; `ValueError` for a malformed target.

    Until `prepared` (or `inspect_target`, which imports the function now) builds the closed
    schema from the function's signature, the schema is open and each call checks the
    allow-list, then the arguments against the signature."""
    target = ref.binding.target
    try:
        parse_target(target)
    except ValueError as exc:
        raise ValueError(f"tool '{ref.name}': {exc}") from None
    parameters = signature_schema(load_callable(target)) if inspect_target else dict(_OPEN_SCHEMA)

    async def handler(args: dict[str, Any], ctx: ToolContext) -> Any:
        check_allowed(target, ctx.config)
        return await call_python(target, args)

    return ToolSpec(
        name=ref.name,
        description=ref.description or f"Calls {target}.",
        parameters=parameters,
        result=f"The return value of {target}.",
        kind="python",
        binding=target,
        handler=handler,
    )


def check_allowed(target: str, config: ToolConfig) -> None:
    """A `ToolError` unless the operator's configuration allows the binding to run."""
    if not config.python_allowed(target):
        module = target.partition(":")[0]
        raise ToolError(
            f"python binding '{target}' is not allowed: it runs code with your permissions; "
            f"add '{module}' to [tools] allow_python in agent-factory.toml to let it run"
        )


def prepared(spec: ToolSpec, config: ToolConfig) -> ToolSpec:
    """The python tool `spec` with the closed schema of its function, when the configuration
    allows it and it imports; unchanged otherwise (its calls then say why they fail)."""
    if not config.python_allowed(spec.binding or ""):
        return spec
    try:
        func = load_callable(spec.binding or "")
    except ToolError:
        return spec
    return spec.model_copy(update={"parameters": signature_schema(func)})


def signature_schema(func: Callable[..., Any]) -> dict[str, Any]:
    """A closed arguments schema from a function signature: annotated scalars map to JSON
    types, parameters with defaults are optional. `**kwargs` does not open it: the model may
    pass only what the function names."""
    properties: dict[str, dict[str, Any]] = {}
    for param in _signature(func).parameters.values():
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL, param.POSITIONAL_ONLY):
            continue  # cannot be passed by a named keyword
        json_type = _JSON_TYPES.get(param.annotation) or _JSON_TYPES_BY_NAME.get(str(param.annotation))
        prop = arg(json_type, param.name) if json_type else {"description": param.name}
        if param.default is not param.empty:
            prop["default"] = param.default
        properties[param.name] = prop
    return object_schema(properties)


def _signature(func: Callable[..., Any]) -> inspect.Signature:
    """The signature with string annotations evaluated where possible."""
    try:
        return inspect.signature(func, eval_str=True)
    except Exception:  # an annotation that does not evaluate: keep the strings
        return inspect.signature(func)
