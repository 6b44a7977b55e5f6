"""Frozen dataclasses to JSON-ready dicts and back, every field checked against its type hint."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from voiced.errors import ProtocolError

T = TypeVar("T")


def to_plain(obj: Any) -> Any:
    """Return ``obj`` as JSON-ready values: dataclasses become dicts, tuples lists.

    Args:
        obj: A protocol dataclass, or a value found in one of its fields.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_plain(item) for item in obj]
    return obj


def from_plain(cls: type[T], data: Any, where: str) -> T:
    """Build ``cls`` from decoded JSON, checking every field against its type hint.

    Keys the class does not know are ignored, so a newer peer may add fields.

    Args:
        cls: A frozen dataclass whose fields use str, int, float, bool, None, Literal,
            tuple[X, ...] or other such dataclasses.
        data: The decoded JSON object.
        where: What is being decoded, for error messages (e.g. ``"state"``).

    Raises:
        ProtocolError: A field is missing or has a value of the wrong type.
    """
    if not isinstance(data, Mapping):
        raise ProtocolError(f"{where}: expected a JSON object, got {_kind(data)}")
    kwargs: dict[str, Any] = {}
    hints = _hints(typing.cast(Any, cls))
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init:
            continue
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ProtocolError(f"{where}: the field {f.name!r} is missing")
            continue
        kwargs[f.name] = _convert(data[f.name], hints[f.name], f"{where}.{f.name}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"{where}: {exc}") from exc


@functools.cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _options(tp: Any) -> tuple[Any, ...]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return typing.get_args(tp)
    return (tp,)


def _convert(value: Any, tp: Any, where: str) -> Any:
    for option in _options(tp):
        ok, converted = _try(value, option, where)
        if ok:
            return converted
    raise ProtocolError(f"{where}: expected {_describe(tp)}, got {_kind(value)} {value!r:.60}")


def _try(value: Any, tp: Any, where: str) -> tuple[bool, Any]:
    origin = typing.get_origin(tp)
    if tp is type(None):
        return value is None, None
    if origin is Literal:
        return value in typing.get_args(tp) and isinstance(value, str | int), value
    if origin is tuple:
        if not isinstance(value, list):
            return False, None
        item = typing.get_args(tp)[0]
        return True, tuple(_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return isinstance(value, Mapping), (
            from_plain(tp, value, where) if isinstance(value, Mapping) else None
        )
    if tp is float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number, float(value) if number else None
    if tp is int or tp is str:
        return isinstance(value, tp) and not isinstance(value, bool), value
    if tp is bool:
        return isinstance(value, bool), value
    raise TypeError(f"{where}: unsupported field type {tp!r}")


def _describe(tp: Any) -> str:
    words = []
    for option in _options(tp):
        origin = typing.get_origin(option)
        if option is type(None):
            words.append("null")
        elif origin is Literal:
            words.append("one of " + ", ".join(repr(a) for a in typing.get_args(option)))
        elif origin is tuple:
            words.append("an array")
        elif dataclasses.is_dataclass(option):
            words.append("an object")
        else:
            words.append(
                {str: "a string", int: "an integer", float: "a number", bool: "true or false"}[
                    option
                ]
            )
    return " or ".join(words)


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)
