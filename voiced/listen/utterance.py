"""The audio of one open utterance, frame by frame, with what the first stage said of each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE
from voiced.listen.events import Dropped, EndReason, SpeechEnded, TurnVerdict
from voiced.listen.vad import SILENCE_DB


@dataclass(frozen=True, slots=True)
class Heard:
    """One frame and its judgement, as kept for pre-roll and utterances."""

    samples: np.ndarray
    start: int
    level_db: float
    voiced: bool

    @property
    def end(self) -> int:
        """One past the frame's last sample."""
        return self.start + FRAME_SAMPLES


class Utterance:
    """Frames from ``start`` on; the first frame may begin before ``start``.

    Args:
        start: First sample of the utterance's audio.
        onset: Where its voiced audio began.
        frames: The frames heard so far that reach past ``start``, in order.
    """

    def __init__(self, start: int, onset: int, frames: list[Heard]) -> None:
        self.start = start
        self.onset = onset
        self.offset = onset
        """Where the voiced audio stopped (so far)."""
        self._frames: list[Heard] = []
        self._voiced = 0
        self._voiced_energy = 0.0
        for frame in frames:
            self.add(frame)

    def add(self, frame: Heard) -> None:
        """Append the next frame."""
        self._frames.append(frame)
        if frame.voiced and frame.end > self.onset:
            self._voiced += 1
            self._voiced_energy += 10 ** (frame.level_db / 10)

    @property
    def end(self) -> int:
        """One past the last sample heard."""
        return self._frames[-1].end if self._frames else self.start

    @property
    def voiced_samples(self) -> int:
        """Voiced audio from the onset on, in samples."""
        return self._voiced * FRAME_SAMPLES

    @property
    def level_db(self) -> float:
        """RMS level of the voiced frames, dBFS."""
        if not self._voiced:
            return SILENCE_DB
        return float(10 * np.log10(max(self._voiced_energy / self._voiced, 1e-10)))

    def audio(self, until: int) -> np.ndarray:
        """The int16 samples from ``start`` up to (not including) ``until``."""
        if not self._frames:
            return np.zeros(0, dtype=np.int16)
        first = self._frames[0].start
        joined = np.concatenate([f.samples for f in self._frames])
        return joined[self.start - first : max(until, self.start) - first]

    def quietest(self, since: int) -> int:
        """Middle of the quietest frame that starts at or after ``since`` (and after start)."""
        candidates = [f for f in self._frames if f.start >= max(since, self.start)]
        if not candidates:
            return self.end
        best = min(candidates, key=lambda f: f.level_db)
        return best.start + FRAME_SAMPLES // 2

    def split(self, cut: int) -> Utterance:
        """The utterance that goes on from ``cut``: the frames reaching past it."""
        rest = Utterance(cut, cut, [f for f in self._frames if f.end > cut])
        rest.offset = max(self.offset, cut)
        return rest

    def rejoined(self, after: list[Heard]) -> Utterance:
        """This utterance (ended) going on again: its frames, then ``after`` (the frames heard
        since its last one, in order), from its start and onset."""
        last = self.end
        joined = Utterance(self.start, self.onset, self._frames)
        for frame in after:
            if frame.start >= last:
                joined.add(frame)
        joined.offset = self.offset
        return joined

    def frames_from(self, start: int) -> list[Heard]:
        """The frames heard that start at or after ``start``, in order."""
        return [f for f in self._frames if f.start >= start]

    def since(self, start: int, onset: int) -> Utterance:
        """The part of this utterance from ``start`` on, as one that began at ``onset``."""
        return Utterance(start, onset, [f for f in self._frames if f.end > start])

    def close(
        self,
        at: int,
        end: int,
        reason: EndReason,
        min_voiced: int,
        turn: TurnVerdict | None = None,
        asked: bool = False,
    ) -> SpeechEnded | Dropped:
        """The event that ends this utterance at ``end``, decided at ``at``.

        Args:
            at: End of the frame that ended it.
            end: One past its last sample.
            reason: Why it ended.
            min_voiced: Voiced samples it needs to count as speech; with fewer it is dropped.
            turn: The turn model's verdict on its last pause, if it judged one.
            asked: Its last pause's early transcript ended in a question mark.
        """
        if self.voiced_samples < min_voiced:
            heard, needed = (n * 1000 // SAMPLE_RATE for n in (self.voiced_samples, min_voiced))
            why = f"too little voiced audio ({heard} ms < {needed} ms)"
            return Dropped(at, self.start, end, why, started=True)
        audio = self.audio(end)
        return SpeechEnded(
            at, self.start, end, self.onset, self.offset, audio, self.level_db, reason, turn, asked
        )
