"""Async client for Groq's OpenAI-compatible API: chat, speech to and from text, models."""

from voiced.groq.client import ClientOptions, GroqClient
from voiced.groq.models import (
    ChatCompletion,
    ChatDelta,
    ChatRequest,
    Message,
    ModelInfo,
    ToolCall,
    Transcription,
    TranscriptionRequest,
    TranscriptionSegment,
    Usage,
    Word,
)
from voiced.groq.ratelimit import RateLimit
from voiced.groq.speech import SpeechAudio, SpeechRequest

__all__ = [
    "ChatCompletion",
    "ChatDelta",
    "ChatRequest",
    "ClientOptions",
    "GroqClient",
    "Message",
    "ModelInfo",
    "RateLimit",
    "SpeechAudio",
    "SpeechRequest",
    "ToolCall",
    "Transcription",
    "TranscriptionRequest",
    "TranscriptionSegment",
    "Usage",
    "Word",
]
