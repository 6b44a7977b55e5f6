"""The current time and date, in the user's timezone or any other."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voiced.converse.prompt import describe_moment, local_timezone
from voiced.converse.tools.registry import Tool, ToolError, tool

MAX_ZONE = 64
"""Longest timezone name accepted, in characters (the longest real one has 32)."""


def clock_tools(zone: Callable[[], tzinfo] = local_timezone) -> list[Tool]:
    """Return the ``current_time`` tool.

    Args:
        zone: Gives the user's timezone.
    """

    @tool
    def current_time(timezone: str | None = None) -> str:
        """Tell the current date, time and timezone, here or in another timezone.

        Args:
            timezone: An IANA timezone name such as "Asia/Tokyo"; leave it out for the
                user's own timezone.
        """
        where = zone()
        if timezone:
            try:
                if len(timezone) > MAX_ZONE:
                    raise ValueError("too long for a timezone name")
                where = ZoneInfo(timezone.strip().replace(" ", "_"))
            except (ZoneInfoNotFoundError, ValueError):
                raise ToolError(
                    f"unknown timezone {timezone[:MAX_ZONE]!r}; "
                    "use an IANA name such as Europe/Paris"
                ) from None
        return describe_moment(datetime.now(where))

    return [current_time]
