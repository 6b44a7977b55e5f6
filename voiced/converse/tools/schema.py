"""JSON schemas from type hints and Google-style docstrings, and checking arguments against them."""

from __future__ import annotations

import inspect
import json
import math
import re
import types
import typing
from collections.abc import Callable
from typing import Any, Literal

from voiced.converse.tools.schemacheck import SchemaError, resolve

MAX_ARGUMENTS = 32_000
"""Longest argument text accepted from the model, in characters."""
MAX_DEPTH = 16
"""Deepest nesting of lists and objects accepted in arguments."""
MAX_DIGITS = 30
"""Longest whole number accepted in arguments, in digits."""
MAX_INTEGER = 2**63 - 1
"""Largest whole number an integer argument may have (either sign)."""
_SIMPLE: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_WORDS = {"string": "a string", "integer": "an integer", "number": "a number"}
_WORDS |= {"boolean": "true or false", "array": "a list", "object": "an object", "null": "null"}


class ArgumentError(ValueError):
    """The model's arguments do not fit the tool's schema; the message says how."""


def parameters_schema(function: Callable[..., Any]) -> dict[str, Any]:
    """Build the ``parameters`` JSON schema of a function from its signature and docstring.

    Supported annotations: ``str``, ``int``, ``float``, ``bool``, ``Literal[...]``,
    ``list[X]`` of those, and ``X | None``. A parameter with a default is optional.

    Raises:
        TypeError: A parameter is unannotated or of an unsupported type.
    """
    hints = typing.get_type_hints(function)
    docs = docstring_args(function.__doc__ or "")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, param in inspect.signature(function).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"{function.__name__}: *args and **kwargs cannot be tool parameters")
        if name not in hints:
            raise TypeError(f"{function.__name__}: parameter {name!r} needs a type annotation")
        prop = type_schema(hints[name], f"{function.__name__}({name})")
        if name in docs:
            prop["description"] = docs[name]
        properties[name] = prop
        if param.default is inspect.Parameter.empty:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def type_schema(tp: Any, where: str) -> dict[str, Any]:
    """Return the JSON schema of one annotation (``None`` members are dropped)."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"{where}: only `X | None` unions are supported")
        return type_schema(options[0], where)
    if tp in _SIMPLE:
        return {"type": _SIMPLE[tp]}
    if typing.get_origin(tp) is Literal:
        values = list(typing.get_args(tp))
        kinds = {_SIMPLE.get(type(v)) for v in values}
        if len(kinds) != 1 or None in kinds:
            raise TypeError(f"{where}: Literal values must all be str, int or bool")
        return {"type": kinds.pop(), "enum": values}
    if typing.get_origin(tp) is list:
        return {"type": "array", "items": type_schema(typing.get_args(tp)[0], where)}
    raise TypeError(f"{where}: unsupported tool parameter type {tp!r}")


def docstring_summary(doc: str) -> str:
    """The docstring's text before its first section, as one line."""
    lines = inspect.cleandoc(doc).split("\n\n")[0].splitlines()
    return " ".join(line.strip() for line in lines if line.strip())


def docstring_args(doc: str) -> dict[str, str]:
    """Parse the ``Args:`` section of a Google-style docstring into {name: description}."""
    out: dict[str, str] = {}
    current: str | None = None
    in_args = False
    for line in inspect.cleandoc(doc).splitlines():
        stripped = line.strip()
        if re.fullmatch(r"[A-Z][A-Za-z ]*:", stripped) and not line.startswith(" "):
            in_args = stripped in ("Args:", "Arguments:", "Parameters:")
            current = None
            continue
        if not in_args or not stripped:
            continue
        match = re.match(r"\s{2,}(\*{0,2}\w+)\s*(?:\([^)]*\))?:\s*(.*)", line)
        if match and len(line) - len(line.lstrip()) <= 4:
            current = match.group(1).lstrip("*")
            out[current] = match.group(2).strip()
        elif current is not None:
            out[current] = f"{out[current]} {stripped}".strip()
    return out


