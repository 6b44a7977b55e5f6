"""Groq's x-ratelimit-* headers as a snapshot, with Go-style durations parsed."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|us|µs|ns|h|m|s)")


def parse_go_duration(text: str) -> float | None:
    """Parse a Go duration such as ``2m59.56s``, ``7.66s`` or ``120ms`` into seconds.

    Args:
        text: The duration text.

    Returns:
        Seconds, or None when the text is not a Go duration.
    """
    text = text.strip()
    if text in ("0", ""):
        return 0.0 if text == "0" else None
    total, pos = 0.0, 0
    for match in _GO_PART.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        pos = match.end()
    return total if pos == len(text) and math.isfinite(total) else None


@dataclass(frozen=True)
class RateLimit:
    """What the last response said about the rate limits.

    Attributes:
        limit_requests: Requests allowed per day.
        remaining_requests: Requests left today.
        reset_requests: Seconds until the request budget is full again.
        limit_tokens: Tokens allowed per minute.
        remaining_tokens: Tokens left this minute.
        reset_tokens: Seconds until the token budget is full again.
        observed_at: ``time.time()`` when the headers arrived.
    """

    limit_requests: int | None = None
    remaining_requests: int | None = None
    reset_requests: float | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_tokens: float | None = None
    observed_at: float = 0.0

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit | None:
        """Build a snapshot from response headers, or None when they carry none."""
        if not any(k.lower().startswith("x-ratelimit-") for k in headers):
            return None

        def number(name: str) -> int | None:
            value = headers.get(name)
            try:
                return int(float(value)) if value is not None else None
            except (ValueError, OverflowError):  # "abc", "nan", "inf", a 400-digit number
                return None

        def duration(name: str) -> float | None:
            value = headers.get(name)
            return parse_go_duration(value) if value is not None else None

        return cls(
            limit_requests=number("x-ratelimit-limit-requests"),
            remaining_requests=number("x-ratelimit-remaining-requests"),
            reset_requests=duration("x-ratelimit-reset-requests"),
            limit_tokens=number("x-ratelimit-limit-tokens"),
            remaining_tokens=number("x-ratelimit-remaining-tokens"),
            reset_tokens=duration("x-ratelimit-reset-tokens"),
            observed_at=time.time(),
        )
