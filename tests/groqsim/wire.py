"""Pure builders of Groq's JSON bodies and SSE events (no sockets here)."""

from __future__ import annotations

import io
import json
import re
import secrets
import time
import uuid
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .replies import ChatReply, Segment, ToolCall, Transcript, Word, random_alnum

TOKEN_RE = re.compile(r"\s*\S+|\s+")
FRAGMENT_CHARS = 8


def tokenize(text: str) -> list[str]:
    """Split text into the pieces the simulator streams, one SSE event each."""
    return TOKEN_RE.findall(text)


def request_id() -> str:
    """A Groq request id: req_ and 26 lowercase letters or digits."""
    return "req_" + random_alnum(26)


def dumps(obj: Any) -> bytes:
    """Compact JSON, as Groq sends it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sse(obj: Any, event: str | None = None) -> bytes:
    """One SSE event holding obj as JSON (or a raw string such as [DONE])."""
    data = obj.encode("utf-8") if isinstance(obj, str) else dumps(obj)
    prefix = b"event: " + event.encode("ascii") + b"\n" if event else b""
    return prefix + b"data: " + data + b"\n\n"


def error_event(error: dict[str, Any], status: int) -> dict[str, Any]:
    """The error object Groq sends inside an open stream (with status_code)."""
    return {"error": {**error, "status_code": status}}


def tool_call_json(call: ToolCall) -> dict[str, Any]:
    """A complete tool call as in a message or a Groq-style whole delta."""
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments_json},
    }


def tool_call_deltas(calls: Sequence[ToolCall], fragments: bool) -> list[dict[str, Any]]:
    """The delta objects carrying the tool calls: whole (Groq) or in fragments (OpenAI)."""
    deltas: list[dict[str, Any]] = []
    for index, call in enumerate(calls):
        if not fragments:
            deltas.append({"tool_calls": [{"index": index, **tool_call_json(call)}]})
            continue
        head = tool_call_json(call)
        head["function"]["arguments"] = ""
        deltas.append({"tool_calls": [{"index": index, **head}]})
        args = call.arguments_json
        size = max(1, min(FRAGMENT_CHARS, (len(args) + 1) // 2))
        for start in range(0, len(args), size):
            piece = args[start : start + size]
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    return deltas


def chat_deltas(reply: ChatReply) -> list[dict[str, Any]]:
    """Every delta after the first (role) chunk: reasoning, then content, then tool calls."""
    deltas: list[dict[str, Any]] = [{"reasoning": t} for t in tokenize(reply.reasoning or "")]
    deltas += [{"content": t} for t in tokenize(reply.content)]
    deltas += tool_call_deltas(reply.tool_calls, reply.tool_call_fragments)
    return deltas


def completion_tokens(reply: ChatReply) -> int:
    """Tokens billed for a reply: content, reasoning and tool-call argument tokens."""
    count = len(tokenize(reply.content)) + len(tokenize(reply.reasoning or ""))
    return count + sum(max(1, len(tokenize(c.arguments_json))) for c in reply.tool_calls)


def usage(prompt_tokens: int, completion: int, tokens_per_s: float | None) -> dict[str, Any]:
    """Groq's usage object, with its timings in seconds."""
    queue_time = 0.012345
    prompt_time = round(prompt_tokens / 20000, 6)
    completion_time = round(completion / (tokens_per_s or 1000.0), 6)
    return {
        "queue_time": queue_time,
        "prompt_tokens": prompt_tokens,
        "prompt_time": prompt_time,
        "completion_tokens": completion,
        "completion_time": completion_time,
        "total_tokens": prompt_tokens + completion,
        "total_time": round(prompt_time + completion_time, 6),
    }


