"""Whole (non-streamed) replies read into typed results; any other shape is an ApiError.

Every body enters voiced here, so every parse failure becomes one clear error here: a body
that is not JSON (HTML, a cut-off object, bytes that are not UTF-8), JSON of another shape,
or a field of the wrong type. Fields that carry the answer (text, tool calls, segment times,
model ids) are checked strictly; bookkeeping (usage, a model's context window) of the wrong
type reads as absent.
"""

from __future__ import annotations

from typing import Any

import orjson

from voiced.errors import ApiError
from voiced.groq.failures import excerpt, server_text
from voiced.groq.models import (
    ChatCompletion,
    ModelInfo,
    ToolCall,
    Transcription,
    TranscriptionSegment,
    Usage,
    Word,
    number,
    whole,
)


class Malformed(ValueError):
    """A reply's field is not of the shape the API documents (turned into an ApiError)."""


def malformed(what: str, request_id: str | None, detail: str) -> ApiError:
    """The error for a reply that cannot be understood.

    Args:
        what: Which reply, e.g. "chat", "models list".
        request_id: The response's request id, if any.
        detail: What was wrong, e.g. "choices is not a list".
    """
    return ApiError(
        f"the server's {what} reply could not be read [request {request_id}]: "
        + server_text(detail, 200),
        "try again; check that base_url points at an OpenAI-compatible API",
    )


def json_object(body: bytes, what: str, request_id: str | None) -> dict[str, Any]:
    """Decode a body that must be one JSON object.

    Raises:
        ApiError: It is not JSON, or not an object.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise malformed(what, request_id, f"not JSON ({exc.msg}): {excerpt(body, 60)}") from exc
    if type(data) is not dict:
        raise malformed(what, request_id, f"JSON {kind_of(data)}, not an object")
    return data


def completion(body: bytes, request_id: str | None) -> ChatCompletion:
    """Read a ``chat.completion``.

    Raises:
        ApiError: The body is not a completion.
    """
    data = json_object(body, "chat", request_id)
    try:
        return _completion(data, request_id)
    except Malformed as exc:
        raise malformed("chat", request_id, str(exc)) from exc


def _completion(data: dict[str, Any], request_id: str | None) -> ChatCompletion:
    x_groq = _optional(data, "x_groq", dict) or {}
    request_id = request_id or _request_id(x_groq.get("id"))
    choices = _optional(data, "choices", list)
    if not choices:
        raise Malformed("it has no choices")
    choice = choices[0]
    if type(choice) is not dict:
        raise Malformed(f"a choice is {kind_of(choice)}, not an object")
    message = _optional(choice, "message", dict) or {}
    calls = tuple(_tool_call(c) for c in _optional(message, "tool_calls", list) or ())
    usage = data.get("usage") or x_groq.get("usage")
    model = data.get("model")
    return ChatCompletion(
        content=_optional(message, "content", str) or "",
        reasoning=_optional(message, "reasoning", str) or "",
        tool_calls=calls,
        finish_reason=_optional(choice, "finish_reason", str),
        usage=Usage.from_wire(usage) if type(usage) is dict else None,
        model=server_text(model, 200) if type(model) is str else "",
        request_id=request_id,
    )


def _tool_call(call: Any) -> ToolCall:
    if type(call) is not dict:
        raise Malformed(f"a tool call is {kind_of(call)}, not an object")
    function = _optional(call, "function", dict) or {}
    return ToolCall(
        id=_optional(call, "id", str) or "",
        name=_optional(function, "name", str) or "",
        arguments=_optional(function, "arguments", str) or "",
    )


def transcription(body: bytes, request_id: str | None) -> Transcription:
    """Read a ``json`` or ``verbose_json`` transcription.

    Raises:
        ApiError: The body is not a transcription.
    """
    data = json_object(body, "transcription", request_id)
    try:
        return _transcription(data, request_id)
    except Malformed as exc:
        raise malformed("transcription", request_id, str(exc)) from exc


def _transcription(data: dict[str, Any], request_id: str | None) -> Transcription:
    if "text" not in data:
        raise Malformed("it has no text")
    text = _optional(data, "text", str) or ""
    try:
        segments = tuple(
            TranscriptionSegment.from_wire(s) for s in _optional(data, "segments", list) or ()
        )
    except ValueError as exc:
        raise Malformed(str(exc)) from exc
    words = tuple(_word(w) for w in _optional(data, "words", list) or ())
    language = data.get("language")
    x_groq = data.get("x_groq")
    found = x_groq.get("id") if type(x_groq) is dict else None
    return Transcription(
        text=text.strip(),
        language=server_text(language, 40) if type(language) is str else None,
        duration=number(data.get("duration")),
        segments=segments,
        words=words,
        request_id=request_id or _request_id(found),
    )


def _word(data: Any) -> Word:
    if type(data) is not dict:
        raise Malformed(f"a word is {kind_of(data)}, not an object")
    start, end = number(data.get("start")), number(data.get("end"))
    if start is None or end is None:
        raise Malformed("a word has no numeric start and end")
    return Word(_optional(data, "word", str) or "", start, end)


def models(body: bytes, request_id: str | None) -> list[ModelInfo]:
    """Read the models list, sorted by id.

    Raises:
        ApiError: The body is not a models list.
    """
    data = json_object(body, "models list", request_id)
    try:
        entries = _optional(data, "data", list)
        if entries is None:
            raise Malformed("it has no data list")
        return sorted((_model(m) for m in entries), key=lambda m: m.id)
    except Malformed as exc:
        raise malformed("models list", request_id, str(exc)) from exc


def _model(data: Any) -> ModelInfo:
    if type(data) is not dict:
        raise Malformed(f"a model is {kind_of(data)}, not an object")
    model_id = data.get("id")
    if type(model_id) is not str or not model_id.strip():
        raise Malformed("a model has no id")
    owner, active = data.get("owned_by"), data.get("active", True)
    return ModelInfo(
        id=server_text(model_id, 200),
        owned_by=server_text(owner, 100) if type(owner) is str else "",
        context_window=whole(data.get("context_window")),
        max_completion_tokens=whole(data.get("max_completion_tokens")),
        active=active if type(active) is bool else True,
        created=whole(data.get("created")),
    )


def _optional(data: dict[str, Any], key: str, kind: type) -> Any:
    """``data[key]`` when it is of ``kind``, None when absent or null; Malformed otherwise."""
    value = data.get(key)
    if value is None or type(value) is kind:
        return value
    raise Malformed(f"{key} is {kind_of(value)}, not {kind_of(kind())}")


def _request_id(value: Any) -> str | None:
    return server_text(value, 100) if type(value) is str else None


def kind_of(value: Any) -> str:
    """A JSON value's kind in words, for messages: "an object", "a list", "null"…"""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "unknown")
