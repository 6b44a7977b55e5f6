"""What each setting accepts, declared beside its field, and the one place that checks it.

A field declares what it accepts with :func:`setting`::

    timeout: float = setting(60.0, above(0, at_most=3600, unit="seconds"))

and each section's ``__post_init__`` calls :func:`check_fields`, so a value out of range stops
voiced with one line, ``[network] timeout must be above 0 and at most 3600 seconds, got nan``,
whether it came from the file, the environment or code. Every number has a range with both
ends (NaN and infinities never fit one); tests/hostile/test_config_ranges.py fails if a field
forgets its check.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import unicodedata
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar
from urllib.parse import urlsplit

from voiced.errors import ConfigError

T = TypeVar("T")

CHECK = "check"
"""The key of a field's metadata that holds its :class:`Check`."""

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Characters that reorder text on screen: never part of a one-line setting."""


class Check:
    """What a setting accepts: ``words`` say it, ``fits`` tests a value (None is never
    checked: it means unset)."""

    hint = ""
    """What to do when a value does not fit; "" uses the field's default."""

    @property
    def words(self) -> str:
        """What the setting accepts, completing "must be …"."""
        raise NotImplementedError

    def fits(self, value: Any) -> bool:
        """Whether ``value`` is acceptable."""
        raise NotImplementedError

    def show(self, value: Any) -> str:
        """The value as an error message shows it: quoted, escaped, at most 60 characters."""
        shown = repr(value)
        return shown if len(shown) <= 60 else shown[:57] + "…"


def setting(default: T, check: Check) -> T:
    """A dataclass field with its default and what it accepts."""
    return field(default=default, metadata={CHECK: check})


def check_of(f: Any) -> Check | None:
    """The check a dataclass field declared, or None."""
    check = f.metadata.get(CHECK)
    return check if isinstance(check, Check) else None


def check_fields(settings: Any, section: str) -> None:
    """Check every field of a settings dataclass against its declared check.

    Args:
        settings: A settings dataclass instance.
        section: Its ``[section]`` name, for the message.

    Raises:
        ConfigError: ``[section] key must be <what it accepts>, got <value>``.
    """
    for f in fields(settings):
        check = check_of(f)
        value = getattr(settings, f.name)
        if check is None or value is None or check.fits(value):
            continue
        hint = check.hint or (
            "remove the key to leave it unset"
            if f.default is None
            else f"remove the key to use the default, {check.show(f.default)}"
        )
        raise ConfigError(
            f"[{section}] {f.name} must be {check.words}, got {check.show(value)}", hint
        )


