"""The echo's reference: what the player hands to PortAudio, placed on the monotonic clock.

The player's callback knows when each block it fills reaches the speaker (PortAudio's
``outputBufferDacTime``), the microphone's when each block it gets left the microphone
(``inputBufferAdcTime``). Each stream's clock is mapped onto ``time.monotonic()``
(:class:`StreamClock`), so both meet on one timeline of 16 kHz sample positions:
``round(monotonic seconds × 16000)``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from voiced.audio.echo import TAIL_S, spans_overlap
from voiced.audio.frames import SAMPLE_RATE, Int16Array
from voiced.audio.wav import to_mono_16k

WINDOW_S = 10.0
"""A stream's clock offset is the least seen over the last one or two windows this long."""
log = logging.getLogger(__name__)

REANCHOR_S = 0.02
"""The player's reference is placed afresh when its running position is this far off the
DAC time (a restarted stream)."""
SETTLE_CALLBACKS = 4
"""After an output underrun, the player's callbacks until its DAC time is trusted again (the
first ones after it report the buffer refilling, not where the speaker is)."""


def position(monotonic_s: float) -> int:
    """A moment on the monotonic clock as a 16 kHz sample position."""
    return round(monotonic_s * SAMPLE_RATE)


class StreamClock:
    """Maps one PortAudio stream's time onto ``time.monotonic()``.

    In each callback the offset (monotonic now − the stream's ``currentTime``) is the true
    offset plus however late the callback ran; the least one seen is the truest. It is kept
    over windows of ``WINDOW_S`` (the lesser of this window's and the last one's), so a clock
    that drifts is followed.
    """

    def __init__(self) -> None:
        self._best = math.inf
        self._previous = math.inf
        self._since = -math.inf

    def observe(self, stream_now: float) -> None:
        """Note a callback's ``currentTime`` (call it first thing in the callback)."""
        now = time.monotonic()
        if now - self._since > WINDOW_S:
            self._previous, self._best, self._since = self._best, math.inf, now
        self._best = min(self._best, now - stream_now)

    def monotonic(self, stream_time: float) -> float:
        """A time on the stream's clock as ``time.monotonic()`` would have read it."""
        return stream_time + min(self._best, self._previous)


class FarEnd:
    """What the speaker played, as 16 kHz samples at their positions (thread-safe).

    The player writes ahead of time (a block is written when handed to PortAudio, at the
    position where it will be heard); the microphone reads behind (a block is read once it has
    been heard). Only the last ``seconds`` are kept.

    Args:
        seconds: How much is kept.
    """

    def __init__(self, seconds: float = 8.0) -> None:
        self._size = round(seconds * SAMPLE_RATE)
        self._ring: Int16Array = np.zeros(self._size, dtype=np.int16)
        self._runs: list[list[int]] = []
        """[start, end) of each stretch written, oldest first."""
        self._lock = threading.Lock()

    def write(self, at: int, samples: Int16Array) -> None:
        """Record ``samples`` as played from position ``at``."""
        if not samples.size:
            return
        with self._lock:
            end = at + samples.size
            self._copy_in(at, samples)
            runs = self._runs
            if runs and runs[-1][0] <= at <= runs[-1][1]:
                runs[-1][1] = max(runs[-1][1], end)
            else:
                runs.append([at, end])
            oldest = end - self._size
            self._runs = [[max(s, oldest), e] for s, e in runs if e > oldest]

    def cut(self, at: int) -> None:
        """Nothing was played from ``at`` on after all (the player dropped what it had
        handed over)."""
        with self._lock:
            self._runs = [[s, min(e, at)] for s, e in self._runs if s < at]

    def read(self, at: int, count: int) -> Int16Array | None:
        """The ``count`` samples played from ``at`` (silence where nothing was), or None when
        nothing was played within ``TAIL_S`` before them or during them."""
        with self._lock:
            spans = [(s, e) for s, e in self._runs]
            if not spans_overlap(spans, at, count):
                return None
            out: Int16Array = np.zeros(count, dtype=np.int16)
            for start, end in spans:
                lo, hi = max(start, at), min(end, at + count)
                if lo < hi:
                    out[lo - at : hi - at] = self._copy_out(lo, hi - lo)
            return out

    def _copy_in(self, at: int, samples: Int16Array) -> None:
        if samples.size > self._size:
            at, samples = at + samples.size - self._size, samples[-self._size :]
        first = at % self._size
        split = min(samples.size, self._size - first)
        self._ring[first : first + split] = samples[:split]
        self._ring[: samples.size - split] = samples[split:]

    def _copy_out(self, at: int, count: int) -> Int16Array:
        first = at % self._size
        split = min(count, self._size - first)
        return np.concatenate((self._ring[first : first + split], self._ring[: count - split]))


