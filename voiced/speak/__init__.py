"""Speaking: reply text cleaned and chunked, rendered by espeak-ng or Groq's voice, played
and stoppable.

``voiced.speak.factory.open_speaker(settings)`` gives a ready Speaker (it is not imported
here, so that ``voiced.audio.player`` can import this package's playback bookkeeping).
"""

from voiced.speak.chunker import Chunker
from voiced.speak.cleaner import SpeechCleaner, clean_for_speech
from voiced.speak.speaker import Speaker, SpokenChunk, SpokenReply, SpokenResult

__all__ = [
    "Chunker",
    "Speaker",
    "SpeechCleaner",
    "SpokenChunk",
    "SpokenReply",
    "SpokenResult",
    "clean_for_speech",
]
