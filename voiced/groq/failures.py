"""Turn a failed HTTP response (or a stream's error event) into the right VoicedError."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

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

KEY_HINT = (
    "set a valid key: export GROQ_API_KEY=gsk_… or put GROQ_API_KEY=gsk_… in "
    "~/.config/voiced/credentials (chmod 600); keys are at https://console.groq.com/keys"
)


def details_from_body(
    status: int | None, body: bytes | str | Mapping[str, Any], request_id: str | None
) -> ApiErrorDetails:
    """Read Groq's error envelope ``{"error": {message, type, code, failed_generation}}``.

    Args:
        status: HTTP status (or the ``status_code`` inside a stream's error event).
        body: The raw body or an already decoded JSON object.
        request_id: The response's ``x-request-id``.
    """
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body)
        except ValueError:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            return ApiErrorDetails(
                status=status, server_message=text.strip()[:300], request_id=request_id
            )
    error = data.get("error") if isinstance(data, Mapping) else None
    if not isinstance(error, Mapping):
        error = {"message": str(error)} if error else {}
    if status is None and isinstance(error.get("status_code"), int):
        status = error["status_code"]
    return ApiErrorDetails(
        status=status,
        code=_str(error.get("code")),
        type=_str(error.get("type")),
        server_message=str(error.get("message") or ""),
        failed_generation=_str(error.get("failed_generation")),
        request_id=request_id,
        param=_str(error.get("param")),
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
    label = f"{status} {code}" if code else f"{status}"
    return BadRequestError(f"request refused ({label}): {said}{ref}", "", details)


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
            return float(value) * scale
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return when.timestamp() - (time.time() if now is None else now)
    return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
