"""The double-talk detector as main had it (a9609f2), kept as the reference the faster one in
:mod:`voiced.audio.doubletalk` must match verdict for verdict: each model of the room judged a
call's blocks on its own, with fresh arrays for everything. Only these three lines differ.

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
``EXCESS_DB``, summed, holds a near-end talker.

The detector only dates speech: :meth:`NearEnd.onset` moves an onset the segmenter found in
the cleaned signal back to the start of the near-end run that reaches it, so echo alone can
never start an utterance.
"""

from __future__ import annotations

import math
import threading
from collections import deque

import numpy as np

from voiced.audio.frames import SAMPLE_RATE, Int16Array

BLOCK = 160
"""Blocks of 10 ms are judged (each with the one before it: 20 ms windows)."""
EDGES = (0, 300, 600, 1000, 1500, 2000, 3000, 4000, 6000, 8001)
"""The bands' edges (Hz)."""
SPREAD = (3, 1)
"""The echo predicted for a block is the loudest far-end block from this many blocks before
the delay to this many after it."""
TAIL_BLOCKS = 50
"""Far-end blocks older than that still count for the room's reverberation, this many (0.5 s)."""
DECAYS_DB = (math.inf, 3.0, 1.2)
"""How fast the reverberation may die away, in dB per block, from none (a dry room, a
loopback) to a reverberation time of 0.5 s: each is a model of the room, and the fastest that
fits is used (a slower one takes longer echoes for voiced's, and hides more of the user)."""
FITS = 0.05
"""A model fits while it takes at most this share of its recent blocks for a near-end talker
(the user does talk over a reply, but seldom for long; a room it misjudges, ever so often)."""
FIT_LAG = 20
"""The latest blocks (0.2 s) do not count for whether a model fits: they may hold the start of
the very speech being dated, which would make the fastest model seem not to fit."""
MAX_DELAY_BLOCKS = 25
"""The echo's delay behind the far end is looked for up to this many blocks (250 ms)."""
DELAY_EVERY = 50
"""Blocks between two looks for the delay (0.5 s)."""
DELAY_SPAN = 150
"""The delay is found over up to this many of the latest blocks (1.5 s)."""
DELAY_LEAST = 30
"""Blocks (0.3 s) heard before the delay is first looked for (with ``MAX_DELAY_BLOCKS`` more)."""
ERL_BLOCKS = 300
"""The ERL is taken over this many blocks (3 s) judged to hold voiced alone."""
ERL_LEAST = 30
"""Blocks (0.3 s) of voiced alone needed in a band before it is judged."""
ERL_EVERY = 20
"""Blocks between two reckonings of the ERL from what was learnt (200 ms)."""
ERL_QUANTILE = 90
"""A band's echo over its prediction is taken at this percentile (high: the echo's peaks)."""
EXCESS_DB = 15.0
"""A block holds a near-end talker when the bands above the echo predicted in them stand out
by this much, summed: one band well above its echo (a consonant's burst against the reply's
vowel), or many a little (a voice as loud as the echo, on top of it)."""
FAR_DB = -70.0
"""A far-end band quieter than this (dBFS) predicts no echo worth measuring the ERL on."""
QUIET_DB = -70.0
"""A microphone band quieter than this (dBFS) holds no one."""
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
_WINDOW = np.hanning(2 * BLOCK)
_FULL_SCALE = (32768.0 * 2 * BLOCK) ** 2
_DIRECT_BLOCKS = SPREAD[0] + SPREAD[1] + 1
_WINDOW_BLOCKS = TAIL_BLOCKS + _DIRECT_BLOCKS
_AGE = np.maximum(TAIL_BLOCKS - np.arange(_WINDOW_BLOCKS), 0).astype(np.float64)
"""Blocks by which each in a window is older than the direct sound (0: heard directly)."""
_HISTORY = DELAY_SPAN + MAX_DELAY_BLOCKS


