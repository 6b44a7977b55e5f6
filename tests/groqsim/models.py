"""The model catalogue and fixed request limits the Groq simulator starts with."""

from __future__ import annotations

from typing import Any


def _model(
    model_id: str, created: int, owned_by: str, context: int, max_completion: int
) -> dict[str, Any]:
    return {
        "id": model_id,
        "object": "model",
        "created": created,
        "owned_by": owned_by,
        "active": True,
        "context_window": context,
        "max_completion_tokens": max_completion,
        "public_apps": None,
    }


# Groq's model objects, exactly as GET /openai/v1/models lists them. Copied per simulator.
DEFAULT_MODELS: tuple[dict[str, Any], ...] = (
    _model("openai/gpt-oss-20b", 1754407957, "OpenAI", 131072, 65536),
    _model("openai/gpt-oss-120b", 1754408224, "OpenAI", 131072, 65536),
    _model("qwen/qwen3.8-27b", 1767225600, "Alibaba Cloud", 131072, 40960),
    _model("whisper-large-v3-turbo", 1728413088, "OpenAI", 448, 448),
    _model("whisper-large-v3", 1693721698, "OpenAI", 448, 448),
    _model("canopylabs/orpheus-v1-english", 1766016000, "Canopy Labs", 4000, 50000),
    _model("canopylabs/orpheus-arabic-saudi", 1766016000, "Canopy Labs", 4000, 50000),
)

DEFAULT_DECOMMISSIONED: frozenset[str] = frozenset(
    {
        "llama3-70b-8192",
        "mixtral-8x7b-32768",
        "gemma2-9b-it",
        "distil-whisper-large-v3-en",
        "deepseek-r1-distill-llama-70b",
        "llama-3.3-70b-versatile",
    }
)

DEFAULT_RATELIMIT: dict[str, str] = {
    "x-ratelimit-limit-requests": "14400",
    "x-ratelimit-limit-tokens": "18000",
    "x-ratelimit-remaining-requests": "14399",
    "x-ratelimit-remaining-tokens": "17950",
    "x-ratelimit-reset-requests": "6s",
    "x-ratelimit-reset-tokens": "2m59.56s",
}

AUDIO_EXTENSIONS: tuple[str, ...] = (
    "flac",
    "mp3",
    "mp4",
    "mpeg",
    "mpga",
    "m4a",
    "ogg",
    "opus",
    "wav",
    "webm",
)
TRANSLATION_MODEL = "whisper-large-v3"
MAX_PROMPT_CHARS = 896
DEFAULT_UPLOAD_LIMIT = 25 * 1024 * 1024

# Top-level request properties of CreateChatCompletionRequest (plus `n` and `stream_options`);
# Groq answers 400 to anything else (additionalProperties: false).
CHAT_REQUEST_FIELDS: frozenset[str] = frozenset(
    {
        "messages",
        "model",
        "disable_tool_validation",
        "frequency_penalty",
        "include_reasoning",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "max_tokens",
        "max_completion_tokens",
        "n",
        "presence_penalty",
        "response_format",
        "seed",
        "service_tier",
        "stop",
        "reasoning_effort",
        "reasoning_format",
        "stream",
        "stream_options",
        "temperature",
        "top_p",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "user",
        "function_call",
        "functions",
        "metadata",
        "store",
        "include_domains",
        "exclude_domains",
        "search_settings",
        "compound_custom",
        "documents",
        "citation_options",
    }
)

SPEECH_VOICES: dict[str, tuple[str, ...]] = {
    "canopylabs/orpheus-v1-english": ("autumn", "diana", "hannah", "austin", "daniel", "troy"),
    "canopylabs/orpheus-arabic-saudi": ("abdullah", "fahad", "sultan", "lulwa", "noura", "aisha"),
}
"""The speech models and their voices."""

SPEECH_REQUEST_FIELDS: frozenset[str] = frozenset(
    {"model", "input", "voice", "response_format", "speed", "sample_rate"}
)
"""Properties of a speech request; Groq answers 400 to anything else."""

SPEECH_INPUT_LIMIT = 200
"""Longest speech input accepted, in characters (the limit reported for Orpheus on Groq)."""
