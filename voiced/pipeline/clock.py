"""The input's clock: samples since the microphone (or replayed file) started, at any moment."""

from __future__ import annotations

import time
from collections.abc import Callable

from voiced.audio.frames import SAMPLE_RATE, Frame


class InputClock:
    """Maps wall time onto the input's sample clock, kept true by every frame that arrives.

    A frame is delivered once its audio has been heard, so when frame F arrives the input
    clock reads ``F.end``; between frames, and after the input has ended, it runs on with
    the monotonic clock. Sample N of the input and the moment the clock reads N are the same
    instant: that is what replay mode's output and event timestamps are placed on.

    Args:
        monotonic: Seconds from a monotonic clock.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._anchor_sample = 0
        self._anchor_time: float | None = None
        self._last = 0

    @property
    def started(self) -> bool:
        """Whether a frame has arrived yet."""
        return self._anchor_time is not None

    def observe(self, frame: Frame) -> None:
        """Re-anchor on a frame that has just arrived, if it came more promptly than the
        frame the clock runs from (the least delayed frame tells the time best)."""
        now = self._monotonic()
        if self._anchor_time is None or frame.end >= self.samples_at(now):
            self._anchor_sample, self._anchor_time = frame.end, now

    def samples_at(self, monotonic: float) -> int:
        """The input clock at a monotonic time, in samples."""
        if self._anchor_time is None:
            return 0
        return self._anchor_sample + round((monotonic - self._anchor_time) * SAMPLE_RATE)

    def now(self) -> int:
        """The input clock now, in samples (never less than it read before)."""
        self._last = max(self._last, self.samples_at(self._monotonic()))
        return self._last

    def seconds(self) -> float:
        """The input clock now, in seconds."""
        return self.now() / SAMPLE_RATE
