"""In-process echo cancellation: WebRTC's AEC3 takes what voiced plays out of what it hears.

The far end (the reference) is what the player handed to the speaker, placed on a timeline of
16 kHz sample positions (:mod:`voiced.audio.farend` for the speaker, replay mode's output for
a file). The capture hands each block of frames to :meth:`EchoCanceller.process` with the
position of its first sample on that timeline. While nothing was played around them, frames
pass through; while something was (and for ``TAIL_S`` after, the room's echo dying away),
AEC3 cleans them, having first heard the room as it was just before (``PRIME_S``). Either way
the frames come out ``LAG`` samples (8 ms) later than they went in and are labelled with the
time their audio was heard: AEC3's output lags its input by a fixed 128 samples, and the
pass-through keeps the same lag so the two join without a seam.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from voiced.audio.doubletalk import NearEnd
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, Int16Array

if TYPE_CHECKING:
    from pywebrtc_audio import EchoCanceller as Aec3

log = logging.getLogger(__name__)

LAG = 128
"""AEC3's output lags its input by this many samples (8 ms at 16 kHz), always."""
TAIL_S = 0.6
"""AEC3 keeps running this long after the reference falls silent (the room's echo tail)."""
REFERENCE_DB = -50.0
"""A frame whose reference is louder than this (dBFS) can hold voiced's echo: it is measured."""
QUIET_DB = -55.0
"""A measured frame quieter than this (dBFS) at the microphone heard nothing of voiced."""
WARM_UP_S = 1.0
"""Echo AEC3 must have heard before speech over a reply is trusted to be the user's (with
``RECENT_S``'s window well cleaned, and the speech not what is left of the echo: ``REMOVED_DB``)."""
RECENT_S = (1.5, 0.5)
"""Trust is judged on the frames from this long ago up to this long ago: the newest half
second may hold the very speech being judged (the user's voice over the reply), which no
echo canceller removes and which would count as echo left in."""
QUANTILE = 50
"""Trust needs this percentile (the median) of the recent frames' echo reduction above the
minimum. The loud leftovers the segmenter could take for speech are caught where it matters,
when speech over a reply would stop it (``EchoMeter.removed_db``): in the benchmark's
reverberant room the 25th percentile stayed under 20 dB through quiet stretches of the reply
while AEC3 was working well."""
PRIME_S = 0.5
"""AEC3 first hears this much of what the microphone heard just before voiced began to play,
with a silent reference: from it, it learns how loud the room itself is. Started cold, it
takes the room to be about -60 dBFS and, the echo masking the room from then on, adds comfort
noise at that level all through the reply, sound of its own making above a quieter room's
(which the segmenter took for a would-be utterance, and Silero, resting on it, then missed
the user's first words). A quarter second is enough for it; this costs about 5 ms once."""
REMOVED_DB = 10.0
"""Speech heard over a reply from which the canceller took at least this much (over the last
frames) is voiced's own echo, less: the user's voice is not voiced's, so while the user speaks
the canceller takes out little of what the microphone hears."""
BLOCK = 160
"""AEC3 works on 10 ms blocks."""
LEVELS_KEPT = 100
"""Frames (3 s) whose energy before and after the canceller is kept."""
NEVER_HEARD = math.inf
"""The echo reduction recorded for a frame in which the microphone heard nothing of voiced."""


class Reference(Protocol):
    """What was played, on a timeline of 16 kHz sample positions shared with the capture."""

    def read(self, at: int, count: int) -> Int16Array | None:
        """The ``count`` samples played from position ``at`` (silence where nothing was), or
        None when nothing was played within ``TAIL_S`` before them or during them."""
        ...


