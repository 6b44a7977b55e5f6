"""Fitting any message on one JSON line: unencodable text replaced, over-long text cut visibly.

orjson refuses strings holding surrogate code points (a lone ``\\ud800`` is not UTF-8) and
integers beyond 64 bits; :func:`dump_line` replaces those instead of failing, so one bad value
never stops an event. Over ``limit`` bytes, the longest strings are cut, each ending with a
note of how much was cut (``… [truncated 1,180,000 characters]``), so no line can exceed
what a client reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from voiced.errors import ProtocolError

REPLACEMENT = "\N{REPLACEMENT CHARACTER}"
"""What stands in for a character that cannot be encoded."""

MIN_CUT_CHARS = 200
"""Strings shorter than this are never cut (type tags, names, ids stay whole)."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1
_NEWLINE = orjson.OPT_APPEND_NEWLINE


def clean_text(text: str) -> str:
    """Return ``text`` with every surrogate code point replaced by U+FFFD.

    Python strings may hold lone surrogates (from ``surrogateescape``-decoded file names, or
    from JSON such as ``"\\ud800"``); UTF-8, and so the wire, cannot.
    """
    return _SURROGATE.sub(REPLACEMENT, text)


def truncation_note(dropped: int) -> str:
    """The note that ends a cut text, e.g. ``… [truncated 1,180,000 characters]``."""
    return f"… [truncated {dropped:,} characters]"


def json_size(text: str) -> int:
    """Bytes ``text`` takes inside a JSON string (UTF-8 and escapes; quotes not counted)."""
    return len(orjson.dumps(clean_text(text))) - 2


def clip(text: str, max_bytes: int, dropped: int = 0) -> str:
    """Return ``text`` (cleaned) cut to fit ``max_bytes`` in JSON, with a note when cut.

    The note counts the characters cut; it alone is returned when ``max_bytes`` is smaller
    than the note itself.

    Args:
        text: The text.
        max_bytes: The most bytes the result may take inside a JSON string.
        dropped: Characters already cut from it before (counted in the note; a text with
            any dropped always gets one).
    """
    text = clean_text(text)
    if not dropped and json_size(text) <= max_bytes:
        return text
    budget = max(0, max_bytes - json_size(truncation_note(len(text) + dropped)))
    keep = min(len(text), budget)
    while keep and (size := json_size(text[:keep])) > budget:
        keep = min(keep - 1, keep * budget // size)
    return text[:keep] + truncation_note(len(text) - keep + dropped)


def dump_line(data: dict[str, Any], limit: int | None = None) -> bytes:
    """Return ``data`` as one JSON line (newline included), never failing on its values.

    Args:
        data: The JSON-ready message (dicts, lists, str, int, float, bool, None).
        limit: The most bytes the line may take; None for no limit.

    Raises:
        ProtocolError: The line is over ``limit`` even with every long string cut (it has no
            long text: only an unreasonable number of short values could do that).
    """
    try:
        line = orjson.dumps(data, option=_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError: a surrogate, an int over 64 bits, …
        data = _clean(data)
        line = orjson.dumps(data, option=_NEWLINE)
    if limit is None or len(line) <= limit:
        return line
    return _shrink(data, len(line), limit)


def _shrink(data: dict[str, Any], size: int, limit: int) -> bytes:
    leaves = sorted(_long_strings(data), key=lambda leaf: len(leaf[2]), reverse=True)
    for container, key, text in leaves:
        if size <= limit:
            break
        container[key] = clip(text, max(0, json_size(text) - (size - limit)))
        size = len(orjson.dumps(data, option=_NEWLINE))
    if size > limit:
        raise ProtocolError(
            f"a {data.get('type', 'message')!r} message of {size:,} bytes cannot be cut to "
            f"the {limit:,}-byte line limit"
        )
    return orjson.dumps(data, option=_NEWLINE)


def _long_strings(value: Any) -> Iterator[tuple[Any, Any, str]]:
    """Every string of ``MIN_CUT_CHARS`` or more, as (its container, its key, the string)."""
    pairs: Any = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in pairs:
        if isinstance(item, str):
            if len(item) >= MIN_CUT_CHARS:
                yield value, key, item
        elif isinstance(item, dict | list):
            yield from _long_strings(item)


def _clean(value: Any) -> Any:
    """``value`` with every string cleaned and every int clamped to 64 bits."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return min(max(value, _INT_MIN), _INT_MAX)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return clean_text(str(value))
