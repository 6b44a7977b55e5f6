"""Settings for the API endpoints: chat, speech to text, and the network."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from voiced.errors import ConfigError

GROQ_API_ROOT = "https://api.groq.com/openai/v1"
"""The Groq API root every endpoint path is joined to."""

ReasoningEffort = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class ChatSettings:
    """Settings for chat completions."""

    base_url: str = GROQ_API_ROOT
    """API root for chat (any OpenAI-compatible server works, e.g. http://localhost:8000/v1)."""
    model: str = "openai/gpt-oss-20b"
    """Chat model id."""
    temperature: float | None = None
    """Sampling temperature 0–2; unset uses the model's default."""
    max_completion_tokens: int | None = None
    """Upper bound on tokens in one reply; unset uses the model's limit."""
    reasoning_effort: ReasoningEffort | None = None
    """gpt-oss reasoning effort (low, medium, high); unset uses the model's default."""


@dataclass(frozen=True)
class SttSettings:
    """Settings for speech to text."""

    base_url: str = GROQ_API_ROOT
    """API root for transcription and translation."""
    model: str = "whisper-large-v3-turbo"
    """Transcription model id."""
    translation_model: str = "whisper-large-v3"
    """Translation model id (on Groq only whisper-large-v3 translates)."""
    language: str | None = None
    """ISO-639-1 language of the speech (e.g. "en"); unset lets Whisper detect it."""
    prompt: str | None = None
    """Vocabulary hint sent with every request (at most 896 characters)."""
    upload_limit_mb: float = 25.0
    """Largest file sent in one request, in MB (25 on Groq's free tier, 100 on paid tiers)."""
    chunk_max_s: float = 600.0
    """Longest piece of a long file sent in one request, in seconds: a file over the upload
    limit or longer than this is cut at silences and its pieces transcribed concurrently."""
    max_concurrent_uploads: int = 6
    """Pieces of a long file uploaded at the same time (1 sends them one after another)."""

    def __post_init__(self) -> None:
        if self.upload_limit_mb <= 0:
            raise ConfigError("[stt] upload_limit_mb must be more than 0")
        if self.chunk_max_s < 10:
            raise ConfigError("[stt] chunk_max_s must be at least 10 seconds")
        if not 1 <= self.max_concurrent_uploads <= 32:
            raise ConfigError("[stt] max_concurrent_uploads must be between 1 and 32")


@dataclass(frozen=True)
class NetworkSettings:
    """Settings for every HTTP request."""

    timeout: float = 60.0
    """Seconds to wait for a response before the request counts as timed out."""
    connect_timeout: float = 5.0
    """Seconds to wait for a connection."""
    max_retries: int = 2
    """Retries after a 408, 409, 429, 5xx, timeout or connection error."""
    request_deadline: float = 300.0
    """Seconds one request may take in all: sending, the whole reply, retries and the waits
    between them. Long enough for six 10-minute FLAC pieces (about 11 MB each) uploaded at
    once over a 2 Mbit/s uplink, or Groq's longest streamed reply; short enough that a server
    trickling bytes cannot hold a request open for ever."""
    stream_idle_timeout: float = 20.0
    """Seconds a streamed reply may go without a token (text, reasoning or a tool call);
    keep-alive comments do not count. Groq sends its first token within a second or two;
    raise this for a slow local server."""

    def __post_init__(self) -> None:
        for name, value, most in (
            ("request_deadline", self.request_deadline, 86400.0),
            ("stream_idle_timeout", self.stream_idle_timeout, 3600.0),
        ):
            if not (math.isfinite(value) and 0 < value <= most):
                raise ConfigError(
                    f"[network] {name} must be more than 0 and at most {most:g} seconds, "
                    f"got {value!r}"
                )
