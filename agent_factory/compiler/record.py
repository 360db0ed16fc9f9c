"""Frozen records: the compiler's data types (IR nodes, spans, diagnostics) as plain classes.

`check` runs in editors, pre-commit hooks and CI loops, where starting the process is most of
its time. As pydantic models these types cost about 90 ms of every start (importing pydantic
and building each model's validator) for a spec that checks in 10 ms. A record declares its
fields as annotations, like a dataclass, but the class statement only notes their names and
defaults: the annotations are read the first time a class loads data (`model_validate`), which
`check` never does.

Records are frozen, compare and hash by type and field values, reject unknown fields, and keep
pydantic's method names (`model_copy`, `model_dump`, `model_validate`, ...), which plugins and
the runtime call. Unlike pydantic, constructing a record does not convert values: the compiler
passes tuples, `Decimal`s and enum members itself; loading JSON converts and checks them.
"""

from __future__ import annotations

import json
import typing
from decimal import Decimal, InvalidOperation
from enum import Enum
from types import NoneType, UnionType
from typing import Any, Callable, ClassVar, Literal, Self, Union

Load = Callable[[Any, str], Any]


class RecordError(ValueError):
    """Data that does not fit a record; the message says where (`Spec.workflow.steps.0.kind`)."""


class Record:
    """Base of the compiler's data types: subclasses declare fields as annotations with optional defaults."""

    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _required: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = list(cls.__dict__.get("__annotations__", {}))
        cls._fields = (*cls._fields, *(name for name in own if name not in cls._fields))
        cls._defaults = {**cls._defaults, **{name: cls.__dict__[name] for name in own if name in cls.__dict__}}
        cls._required = frozenset(cls._fields) - cls._defaults.keys()

    def __init__(self, **values: Any) -> None:
        unknown = values.keys() - self._defaults.keys() - self._required
        missing = self._required - values.keys()
        if unknown or missing:
            raise TypeError(f"{type(self).__name__}: {_naming(unknown, missing)}")
        self.__dict__.update(self._defaults, **values)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: use model_copy(update=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *(self.__dict__[name] for name in self._fields)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={self.__dict__[name]!r}' for name in self._fields)})"

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Self:
        """A copy with the fields in `update` replaced (not checked, as with pydantic)."""
        unknown = (update or {}).keys() - self.__dict__.keys()
        if unknown:
            raise TypeError(f"{type(self).__name__}: {_naming(unknown, ())}")
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__, **(update or {}))
        return copy

    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        """The fields as a dict, nested records as dicts; `mode="json"` gives JSON values only
        (tuples as lists, `Decimal` as its string, enum members as their values)."""
        return _dump(self, mode == "json")

    def model_dump_json(self) -> str:
        """The record as compact JSON (as pydantic writes it): `model_dump(mode="json")`, so a
        subclass that leaves a field out of its dump (`ToolSpec.handler`) leaves it out here too."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        """The record `data` (a dict as `model_dump(mode="json")` writes it) describes; raises
        `RecordError` naming the first field that is missing, unknown or of the wrong type."""
        try:
            return _loader(cls)(data, cls.__name__)
        except RecursionError:  # as pydantic's depth limit: deep garbage is malformed input, not a crash
            raise RecordError(f"{cls.__name__}: nested too deeply to load") from None

    @classmethod
    def model_validate_json(cls, text: str | bytes) -> Self:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise RecordError(f"{cls.__name__}: not JSON: {error}") from None
        except RecursionError:
            raise RecordError(f"{cls.__name__}: not JSON: nested too deeply") from None
        return cls.model_validate(data)

    @classmethod
    def _loaded(cls, values: dict[str, Any], where: str) -> dict[str, Any]:
        """Fix or check loaded field values that depend on each other (overridden where needed)."""
        return values


def _naming(unknown: Any, missing: Any) -> str:
    problems = [f"unknown field `{name}`" for name in sorted(unknown)]
    problems += [f"missing field `{name}`" for name in sorted(missing)]
    return ", ".join(problems)


def _dump(value: Any, as_json: bool) -> Any:
    if isinstance(value, Record):
        return {name: _dump(value.__dict__[name], as_json) for name in value._fields}
    if isinstance(value, tuple):
        items = [_dump(item, as_json) for item in value]
        return items if as_json else tuple(items)
    if as_json and isinstance(value, Decimal):
        return str(value)
    if as_json and isinstance(value, Enum):
        return value.value
    return value


# ---------------------------------------------------------------- loading

_LOADERS: dict[Any, Load] = {}


def _loader(hint: Any) -> Load:
    """The function that loads a JSON value of type `hint`, built once per type."""
    load = _LOADERS.get(hint)
    if load is None:
        load = _LOADERS[hint] = _build(hint)
    return load


def _build(hint: Any) -> Load:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(hint, type) and issubclass(hint, Record):
        return _record(hint)
    if origin in (Union, UnionType):
        return _union(args)
    if origin is tuple:
        return _tuple(args)
    if origin is Literal:
        return _literal(args)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(hint)
    if hint is Decimal:
        return load_decimal
    if hint in (str, int, bool):
        return _scalar(hint)
    raise TypeError(f"records cannot load {hint!r}")


def _record(cls: type[Record]) -> Load:
    fields: dict[str, Load] = {}

    def load(data: Any, where: str) -> Record:
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            raise RecordError(f"{where}: expected an object ({cls.__name__}), got {_shown(data)}")
        if not fields:  # annotations are resolved on first use: nested and recursive types exist by then
            hints = typing.get_type_hints(cls)
            fields.update((name, _loader(hints[name])) for name in cls._fields)
        unknown, missing = data.keys() - fields.keys(), cls._required - data.keys()
        if unknown or missing:
            raise RecordError(f"{where}: {_naming(unknown, missing)}")
        values = {name: fields[name](value, f"{where}.{name}") for name, value in data.items()}
        return cls(**cls._loaded(values, where))

    return load


def _union(args: tuple[Any, ...]) -> Load:
    if NoneType in args:
        rest = tuple(arg for arg in args if arg is not NoneType)
        inner = _loader(rest[0] if len(rest) == 1 else Union[rest])
        return lambda value, where: None if value is None else inner(value, where)
    if all(isinstance(arg, type) and issubclass(arg, Record) for arg in args):
        return _tagged(args)
    loads = [_loader(arg) for arg in args]

    def load(value: Any, where: str) -> Any:
        if type(value) in args:
            return value
        for candidate in loads:
            try:
                return candidate(value, where)
            except RecordError:
                pass
        raise RecordError(f"{where}: expected {' or '.join(_name(arg) for arg in args)}, got {_shown(value)}")

    return load


def _tagged(classes: tuple[type[Record], ...]) -> Load:
    """A union of records told apart by their `node` field (the expression tree)."""
    by_tag = {cls._defaults["node"]: cls for cls in classes}

    def load(value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise RecordError(f"{where}: expected an object, got {_shown(value)}")
        tag = value.get("node")
        if not isinstance(tag, str) or tag not in by_tag:
            raise RecordError(f"{where}.node: expected {_listed(by_tag)}, got {_shown(tag)}")
        return _loader(by_tag[tag])(value, where)

    return load


def _tuple(args: tuple[Any, ...]) -> Load:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _loader(args[0])
        return lambda value, where: tuple(item(each, f"{where}.{index}") for index, each in enumerate(_items(value, where)))
    loads = [_loader(arg) for arg in args]

    def load(value: Any, where: str) -> tuple:
        items = _items(value, where)
        if len(items) != len(loads):
            raise RecordError(f"{where}: expected {len(loads)} items, got {len(items)}")
        return tuple(each(item, f"{where}.{index}") for index, (each, item) in enumerate(zip(loads, items)))

    return load


def _items(value: Any, where: str) -> list | tuple:
    if not isinstance(value, (list, tuple)):
        raise RecordError(f"{where}: expected a list, got {_shown(value)}")
    return value


def _literal(allowed: tuple[Any, ...]) -> Load:
    def load(value: Any, where: str) -> Any:
        if not any(type(value) is type(each) and value == each for each in allowed):
            raise RecordError(f"{where}: expected {_listed(allowed)}, got {_shown(value)}")
        return value

    return load


def _enum(cls: type[Enum]) -> Load:
    def load(value: Any, where: str) -> Enum:
        try:
            return cls(value)
        except ValueError:
            raise RecordError(f"{where}: expected {_listed([m.value for m in cls])}, got {_shown(value)}") from None

    return load


def load_decimal(value: Any, where: str) -> Decimal:
    """A `Decimal` from its JSON string (or a JSON number); NaN and infinities are refused."""
    if isinstance(value, Decimal) or (isinstance(value, (str, int, float)) and not isinstance(value, bool)):
        try:
            number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                return number
    raise RecordError(f"{where}: expected a decimal number, got {_shown(value)}")


def _scalar(kind: type) -> Load:
    def load(value: Any, where: str) -> Any:
        if type(value) is not kind:  # `type`, not isinstance: a bool is not an int here
            raise RecordError(f"{where}: expected {_name(kind)}, got {_shown(value)}")
        return value

    return load


def _name(hint: Any) -> str:
    return {str: "a string", int: "an integer", bool: "true or false", Decimal: "a decimal number"}.get(
        hint, getattr(hint, "__name__", repr(hint)))


def _listed(values: Any) -> str:
    return "one of " + ", ".join(json.dumps(value) for value in values)


def _shown(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."
