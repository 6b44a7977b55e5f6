"""A streamed chat reply: SSE events accumulated into deltas and a final ChatCompletion."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

import httpx

from voiced.errors import ConnectionFailedError, StreamError
from voiced.groq.failures import details_from_body, error_for
from voiced.groq.models import ChatCompletion, ChatDelta, ToolCall, Usage
from voiced.groq.sse import SseDecoder


class ChatAccumulator:
    """Folds stream chunks into one reply; tool calls are assembled by their ``index``."""

    def __init__(self, request_id: str | None = None) -> None:
        self.request_id = request_id
        self.model = ""
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, chunk: dict[str, Any]) -> ChatDelta | None:
        """Fold in one chunk; return the text it added, or None when it added none."""
        x_groq = chunk.get("x_groq") or {}
        self.request_id = self.request_id or x_groq.get("id")
        self.model = self.model or chunk.get("model") or ""
        usage = x_groq.get("usage") or chunk.get("usage")
        if usage:
            self.usage = Usage.from_wire(usage)
        content = reasoning = ""
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            content += delta.get("content") or ""
            reasoning += delta.get("reasoning") or ""
            for fragment in delta.get("tool_calls") or ():
                self._add_tool_fragment(fragment)
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
        if content:
            self._content.append(content)
        if reasoning:
            self._reasoning.append(reasoning)
        return ChatDelta(content, reasoning) if content or reasoning else None

    def _add_tool_fragment(self, fragment: dict[str, Any]) -> None:
        slot = self._calls.setdefault(
            int(fragment.get("index", 0)), {"id": "", "name": "", "arguments": ""}
        )
        slot["id"] = fragment.get("id") or slot["id"]
        function = fragment.get("function") or {}
        slot["name"] = function.get("name") or slot["name"]
        slot["arguments"] += function.get("arguments") or ""

    def result(self) -> ChatCompletion:
        """Return the reply accumulated so far."""
        calls = tuple(
            ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"])
            for _, c in sorted(self._calls.items())
        )
        return ChatCompletion(
            content="".join(self._content),
            reasoning="".join(self._reasoning),
            tool_calls=calls,
            finish_reason=self.finish_reason,
            usage=self.usage,
            model=self.model,
            request_id=self.request_id,
        )


class ChatStream:
    """``async with client.stream_chat(req) as s: async for delta in s: …; s.completion``.

    Errors inside the open stream (an ``event: error``, any data holding ``"error"``,
    malformed JSON, a dropped connection) raise typed errors from the iteration.
    """

    def __init__(self, open_response: Callable[[], Awaitable[httpx.Response]]) -> None:
        self._open = open_response
        self._response: httpx.Response | None = None
        self._acc = ChatAccumulator()
        self.done = False

    async def __aenter__(self) -> ChatStream:
        self._response = await self._open()
        self._acc.request_id = self._response.headers.get("x-request-id")
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
        decoder = SseDecoder()
        request_id = self._acc.request_id
        try:
            async for chunk in self._response.aiter_bytes():
                for event in decoder.feed(chunk):
                    if event.data == "[DONE]":
                        self.done = True
                        return
                    delta = self._acc.add(self._decode(event.event, event.data, request_id))
                    if delta is not None:
                        yield delta
        except httpx.TransportError as exc:
            raise ConnectionFailedError(
                f"the connection dropped in the middle of the reply [request {request_id}]",
                "try again; check your network if it keeps happening",
            ) from exc
        for event in decoder.close():
            if event.data == "[DONE]":
                self.done = True
                return
        if self._acc.finish_reason is None:
            raise StreamError(
                f"the reply stream ended before the reply was complete [request {request_id}]",
                "try again",
            )
        self.done = True

    @staticmethod
    def _decode(event: str, data: str, request_id: str | None) -> dict[str, Any]:
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise StreamError(
                f"the server sent malformed stream data [request {request_id}]: {data[:80]!r}",
                "try again; report it if it keeps happening",
            ) from exc
        if event == "error" or (isinstance(obj, dict) and "error" in obj):
            details = details_from_body(None, obj if isinstance(obj, dict) else {}, request_id)
            raise error_for(details)
        if not isinstance(obj, dict):
            raise StreamError(f"unexpected stream data [request {request_id}]: {data[:80]!r}")
        return obj
