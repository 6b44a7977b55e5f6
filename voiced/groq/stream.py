"""A streamed chat reply: SSE events accumulated into deltas and a final ChatCompletion."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

import httpx
import orjson

from voiced.errors import ConnectionFailedError, StreamError
from voiced.groq.failures import details_from_body, error_for, excerpt, server_text
from voiced.groq.limits import Limits, StreamWatch
from voiced.groq.models import ChatCompletion, ChatDelta, ToolCall, Usage
from voiced.groq.sse import SseDecoder

MAX_TOOL_INDEX = 1024
"""Tool-call indexes must be below this (Groq allows at most 128 tools a request)."""


class ChatAccumulator:
    """Folds a stream's SSE payloads into one reply; tool calls are assembled by ``index``.

    ``add_event`` is the per-token hot path (see bench/client_overhead.py): it parses the
    payload once and takes a short cut for the common chunk whose delta is only content.
    Every field that ends up in the reply is checked for its type: a chunk of another shape
    raises :class:`StreamError`, never a TypeError from deeper in voiced.
    """

    def __init__(self, request_id: str | None = None) -> None:
        self.request_id = request_id
        self.model = ""
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, dict[str, str]] = {}
        self.tokens = 0
        """Chunks that carried content, reasoning or a piece of a tool call so far."""

    def add_event(self, event: str, data: bytes) -> ChatDelta | None:
        """Fold in one SSE event's payload; return the text it added, if any.

        Raises:
            ApiError: The event is an error (``event: error`` or data holding ``"error"``).
            StreamError: The payload is not a JSON object of the chunk's shape.
        """
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise self.malformed(f"data that is not JSON: {excerpt(data)}") from exc
        if event or type(chunk) is not dict or "error" in chunk:
            self._check(event, chunk, data)
        choices = chunk.get("choices")
        if (
            type(choices) is list
            and len(choices) == 1
            and "x_groq" not in chunk
            and "usage" not in chunk
        ):
            choice = choices[0]
            if type(choice) is dict:
                delta = choice.get("delta")
                if type(delta) is dict and len(delta) == 1 and not choice.get("finish_reason"):
                    content = delta.get("content")
                    if content and type(content) is str:
                        self._content.append(content)
                        self.tokens += 1
                        return ChatDelta(content, "")
        return self.add(chunk)

    def malformed(self, what: str) -> StreamError:
        """The error for a chunk that is not what the API sends."""
        return StreamError(
            f"the server sent malformed stream data [request {self.request_id}]: "
            + server_text(what, 200),
            "try again; report it if it keeps happening",
        )

    def _check(self, event: str, chunk: Any, data: bytes) -> None:
        if event == "error" or (isinstance(chunk, dict) and "error" in chunk):
            body = chunk if isinstance(chunk, dict) else {}
            raise error_for(details_from_body(None, body, self.request_id))
        if not isinstance(chunk, dict):
            raise self.malformed(f"a chunk that is not a JSON object: {excerpt(data)}")

    def add(self, chunk: dict[str, Any]) -> ChatDelta | None:
        """Fold in one decoded chunk; return the text it added, or None when it added none.

        Raises:
            StreamError: A field of the reply has the wrong type.
        """
        self._metadata(chunk)
        choices = chunk.get("choices")
        if choices is None:
            choices = ()
        elif type(choices) is not list:
            raise self.malformed(f"choices is {_kind(choices)}, not a list")
        content = reasoning = ""
        for choice in choices:
            if type(choice) is not dict:
                raise self.malformed(f"a choice is {_kind(choice)}, not an object")
            delta = choice.get("delta")
            if delta:
                if type(delta) is not dict:
                    raise self.malformed(f"delta is {_kind(delta)}, not an object")
                content += self._text(delta, "content")
                reasoning += self._text(delta, "reasoning")
                calls = delta.get("tool_calls")
                if calls:
                    if type(calls) is not list:
                        raise self.malformed(f"tool_calls is {_kind(calls)}, not a list")
                    for fragment in calls:
                        self._add_tool_fragment(fragment)
                    self.tokens += 1
            finish = choice.get("finish_reason")
            if finish is not None and type(finish) is not str:
                raise self.malformed(f"finish_reason is {_kind(finish)}, not a string")
            if finish:
                self.finish_reason = finish
        if content:
            self._content.append(content)
        if reasoning:
            self._reasoning.append(reasoning)
        if content or reasoning:
            self.tokens += 1
            return ChatDelta(content, reasoning)
        return None

    def _metadata(self, chunk: dict[str, Any]) -> None:
        """Take the request id, usage and model; ones of the wrong type are left out."""
        x_groq = chunk.get("x_groq")
        if type(x_groq) is dict:
            found = x_groq.get("id")
            if self.request_id is None and type(found) is str:
                self.request_id = server_text(found, 100)
            if type(x_groq.get("usage")) is dict:
                self.usage = Usage.from_wire(x_groq["usage"])
        top = chunk.get("usage")
        if type(top) is dict and top and self.usage is None:
            self.usage = Usage.from_wire(top)
        if not self.model:
            model = chunk.get("model")
            self.model = server_text(model, 200) if type(model) is str else ""

    def _text(self, delta: dict[str, Any], name: str) -> str:
        value = delta.get(name)
        if value is None or type(value) is str:
            return value or ""
        raise self.malformed(f"delta {name} is {_kind(value)}, not a string")

    def _add_tool_fragment(self, fragment: Any) -> None:
        if type(fragment) is not dict:
            raise self.malformed(f"a tool call is {_kind(fragment)}, not an object")
        index = fragment.get("index", 0)
        if type(index) is not int or not 0 <= index < MAX_TOOL_INDEX:
            raise self.malformed(f"a tool call's index is {index!r:.40}, not a small integer")
        function = fragment.get("function") or {}
        if type(function) is not dict:
            raise self.malformed(f"a tool call's function is {_kind(function)}, not an object")
        slot = self._calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
        for key, value in (
            ("id", fragment.get("id")),
            ("name", function.get("name")),
            ("arguments", function.get("arguments")),
        ):
            if value is not None and type(value) is not str:
                raise self.malformed(f"a tool call's {key} is {_kind(value)}, not a string")
        slot["id"] = fragment.get("id") or slot["id"]
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


def _kind(value: Any) -> str:
    """A JSON value's kind in words, for messages."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "unknown")


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
