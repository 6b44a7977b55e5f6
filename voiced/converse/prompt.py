"""The default system prompt, written for speech, and the date/time context added to it."""

from __future__ import annotations

import os
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_SYSTEM_PROMPT = (
    "You are voiced, a voice assistant on the user's Linux computer. Everything you write is "
    "read aloud by a speech synthesizer, so write the way people talk: short, plain sentences, "
    "usually one to three of them. Never use markdown, headings, bullet points, numbered lists, "
    "tables, code blocks, emoji or links. When there are several items, say them in one "
    "natural sentence, and offer to go on rather than reading a long list. Write numbers, "
    "times and units the way they are said. Use your tools when they help: for the time, "
    "timers, reminders, sums, the weather, notes, the computer's status, or opening things. "
    "If you are not sure what the user meant, ask one short question."
)
"""The system prompt used when ``[conversation] system_prompt`` is empty."""


def local_timezone(env: dict[str, str] | None = None) -> tzinfo:
    """Return the local timezone, as an IANA zone when one can be found.

    Reads ``$TZ``, then the ``/etc/localtime`` link, then ``/etc/timezone``; falls back to the
    fixed offset the C library reports.

    Args:
        env: The environment to read; defaults to ``os.environ``.
    """
    env = dict(os.environ) if env is None else env
    for name in (env.get("TZ", "").removeprefix(":"), _zone_from_localtime(), _etc_timezone()):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    fallback = datetime.now().astimezone().tzinfo
    assert fallback is not None
    return fallback


def _zone_from_localtime() -> str:
    try:
        target = Path("/etc/localtime").resolve(strict=True)
    except OSError:
        return ""
    parts = target.parts
    return "/".join(parts[parts.index("zoneinfo") + 1 :]) if "zoneinfo" in parts else ""


def _etc_timezone() -> str:
    try:
        return Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def zone_name(zone: tzinfo, at: datetime) -> str:
    """Return the zone's IANA name when it has one, else its abbreviation (``UTC+02:00``)."""
    key = getattr(zone, "key", None)
    return str(key) if key else (at.tzname() or "local time")


def describe_moment(now: datetime) -> str:
    """Describe an aware datetime the way a person would read it out.

    Args:
        now: An aware datetime.

    Returns:
        For example ``Tuesday 3 March 2026, 14:05 (Europe/Paris, UTC+01:00)``.
    """
    offset = now.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    assert now.tzinfo is not None
    name = zone_name(now.tzinfo, now)
    where = offset if name in ("UTC", "Etc/UTC", offset) else f"{name}, {offset}"
    return f"{now:%A} {now.day} {now:%B %Y, %H:%M} ({where})"


def system_prompt(base: str, now: datetime) -> str:
    """Return the system prompt sent with every request: the base prompt and the date/time.

    Args:
        base: The configured prompt; empty uses :data:`DEFAULT_SYSTEM_PROMPT`.
        now: The current local time (aware).
    """
    text = base.strip() or DEFAULT_SYSTEM_PROMPT
    return f"{text}\n\nThe current local date and time is {describe_moment(now)}."
