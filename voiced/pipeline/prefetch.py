"""Speculative chat: a reply requested early, streamed into a buffer, replayed if it is wanted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from types import TracebackType

from voiced.groq.models import ChatCompletion, ChatDelta, ChatRequest
from voiced.groq.stream import ChatStream

log = logging.getLogger(__name__)


class Prefetch:
    """One chat reply streaming into a buffer before anyone asked for it.

    Args:
        request: The request, exactly as the conversation will build it.
        stream: The real stream (not yet entered).
    """

    def __init__(self, request: ChatRequest, stream: ChatStream) -> None:
        self.request = request
        self.deltas: list[ChatDelta] = []
        self.completion: ChatCompletion | None = None
        self.error: BaseException | None = None
        self.first_delta = asyncio.Event()
        self._changed = asyncio.Event()
        self._stream = stream
        self._task = asyncio.create_task(self._pull(), name="voiced-prefetch")

    @property
    def done(self) -> bool:
        """Whether the whole reply (or its error) is in."""
        return self._task.done()

    def cancel(self) -> None:
        """Abandon the request (speech resumed)."""
        self._task.cancel()

    async def _pull(self) -> None:
        try:
            async with self._stream as stream:
                async for delta in stream:
                    self.deltas.append(delta)
                    self.first_delta.set()
                    self._changed.set()
                self.completion = stream.completion
        except Exception as exc:  # replayed to whoever takes the reply
            self.error = exc
        finally:
            self.first_delta.set()
            self._changed.set()

    async def replay(self) -> AsyncIterator[ChatDelta]:
        """Yield the buffered deltas, then the rest as it arrives; re-raise a failure."""
        sent = 0
        while True:
            while sent < len(self.deltas):
                yield self.deltas[sent]
                sent += 1
            if self._task.done():
                break
            self._changed.clear()
            await self._changed.wait()
        if self._task.cancelled():
            raise asyncio.CancelledError
        if self.error is not None:
            raise self.error

    async def aclose(self) -> None:
        """Cancel and wait for the request to wind down."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class ReplayedStream(ChatStream):
    """A :class:`ChatStream` fed from a :class:`Prefetch`, for the conversation's tool loop."""

    def __init__(self, prefetch: Prefetch) -> None:  # noqa: D107 - no super(): nothing to open
        self._prefetch = prefetch
        self.done = False

    async def __aenter__(self) -> ReplayedStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._prefetch.done:
            await self._prefetch.aclose()

    @property
    def completion(self) -> ChatCompletion:
        """The reply so far (all of it once the replay has finished)."""
        if self._prefetch.completion is not None:
            return self._prefetch.completion
        text = "".join(d.content for d in self._prefetch.deltas)
        reasoning = "".join(d.reasoning for d in self._prefetch.deltas)
        return ChatCompletion(content=text, reasoning=reasoning)

    def __aiter__(self) -> AsyncIterator[ChatDelta]:
        return self._replay()

    async def _replay(self) -> AsyncIterator[ChatDelta]:
        async for delta in self._prefetch.replay():
            yield delta
        self.done = True