@dataclass(frozen=True)
class Range(Check):
    """A finite number from ``lo`` to ``hi`` (above ``lo`` when ``lo_open``), in ``step``s
    from ``lo`` when given. Build one with :func:`between`, :func:`above`, :func:`at_least`
    or :func:`steps`."""

    lo: float
    hi: float
    lo_open: bool = False
    step: float | None = None
    unit: str = ""
    phrase: str = "between"

    @property
    def words(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        lo, hi = repr(self.lo), repr(self.hi)
        if self.step:
            count = int((self.hi - self.lo) // self.step) + 1
            values = [repr(self.lo + i * self.step) for i in range(min(count, 4))]
            if count <= 4:
                return f"{', '.join(values[:-1])} or {values[-1]}{unit}"
            return f"{', '.join(values[:3])}, … up to {hi}{unit}"
        if self.lo_open:
            return f"above {lo} and at most {hi}{unit}"
        if self.phrase == "between":
            return f"between {lo} and {hi}{unit}"
        return f"at least {lo} and at most {hi}{unit}"

    def fits(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        low = value > self.lo if self.lo_open else value >= self.lo
        if not (low and value <= self.hi):
            return False
        return not self.step or (value - self.lo) % self.step == 0


def between(lo: float, hi: float, unit: str = "") -> Range:
    """``lo`` to ``hi``, both included: "between 0 and 2"."""
    return Range(lo, hi, unit=unit)


def above(lo: float, at_most: float, unit: str = "") -> Range:
    """More than ``lo``, up to ``at_most``: "above 0 and at most 3600 seconds"."""
    return Range(lo, at_most, lo_open=True, unit=unit)


def at_least(lo: float, at_most: float, unit: str = "") -> Range:
    """``lo`` to ``at_most``, said from the low end: "at least 1 and at most 100"."""
    return Range(lo, at_most, unit=unit, phrase="at least")


def steps(lo: int, hi: int, step: int = 1, unit: str = "") -> Range:
    """``lo``, ``lo + step``, … up to ``hi``: "0, 1, 2 or 3", "30, 60, 90, … up to 300"."""
    return Range(lo, hi, step=step, unit=unit)


def one_line(value: str) -> bool:
    """No control characters and no characters that reorder text on screen."""
    return not any(unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS for c in value)


@dataclass(frozen=True)
class Text(Check):
    """A string: one line unless ``multiline`` (then tabs and line breaks are fine, other
    control characters are not), not blank unless ``empty_ok``, at most ``max_chars``,
    matching ``pattern`` when given (``described`` then says what it matches)."""

    empty_ok: bool = False
    multiline: bool = False
    max_chars: int | None = None
    pattern: str | None = None
    described: str = ""
    hint: str = ""

    @property
    def words(self) -> str:
        if self.described:
            return self.described
        what = "a string" if self.empty_ok else "a non-empty string"
        what += f" of at most {self.max_chars} characters" if self.max_chars else ""
        if self.multiline:
            return what + " without control characters (tabs and line breaks are fine)"
        return what + " on one line, without control characters"

    def fits(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        if not value.strip():
            return self.empty_ok
        if self.max_chars is not None and len(value) > self.max_chars:
            return False
        if self.multiline:
            if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in value):
                return False
        elif not one_line(value):
            return False
        return self.pattern is None or re.fullmatch(self.pattern, value) is not None


@dataclass(frozen=True)
class Url(Check):
    """An http or https URL with a host (and a valid port, if any)."""

    @property
    def words(self) -> str:
        return "an http:// or https:// URL with a host"

    def fits(self, value: Any) -> bool:
        if not isinstance(value, str) or not one_line(value) or any(c.isspace() for c in value):
            return False
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and bool(parts.hostname)

    def show(self, value: Any) -> str:
        return super().show(mask_url(value) if isinstance(value, str) else value)


def mask_url(url: str) -> str:
    """The URL with its credentials hidden: user and password, query values and fragment.

    ``https://user:pass@proxy/v1?key=abc`` becomes ``https://***@proxy/v1?key=***``.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = "&".join(
        name + "=***" if sep else "***"
        for name, sep, _ in (piece.partition("=") for piece in parts.query.split("&"))
    )
    if "@" in url and "@" not in parts.netloc:
        return "***"  # credentials outside a host part: too malformed to show any of it
    return parts._replace(
        netloc=netloc, query=query if parts.query else "", fragment="***" if parts.fragment else ""
    ).geturl()


@dataclass(frozen=True)
class FilePath(Check):
    """An absolute path (or one starting with ``~``), empty when ``empty_ok``; at most
    ``max_bytes`` long once ``~`` is expanded (a Unix socket's limit is 107)."""

    empty_ok: bool = True
    max_bytes: int | None = None

    @property
    def words(self) -> str:
        what = "an absolute path or one starting with ~"
        if self.max_bytes:
            what += f", at most {self.max_bytes} bytes long"
        return what + (" (or empty)" if self.empty_ok else "")

    def fits(self, value: Any) -> bool:
        if not isinstance(value, str) or not one_line(value):
            return False
        if not value:
            return self.empty_ok
        expanded = os.path.expanduser(value)
        if not os.path.isabs(expanded):
            return False
        return self.max_bytes is None or len(os.fsencode(expanded)) <= self.max_bytes


@dataclass(frozen=True)
class Command(Check):
    """A program name or path, with arguments in shell quoting (split with shlex)."""

    @property
    def words(self) -> str:
        return "a program name or path, with any arguments in shell quoting"

    def fits(self, value: Any) -> bool:
        if not isinstance(value, str) or not one_line(value):
            return False
        try:
            return bool(shlex.split(value))
        except ValueError:
            return False


MAX_DEVICE_INDEX = 9999


@dataclass(frozen=True)
class Device(Check):
    """An audio device: an index of 0 or more, or part of its name."""

    @property
    def words(self) -> str:
        return f"a device index of 0 or more (up to {MAX_DEVICE_INDEX}), or part of a device name"

    def fits(self, value: Any) -> bool:
        if isinstance(value, str):
            return Text().fits(value)
        return steps(0, MAX_DEVICE_INDEX).fits(value)


@dataclass(frozen=True)
class Names(Check):
    """An array of non-empty one-line strings."""

    @property
    def words(self) -> str:
        return "an array of non-empty one-line strings"

    def fits(self, value: Any) -> bool:
        return isinstance(value, tuple | list) and all(Text().fits(v) for v in value)
