"""Input level reports for meters, one per interval on the input's clock."""

from __future__ import annotations

import math

from voiced.listen.events import Level
from voiced.listen.utterance import Heard
from voiced.listen.vad import SILENCE_DB


class LevelMeter:
    """Averages frame levels over an interval and reports each interval once.

    Args:
        interval: Samples per report.
    """

    def __init__(self, interval: int) -> None:
        self._interval = interval
        self._due: int | None = None
        self._energy = 0.0
        self._frames = 0
        self._voiced = False

    def add(self, heard: Heard, floor_db: float) -> Level | None:
        """Count one frame; return a report when its interval is complete."""
        if self._due is None or heard.end > self._due + self._interval:
            self._due = heard.start + self._interval
            self._energy, self._frames, self._voiced = 0.0, 0, False
        self._energy += 10 ** (heard.level_db / 10)
        self._frames += 1
        self._voiced |= heard.voiced
        if heard.end < self._due:
            return None
        mean = self._energy / self._frames
        level = 10 * math.log10(mean) if mean > 1e-10 else SILENCE_DB
        report = Level(heard.end, level, floor_db, self._voiced)
        self._due += self._interval
        self._energy, self._frames, self._voiced = 0.0, 0, False
        return report
