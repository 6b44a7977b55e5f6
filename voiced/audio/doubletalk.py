"""When the user began to speak over voiced: a double-talk detector on the raw microphone.

Over a loud echo, AEC3's suppressor hides the first ~140 ms of the user's voice from the
cleaned signal, so the segmenter dates their speech that much late. The raw microphone shows
some of it sooner: in a frequency band where the echo is faint at that moment (a consonant's
burst against the reply's vowel) the user's voice stands out.

Every 10 ms block of an echo-cancelled stretch is judged, band by band (``EDGES``). The echo
predicted in a band is the far end's (what voiced played) ``delay`` earlier, the loudest of the
blocks around it (``SPREAD``: the delay's jitter, the room's first reflections) or of the older
ones, each ``decay`` dB less per block (the room's reverberation), plus that band's echo return
loss (ERL) taken high: the ``ERL_QUANTILE`` percentile of the microphone over the prediction
in the blocks judged to hold voiced alone. The delay is where the microphone's band levels
follow the far end's best, looked for again every ``DELAY_EVERY`` blocks; the decay is the
fastest of ``DECAYS_DB`` that fits the room (a dry model takes a reverberant room's tail for
someone else a third of the time). A block whose bands stand out above their predictions by
``EXCESS_DB``, summed, holds a near-end talker. The models of the room, and those of these
settings that are theirs, are in :mod:`voiced.audio.roommodels`.

The detector only dates speech: :meth:`NearEnd.onset` moves an onset the segmenter found in
the cleaned signal back to the start of the near-end run that reaches it, so echo alone can
never start an utterance.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from voiced.audio.frames import SAMPLE_RATE, Int16Array
from voiced.audio.roommodels import SPREAD, WINDOW_BLOCKS, RoomModels

BLOCK = 160
"""Blocks of 10 ms are judged (each with the one before it: 20 ms windows)."""
EDGES = (0, 300, 600, 1000, 1500, 2000, 3000, 4000, 6000, 8001)
"""The bands' edges (Hz)."""
MAX_DELAY_BLOCKS = 25
"""The echo's delay behind the far end is looked for up to this many blocks (250 ms)."""
DELAY_EVERY = 50
"""Blocks between two looks for the delay (0.5 s)."""
DELAY_SPAN = 150
"""The delay is found over up to this many of the latest blocks (1.5 s)."""
DELAY_LEAST = 30
"""Blocks (0.3 s) heard before the delay is first looked for (with ``MAX_DELAY_BLOCKS`` more)."""
ERL_EVERY = 20
"""Blocks between two reckonings of the ERL from what was learnt (200 ms)."""
MAX_LEAD_S = 0.3
"""An onset is moved back at most this far."""
GAP_BLOCKS = 6
"""A near-end run may show in no band for this many blocks (a stop's closure, a syllable
masked by the echo) and go on."""
RUN_LEAST = 3
"""A run moves an onset only with this many near-end blocks in it (a stray block, voiced's
echo misjudged, does not)."""
KEPT_BLOCKS = 150
"""Judged blocks kept for dating onsets (1.5 s)."""

_FREQS = np.fft.rfftfreq(2 * BLOCK, 1 / SAMPLE_RATE)
_BANDS = np.stack(
    [(_FREQS >= lo) & (_FREQS < hi) for lo, hi in zip(EDGES[:-1], EDGES[1:], strict=True)], axis=1
).astype(np.float64)
_COUNT = len(EDGES) - 1
_WINDOW = np.hanning(2 * BLOCK)
_FULL_SCALE = (32768.0 * 2 * BLOCK) ** 2
_HISTORY = DELAY_SPAN + MAX_DELAY_BLOCKS
_FAR_KEPT = _HISTORY + WINDOW_BLOCKS


