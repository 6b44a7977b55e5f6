"""Hearing speech: the segmenter that cuts frames into utterances, and the transcript filter."""

from voiced.listen.events import (
    Dropped,
    Event,
    Level,
    SpeechEnded,
    SpeechResumed,
    SpeechStarted,
    TentativeEnd,
)
from voiced.listen.filter import Accepted, Rejected, TranscriptFilter, Verdict
from voiced.listen.segmenter import Segmenter

__all__ = [
    "Accepted",
    "Dropped",
    "Event",
    "Level",
    "Rejected",
    "Segmenter",
    "SpeechEnded",
    "SpeechResumed",
    "SpeechStarted",
    "TentativeEnd",
    "TranscriptFilter",
    "Verdict",
]
