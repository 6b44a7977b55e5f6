"""Typed requests and responses for the chat, speech-to-text and models endpoints."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

TranscriptFormat = Literal["json", "verbose_json", "text"]

AUDIO_EXTENSIONS = ("flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "opus", "wav", "webm")
"""File name extensions Groq accepts for speech to text (it checks the name, not the bytes)."""

PROMPT_LIMIT = 896
"""Longest transcription prompt Groq accepts, in characters."""


@dataclass(frozen=True)
class ToolCall:
    """A function call the model asked for."""

    id: str
    name: str
    arguments: str
    """The arguments exactly as the model wrote them (JSON text, possibly invalid)."""

    def parsed_arguments(self) -> Any:
        """Return the arguments decoded from JSON.

        Raises:
            ValueError: The model wrote invalid JSON.
        """
        return json.loads(self.arguments or "{}")

    def to_wire(self) -> dict[str, Any]:
        """Return the call as the API expects it inside an assistant message."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True)
class Message:
    """One chat message. Build with the constructors: ``Message.user("hi")``."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def system(cls, text: str) -> Message:
        """A system prompt."""
        return cls("system", text)

    @classmethod
    def user(cls, text: str) -> Message:
        """What the user said or typed."""
        return cls("user", text)

    @classmethod
    def assistant(cls, text: str | None, tool_calls: tuple[ToolCall, ...] = ()) -> Message:
        """A reply of the model, possibly with the tool calls it made."""
        return cls("assistant", text, tool_calls=tool_calls)

    @classmethod
    def tool(cls, tool_call_id: str, content: str) -> Message:
        """The result of one tool call."""
        return cls("tool", content, tool_call_id=tool_call_id)

    def to_wire(self) -> dict[str, Any]:
        """Return the message as the API expects it, with only the fields that apply."""
        out: dict[str, Any] = {"role": self.role}
        if self.content is not None or not self.tool_calls:
            out["content"] = self.content or ""
        if self.tool_calls:
            out["tool_calls"] = [call.to_wire() for call in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class ChatRequest:
    """A chat completion request; fields left None are not sent."""

    model: str
    messages: tuple[Message, ...]
    tools: tuple[dict[str, Any], ...] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    stop: str | tuple[str, ...] | None = None
    seed: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_completion_tokens: int | None = None
    reasoning_format: Literal["hidden", "raw", "parsed"] | None = None
    include_reasoning: bool | None = None
    reasoning_effort: Literal["low", "medium", "high"] | None = None

    def to_body(self, stream: bool) -> dict[str, Any]:
        """Return the JSON body: documented fields only, None ones left out."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_wire() for m in self.messages],
        }
        optional: dict[str, Any] = {
            "tools": list(self.tools) if self.tools is not None else None,
            "tool_choice": self.tool_choice,
            "parallel_tool_calls": self.parallel_tool_calls,
            "response_format": self.response_format,
            "stop": list(self.stop) if isinstance(self.stop, tuple) else self.stop,
            "seed": self.seed,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_completion_tokens": self.max_completion_tokens,
            "reasoning_format": self.reasoning_format,
            "include_reasoning": self.include_reasoning,
            "reasoning_effort": self.reasoning_effort,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        if stream:
            body["stream"] = True
        return body


@dataclass(frozen=True)
class Usage:
    """Token counts and Groq's timings (seconds) for one completion."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    queue_time: float | None = None
    prompt_time: float | None = None
    completion_time: float | None = None
    total_time: float | None = None

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Usage:
        """Build from a ``usage`` object, ignoring fields we do not know.

        Usage is bookkeeping, so a count or time of the wrong type reads as absent (0 or
        None) rather than failing a reply that arrived whole.
        """
        return cls(
            prompt_tokens=whole(data.get("prompt_tokens")) or 0,
            completion_tokens=whole(data.get("completion_tokens")) or 0,
            total_tokens=whole(data.get("total_tokens")) or 0,
            queue_time=number(data.get("queue_time")),
            prompt_time=number(data.get("prompt_time")),
            completion_time=number(data.get("completion_time")),
            total_time=number(data.get("total_time")),
        )


def number(value: Any) -> float | None:
    """A JSON number as a finite float, or None for anything else (booleans included)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except OverflowError:  # an int too big for a float
        return None
    return result if math.isfinite(result) else None


def whole(value: Any) -> int | None:
    """A JSON integer (or integral number), or None for anything else."""
    result = number(value)
    return int(result) if result is not None and result.is_integer() else None


class ChatDelta(NamedTuple):
    """A piece of a streamed reply: new content and/or reasoning text.

    A NamedTuple rather than a frozen dataclass: one is made per streamed token, and this
    is the cheapest immutable record to create (see bench/client_overhead.py).
    """

    content: str = ""
    reasoning: str = ""


@dataclass(frozen=True)
class ChatCompletion:
    """A whole reply, received at once or accumulated from a stream."""

    content: str
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""
    request_id: str | None = None

    def as_message(self) -> Message:
        """Return the reply as an assistant message to append to the history."""
        return Message.assistant(self.content or None, self.tool_calls)


@dataclass(frozen=True)
class TranscriptionRequest:
    """Audio to transcribe (or translate to English) and how."""

    audio: bytes
    filename: str
    """Name sent with the upload; Groq judges the type by its extension."""
    model: str
    language: str | None = None
    prompt: str | None = None
    temperature: float | None = None
    response_format: TranscriptFormat = "json"
    timestamp_granularities: tuple[Literal["segment", "word"], ...] = ()
    translate: bool = False


@dataclass(frozen=True)
class TranscriptionSegment:
    """One Whisper segment with the numbers that tell how much to trust it."""

    id: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    temperature: float = 0.0
    seek: int = 0
    tokens: tuple[int, ...] = ()

    @classmethod
    def from_wire(cls, data: Any) -> TranscriptionSegment:
        """Build from a verbose_json segment, ignoring fields we do not know.

        Raises:
            ValueError: The segment is not an object, its start or end is not a number, or
                its text is not a string; the scores read as their neutral value when absent
                or of the wrong type.
        """
        if not isinstance(data, dict):
            raise ValueError("a segment is not an object")
        start, end, text = number(data.get("start")), number(data.get("end")), data.get("text", "")
        if start is None or end is None or not isinstance(text, str):
            raise ValueError("a segment has no numeric start and end, or its text is no string")
        tokens = data.get("tokens")
        return cls(
            id=whole(data.get("id")) or 0,
            start=start,
            end=end,
            text=text,
            avg_logprob=_or(number(data.get("avg_logprob")), 0.0),
            no_speech_prob=_or(number(data.get("no_speech_prob")), 0.0),
            compression_ratio=_or(number(data.get("compression_ratio")), 1.0),
            temperature=_or(number(data.get("temperature")), 0.0),
            seek=whole(data.get("seek")) or 0,
            tokens=tuple(t for t in tokens if type(t) is int) if isinstance(tokens, list) else (),
        )


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


@dataclass(frozen=True)
class Word:
    """One word with its timing (asked for with the ``word`` granularity)."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Transcription:
    """What speech to text returned; only ``text`` is set for the json and text formats."""

    text: str
    language: str | None = None
    duration: float | None = None
    segments: tuple[TranscriptionSegment, ...] = ()
    words: tuple[Word, ...] = ()
    request_id: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    """One entry of the models list."""

    id: str
    owned_by: str = ""
    context_window: int | None = None
    max_completion_tokens: int | None = None
    active: bool = True
    created: int | None = None
