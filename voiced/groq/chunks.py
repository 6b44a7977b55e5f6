"""Stream chunks folded into one reply, every field's type checked on the way in."""

from __future__ import annotations

from typing import Any

import orjson

from voiced.errors import StreamError
from voiced.groq.failures import details_from_body, error_for, excerpt, server_text
from voiced.groq.models import ChatCompletion, ChatDelta, ToolCall, Usage
from voiced.groq.parse import kind_of

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
            raise self.malformed(f"choices is {kind_of(choices)}, not a list")
        content = reasoning = ""
        for choice in choices:
            if type(choice) is not dict:
                raise self.malformed(f"a choice is {kind_of(choice)}, not an object")
            delta = choice.get("delta")
            if delta:
                if type(delta) is not dict:
                    raise self.malformed(f"delta is {kind_of(delta)}, not an object")
                content += self._text(delta, "content")
                reasoning += self._text(delta, "reasoning")
                calls = delta.get("tool_calls")
                if calls:
                    if type(calls) is not list:
                        raise self.malformed(f"tool_calls is {kind_of(calls)}, not a list")
                    for fragment in calls:
                        self._add_tool_fragment(fragment)
                    self.tokens += 1
            finish = choice.get("finish_reason")
            if finish is not None and type(finish) is not str:
                raise self.malformed(f"finish_reason is {kind_of(finish)}, not a string")
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
        raise self.malformed(f"delta {name} is {kind_of(value)}, not a string")

    def _add_tool_fragment(self, fragment: Any) -> None:
        if type(fragment) is not dict:
            raise self.malformed(f"a tool call is {kind_of(fragment)}, not an object")
        index = fragment.get("index", 0)
        if type(index) is not int or not 0 <= index < MAX_TOOL_INDEX:
            raise self.malformed(f"a tool call's index is {index!r:.40}, not a small integer")
        function = fragment.get("function") or {}
        if type(function) is not dict:
            raise self.malformed(f"a tool call's function is {kind_of(function)}, not an object")
        slot = self._calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
        for key, value in (
            ("id", fragment.get("id")),
            ("name", function.get("name")),
            ("arguments", function.get("arguments")),
        ):
            if value is not None and type(value) is not str:
                raise self.malformed(f"a tool call's {key} is {kind_of(value)}, not a string")
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
