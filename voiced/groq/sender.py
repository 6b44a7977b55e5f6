"""Send requests with the official SDK's retry policy and record the rate-limit headers."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import httpx

from voiced.errors import ConnectionFailedError
from voiced.groq.failures import details_from_body, error_for, retry_after
from voiced.groq.ratelimit import RateLimit

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429})
MAX_RETRY_AFTER = 60.0

Sleep = Callable[[float], Awaitable[None]]


def backoff(retries_done: int, base: float = 0.5) -> float:
    """The SDK's wait before a retry when the server named none: capped, with jitter."""
    return min(base * 2.0**retries_done, 8.0) * (1 - 0.25 * random.random())


def should_retry(response: httpx.Response) -> bool:
    """Whether a failed response is worth retrying; ``x-should-retry`` has the last word."""
    override: str = response.headers.get("x-should-retry", "").lower()
    if override in ("true", "false"):
        return override == "true"
    status: int = response.status_code
    return status in RETRY_STATUSES or status >= 500


class Sender:
    """Sends one logical request, retrying transient failures.

    Args:
        http: The shared client (one connection pool, keep-alive).
        max_retries: Retries after the first attempt.
        sleep: Awaited for each wait between attempts (tests record the waits).
        backoff_base: First backoff in seconds when the server names no wait.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        max_retries: int = 2,
        sleep: Sleep = asyncio.sleep,
        backoff_base: float = 0.5,
    ) -> None:
        self.http = http
        self.max_retries = max_retries
        self.sleep = sleep
        self.backoff_base = backoff_base
        self.ratelimit: RateLimit | None = None
        self.attempts = 0

    async def send(self, build: Callable[[], httpx.Request], stream: bool) -> httpx.Response:
        """Send the request ``build()`` makes, retrying as the SDK does.

        Args:
            build: Makes a fresh request for each attempt (a body can be sent only once).
            stream: Return with the body unread, for the caller to stream.

        Returns:
            A response with a status below 400.

        Raises:
            ApiError: A typed error once the request failed for good.
        """
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            request = build()
            self.attempts += 1
            try:
                response = await self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                if last:
                    raise _transport_error(request, exc, attempt + 1) from exc
                wait = backoff(attempt, self.backoff_base)
                log.info(
                    "%s %s: %s; retrying in %.2f s",
                    request.method,
                    request.url.path,
                    type(exc).__name__,
                    wait,
                )
                await self.sleep(wait)
                continue
            snapshot = RateLimit.from_headers(response.headers)
            if snapshot is not None:
                self.ratelimit = snapshot
            log.debug(
                "%s %s: HTTP %d [%s]",
                request.method,
                request.url.path,
                response.status_code,
                response.headers.get("x-request-id"),
            )
            if response.status_code < 400:
                if not stream:
                    await _read(response, request, attempt + 1)
                return response
            body = await _read(response, request, attempt + 1)
            if should_retry(response) and not last:
                asked = retry_after(response.headers)
                wait = (
                    asked
                    if asked is not None and 0 <= asked <= MAX_RETRY_AFTER
                    else backoff(attempt, self.backoff_base)
                )
                log.info(
                    "%s %s: HTTP %d [%s]; retrying in %.2f s",
                    request.method,
                    request.url.path,
                    response.status_code,
                    response.headers.get("x-request-id"),
                    wait,
                )
                await self.sleep(wait)
                continue
            details = details_from_body(
                response.status_code, body, response.headers.get("x-request-id")
            )
            raise error_for(details, response.headers, attempts=attempt + 1)
        raise AssertionError("unreachable: the last attempt returns or raises")


async def _read(response: httpx.Response, request: httpx.Request, attempts: int) -> bytes:
    try:
        return await response.aread()
    except httpx.TransportError as exc:
        raise _transport_error(request, exc, attempts) from exc
    finally:
        if response.status_code >= 400:
            await response.aclose()


def _transport_error(request: httpx.Request, exc: httpx.TransportError, attempts: int) -> Exception:
    host = request.url.host
    tries = f" (tried {attempts} times)" if attempts > 1 else ""
    if isinstance(exc, httpx.TimeoutException):
        return ConnectionFailedError(
            f"{host} did not answer in time{tries}",
            "check your network, or raise [network] timeout in the config",
        )
    return ConnectionFailedError(
        f"cannot reach {host}{tries}: {type(exc).__name__}",
        "check your network connection and the base_url / GROQ_BASE_URL setting",
    )
