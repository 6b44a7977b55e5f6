"""Speaking: reply text cleaned and chunked, rendered by espeak-ng or Groq's voice, played
and stoppable.

``voiced.speak.factory.open_speaker(settings)`` gives a ready Speaker (it is not imported
here, so that ``voiced.audio.player`` can import this package's playback bookkeeping).

The names below are loaded on first use: a command that only cleans text (``voiced ask``
through the conversation's ``heard``) does not pay for NumPy and the speech worker.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voiced.speak.chunker import Chunker
    from voiced.speak.cleaner import SpeechCleaner, clean_for_speech
    from voiced.speak.speaker import Speaker, SpokenChunk, SpokenReply, SpokenResult

_HOMES = {
    "Chunker": "voiced.speak.chunker",
    "SpeechCleaner": "voiced.speak.cleaner",
    "clean_for_speech": "voiced.speak.cleaner",
    "Speaker": "voiced.speak.speaker",
    "SpokenChunk": "voiced.speak.speaker",
    "SpokenReply": "voiced.speak.speaker",
    "SpokenResult": "voiced.speak.speaker",
}
"""The module each public name lives in."""

__all__ = [
    "Chunker",
    "Speaker",
    "SpeechCleaner",
    "SpokenChunk",
    "SpokenReply",
    "SpokenResult",
    "clean_for_speech",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module when the name is first asked for (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value
