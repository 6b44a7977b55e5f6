"""groqsim: a loopback Groq API server for tests and benchmarks of the voiced Groq client."""

from .models import DEFAULT_DECOMMISSIONED, DEFAULT_MODELS, DEFAULT_RATELIMIT
from .replies import (
    ChatReply,
    Endless,
    ErrorReply,
    Raw,
    Recorded,
    Segment,
    Stall,
    StreamFault,
    ToolCall,
    Transcript,
    Word,
)
from .server import DEFAULT_API_KEY, GroqSim

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_DECOMMISSIONED",
    "DEFAULT_MODELS",
    "DEFAULT_RATELIMIT",
    "ChatReply",
    "Endless",
    "ErrorReply",
    "GroqSim",
    "Raw",
    "Recorded",
    "Segment",
    "Stall",
    "StreamFault",
    "ToolCall",
    "Transcript",
    "Word",
]
