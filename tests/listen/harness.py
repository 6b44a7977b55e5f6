"""Feeding recordings to the segmenter frame by frame, and reading what it said."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from voiced.audio.frames import FRAME_SAMPLES, Frame
from voiced.listen import Dropped, Event, Segmenter, SpeechEnded, SpeechStarted


def frames(audio: np.ndarray, start: int = 0) -> Iterator[Frame]:
    """Cut int16 audio into whole frames on a clock that begins at ``start``."""
    for i in range(0, audio.size - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        yield Frame(np.ascontiguousarray(audio[i : i + FRAME_SAMPLES]), start + i)


def run(segmenter: Segmenter, audio: np.ndarray, start: int = 0) -> list[Event]:
    """Feed every frame of ``audio``, then flush; return all events in order."""
    events: list[Event] = []
    for frame in frames(audio, start):
        events += segmenter.feed(frame)
    return events + segmenter.flush()


def ended(events: list[Event]) -> list[SpeechEnded]:
    """The completed utterances among ``events``."""
    return [e for e in events if isinstance(e, SpeechEnded)]


@dataclass(frozen=True)
class StageCounts:
    """False utterances and rejections seen on a recording without speech."""

    utterances: int
    """SpeechEnded events: utterances that would have been transcribed."""
    opened: int
    """SpeechStarted events, including those later dropped as too short."""
    unconfirmed: int
    """Candidates the second stage turned away."""


def count(events: list[Event]) -> StageCounts:
    """Count what a recording without speech made the segmenter do."""
    return StageCounts(
        utterances=len(ended(events)),
        opened=sum(1 for e in events if isinstance(e, SpeechStarted)),
        unconfirmed=sum(1 for e in events if isinstance(e, Dropped) and not e.started),
    )