@dataclass
class ChatRender:
    """Builds the bodies of one chat completion; every chunk shares id, created and model."""

    model: str
    req_id: str
    prompt_tokens: int
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4()}")
    created: int = field(default_factory=lambda: int(time.time()))
    fingerprint: str = field(default_factory=lambda: "fp_" + secrets.token_hex(5))

    def usage(self, reply: ChatReply) -> dict[str, Any]:
        """The usage object for this reply."""
        return usage(self.prompt_tokens, completion_tokens(reply), reply.tokens_per_s)

    def completion(self, reply: ChatReply) -> dict[str, Any]:
        """A whole non-streamed chat.completion."""
        message: dict[str, Any] = {"role": "assistant"}
        if reply.content or not reply.tool_calls:
            message["content"] = reply.content
        if reply.reasoning is not None:
            message["reasoning"] = reply.reasoning
        if reply.tool_calls:
            message["tool_calls"] = [tool_call_json(c) for c in reply.tool_calls]
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": reply.resolved_finish_reason,
                }
            ],
            "usage": self.usage(reply),
            "usage_breakdown": None,
            "system_fingerprint": self.fingerprint,
            "x_groq": {"id": self.req_id},
            "service_tier": "on_demand",
        }

    def chunk(
        self,
        delta: dict[str, Any],
        finish_reason: str | None = None,
        x_groq: dict[str, Any] | None = None,
        top_usage: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One chat.completion.chunk."""
        obj: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": self.fingerprint,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
            "service_tier": "on_demand",
        }
        if x_groq is not None:
            obj["x_groq"] = x_groq
        if top_usage is not None:
            obj["usage"] = top_usage
        return obj

    def first_chunk(self) -> dict[str, Any]:
        """The opening chunk: the role and the Groq request id."""
        return self.chunk({"role": "assistant", "content": ""}, x_groq={"id": self.req_id})

    def last_chunk(self, reply: ChatReply) -> dict[str, Any]:
        """The closing chunk: finish_reason and usage (in x_groq, maybe also top level)."""
        use = self.usage(reply)
        return self.chunk(
            {},
            finish_reason=reply.resolved_finish_reason,
            x_groq={"id": self.req_id, "usage": use},
            top_usage=use if reply.usage_top_level else None,
        )


def wav_duration(data: bytes) -> float | None:
    """The duration of a WAV file in seconds, or None when it does not parse."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            rate = wav.getframerate()
            return wav.getnframes() / rate if rate > 0 else None
    except Exception:
        return None


def _spaced(text: str) -> str:
    return text if text.startswith(" ") or not text else " " + text


def _segment_json(index: int, seg: Segment) -> dict[str, Any]:
    tokens = (
        list(seg.tokens)
        if seg.tokens is not None
        else [50365 + i for i in range(len(seg.text.split()))]
    )
    return {
        "id": index,
        "seek": int(seg.start * 100) // 3000 * 3000,
        "start": seg.start,
        "end": seg.end,
        "text": _spaced(seg.text),
        "tokens": tokens,
        "temperature": seg.temperature,
        "avg_logprob": seg.avg_logprob,
        "compression_ratio": seg.compression_ratio,
        "no_speech_prob": seg.no_speech_prob,
    }


def _synth_words(text: str, duration: float) -> list[Word]:
    parts = text.split()
    step = duration / len(parts) if parts else 0.0
    return [Word(w, round(i * step, 3), round((i + 1) * step, 3)) for i, w in enumerate(parts)]


def transcript_text(transcript: Transcript) -> str:
    """The text as Groq returns it, with its leading space."""
    return _spaced(transcript.text)


def verbose_json(
    transcript: Transcript,
    task: str,
    duration: float,
    granularities: list[str],
    req_id: str,
) -> dict[str, Any]:
    """The verbose_json body; segments are null when only word timestamps were asked."""
    segments = transcript.segments
    if segments is None:
        segments = [Segment(0.0, duration, transcript.text)]
    want_segments = "segment" in granularities or "word" not in granularities
    body: dict[str, Any] = {
        "task": task,
        "language": transcript.language,
        "duration": duration,
        "text": transcript_text(transcript),
        "segments": (
            [_segment_json(i, s) for i, s in enumerate(segments)] if want_segments else None
        ),
    }
    if "word" in granularities:
        words = transcript.words
        if words is None:
            words = _synth_words(transcript.text, duration)
        body["words"] = [{"word": w.word, "start": w.start, "end": w.end} for w in words]
    body["x_groq"] = {"id": req_id}
    return body
