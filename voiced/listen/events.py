"""What the segmenter reports: frozen events with sample positions on the input's clock.

Every position is a sample index at 16 kHz on the clock of the frames fed in, and every event's
``at`` is the end of the frame that produced it (when it was decided). One utterance gives
``SpeechStarted``, any number of ``TentativeEnd`` / ``SpeechResumed`` pairs (a last
``TentativeEnd`` may stand alone), then ``SpeechEnded`` or ``Dropped(started=True)``; an
utterance cut at the maximum length is followed at once by the ``SpeechStarted`` of the next.
With the turn model, speech soon after an utterance ended on silence may rejoin it: its
``SpeechStarted`` has ``joined`` set, and that earlier ``SpeechEnded`` is withdrawn (the
rejoined utterance's own end holds all of its audio).
A candidate the second stage turned away gives only ``Dropped(started=False)``. ``Level``
comes in between, every interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from voiced.audio.frames import SAMPLE_RATE

EndReason = Literal["silence", "max_length", "end_of_input"]
UploadFormat = Literal["flac", "wav"]
Verdict = Literal["complete", "incomplete", "unsure"]


@dataclass(frozen=True, slots=True)
class TurnVerdict:
    """What the turn model made of a pause: finished, unfinished or unsure, and its score."""

    verdict: Verdict
    probability: float
    """The model's probability (0–1) that the turn is complete."""


def encode(audio: np.ndarray, start: int, fmt: UploadFormat = "flac") -> tuple[str, bytes]:
    """Encode utterance audio for speech to text, as 16 kHz mono 16-bit FLAC or WAV.

    Returns:
        (file name with the matching extension, e.g. ``utterance-12.34s.flac``, the bytes).
    """
    from voiced.audio.wav import encode_flac, encode_wav

    data = encode_flac(audio) if fmt == "flac" else encode_wav(audio)
    return f"utterance-{start / SAMPLE_RATE:.2f}s.{fmt}", data


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """An utterance opened: enough voiced audio, confirmed as speech."""

    at: int
    start: int
    """First sample of the utterance's audio (the onset less the pre-roll)."""
    onset: int
    """Where the voiced audio began."""
    joined: int | None = None
    """The ``start`` of the utterance just ended that this speech rejoins (its speaker went on
    after a thinking pause the turn model heard as the end, ``turn_rejoin_ms``): the
    utterance's audio runs from there, the earlier utterance's ``SpeechEnded`` is withdrawn
    and this one's holds all of it. None: a new utterance. ``Segmenter.detach`` makes it one."""


@dataclass(frozen=True, slots=True)
class TentativeEnd:
    """The speaker paused long enough that transcription may start early.

    If no ``SpeechResumed`` follows, the ``SpeechEnded`` of this utterance carries exactly
    this ``audio``, so a transcript of it can be used as is.
    """

    at: int
    start: int
    offset: int
    """Where the voiced audio stopped."""
    audio: np.ndarray = field(repr=False, compare=False)
    """int16 samples from ``start`` to ``offset`` plus the silence heard by ``at``: the
    tentative-end silence, or less when the turn model already heard a finished turn."""
    turn: TurnVerdict | None = None
    """The turn model's verdict on the pause so far; None when it is off."""

    def encode(self, fmt: UploadFormat = "flac") -> tuple[str, bytes]:
        """The audio as an upload: (file name with the matching extension, bytes)."""
        return encode(self.audio, self.start, fmt)


@dataclass(frozen=True, slots=True)
class SpeechResumed:
    """The speaker went on after a tentative end: any early transcript is stale."""

    at: int


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """An utterance is complete."""

    at: int
    start: int
    """First sample of ``audio``."""
    end: int
    """One past the last sample of ``audio``."""
    onset: int
    offset: int
    audio: np.ndarray = field(repr=False, compare=False)
    """int16 samples ``start``…``end``: pre-roll, speech, then the tentative-end silence."""
    level_db: float
    """RMS level of the voiced frames, dBFS."""
    reason: EndReason = "silence"
    turn: TurnVerdict | None = None
    """The turn model's verdict on the final pause, which set the silence it ended after
    (turn_complete_ms, hangover_ms or turn_incomplete_ms); None when it is off."""
    asked: bool = False
    """The final pause's early transcript ended in a question mark (``turn_text``): it ended
    after turn_complete_ms at most, whatever the verdict."""

    @property
    def duration(self) -> float:
        """Length of ``audio`` in seconds."""
        return (self.end - self.start) / SAMPLE_RATE

    def encode(self, fmt: UploadFormat = "flac") -> tuple[str, bytes]:
        """The audio as an upload: (file name with the matching extension, bytes)."""
        return encode(self.audio, self.start, fmt)

    @property
    def speech_duration(self) -> float:
        """Time from onset to offset in seconds."""
        return (self.offset - self.onset) / SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class Dropped:
    """Voiced audio that did not become an utterance.

    ``started`` tells whether a ``SpeechStarted`` was sent for it (that utterance is now
    closed); when False the audio was only a candidate the second stage did not confirm.
    """

    at: int
    start: int
    end: int
    reason: str
    started: bool


@dataclass(frozen=True, slots=True)
class Level:
    """The input level over the last interval, for meters."""

    at: int
    rms_db: float
    """RMS of the interval, dBFS."""
    floor_db: float
    """The adaptive noise floor, dBFS."""
    voiced: bool
    """Whether any frame of the interval was voiced."""


Event = SpeechStarted | TentativeEnd | SpeechResumed | SpeechEnded | Dropped | Level
