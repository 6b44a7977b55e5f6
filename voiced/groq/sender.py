"""Send requests with the official SDK's retry policy, within a deadline, reading bounded bodies."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from voiced.errors import ApiError, ConnectionFailedError
from voiced.groq.failures import details_from_body, error_for, retry_after, server_text
from voiced.groq.limits import BODY_LIMIT, ERROR_BODY_LIMIT, Limits, deadline_error
from voiced.groq.ratelimit import RateLimit

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429})
MAX_RETRY_AFTER = 60.0

Sleep = Callable[[float], Awaitable[None]]


def backoff(retries_done: int, base: float = 0.5) -> float:
    """The SDK's wait before a retry when the server named no wait: capped, with jitter."""
    return min(base * 2.0**retries_done, 8.0) * (1 - 0.25 * random.random())


def should_retry(response: httpx.Response) -> bool:
    """Whether a failed response is worth retrying; ``x-should-retry`` has the last word."""
    override: str = response.headers.get("x-should-retry", "").lower()
    if override in ("true", "false"):
        return override == "true"
    status: int = response.status_code
    return status in RETRY_STATUSES or status >= 500


@dataclass(frozen=True)
class Reply:
    """A whole successful response: its status, headers and (decoded) body."""

    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def request_id(self) -> str | None:
        """The response's ``x-request-id``, made safe to print."""
        found: str | None = self.headers.get("x-request-id")
        return server_text(found, 100) if found else None


class Sender:
    """Sends one logical request, retrying transient failures, within its deadline.

    Args:
        http: The shared client (one connection pool, keep-alive).
        max_retries: Retries after the first attempt.
        sleep: Awaited for each wait between attempts (tests record the waits).
        backoff_base: First backoff in seconds when the server names no wait.
        limits: The request deadline (and, for streams, the idle bound).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        max_retries: int = 2,
        sleep: Sleep = asyncio.sleep,
        backoff_base: float = 0.5,
        limits: Limits | None = None,
    ) -> None:
        self.http = http
        self.max_retries = max_retries
        self.sleep = sleep
        self.backoff_base = backoff_base
        self.limits = limits or Limits()
        self.ratelimit: RateLimit | None = None
        self.attempts = 0

    def deadline(self) -> float:
        """The event loop time by which a request starting now must be over."""
        return asyncio.get_running_loop().time() + self.limits.deadline_s

    async def fetch(self, build: Callable[[], httpx.Request]) -> Reply:
        """Send the request ``build()`` makes and read its whole body.

        Args:
            build: Makes a fresh request for each attempt (a body can be sent only once).

        Returns:
            The reply, with a status below 400.

        Raises:
            ApiError: A typed error once the request failed for good, ran past its deadline,
                or its body was over :data:`BODY_LIMIT` or could not be decoded.
        """
        response, body = await self._within(build, self.deadline(), stream=False)
        assert body is not None
        return Reply(response.status_code, response.headers, body)

    async def open(self, build: Callable[[], httpx.Request], deadline: float) -> httpx.Response:
        """Send the request and return once its headers are in, the body left to stream.

        Args:
            build: Makes a fresh request for each attempt.
            deadline: ``loop.time()`` by which the whole exchange must be over.

        Raises:
            ApiError: A typed error once the request failed for good or ran past its deadline.
        """
        response, _ = await self._within(build, deadline, stream=True)
        return response

    async def _within(
        self, build: Callable[[], httpx.Request], deadline: float, stream: bool
    ) -> tuple[httpx.Response, bytes | None]:
        sent: list[httpx.Request] = []
        timer = asyncio.timeout_at(deadline)
        try:
            async with timer:
                return await self._attempts(build, deadline, stream, sent)
        except TimeoutError as exc:
            if not timer.expired():
                raise
            host = sent[-1].url.host if sent else "the server"
            raise deadline_error(host, self.limits.deadline_s) from exc

    async def _attempts(
        self,
        build: Callable[[], httpx.Request],
        deadline: float,
        stream: bool,
        sent: list[httpx.Request],
    ) -> tuple[httpx.Response, bytes | None]:
        loop = asyncio.get_running_loop()
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            request = build()
            sent.append(request)
            self.attempts += 1
            try:
                response = await self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                wait = backoff(attempt, self.backoff_base)
                if last or loop.time() + wait >= deadline:
                    raise _transport_error(request, exc, attempt + 1) from exc
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
            if 300 <= response.status_code < 400:
                await _read_error(response, request, attempt + 1)
                raise _redirected(request, response)
            if response.status_code < 400:
                if stream:
                    return response, None
                return response, await _read_reply(response, request, attempt + 1)
            body = await _read_error(response, request, attempt + 1)
            if should_retry(response) and not last:
                asked = retry_after(response.headers)
                wait = (
                    asked
                    if asked is not None and 0 <= asked <= MAX_RETRY_AFTER
                    else backoff(attempt, self.backoff_base)
                )
                if loop.time() + wait < deadline:
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


async def _read_reply(response: httpx.Response, request: httpx.Request, attempts: int) -> bytes:
    """Read a successful body whole, refusing one over BODY_LIMIT or one that is not decodable."""
    parts: list[bytes] = []
    size = 0
    request_id = response.headers.get("x-request-id")
    try:
        async for piece in response.aiter_bytes():
            size += len(piece)
            if size > BODY_LIMIT:
                raise ApiError(
                    f"{request.url.host} sent a reply over {BODY_LIMIT // 2**20} MiB "
                    f"[request {request_id}]",
                    "check that base_url points at an OpenAI-compatible API",
                )
            parts.append(piece)
    except httpx.DecodingError as exc:
        raise _undecodable(response, request_id) from exc
    except httpx.TransportError as exc:
        raise _transport_error(request, exc, attempts) from exc
    finally:
        await response.aclose()
    return b"".join(parts)


async def _read_error(response: httpx.Response, request: httpx.Request, attempts: int) -> bytes:
    """Read at most ERROR_BODY_LIMIT bytes of an error body; an undecodable body reads as empty."""
    parts: list[bytes] = []
    size = 0
    try:
        async for piece in response.aiter_bytes():
            parts.append(piece[: ERROR_BODY_LIMIT - size])
            size += len(parts[-1])
            if size >= ERROR_BODY_LIMIT:
                break
    except httpx.DecodingError:
        return b""
    except httpx.TransportError as exc:
        raise _transport_error(request, exc, attempts) from exc
    finally:
        await response.aclose()
    return b"".join(parts)


def _redirected(request: httpx.Request, response: httpx.Response) -> ApiError:
    """Redirects are not followed, so the key never goes where the config did not say."""
    target = server_text(response.headers.get("location", "(nowhere)"), 200)
    return ApiError(
        f"{request.url.host} answered {response.status_code}, a redirect to {target}",
        "voiced does not follow redirects (the key would go along): set base_url to the URL "
        "the server redirects to",
    )


def _undecodable(response: httpx.Response, request_id: str | None) -> ApiError:
    encoding = response.headers.get("content-encoding", "")
    return ApiError(
        f"the server's reply could not be decoded (Content-Encoding: {encoding[:40]}) "
        f"[request {request_id}]",
        "try again; check that base_url points at an OpenAI-compatible API",
    )


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
