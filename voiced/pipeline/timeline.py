"""A turn's latency timeline: each mark on the input's clock, reported after the end of speech."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from voiced.audio.frames import SAMPLE_RATE
from voiced.pipeline.clock import InputClock
from voiced.protocol.reports import Timeline

Mark = Literal["end_confirmed", "transcript", "first_token", "first_clause", "first_audio"]


class TurnTimeline:
    """The marks of one turn, the first time each is reached.

    Args:
        turn: The turn's number.
        clock: The input clock the marks are read from.
        origin: Input-clock sample of the end of speech (where the voice stopped); None for a
            typed turn, whose marks then count from its creation.
        speculative: Whether the turn used work started at the tentative end.
        monotonic: Seconds from a monotonic clock: a typed turn that starts before any input
            has arrived (no microphone) is timed on it, as the input clock stands still.
    """

    def __init__(
        self,
        turn: int,
        clock: InputClock,
        origin: int | None,
        speculative: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.turn, self.clock, self.speculative = turn, clock, speculative
        self.spoken = origin is not None
        self.origin = origin if origin is not None else clock.now()
        self.marks: dict[Mark, int] = {}
        self.erle_db: float | None = None
        """The echo canceller's echo reduction over the reply, in dB (None: not measured)."""
        self._monotonic = monotonic
        self._begun: float | None = None if self.spoken or clock.started else monotonic()
        """When a typed turn began on the monotonic clock, while the input clock stands still."""

    def now(self) -> int:
        """The turn's clock now, in input samples."""
        if self._begun is None:
            return self.clock.now()
        return self.origin + round((self._monotonic() - self._begun) * SAMPLE_RATE)

    def mark(self, name: Mark, at: int | None = None) -> None:
        """Record ``name`` now (or at sample ``at``), unless it was recorded already."""
        if name not in self.marks:
            self.marks[name] = self.now() if at is None else at

    def ms(self, name: Mark) -> float | None:
        """Milliseconds from the end of speech to ``name``, or None when not reached."""
        at = self.marks.get(name)
        return None if at is None else round((at - self.origin) * 1000 / SAMPLE_RATE, 1)

    def event(self) -> Timeline:
        """The ``timeline`` event for the clients."""
        return Timeline(
            turn=self.turn,
            speculative=self.speculative,
            speech_end_s=round(self.origin / SAMPLE_RATE, 4) if self.spoken else None,
            end_confirmed_ms=self.ms("end_confirmed"),
            transcript_ms=self.ms("transcript"),
            first_token_ms=self.ms("first_token"),
            first_clause_ms=self.ms("first_clause"),
            first_audio_ms=self.ms("first_audio"),
            echo_erle_db=self.erle_db,
        )
