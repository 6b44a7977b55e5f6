"""A streamed chat reply: SSE events accumulated into deltas and a final ChatCompletion."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType

import httpx

from voiced.errors import ConnectionFailedError, StreamError
from voiced.groq.chunks import ChatAccumulator
from voiced.groq.failures import server_text
from voiced.groq.limits import Limits, StreamWatch
from voiced.groq.models import ChatCompletion, ChatDelta
from voiced.groq.sse import SseDecoder

__all__ = ["ChatAccumulator", "ChatStream"]

Opener = Callable[[float], Awaitable[httpx.Response]]
"""Sends the request with a deadline (``loop.time()``) and returns the open response."""


class ChatStream:
    """``async with client.stream_chat(req) as s: async for delta in s: …; s.completion``.

    Errors inside the open stream (an ``event: error``, any data holding ``"error"``,
    malformed JSON, a dropped connection, a body that cannot be decoded, the deadline or the
    idle bound passing) raise typed errors from the iteration. The stream is read from the
    task that iterates it.
    """

    def __init__(self, open_response: Opener, limits: Limits | None = None) -> None:
        self._open = open_response
        self._limits = limits or Limits()
        self._response: httpx.Response | None = None
        self._deadline = 0.0
        self._acc = ChatAccumulator()
        self.done = False

    async def __aenter__(self) -> ChatStream:
        self._deadline = asyncio.get_running_loop().time() + self._limits.deadline_s
        self._response = await self._open(self._deadline)
        found = self._response.headers.get("x-request-id")
        self._acc.request_id = server_text(found, 100) if found else None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._response is not None:
            await self._response.aclose()

    @property
    def completion(self) -> ChatCompletion:
        """The reply accumulated so far (all of it once iteration has finished)."""
        return self._acc.result()

    def __aiter__(self) -> AsyncIterator[ChatDelta]:
        return self._deltas()

    async def _deltas(self) -> AsyncIterator[ChatDelta]:
        if self._response is None:
            raise RuntimeError("use `async with client.stream_chat(...)` before iterating")
        response = self._response
        acc = self._acc
        decoder, add = SseDecoder(), acc.add_event
        # Without a content-encoding the raw body is the body: skip httpx's decoder layer.
        encoded = "content-encoding" in response.headers
        body = (response.aiter_bytes() if encoded else response.aiter_raw()).__aiter__()
        watch = StreamWatch(self._deadline, self._limits)
        clock, tokens = watch.loop.time, acc.tokens
        try:
            while True:
                if watch.fired is not None:
                    raise watch.error(response.url.host, acc.request_id)
                watch.reading = True
                try:
                    chunk = await body.__anext__()
                except StopAsyncIteration:
                    break
                finally:
                    watch.reading = False
                if (
                    chunk[:7] == b"data: {"
                    and chunk[-2:] == b"\n\n"
                    and chunk.find(b"\n", 6, -2) < 0
                    and decoder.idle
                ):
                    # Hot path: one whole data event per read (the decoder would agree).
                    delta = add("", chunk[6:-2])
                    if acc.tokens != tokens:
                        tokens = acc.tokens
                        if delta is not None:
                            yield delta
                        # After the consumer is done with it: its time is not the server's.
                        watch.last_token = clock()
                    continue
                for name, data in decoder.feed(chunk):
                    if data == b"[DONE]":
                        self.done = True
                        return
                    delta = add(name, data)
                    if acc.tokens != tokens:
                        tokens = acc.tokens
                        if delta is not None:
                            yield delta
                        watch.last_token = clock()
        except asyncio.CancelledError as exc:
            if watch.expired():
                raise watch.error(response.url.host, acc.request_id) from exc
            raise
        except httpx.DecodingError as exc:
            raise StreamError(
                "the reply stream could not be decoded (Content-Encoding: "
                f"{response.headers.get('content-encoding', '')[:40]}) "
                f"[request {acc.request_id}]",
                "try again; check that base_url points at an OpenAI-compatible API",
            ) from exc
        except httpx.TransportError as exc:
            raise ConnectionFailedError(
                f"the connection dropped in the middle of the reply [request {acc.request_id}]",
                "try again; check your network if it keeps happening",
            ) from exc
        finally:
            watch.close()
        for name, data in decoder.close():
            if data == b"[DONE]":
                self.done = True
                return
            delta = add(name, data)
            if delta is not None:
                yield delta
        if self._acc.finish_reason is None:
            raise StreamError(
                f"the reply stream ended before the reply was complete [request {acc.request_id}]",
                "try again",
            )
        self.done = True
