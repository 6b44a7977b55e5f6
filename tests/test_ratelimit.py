"""Rate-limit headers and Go durations."""

from __future__ import annotations

import pytest

from voiced.groq.ratelimit import RateLimit, parse_go_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2m59.56s", 179.56),
        ("7.66s", 7.66),
        ("120ms", 0.12),
        ("1h2m3s", 3723.0),
        ("0", 0.0),
        ("500us", 0.0005),
        ("3µs", 0.000003),
        ("1.5h", 5400.0),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "5", "2m x", "s", "1d"])
def test_not_go_durations(text: str) -> None:
    assert parse_go_duration(text) is None


def test_snapshot_from_headers() -> None:
    snap = RateLimit.from_headers(
        {
            "x-ratelimit-limit-requests": "14400",
            "x-ratelimit-remaining-requests": "14370",
            "x-ratelimit-reset-requests": "2m59.56s",
            "x-ratelimit-limit-tokens": "18000",
            "x-ratelimit-remaining-tokens": "17997",
            "x-ratelimit-reset-tokens": "10ms",
        }
    )
    assert snap is not None
    assert (snap.limit_requests, snap.remaining_requests) == (14400, 14370)
    assert (snap.limit_tokens, snap.remaining_tokens) == (18000, 17997)
    assert snap.reset_requests == pytest.approx(179.56)
    assert snap.reset_tokens == pytest.approx(0.01)


def test_no_headers_no_snapshot() -> None:
    assert RateLimit.from_headers({"content-type": "application/json"}) is None


def test_retry_after_forms() -> None:
    from voiced.groq.failures import retry_after

    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after": "0.5", "retry-after-ms": "120"}) == pytest.approx(0.12)
    now = 1_767_225_600.0  # Thu, 01 Jan 2026 00:00:00 GMT
    assert retry_after({"retry-after": "Thu, 01 Jan 2026 00:00:30 GMT"}, now=now) == 30.0
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None
