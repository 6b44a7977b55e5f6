"""Reading the TOML file and checking each value against its field's type."""

from __future__ import annotations

import re
import stat
import tomllib
import types
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal

from voiced.config.checks import Check
from voiced.errors import ConfigError

CONFIG_LIMIT = 1 << 20
"""Largest config file read, in bytes (the whole documented file is about 10 KB)."""


def read_toml(path: Path, must_exist: bool) -> dict[str, Any]:
    """Read a TOML file; a missing file is {} unless it must exist.

    Only a regular file is opened (a FIFO would block), of at most 1 MiB, UTF-8 with or
    without a byte-order mark.

    Raises:
        ConfigError: The file is missing (when it must exist), not a regular file, too
            large, unreadable, not UTF-8 or not TOML: one line naming the file.
    """
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{path}: is a directory, not a config file", _WHERE)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: is not a regular file", _WHERE)
        with path.open("rb") as fh:
            data = fh.read(CONFIG_LIMIT + 1)
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(
                f"{path}: no such config file", "fix VOICED_CONFIG or create the file"
            ) from None
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > CONFIG_LIMIT:
        raise ConfigError(f"{path}: larger than 1 MiB, so not a voiced config file", _WHERE)
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}: not UTF-8 text (an invalid byte on line {line})", "save the file as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


_WHERE = "VOICED_CONFIG (or $XDG_CONFIG_HOME/voiced/config.toml) must be a TOML file"


def shown_name(name: str) -> str:
    """A key or section name as a message shows it: bare if plain, else quoted and escaped."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]{1,60}", name) else Check().show(name)


def build_section(path: Path, section: str, cls: type[Any], values: dict[str, Any]) -> Any:
    """Build one section's dataclass from its TOML table.

    Raises:
        ConfigError: An unknown key, or a value of the wrong type, named with the file.
    """
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(
                f"{path}: unknown key [{section}] {shown_name(key)}",
                f"expected one of {', '.join(known)}",
            )
        expected = hints[key]
        if not matches_type(value, expected):
            raise ConfigError(
                f"{path}: [{section}] {key} must be {describe_type(expected)}, "
                f"got {kind_of(value)} {Check().show(value)}"
            )
        kwargs[key] = _convert(value, expected)
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}", exc.hint) from None


def _convert(value: Any, tp: Any) -> Any:
    """TOML ints become floats where a float is wanted; arrays become tuples or lists."""
    for option in _options(tp):
        origin = typing.get_origin(option)
        if origin in (tuple, list) and isinstance(value, list):
            items = [_convert(v, _item_type(option)) for v in value]
            return tuple(items) if origin is tuple else items
    return float(value) if _wants_float(tp) and isinstance(value, int) else value


def _item_type(tp: Any) -> Any:
    """The item type of ``list[X]`` or ``tuple[X, ...]``."""
    return typing.get_args(tp)[0]


def _options(tp: Any) -> tuple[Any, ...]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return tuple(a for a in typing.get_args(tp) if a is not type(None))
    return (tp,)


def matches_type(value: Any, tp: Any) -> bool:
    """Whether a TOML value fits a field type (bool is never an int; ints fit floats)."""
    for option in _options(tp):
        if typing.get_origin(option) is Literal:
            if value in typing.get_args(option):
                return True
        elif typing.get_origin(option) in (tuple, list):
            if isinstance(value, list) and all(matches_type(v, _item_type(option)) for v in value):
                return True
        elif option is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return True
        elif option is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return True
        elif isinstance(value, option):
            return True
    return False


def _wants_float(tp: Any) -> bool:
    return float in _options(tp)


def describe_type(tp: Any) -> str:
    """A field type in words, for error messages: "a number", "one of 'low', …"."""
    words = []
    for option in _options(tp):
        if typing.get_origin(option) is Literal:
            words.append("one of " + ", ".join(repr(a) for a in typing.get_args(option)))
        elif typing.get_origin(option) in (tuple, list):
            item = describe_type(_item_type(option))
            if item.startswith(("a ", "an ")):
                words.append(f"an array of {item.split(' ', 1)[1]}s")
            else:
                words.append(f"an array of values, each {item}")
        else:
            words.append(
                {str: "a string", int: "an integer", float: "a number"}.get(option, option.__name__)
            )
    return " or ".join(words)


def kind_of(value: Any) -> str:
    """A TOML value's kind in words, for error messages: "a string", "a table"."""
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