def decode_arguments(text: str) -> object:
    """Decode the model's argument text, bounded in size, nesting and number length.

    Empty text means no arguments. NaN, Infinity and numbers too large for a float are
    refused, as are whole numbers of more than :data:`MAX_DIGITS` digits.

    Raises:
        ArgumentError: The text is too long, not JSON, too deeply nested, or has a number
            out of range.
    """
    if len(text) > MAX_ARGUMENTS:
        raise ArgumentError(
            f"the arguments are {len(text)} characters long; at most {MAX_ARGUMENTS} are accepted"
        )
    if not text.strip():
        return {}
    try:
        data = json.loads(text, parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except ArgumentError:
        raise
    except RecursionError:
        raise ArgumentError(f"the arguments are nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:
        raise ArgumentError(f"the arguments are not valid JSON ({_shorten(str(exc))})") from None
    if _depth(data) > MAX_DEPTH:
        raise ArgumentError(f"the arguments are nested more than {MAX_DEPTH} levels deep")
    return data


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ArgumentError(f"a number in the arguments has more than {MAX_DIGITS} digits")
    return int(text)


def _real(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ArgumentError(f"the number {_shorten(text)} in the arguments is too large")
    return value


def _constant(text: str) -> float:
    raise ArgumentError(f"{text} is not a number JSON allows")


def _depth(data: object) -> int:
    """How deeply lists and objects nest in decoded JSON (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level + 1)
            if deepest > MAX_DEPTH:
                break
            stack.extend((child, level + 1) for child in item)
    return deepest


def check_arguments(schema: dict[str, Any], data: object) -> dict[str, Any]:
    """Check decoded arguments against a ``parameters`` schema; return them converted.

    Integers given for number parameters become floats; nothing else is coerced. An
    argument the schema does not describe is refused unless it sets
    ``additionalProperties``. Besides voiced's own schemas, the forms MCP servers use are
    understood (see :mod:`voiced.converse.tools.schemacheck`): nested objects, ``null``,
    lists of types, ``anyOf``/``oneOf``/``allOf`` and local ``$ref``s.

    Raises:
        ArgumentError: Not an object, an unknown or missing argument, or a wrong type.
    """
    if not isinstance(data, dict):
        raise ArgumentError(f"the arguments must be a JSON object, got {_kind(data)}")
    return _object(data, schema, "", schema, strict=True)


def _object(
    data: dict[str, Any], schema: dict[str, Any], where: str, root: dict[str, Any], strict: bool
) -> dict[str, Any]:
    """Check an object's members; ``strict`` refuses members not described (the default for
    the arguments themselves, where an unknown one is the model's mistake)."""
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", not strict)
    unknown = sorted(set(data) - set(properties))
    if unknown and extra is False:
        known = ", ".join(properties) or "none"
        what = "argument" if not where else f"member of {where}:"
        raise ArgumentError(
            f"unknown {what} {_shorten(repr(unknown[0]))}; the "
            + ("arguments" if not where else "members")
            + f" are: {known}"
        )
    required = schema.get("required", ())
    missing = [name for name in required if name not in data]
    if missing:
        what = "argument" if not where else f"member of {where}:"
        raise ArgumentError(f"missing required {what} {missing[0]!r}")
    out: dict[str, Any] = {}
    for name, value in data.items():
        if value is None and name not in required:
            continue
        inner = f"argument {name!r}" if not where else f"{where}.{name}"
        rule = properties.get(name, extra if isinstance(extra, dict) else True)
        out[name] = _check(value, rule, inner, root)
    return out


def _check(value: Any, prop: Any, where: str, root: dict[str, Any] | None = None) -> Any:
    if isinstance(prop, bool):
        if not prop:
            raise ArgumentError(f"{where} is not allowed")
        return value
    if "$ref" in prop and root is not None:
        try:
            prop = {**resolve(root, prop["$ref"]), **{k: v for k, v in prop.items() if k != "$ref"}}
        except SchemaError as exc:
            raise ArgumentError(f"{where}: {exc}") from None
    for key in ("allOf",):
        for option in prop.get(key, ()):
            value = _check(value, option, where, root)
    for key in ("anyOf", "oneOf"):
        if key in prop:
            value = _any_of(value, prop[key], where, root)
    kind = prop.get("type")
    if isinstance(kind, list):
        return _any_of(value, [{**prop, "type": k} for k in kind], where, root)
    if kind is None:
        _check_enum(value, prop, where)
        return value
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
        "null": value is None,
    }.get(str(kind), False)
    if not ok:
        raise ArgumentError(f"{where} must be {_WORDS.get(str(kind), kind)}, got {_kind(value)}")
    _check_enum(value, prop, where)
    if kind == "integer" and abs(value) > MAX_INTEGER:
        raise ArgumentError(f"{where} is too large (at most {MAX_INTEGER} either side of 0)")
    if kind == "number":
        try:
            number = float(value)
        except OverflowError:
            raise ArgumentError(f"{where} is too large for a number") from None
        if not math.isfinite(number):
            raise ArgumentError(f"{where} must be a finite number, got {number}")
        return number
    if kind == "array":
        items = prop.get("items", True)
        return [_check(v, items, f"{where}[{i}]", root) for i, v in enumerate(value)]
    if kind == "object":
        return _object(value, prop, where, root or prop, strict=False)
    return value


def _any_of(value: Any, options: list[Any], where: str, root: dict[str, Any] | None) -> Any:
    """The value checked by the first option it fits; the first option's complaint if none."""
    first: ArgumentError | None = None
    for option in options:
        try:
            return _check(value, option, where, root)
        except ArgumentError as exc:
            first = first or exc
    raise first or ArgumentError(f"{where} fits none of the allowed forms")


def _check_enum(value: Any, prop: dict[str, Any], where: str) -> None:
    if "enum" in prop and value not in prop["enum"]:
        allowed = ", ".join(repr(v) for v in prop["enum"])
        raise ArgumentError(f"{where} must be one of {allowed}, got {_shorten(repr(value))}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    words = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    words |= {list: "a list", dict: "an object"}
    text = words.get(type(value), type(value).__name__)
    if isinstance(value, int) and value.bit_length() > 64:
        return f"{text} ({value.bit_length()} bits long)"
    return f"{text} ({_shorten(repr(value))})" if isinstance(value, str | int | float) else text


def _shorten(text: str, limit: int = 60) -> str:
    """A piece of model-written text short enough to quote in an error message."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