class NearEnd:
    """Judges each 10 ms block of the raw microphone against the far end (the canceller's
    thread) and dates onsets from those judgements (any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._judged: deque[tuple[int, bool]] = deque(maxlen=KEPT_BLOCKS)
        self._next: int | None = None
        self._start()

    def _start(self) -> None:
        """Forget the stretch before (a gap: its past is not the next one's)."""
        self._mic = np.empty((0, len(EDGES) - 1))
        self._far = np.full((_WINDOW_BLOCKS, len(EDGES) - 1), -120.0)  # silence before
        """Band levels of the latest blocks, oldest first (the far end's padded in front)."""
        self._rooms = [_Room(decay) for decay in DECAYS_DB]
        self._tail: tuple[Int16Array, Int16Array] = (
            np.zeros(BLOCK, np.int16),
            np.zeros(BLOCK, np.int16),
        )
        """The last block's samples (mic, far): each block is judged with the one before."""
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
        self._mic = np.concatenate((self._mic, mic_levels))[-_HISTORY:]
        self._far = np.concatenate((self._far, far_levels))[-(_HISTORY + _WINDOW_BLOCKS) :]
        self._since_delay += count
        if self._since_delay >= DELAY_EVERY and len(self._mic) >= DELAY_LEAST + MAX_DELAY_BLOCKS:
            self.delay, self._since_delay = self._find_delay(), 0
        self._since_erl += count
        if self._since_erl >= ERL_EVERY:
            for room in self._rooms:
                room.reckon()
            self._since_erl = 0
        near = self._judge(count)
        with self._lock:
            self._judged.extend((at + i * BLOCK, bool(near[i])) for i in range(count))

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
        """Band levels (dBFS) of each block with the one before it, for both signals."""
        count = heard.size // BLOCK
        blocks = np.concatenate((self._tail[0], heard, self._tail[1], far)).astype(np.float64)
        blocks = blocks.reshape(2, count + 1, BLOCK)
        windows = np.concatenate((blocks[:, :-1], blocks[:, 1:]), axis=2) * _WINDOW
        power = np.abs(np.fft.rfft(windows, axis=2)) ** 2
        levels = 10.0 * np.log10(power @ _BANDS / _FULL_SCALE + 1e-12)
        self._tail = (heard[-BLOCK:].copy(), far[-BLOCK:].copy())
        return levels[0], levels[1]

    def _find_delay(self) -> int:
        """The lag (blocks) at which the microphone's band levels follow the far end's best."""
        mic, far = self._mic, self._far[_WINDOW_BLOCKS:]
        span = min(DELAY_SPAN, mic.shape[0] - MAX_DELAY_BLOCKS)
        heard = (mic[-span:] - mic[-span:].mean(axis=0)).T  # (bands, span)
        windows = np.lib.stride_tricks.sliding_window_view(far, span, axis=0)
        played = windows[-1 - MAX_DELAY_BLOCKS :][::-1]  # (lags, bands, span), lag 0 first
        played = played - played.mean(axis=2, keepdims=True)
        scores = np.sum(played * heard, axis=(1, 2)) / (
            np.sqrt(np.sum(played**2, axis=(1, 2)) * np.sum(heard**2)) + 1e-9
        )
        return int(np.argmax(scores))

    def _judge(self, count: int) -> np.ndarray:
        """Whether each of the newest ``count`` blocks holds a near-end talker, by the
        fastest-decaying model of the room that fits (each model judges them, and learns)."""
        if self.delay is None:
            return np.zeros(count, dtype=bool)
        # For each block, the far end's blocks from TAIL_BLOCKS before the direct sound to
        # its end (SPREAD around the delay), oldest first.
        shift = max(self.delay - SPREAD[1], 0)
        ends = self._far.shape[0] - count + np.arange(count) - shift
        windows = np.lib.stride_tricks.sliding_window_view(self._far, _WINDOW_BLOCKS, axis=0)
        played = windows[ends - _WINDOW_BLOCKS + 1]  # (count, bands, window)
        heard = self._mic[-count:]
        fitting = [room.fits() for room in self._rooms]
        verdicts = [room.judge(heard, played) for room in self._rooms]
        for fits, near in zip(fitting, verdicts, strict=True):
            if fits:
                return near
        return verdicts[-1]


class _Room:
    """One model of the room: the echo dies away ``decay`` dB per block after the direct
    sound. It learns each band's ERL over its own predictions and judges blocks by them.

    Args:
        decay: dB per block (inf: no reverberation).
    """

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self._erl: deque[np.ndarray] = deque(maxlen=ERL_BLOCKS)
        self._erl_now: np.ndarray | None = None
        self._verdicts: deque[bool] = deque(maxlen=ERL_BLOCKS)

    def fits(self) -> bool:
        """Whether it has judged enough blocks and took few of them for a near-end talker,
        leaving out the latest ``FIT_LAG`` (the user whose onset is being dated)."""
        judged = list(self._verdicts)[:-FIT_LAG]
        return len(judged) >= ERL_LEAST and sum(judged) <= FITS * len(judged)

    def judge(self, heard: np.ndarray, played: np.ndarray) -> np.ndarray:
        """Whether each block of ``heard`` (band levels, one row a block) holds a near-end
        talker, given the far end's blocks ``played`` before it (oldest first, the direct
        sound last); learn the ERL from those that do not."""
        if math.isinf(self.decay):
            predicted = np.max(played[:, :, -_DIRECT_BLOCKS:], axis=2)
        else:
            predicted = np.max(played - self.decay * _AGE, axis=2)
        over = heard - predicted
        near = np.zeros(heard.shape[0], dtype=bool)
        if self._erl_now is not None:
            excess = np.where(heard > QUIET_DB, over - self._erl_now, 0.0)
            near = np.where(excess > 0, excess, 0.0).sum(axis=1) > EXCESS_DB  # NaN never is
            self._verdicts.extend(near.tolist())
        learnt = np.where(predicted > FAR_DB, over, np.nan)
        self._erl.extend(learnt[~near])
        return near

    def reckon(self) -> None:
        """Each band's ERL from the blocks learnt (NaN for a band with too few of them: it
        never stands out), or None before any band has enough."""
        self._erl_now = None
        if len(self._erl) < ERL_LEAST:
            return
        learnt = np.sort(np.array(self._erl), axis=0)  # NaN sorts last
        counts = np.count_nonzero(~np.isnan(learnt), axis=0)
        if not np.any(counts >= ERL_LEAST):
            return
        rank = np.maximum(counts - 1, 0) * ERL_QUANTILE // 100
        erl = learnt[rank, np.arange(learnt.shape[1])]
        erl[counts < ERL_LEAST] = np.nan
        self._erl_now = erl