class EchoMeter:
    """The echo reduction (ERLE) of the frames that could hold voiced's echo.

    Written by the thread that cancels, read from any thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recent: deque[tuple[int, float]] = deque(maxlen=round(RECENT_S[0] * 34))
        self._reply: list[float] = []
        self._heard = 0
        """Measured frames in which the microphone heard voiced, since the start."""
        self._levels: deque[tuple[float, float]] = deque(maxlen=LEVELS_KEPT)
        """Energy of each of the latest frames before and after the canceller, oldest first."""

    def add_levels(self, before: float, after: float) -> None:
        """Record one frame's energy as heard and as handed on (any frame, cleaned or not)."""
        with self._lock:
            self._levels.append((before, after))

    def removed_db(self, frames: int) -> float:
        """How much the canceller took out of the last ``frames`` frames (dB; 0 when it
        passed them through)."""
        with self._lock:
            last = list(self._levels)[-frames:]
        before = sum(b for b, _ in last)
        after = sum(a for _, a in last)
        if not last or before <= 0:
            return 0.0
        return 10.0 * math.log10(before / max(after, before * 1e-9))

    def add(self, at: int, erle_db: float) -> None:
        """Record one measured frame at reference position ``at`` (NEVER_HEARD: silent)."""
        with self._lock:
            self._recent.append((at, erle_db))
            if erle_db != NEVER_HEARD:
                self._reply.append(erle_db)
                self._heard += 1

    def begin_reply(self) -> None:
        """A reply starts: ``reply_db`` counts from here."""
        with self._lock:
            self._reply = []

    def reply_db(self, least_frames: int = 10) -> float | None:
        """Median echo reduction over the frames since ``begin_reply`` in which voiced was
        heard, or None with fewer than ``least_frames`` of them."""
        with self._lock:
            values = list(self._reply)
        return round(percentile(values, 50), 1) if len(values) >= least_frames else None

    def reply_frames(self) -> int:
        """Frames since ``begin_reply`` in which the microphone heard voiced."""
        with self._lock:
            return len(self._reply)

    def trusted(self, min_db: float) -> bool:
        """Whether the echo left in is too faint to pass for speech: AEC3 has heard
        ``WARM_UP_S`` of echo and the recent frames (``RECENT_S``) were cleaned by at least
        ``min_db`` (their ``QUANTILE`` percentile), or heard nothing of voiced."""
        with self._lock:
            if not self._recent:
                return False
            newest = self._recent[-1][0]
            early, late = (round(s * SAMPLE_RATE) for s in RECENT_S)
            window = [v for at, v in self._recent if newest - early <= at <= newest - late]
            warmed = self._heard * FRAME_SAMPLES >= WARM_UP_S * SAMPLE_RATE
            silent = bool(window) and all(v == NEVER_HEARD for v in window)
        if len(window) < 10:
            return False
        if silent:  # the microphone does not hear the speaker (headphones, another room)
            return True
        return warmed and percentile(window, QUANTILE) >= min_db


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of ``values``, as ``np.percentile`` gives it (linear
    interpolation), in plain Python for the few dozen values the meter judges on the loop.

    numpy's percentile, quantile and median import ``numpy.ma`` on their first call, 10-25 ms
    that fell on the event loop at the first speech over a reply of the daemon's life (when
    ``EchoMeter.trusted`` is first asked), just as that speech could stop the reply.
    """
    ordered = sorted(values)
    at = q / 100 * (len(ordered) - 1)
    below = math.floor(at)
    above = min(below + 1, len(ordered) - 1)
    a, b, t = ordered[below], ordered[above], at - below
    return a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t)


class EchoCanceller:
    """Cleans the microphone's frames of what voiced played, with WebRTC's AEC3.

    AEC3 is not thread-safe: one thread owns each instance (the first to call ``process``).
    A later call from another thread (the microphone reopened: a new PortAudio thread) starts
    a fresh instance there, which adapts to the room again.

    Args:
        reference: What was played, on the timeline the caller gives positions on.
    """

    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self.meter = EchoMeter()
        self.near_end = NearEnd()
        """When the user began to speak over voiced, from the raw microphone."""
        self.cleaned = 0
        """Frames that went through AEC3 (the others passed through)."""
        self._aec: Aec3 | None = None
        self._owner = 0
        self._held: Int16Array = np.zeros(LAG, dtype=np.int16)
        self._next = 0
        """Input position the next frame must start at to follow on (else the lag restarts)."""
        self._engaged = False
        self._started = False
        self._before: deque[Int16Array] = deque()
        """What the microphone heard while frames passed through, the latest ``PRIME_S``."""
        self._before_size = 0

    def process(self, frames: list[Frame], at: int) -> list[Frame]:
        """Clean a run of contiguous frames (in the owning thread).

        Args:
            frames: Frames in input order, each following the one before.
            at: Reference position of ``frames[0]``'s first sample.

        Returns:
            As many frames, each starting ``LAG`` samples earlier and holding the audio heard
            then, less voiced's echo; the very first frame of a stream (which would start
            before it) is left out.
        """
        if not frames:
            return []
        start = frames[0].start
        if start != self._next or not self._started:
            self._held = np.zeros(LAG, dtype=np.int16)  # a gap: what was held is not next
            self._engaged = False
            self._before.clear()
            self._before_size = 0
        raw = frames[0].samples if len(frames) == 1 else np.concatenate([f.samples for f in frames])
        self._next = start + raw.size
        far = self.reference.read(at, raw.size)
        if far is None:
            self._engaged = False
            self._keep_before(raw)
            out = np.concatenate((self._held, raw[:-LAG]))
            for i in range(0, out.size, FRAME_SAMPLES):
                energy = _energy(out[i : i + FRAME_SAMPLES])
                self.meter.add_levels(energy, energy)
        else:
            out = self._cancel(raw, far, at)
            self.near_end.feed(raw, far, start)
        self._held = raw[-LAG:].copy()
        first = start - LAG
        result = [
            Frame(out[i : i + FRAME_SAMPLES], first + i)
            for i in range(0, out.size, FRAME_SAMPLES)
            if first + i >= 0
        ]
        self._started = True
        return result

    def _keep_before(self, raw: Int16Array) -> None:
        """Keep a copy of ``raw`` (its frames go on downstream) among the latest ``PRIME_S``
        heard while nothing played."""
        self._before.append(raw.copy())
        self._before_size += raw.size
        while self._before_size - self._before[0].size >= PRIME_S * SAMPLE_RATE:
            self._before_size -= self._before.popleft().size

    def _prime(self, aec: Aec3) -> None:
        """Let AEC3 hear the room as it was just before voiced played (whole 10 ms blocks)."""
        if not self._before:
            return
        heard = np.concatenate(self._before)
        heard = heard[heard.size % BLOCK :]
        self._before.clear()
        self._before_size = 0
        if heard.size:
            aec.process(heard, np.zeros(heard.size, dtype=np.int16))

    def _cancel(self, raw: Int16Array, far: Int16Array, at: int) -> Int16Array:
        aec = self._instance()
        if not self._engaged:
            self._prime(aec)
        cleaned: Int16Array = aec.process(raw, far)
        if not self._engaged:  # its first LAG samples are from before: use what was held
            cleaned = cleaned.copy()
            cleaned[:LAG] = self._held
            self._engaged = True
        self.cleaned += raw.size // FRAME_SAMPLES
        aligned = np.concatenate((self._held, raw[:-LAG]))
        self._measure(aligned, cleaned, far, at - LAG)
        return cleaned

    def _instance(self) -> Aec3:
        me = threading.get_ident()
        if self._aec is None or self._owner != me:
            from pywebrtc_audio import EchoCanceller as Aec3

            if self._aec is not None:
                log.debug("echo canceller: a new thread owns the audio; AEC3 starts afresh")
            self._aec, self._owner = Aec3(sample_rate=SAMPLE_RATE, num_channels=1), me
            self._engaged = False
        return self._aec

    def _measure(self, heard: Int16Array, cleaned: Int16Array, far: Int16Array, at: int) -> None:
        for i in range(0, heard.size, FRAME_SAMPLES):
            part = slice(i, i + FRAME_SAMPLES)
            before, after = _energy(heard[part]), _energy(cleaned[part])
            self.meter.add_levels(before, after)
            if _db(far[part]) < REFERENCE_DB:
                continue
            size = heard[part].size
            before_db = _level_db(before, size)
            if before_db < QUIET_DB:
                self.meter.add(at + i, NEVER_HEARD)
            else:
                self.meter.add(at + i, before_db - _level_db(after, size))


def _energy(samples: Int16Array) -> float:
    x = samples.astype(np.float32)
    return float(np.dot(x, x))


def _db(samples: Int16Array) -> float:
    """RMS level in dBFS (-120 for silence)."""
    return _level_db(_energy(samples), samples.size)


def _level_db(energy: float, size: int) -> float:
    """The RMS level in dBFS (-120 for silence) of ``size`` samples of this ``_energy``."""
    return 10.0 * math.log10(max(energy / max(1, size) / 32768.0**2, 1e-12))


def spans_overlap(spans: Iterable[tuple[int, int]], at: int, count: int) -> bool:
    """Whether any [start, end) span, extended by ``TAIL_S`` after its end, meets
    [at, at + count)."""
    tail = round(TAIL_S * SAMPLE_RATE)
    return any(start < at + count and end + tail > at for start, end in spans)
