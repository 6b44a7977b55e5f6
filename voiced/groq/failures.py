"""Turn a failed HTTP response (or a stream's error event) into the right VoicedError."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from voiced.errors import (
    ApiError,
    ApiErrorDetails,
    AuthenticationError,
    BadRequestError,
    CapacityError,
    ModelNotFoundError,
    ModelRetiredError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
)
from voiced.groq.ratelimit import RateLimit
from voiced.logs import redact

KEY_HINT = (
    "set a valid key: export GROQ_API_KEY=gsk_… or put GROQ_API_KEY=gsk_… in "
    "~/.config/voiced/credentials (chmod 600); keys are at https://console.groq.com/keys"
)

MESSAGE_LIMIT = 500
"""Longest server message quoted in an error, in characters."""
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\s]+")


def server_text(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Make text from a server safe to print on one line and to store.

    Keys are redacted first (so a cut cannot leave part of one), then control, bidi and
    line-break characters become single spaces, then the text is cut to ``limit``.

    Args:
        text: What the server sent.
        limit: Longest result, in characters ("…" marks a cut).
    """
    text = _UNPRINTABLE.sub(" ", redact(text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def excerpt(data: bytes, limit: int = 80) -> str:
    """The start of a body, for an error message: decoded, redacted, then cut, then quoted.

    Redacting before cutting means a cut can never leave part of a key behind.
    """
    return repr(redact(data[: limit * 4 + 4096].decode("utf-8", "replace"))[:limit])


def details_from_body(
    status: int | None, body: bytes | str | Mapping[str, Any], request_id: str | None
) -> ApiErrorDetails:
    """Read Groq's error envelope ``{"error": {message, type, code, failed_generation}}``.

    Whatever the body holds (JSON of any shape, HTML, bytes that are not UTF-8), the result
    is made of text safe to print and store: see :func:`server_text`.

    Args:
        status: HTTP status (or the ``status_code`` inside a stream's error event).
        body: The raw body or an already decoded JSON object.
        request_id: The response's ``x-request-id``.
    """
    data: Any = body
    request_id = server_text(request_id, 100) if request_id else None
    if isinstance(body, bytes | str):
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            return ApiErrorDetails(
                status=status, server_message=server_text(text, 300), request_id=request_id
            )
    error = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(error, Mapping):
        error = {"message": str(error)} if error else {}
    code = error.get("status_code")
    if status is None and type(code) is int and 100 <= code <= 599:
        status = code
    generation = _str(error.get("failed_generation"))
    return ApiErrorDetails(
        status=status,
        code=_str(error.get("code"), 100),
        type=_str(error.get("type"), 100),
        server_message=server_text(str(error.get("message") or "")),
        failed_generation=redact(generation) if generation is not None else None,
        request_id=request_id,
        param=_str(error.get("param"), 100),
    )


def error_for(
    details: ApiErrorDetails, headers: Mapping[str, str] | None = None, attempts: int = 1
) -> ApiError:
    """Return the typed error for a failed request.

    Args:
        details: What the server said.
        headers: The response headers (for a 429's reset time).
        attempts: How many times the request was sent.
    """
    status, code = details.status, details.code
    said = details.server_message or f"HTTP {status}"
    ref = f" [request {details.request_id}]" if details.request_id else ""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if status == 401:
        return AuthenticationError(f"the API key was rejected (401){ref}", KEY_HINT, details)
    if code == "model_decommissioned":
        return ModelRetiredError(f"{said}{ref}", "run `voiced models` and pick another", details)
    if status == 404 and code in ("model_not_found", None) and "model" in said.lower():
        return ModelNotFoundError(f"{said}{ref}", "run `voiced models` to list models", details)
    if status == 429:
        resets = _reset_after(headers or {})
        when = f"; the limit resets in {resets:.0f} s" if resets is not None else ""
        return RateLimitError(
            f"rate limited by the server{tries}{when}{ref}",
            "wait, or pick a model with more quota in the config",
            details,
            resets_in=resets,
        )
    if status == 413:
        return RequestTooLargeError(f"request too large: {said}{ref}", "", details)
    if status == 498:
        return CapacityError(f"flex tier capacity exceeded{ref}", "retry later", details)
    if status is not None and status >= 500:
        return ServerError(f"server error {status}{tries}: {said}{ref}", "retry later", details)
    label = " ".join(str(part) for part in (status, code) if part is not None)
    refused = f"request refused ({label})" if label else "request refused"
    return BadRequestError(f"{refused}: {said}{ref}", "", details)


def _reset_after(headers: Mapping[str, str]) -> float | None:
    wait = retry_after(headers)
    if wait is not None:
        return wait
    snapshot = RateLimit.from_headers(headers)
    if snapshot is None:
        return None
    resets = [r for r in (snapshot.reset_tokens, snapshot.reset_requests) if r is not None]
    return max(resets) if resets else None


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Return the wait the server asked for, in seconds, or None when it named none.

    ``retry-after-ms`` wins over ``retry-after``, which may be seconds or an HTTP date.
    """
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            wait = float(value) * scale
        except ValueError:
            pass
        else:
            return wait if math.isfinite(wait) else None
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return when.timestamp() - (time.time() if now is None else now)
    return None


def _str(value: Any, limit: int | None = None) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if limit is None else server_text(text, limit)
