"""A streamed chat reply: SSE events accumulated into deltas and a final ChatCompletion."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

import httpx
import orjson

from voiced.errors import ConnectionFailedError, StreamError
from voiced.groq.failures import details_from_body, error_for
from voiced.groq.models import ChatCompletion, ChatDelta, ToolCall, Usage
from voiced.groq.sse import SseDecoder


class ChatAccumulator:
    """Folds a stream's SSE payloads into one reply; tool calls are assembled by ``index``.

    ``add_event`` is the per-token hot path (see bench/client_overhead.py): it parses the
    payload once and takes a short cut for the common chunk whose delta is only content.
    """

    def __init__(self, request_id: str | None = None) -> None:
        self.request_id = request_id
        self.model = ""
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, dict[str, str]] = {}

    def add_event(self, event: str, data: bytes) -> ChatDelta | None:
        """Fold in one SSE event's payload; return the text it added, if any.

        Raises:
            ApiError: The event is an error (``event: error`` or data holding ``"error"``).
            StreamError: The payload is not a JSON object.
        """
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise StreamError(
                f"the server sent malformed stream data [request {self.request_id}]: {data[:80]!r}",
                "try again; report it if it keeps happening",
            ) from exc
        if event or type(chunk) is not dict or "error" in chunk:
            self._check(event, chunk, data)
        choices = chunk.get("choices")
        if choices and len(choices) == 1 and "x_groq" not in chunk and "usage" not in chunk:
            choice = choices[0]
            delta = choice.get("delta")
            if delta and len(delta) == 1 and not choice.get("finish_reason"):
                content = delta.get("content")
                if content:
                    self._content.append(content)
                    return ChatDelta(content, "")
        return self.add(chunk)

    def _check(self, event: str, chunk: Any, data: bytes) -> None:
        if event == "error" or (isinstance(chunk, dict) and "error" in chunk):
            body = chunk if isinstance(chunk, dict) else {}
            raise error_for(details_from_body(None, body, self.request_id))
        if not isinstance(chunk, dict):
            raise StreamError(f"unexpected stream data [request {self.request_id}]: {data[:80]!r}")

    def add(self, chunk: dict[str, Any]) -> ChatDelta | None:
        """Fold in one decoded chunk; return the text it added, or None when it added none."""
        x_groq = chunk.get("x_groq")
        if x_groq:
            self.request_id = self.request_id or x_groq.get("id")
            if x_groq.get("usage"):
                self.usage = Usage.from_wire(x_groq["usage"])
        if chunk.get("usage") and self.usage is None:
            self.usage = Usage.from_wire(chunk["usage"])
        if not self.model:
            self.model = chunk.get("model") or ""
        content = reasoning = ""
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta")
            if delta:
                content += delta.get("content") or ""
                reasoning += delta.get("reasoning") or ""
                if "tool_calls" in delta:
                    for fragment in delta["tool_calls"] or ():
                        self._add_tool_fragment(fragment)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
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
        decoder, add = SseDecoder(), self._acc.add_event
        # Without a content-encoding the raw body is the body: skip httpx's decoder layer.
        encoded = "content-encoding" in self._response.headers
        body = self._response.aiter_bytes() if encoded else self._response.aiter_raw()
        try:
            async for chunk in body:
                if (
                    chunk[:7] == b"data: {"
                    and chunk[-2:] == b"\n\n"
                    and chunk.find(b"\n", 6, -2) < 0
                    and decoder.idle
                ):
                    # Hot path: one whole data event per read (the decoder would agree).
                    delta = add("", chunk[6:-2])
                    if delta is not None:
                        yield delta
                    continue
                for name, data in decoder.feed(chunk):
                    if data == b"[DONE]":
                        self.done = True
                        return
                    delta = add(name, data)
                    if delta is not None:
                        yield delta
        except httpx.TransportError as exc:
            raise ConnectionFailedError(
                "the connection dropped in the middle of the reply "
                f"[request {self._acc.request_id}]",
                "try again; check your network if it keeps happening",
            ) from exc
        for name, data in decoder.close():
            if data == b"[DONE]":
                self.done = True
                return
            delta = add(name, data)
            if delta is not None:
                yield delta
        if self._acc.finish_reason is None:
            raise StreamError(
                "the reply stream ended before the reply was complete "
                f"[request {self._acc.request_id}]",
                "try again",
            )
        self.done = True