class PlayerTap:
    """The player's side: each block handed to PortAudio, written to the far end at 16 kHz at
    the position where it will be heard, in the same callback. Silence after the reference's
    tail is not written (so the canceller passes frames through, and this costs nothing).

    What a clip contributes is taken from the clip resampled to 16 kHz beforehand (``Piece``),
    not from a resampler run over the blocks: such a filter gives back each block's samples up
    to 40 ms after it took them (soxr HQ, 22050 Hz), later than the microphone's block that
    heard them, and AEC3, fed silence where the reference was not yet written, let that echo
    through.

    Args:
        far: Where the blocks go.
        rate: The output stream's rate.
    """

    def __init__(self, far: FarEnd, rate: int) -> None:
        self.far, self.rate = far, rate
        self.clock = StreamClock()
        self._anchor: int | None = None
        """Position of the first sample since the reference was last placed afresh."""
        self._taken = 0
        """Samples (at the stream's rate) taken since then."""
        self._last_sound = -math.inf
        self._off = 0
        """How far the DAC time was off the running position in the last callback before an
        underrun (samples at 16 kHz): it drifts slowly and is off by some ms anyway, so only
        how much it moved over an underrun tells how far the speaker moved."""
        self._settling = 0
        """Callbacks left before the DAC time is trusted again after an underrun."""

    def played(
        self,
        block: Int16Array,
        pieces: list[Piece],
        dac: float,
        now: float,
        underflow: bool = False,
    ) -> None:
        """One callback's block (in the player's thread).

        Args:
            block: What was handed to PortAudio.
            pieces: The parts of it that came from clips, in order (none: all silence).
            dac: The stream time at which its first sample is heard.
            now: The stream time of the callback.
            underflow: PortAudio reported an output underrun: the speaker ran dry, and what
                follows may be heard later than the running position says.
        """
        self.clock.observe(now)
        mono_now = time.monotonic()
        if pieces:
            self._last_sound = mono_now
        elif mono_now - self._last_sound > TAIL_S:
            self._anchor = None  # silence after the tail: nothing to write
            return
        scale = SAMPLE_RATE / self.rate
        at = position(self.clock.monotonic(dac)) if now > 0 else position(mono_now)
        if self._anchor is not None:
            off = at - (self._anchor + round(self._taken * scale))
            if abs(off) > REANCHOR_S * SAMPLE_RATE:
                log.debug("far end placed afresh: %+.1f ms off", off / 16)
                self._anchor = None
            else:
                self._anchor += self._moved(off, underflow)
        if self._anchor is None:
            self._anchor, self._taken = at, 0
            self._off, self._settling = 0, 0
        start = self._anchor + self._taken * scale  # where the block's first sample goes
        silent_from = 0
        for piece in pieces:
            lo, hi = round(piece.position * scale), round((piece.position + piece.count) * scale)
            origin = round(start + (piece.offset - piece.position) * scale)
            self.far.write(origin + lo, piece.reference[lo:hi])
            silent_from = piece.offset + piece.count
        if silent_from < block.size:
            lo, hi = round(start + silent_from * scale), round(start + block.size * scale)
            self.far.write(lo, np.zeros(hi - lo, dtype=np.int16))
        self._taken += block.size

    def _moved(self, off: int, underflow: bool) -> int:
        """How far to move the reference: as far as the DAC time moved over an underrun, once
        it has settled (0 otherwise). AEC3 then sees the echo where it was: a shift of a few
        ms it would have to find again, leaking echo meanwhile (left to add up, they moved the
        reference 20 ms at once)."""
        if underflow:
            self._settling = SETTLE_CALLBACKS
        elif self._settling:
            self._settling -= 1
            if not self._settling and off != self._off:
                log.debug("far end moved %+.1f ms after an output underrun", (off - self._off) / 16)
                return off - self._off
        else:
            self._off = off
        return 0

    def cut(self, stream_time: float | None) -> None:
        """The player dropped what it had handed over after ``stream_time`` (None: now)."""
        mono = time.monotonic() if stream_time is None else self.clock.monotonic(stream_time)
        self.far.cut(position(mono))
        self._anchor = None


@dataclass(frozen=True)
class Piece:
    """A run of one clip's samples in a block handed to PortAudio.

    Attributes:
        offset: Where in the block it begins (samples at the stream's rate).
        reference: The whole clip at 16 kHz.
        position: Where in the clip it begins (samples at the stream's rate).
        count: How many samples of the clip (at the stream's rate).
    """

    offset: int
    reference: Int16Array
    position: int
    count: int


def reference_of(samples: Int16Array, rate: int) -> Int16Array:
    """A whole clip resampled to 16 kHz for the reference (sample i heard at i / 16000 s)."""
    return samples if rate == SAMPLE_RATE else to_mono_16k(samples, rate)
