"""The pipeline's Groq client: chat replies fetched ahead, and every request metered."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import httpx

from voiced.groq.client import ClientOptions, GroqClient
from voiced.groq.models import ChatCompletion, ChatDelta, ChatRequest
from voiced.groq.stream import ChatStream
from voiced.pipeline.costs import Meter
from voiced.pipeline.prefetch import Prefetch, ReplayedStream

log = logging.getLogger(__name__)


class MeteredStream(ChatStream):
    """A :class:`ChatStream` that reports its usage and the rate limits once it is closed."""

    def __init__(self, inner: ChatStream, client: PipelineClient, model: str) -> None:  # noqa: D107
        self._inner, self._client, self._model = inner, client, model
        self.done = False

    async def __aenter__(self) -> MeteredStream:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._inner.__aexit__(exc_type, exc, tb)
        finally:
            self.done = self._inner.done
            completion = self._inner.completion
            self._client.meter.chat(completion.model or self._model, completion.usage)
            self._client.meter.ratelimit(self._client.ratelimit)

    @property
    def completion(self) -> ChatCompletion:
        """The reply so far."""
        return self._inner.completion

    def __aiter__(self) -> AsyncIterator[ChatDelta]:
        return self._inner.__aiter__()


class PipelineClient(GroqClient):
    """A :class:`GroqClient` that can start a chat reply before it is asked for.

    :meth:`prefetch` opens the stream at once and buffers it; a later :meth:`stream_chat` with
    an equal request takes the buffer (and the rest as it arrives) instead of asking again.
    Any other request drops the prefetch. Chat usage and rate limits go to ``meter``.

    Args:
        options: Endpoints, key, timeouts and retries.
        meter: Prices requests and publishes usage events.
        transport: An httpx transport for tests.
    """

    def __init__(
        self,
        options: ClientOptions,
        meter: Meter,
        transport: httpx.AsyncBaseTransport | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(options, transport=transport, **kwargs)
        self.meter = meter
        self._prefetch: Prefetch | None = None
        self.prefetch_hits = 0

    def prefetch(self, request: ChatRequest) -> Prefetch:
        """Start streaming ``request`` now, replacing any earlier prefetch."""
        self.discard_prefetch()
        self._prefetch = Prefetch(request, self._metered(super().stream_chat(request), request))
        return self._prefetch

    def discard_prefetch(self) -> None:
        """Cancel the prefetched request, if any (the user went on speaking)."""
        if self._prefetch is not None:
            self._prefetch.cancel()
            self._prefetch = None

    def stream_chat(self, request: ChatRequest) -> ChatStream:
        """Open a streamed reply, from the prefetch when it was for this very request."""
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:
            if prefetch.request == request and prefetch.error is None:
                self.prefetch_hits += 1
                return ReplayedStream(prefetch)
            log.debug("prefetched reply not used: the request differs")
            prefetch.cancel()
        return self._metered(super().stream_chat(request), request)

    async def chat(self, request: ChatRequest) -> ChatCompletion:
        """Send a whole-reply request (summaries) and meter it."""
        completion = await super().chat(request)
        self.meter.chat(completion.model or request.model, completion.usage)
        self.meter.ratelimit(self.ratelimit)
        return completion

    def _metered(self, stream: ChatStream, request: ChatRequest) -> ChatStream:
        return MeteredStream(stream, self, request.model)
