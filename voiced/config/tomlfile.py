"""Reading the TOML file and checking each value against its field's type."""

from __future__ import annotations

import dataclasses
import re
import stat
import tomllib
import types
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal

from voiced.config.checks import Check, check_of
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
    declared = {f.name: f for f in fields(cls)}
    known = list(declared)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(
                f"{path}: unknown key [{section}] {shown_name(key)}",
                f"expected one of {', '.join(known)}",
            )
        expected = hints[key]
        item = _table_item(expected)
        if item is not None:  # an array of tables: [[section.key]]
            kwargs[key] = _build_tables(path, f"{section}.{key}", item, value)
            continue
        if not matches_type(value, expected):
            shown = (check_of(declared[key]) or Check()).show(value)  # a secret's shows masked
            raise ConfigError(
                f"{path}: [{section}] {key} must be {describe_type(expected)}, "
                f"got {kind_of(value)} {shown}"
            )
        kwargs[key] = _convert(value, expected)
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}", exc.hint) from None


def _table_item(tp: Any) -> type[Any] | None:
    """The dataclass of ``tuple[Dataclass, ...]`` (an array of tables), else None."""
    if typing.get_origin(tp) is tuple:
        item = _item_type(tp)
        if isinstance(item, type) and dataclasses.is_dataclass(item):
            return item
    return None


def _build_tables(path: Path, section: str, cls: type[Any], value: Any) -> tuple[Any, ...]:
    """Build each ``[[section]]`` table of an array of tables.

    Raises:
        ConfigError: It is not an array of tables, or one of them is wrong (named by its
            position and ``name``).
    """
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(
            f"{path}: [{section}] must be an array of tables, one [[{section}]] each, "
            f"got {kind_of(value)}",
            f"write each as a [[{section}]] table",
        )
    built = []
    for number, table in enumerate(value, 1):
        try:
            built.append(build_section(path, section, cls, table))
        except ConfigError as exc:
            name = table.get("name")
            named = f" {Check().show(name)}" if isinstance(name, str) and name else ""
            where = f"(in [[{section}]] number {number}{named})"
            raise ConfigError(f"{exc.message} {where}", exc.hint) from None
    return tuple(built)


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
        elif typing.get_origin(option) is dict:
            of = typing.get_args(option)[1]
            if isinstance(value, dict) and all(matches_type(v, of) for v in value.values()):
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
        elif typing.get_origin(option) is dict:
            words.append(
                f"a table of {describe_type(typing.get_args(option)[1]).split(' ', 1)[1]}s"
            )
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
