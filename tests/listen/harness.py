"""Feeding recordings to the segmenter frame by frame, and reading what it said."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from voiced.audio.frames import FRAME_SAMPLES, Frame
from voiced.config import ListenSettings
from voiced.listen import Dropped, Event, Segmenter, SpeechEnded, SpeechStarted
from voiced.listen.confirm import CHUNK, SileroConfirmer, SileroModel


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


def answered(events: list[Event]) -> list[SpeechEnded]:
    """The completed utterances that stand: those a later rejoin (``SpeechStarted.joined``,
    the speaker went on after a thinking pause) withdrew are left out, its own end holds
    their audio."""
    kept: list[SpeechEnded] = []
    for e in events:
        if isinstance(e, SpeechStarted) and e.joined is not None:
            kept = [k for k in kept if k.start != e.joined]
        elif isinstance(e, SpeechEnded):
            kept.append(e)
    return kept


def rejoins(events: list[Event]) -> int:
    """How many utterances speech rejoined (their early end withdrawn)."""
    return sum(1 for e in events if isinstance(e, SpeechStarted) and e.joined is not None)


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


class CountingModel:
    """The real Silero model, counting the 32 ms chunks it is asked to judge."""

    def __init__(self) -> None:
        self._model = SileroModel()
        self.chunks = 0

    def reset(self) -> None:
        self._model.reset()

    def probability(self, chunk: np.ndarray) -> float:
        self.chunks += 1
        return self._model.probability(chunk)

    def share(self, samples: int) -> float:
        """The share of ``samples`` of audio the model judged."""
        return self.chunks * CHUNK / samples


def counted(settings: ListenSettings) -> tuple[Segmenter, CountingModel]:
    """A segmenter whose second stage counts what it judges."""
    model = CountingModel()
    return Segmenter(settings, confirmer=SileroConfirmer(settings, model)), model
