"""A reply's clips on their way to an output: what was queued, handed out, heard or cut."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from voiced.audio.frames import Int16Array

RESUME_BACKUP_S = (0.15, 1.0)
"""A held clip resumes at the last pause between words in this span before where it was
heard up to (so the cut word is said again whole), or at the near end without one."""
GAP_S = 0.03
"""Quiet that counts as a pause between words."""
QUIET = 200
"""int16 level below which a sample counts as quiet."""


@dataclass(frozen=True)
class Clip:
    """Mono int16 audio to play."""

    samples: Int16Array
    rate: int

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return self.samples.size / self.rate


@dataclass(frozen=True)
class ClipReport:
    """What became of one clip: ``played`` of its ``total`` samples reached the speaker."""

    total: int
    played: int

    @property
    def status(self) -> Literal["played", "partial", "skipped"]:
        """Fully played, cut off part way, or never heard."""
        if self.played >= self.total:
            return "played"
        return "partial" if self.played > 0 else "skipped"


class Playback:
    """The clips of one reply on their way to the speaker (made by an output's ``begin()``).

    Args:
        enqueue: Hands a clip to the output; returns False when the output was stopped
            since this Playback began (the clip is then never played).
    """

    def __init__(self, enqueue: Callable[[QueuedClip], bool]) -> None:
        self._enqueue = enqueue
        self._lock = threading.Lock()
        self._totals: list[int] = []
        self._played: list[int] = []
        self._queued: list[bool] = []  # handed to the output, not yet out in full or cut
        self._closed = False
        self.cancelled = False
        """True once a stop cut this reply short; clips added later are dropped."""
        self._done = threading.Event()
        self._drain = 0.0  # seconds the last clip still had to play when it was handed out
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def add(self, clip: Clip) -> int:
        """Queue a clip after the ones already added (thread-safe); return its index."""
        with self._lock:
            index = len(self._totals)
            self._totals.append(clip.samples.size)
            self._played.append(0)
            self._queued.append(not self.cancelled)
            if self.cancelled:
                return index
        if not self._enqueue(QueuedClip(self, index, clip)):
            self.settle(index, 0, cut=True)
        return index

    def close(self) -> None:
        """No more clips will be added; ``finished()`` resolves once the queued ones end."""
        with self._lock:
            self._closed = True
        self._check_done()

    async def finished(self) -> None:
        """Wait until every clip has played out, or the playback was stopped."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            waiting = not self._done.is_set()
            if waiting:
                self._waiters.append((loop, future))
        if waiting:
            await future
        if not self.cancelled and self._drain > 0:
            await asyncio.sleep(self._drain)

    @property
    def done(self) -> bool:
        """Whether it is closed and every clip has played out or been cut."""
        return self._done.is_set()

    def reports(self) -> list[ClipReport]:
        """One report per added clip, in order."""
        with self._lock:
            return [ClipReport(t, p) for t, p in zip(self._totals, self._played, strict=True)]

    def settle(self, index: int, played: int, cut: bool = False, drain: float = 0.0) -> None:
        """Record that clip ``index`` was handed out in full, or cut after ``played`` samples.

        Args:
            index: The clip, as ``add`` numbered it.
            played: Samples of it that reached (or will reach) the speaker.
            cut: True when a stop ended it; a clip that had already played out is left alone.
            drain: Seconds until its last sample is heard.
        """
        with self._lock:
            if cut and played >= self._totals[index]:
                return
            self._played[index] = min(played, self._totals[index])
            self.cancelled = self.cancelled or cut
            self._drain = drain
            self._queued[index] = False
        self._check_done()

    def _check_done(self) -> None:
        with self._lock:
            if not self._closed or any(self._queued) or self._done.is_set():
                return
            self._done.set()
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class QueuedClip:
    """One clip inside an output: how much was handed to the device and when it started."""

    def __init__(self, playback: Playback, index: int, clip: Clip) -> None:
        self.playback = playback
        self.index = index
        self.clip = clip
        self.samples = clip.samples
        """The samples as played (resampled when the output runs at another rate)."""
        self.reference: Int16Array | None = None
        """The clip at 16 kHz, when an output keeps an echo canceller's reference."""
        self.position = 0
        self.start_time: float | None = None
        """Stream time at which its first sample reaches the speaker."""

    @property
    def handed_all(self) -> bool:
        """Whether every sample has been handed to the device."""
        return self.position >= self.samples.size

    def hand_out(self, out: Int16Array, at: float, now: float, rate: int) -> int:
        """Copy the next samples into ``out`` (heard from stream time ``at``); return how many."""
        if self.start_time is None:
            self.start_time = at
        count = min(out.size, self.samples.size - self.position)
        out[:count] = self.samples[self.position : self.position + count]
        self.position += count
        if self.handed_all:
            drain = max(0.0, at + count / rate - now)
            self.playback.settle(self.index, self.clip.samples.size, drain=drain)
        return count

    def heard_at(self, now: float | None, rate: int) -> int:
        """Samples heard by stream time ``now``; without a clock (``now`` None, or never
        started) what was handed out counts as heard."""
        if self.start_time is None or now is None:
            return self.position
        return min(max(0, int((now - self.start_time) * rate)), self.position)

    def cut(self, now: float | None, rate: int) -> None:
        """Report how much was heard before a stop at stream time ``now`` (None: unknown)."""
        heard = self.heard_at(now, rate)
        scaled = heard * self.clip.samples.size // max(1, self.samples.size)
        self.playback.settle(self.index, scaled, cut=True)


def resume_point(samples: Int16Array, heard: int, rate: int) -> int:
    """Where to resume a clip heard up to ``heard``: the end of the last pause between words
    within ``RESUME_BACKUP_S`` before it, else the near end of that span."""
    near, far = (round(s * rate) for s in RESUME_BACKUP_S)
    lo, hi = max(0, heard - far), max(0, heard - near)
    if hi <= lo:
        return lo
    gap = round(GAP_S * rate)
    quiet = np.concatenate(([0], np.cumsum(np.abs(samples[lo:hi].astype(np.int32)) < QUIET)))
    pauses = np.flatnonzero(quiet[gap:] - quiet[:-gap] == gap)  # windows of gap quiet samples
    return lo + int(pauses[-1]) + gap if pauses.size else hi
