"""Settings for the API endpoints: chat, speech to text, and the network."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from voiced.config.checks import (
    Check,
    Text,
    Url,
    above,
    at_least,
    between,
    check_fields,
    setting,
)

GROQ_API_ROOT = "https://api.groq.com/openai/v1"
"""The Groq API root every endpoint path is joined to."""

ReasoningEffort = Literal["low", "medium", "high"]
ReasoningFormat = Literal["parsed", "raw", "hidden"]
"""How a model that reasons shows it: apart from the answer (parsed), inline as
``<think>…</think>`` (raw), or not at all (hidden)."""

MAX_STOP = 4
"""Most stop sequences Groq accepts in one request."""
SEED_MAX = 2**31 - 1
"""Largest seed voiced sends: any whole number from 0 to here works with every server."""

PROMPT_CHARS = 896
"""Longest transcription prompt Groq accepts (224 tokens, enforced as characters)."""
MODEL_ID = Text(described='a model id on one line, such as "openai/gpt-oss-20b"')
LANGUAGE = Text(pattern="[a-z]{2,3}", described='an ISO-639-1 language code such as "en"')


@dataclass(frozen=True)
class StopSequences(Check):
    """A stop sequence, or a list of at most :data:`MAX_STOP` (an empty list is none): each
    a non-empty string in which line breaks and tabs are fine (``"\\n\\n"`` is a common one)
    but no other control characters."""

    @property
    def words(self) -> str:
        return (
            f"a non-empty string or an array of at most {MAX_STOP} of them "
            "(line breaks and tabs are fine, other control characters are not)"
        )

    def fits(self, value: Any) -> bool:
        if isinstance(value, str):
            return stop_sequence(value)
        return (
            isinstance(value, tuple | list)
            and len(value) <= MAX_STOP
            and all(isinstance(v, str) and stop_sequence(v) for v in value)
        )


def stop_sequence(text: str) -> bool:
    """Whether ``text`` can be a stop sequence: not empty, no control characters but line
    breaks and tabs."""
    return bool(text) and not any(
        unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in text
    )


@dataclass(frozen=True)
class ChatSettings:
    """Settings for chat completions."""

    base_url: str = setting(GROQ_API_ROOT, Url())
    """API root for chat (any OpenAI-compatible server works, e.g. http://localhost:8000/v1)."""
    model: str = setting("openai/gpt-oss-20b", MODEL_ID)
    """Chat model id."""
    temperature: float | None = setting(None, between(0, 2))
    """Sampling temperature 0–2; unset uses the model's default."""
    top_p: float | None = setting(None, between(0, 1))
    """Nucleus sampling 0–1 (alter this or temperature, not both); unset uses the model's
    default."""
    seed: int | None = setting(None, between(0, SEED_MAX))
    """Sample as deterministically as the server can: the same seed and parameters give the
    same answer (Groq recommends it for benchmarks; not guaranteed); unset samples freely."""
    stop: str | tuple[str, ...] | None = setting(None, StopSequences())
    """Text that ends the reply where the model writes it (not included): one string or a
    list of at most 4. Not with JSON mode (``voiced ask --json``), which Groq refuses."""
    max_completion_tokens: int | None = setting(None, between(1, 1_000_000, "tokens"))
    """Upper bound on tokens in one reply; unset uses the model's limit."""
    reasoning_effort: ReasoningEffort | None = None
    """gpt-oss reasoning effort (low, medium, high); unset uses the model's default."""
    reasoning_format: ReasoningFormat | None = None
    """How a reasoning model (such as qwen) returns its reasoning: "parsed" (apart from the
    answer), "raw" (inline in <think> tags) or "hidden"; unset uses the model's default.
    Reasoning is never spoken, and printed only with ``voiced ask --reasoning``. Groq
    refuses "raw" with tools or JSON mode: ``voiced ask`` then stops with an error, and the
    daemon, which offers tools, asks for "parsed" instead (the same reasoning, kept apart)."""

    def __post_init__(self) -> None:
        check_fields(self, "chat")


@dataclass(frozen=True)
class SttSettings:
    """Settings for speech to text."""

    base_url: str = setting(GROQ_API_ROOT, Url())
    """API root for transcription and translation."""
    model: str = setting("whisper-large-v3-turbo", MODEL_ID)
    """Transcription model id."""
    translation_model: str = setting("whisper-large-v3", MODEL_ID)
    """Translation model id (on Groq only whisper-large-v3 translates)."""
    language: str | None = setting(None, LANGUAGE)
    """ISO-639-1 language of the speech (e.g. "en"); unset lets Whisper detect it."""
    prompt: str | None = setting(None, Text(multiline=True, max_chars=PROMPT_CHARS))
    """Vocabulary hint sent with every request (at most 896 characters)."""
    upload_limit_mb: float = setting(25.0, above(0, at_most=1000, unit="MB"))
    """Largest file sent in one request, in MB (25 on Groq's free tier, 100 on paid tiers)."""
    chunk_max_s: float = setting(600.0, at_least(10, at_most=7200, unit="seconds"))
    """Longest piece of a long file sent in one request, in seconds: a file over the upload
    limit or longer than this is cut at silences and its pieces transcribed concurrently."""
    max_concurrent_uploads: int = setting(6, between(1, 32))
    """Pieces of a long file uploaded at the same time (1 sends them one after another)."""

    def __post_init__(self) -> None:
        check_fields(self, "stt")


@dataclass(frozen=True)
class NetworkSettings:
    """Settings for every HTTP request."""

    timeout: float = setting(60.0, above(0, at_most=3600, unit="seconds"))
    """Seconds to wait for a response before the request counts as timed out."""
    connect_timeout: float = setting(5.0, above(0, at_most=600, unit="seconds"))
    """Seconds to wait for a connection."""
    max_retries: int = setting(2, between(0, 20))
    """Retries after a 408, 409, 429, 5xx, timeout or connection error."""
    request_deadline: float = setting(300.0, above(0, at_most=86400, unit="seconds"))
    """Seconds one request may take in all: sending, the whole reply, retries and the waits
    between them. Long enough for six 10-minute FLAC pieces (about 11 MB each) uploaded at
    once over a 2 Mbit/s uplink, or Groq's longest streamed reply; short enough that a server
    trickling bytes cannot hold a request open for ever."""
    stream_idle_timeout: float = setting(20.0, above(0, at_most=3600, unit="seconds"))
    """Seconds a streamed reply may go without a token (text, reasoning or a tool call);
    keep-alive comments do not count. Groq sends its first token within a second or two;
    raise this for a slow local server."""

    def __post_init__(self) -> None:
        check_fields(self, "network")