class NearEnd:
    """Judges each 10 ms block of the raw microphone against the far end (the canceller's
    thread) and dates onsets from those judgements (any thread).

    All the models of the room judge a call's blocks together (the capture hands over 30 ms
    at a time: three blocks a call)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._judged: deque[tuple[int, bool]] = deque(maxlen=KEPT_BLOCKS)
        self._next: int | None = None
        self._start()

    def _start(self) -> None:
        """Forget the stretch before (a gap: its past is not the next one's)."""
        self._mic = _Rows(_HISTORY)
        self._far = _Rows(_FAR_KEPT, windows=True)
        self._far.append(np.full((_FAR_KEPT, _COUNT), -120.0))  # silence before
        """Band levels of the latest blocks, oldest first (the far end's padded in front)."""
        self._rooms = RoomModels(_COUNT)
        self._tail = np.zeros((2, BLOCK))
        """The last block's samples (mic, far): each block is judged with the one before."""
        self._buffers: dict[int, _Buffers] = {}
        self.delay: int | None = None
        """The echo's delay behind the far end (blocks), once found."""
        self._since_delay = 0
        self._since_erl = 0

    def feed(self, heard: Int16Array, far: Int16Array, at: int) -> None:
        """Judge the blocks of ``heard`` (the raw microphone from input position ``at``)
        against ``far`` (what was played at the same positions)."""
        if self._next != at:
            self._start()
        count = heard.size // BLOCK
        self._next = at + count * BLOCK
        if not count:
            return
        mic_levels, far_levels = self._levels(heard[: count * BLOCK], far[: count * BLOCK])
        self._mic.append(mic_levels)
        self._far.append(far_levels)
        self._since_delay += count
        if self._since_delay >= DELAY_EVERY and len(self._mic) >= DELAY_LEAST + MAX_DELAY_BLOCKS:
            self.delay, self._since_delay = self._find_delay(), 0
        self._since_erl += count
        if self._since_erl >= ERL_EVERY:
            self._rooms.reckon()
            self._since_erl = 0
        near = self._judge(mic_levels)
        with self._lock:
            self._judged.extend(zip(range(at, at + count * BLOCK, BLOCK), near, strict=True))

    def onset(self, seen: int) -> int:
        """The start of the near-end run that reaches ``seen`` (an onset found in the cleaned
        signal), at most ``MAX_LEAD_S`` earlier; ``seen`` itself without one (or with fewer
        than ``RUN_LEAST`` near-end blocks in it)."""
        with self._lock:
            judged = list(self._judged)
        earliest = seen - round(MAX_LEAD_S * SAMPLE_RATE)
        found, gap, count = seen, 0, 0
        for start, near in reversed(judged):
            if start > seen:
                continue
            if start < earliest:
                break
            if near:
                found, gap, count = start, 0, count + 1
            else:
                gap += 1
                if gap > GAP_BLOCKS:
                    break
        return found if count >= RUN_LEAST else seen

    def _levels(self, heard: Int16Array, far: Int16Array) -> tuple[np.ndarray, np.ndarray]:
        """Band levels (dBFS) of each block with the one before it, for both signals (views
        of a buffer the next call reuses)."""
        buffers = self._buffers.get(heard.size)
        if buffers is None:
            buffers = self._buffers[heard.size] = _Buffers(heard.size // BLOCK)
        samples = buffers.samples  # (signals, samples): the last block before, then these
        samples[:, :BLOCK] = self._tail
        samples[0, BLOCK:] = heard
        samples[1, BLOCK:] = far
        self._tail = samples[:, -BLOCK:]
        np.multiply(buffers.windows, _WINDOW, out=buffers.windowed)
        power = np.abs(np.fft.rfft(buffers.windowed, axis=2))
        np.square(power, out=power)
        levels = np.matmul(power, _BANDS, out=buffers.levels)
        np.divide(levels, _FULL_SCALE, out=levels)
        np.add(levels, 1e-12, out=levels)
        np.log10(levels, out=levels)
        np.multiply(levels, 10.0, out=levels)
        return levels[0], levels[1]

    def _find_delay(self) -> int:
        """The lag (blocks) at which the microphone's band levels follow the far end's best."""
        mic = self._mic.latest()
        span = min(DELAY_SPAN, mic.shape[0] - MAX_DELAY_BLOCKS)
        heard = (mic[-span:] - mic[-span:].mean(axis=0)).T  # (bands, span)
        far = self._far.latest()[-(span + MAX_DELAY_BLOCKS) :]
        windows = np.lib.stride_tricks.sliding_window_view(far, span, axis=0)
        played = windows[::-1]  # (lags, bands, span), lag 0 first
        played = played - played.mean(axis=2, keepdims=True)
        scores = np.sum(played * heard, axis=(1, 2)) / (
            np.sqrt(np.sum(played**2, axis=(1, 2)) * np.sum(heard**2)) + 1e-9
        )
        return int(np.argmax(scores))

    def _judge(self, heard: np.ndarray) -> list[bool]:
        """Whether each of the newest blocks (``heard``: their band levels) holds a near-end
        talker, by the fastest-decaying model of the room that fits (each model judges them,
        and learns)."""
        count = heard.shape[0]
        if self.delay is None:
            return [False] * count
        # For each block, the far end's blocks from TAIL_BLOCKS before the direct sound to
        # its end (SPREAD around the delay), oldest first.
        shift = max(self.delay - SPREAD[1], 0)
        played = self._far.windows(len(self._far) - count - shift - WINDOW_BLOCKS + 1, count)
        return self._rooms.judge(heard, played)


class _Buffers:
    """Where ``NearEnd._levels`` works on ``count`` blocks, allocated once (AEC3, which runs
    in between, leaves freshly allocated memory slow to write).

    Args:
        count: Blocks a call.
    """

    def __init__(self, count: int) -> None:
        self.samples = np.zeros((2, (count + 1) * BLOCK))
        self.windows = np.lib.stride_tricks.sliding_window_view(self.samples, 2 * BLOCK, axis=1)[
            :, ::BLOCK
        ]
        """Each block with the one before it: (signals, count, samples), a view of
        ``samples``."""
        self.windowed = np.empty((2, count, 2 * BLOCK))
        self.levels = np.empty((2, count, _COUNT))


class _Rows:
    """The latest ``kept`` rows of band levels appended, as one array without copying them
    at every append (they are moved to the front of a larger buffer once it fills).

    Args:
        kept: Rows kept.
        windows: Keep them band by band too, for ``windows``.
    """

    def __init__(self, kept: int, windows: bool = False) -> None:
        self._kept = kept
        self._rows = np.empty((4 * kept, _COUNT))
        self._bands = np.empty((_COUNT, 4 * kept)) if windows else None
        self._windows = self._windows_of(self._bands)
        self._end = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, rows: np.ndarray) -> None:
        """Add rows after the latest."""
        count = rows.shape[0]
        if self._end + count > self._rows.shape[0]:
            keep = min(self._size, self._kept)
            start = self._end - keep
            if keep + count > self._rows.shape[0]:
                grown = np.empty((keep + count, _COUNT))
                grown[:keep] = self._rows[start : self._end]
                self._rows = grown
                if self._bands is not None:
                    bands = np.empty((_COUNT, keep + count))
                    bands[:, :keep] = self._bands[:, start : self._end]
                    self._bands, self._windows = bands, self._windows_of(bands)
            else:
                self._rows[:keep] = self._rows[start : self._end]
                if self._bands is not None:
                    self._bands[:, :keep] = self._bands[:, start : self._end]
            self._end = keep
        self._rows[self._end : self._end + count] = rows
        if self._bands is not None:
            self._bands[:, self._end : self._end + count] = rows.T
        self._end += count
        self._size = min(self._size + count, self._kept)

    def latest(self) -> np.ndarray:
        """The rows kept, oldest first (a view: valid until the next append)."""
        return self._rows[self._end - self._size : self._end]

    def windows(self, first: int, count: int) -> np.ndarray:
        """``WINDOW_BLOCKS`` rows from each of ``count`` rows on from ``first`` (counted in
        ``latest``), band by band: (bands, count, window), a view like ``latest``."""
        assert self._windows is not None, "kept band by band"
        at = self._end - self._size + first
        return self._windows[:, at : at + count]

    @staticmethod
    def _windows_of(bands: np.ndarray | None) -> np.ndarray | None:
        if bands is None:
            return None
        return np.lib.stride_tricks.sliding_window_view(bands, WINDOW_BLOCKS, axis=1)
