"""Replay mode's files: the audio voiced would have played, every event, and the replayed
microphone in a simulated room (voiced's own output echoed back), all on the input clock."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import soxr  # type: ignore[import-untyped, unused-ignore]

from voiced.audio.echo import EchoCanceller, spans_overlap
from voiced.audio.frames import SAMPLE_RATE, Frame, FrameSource, Int16Array
from voiced.audio.playback import Playback, QueuedClip, resume_point
from voiced.audio.room import SimulatedRoom
from voiced.audio.wav import encode_wav
from voiced.errors import InputError
from voiced.pipeline.clock import InputClock
from voiced.protocol.events import Event
from voiced.protocol.wire import encode


@dataclass
class _Placed:
    item: QueuedClip
    start: int
    end: int
    handle: asyncio.TimerHandle
    before: int = 0
    """Samples of the clip heard before a hold (this placement is the rest of it)."""

    def heard(self, now: int) -> int:
        """Samples of this placement heard by input-clock sample ``now``."""
        return min(max(0, now - self.start), self.end - self.start)


class ClockedOutput:
    """An AudioOutput that 'plays' onto a timeline at the input's rate and clock.

    A clip starts when it is handed over (or when the one before it ends) and is written at
    that input-clock position, so output sample N is what would play while input sample N is
    heard. It counts as played once the clock has passed its end; ``stop()`` cuts it there.
    ``hold()`` cuts it there too but keeps the rest, which ``release()`` places again from the
    clock's present (so the output shows the silence of the hold). It is also the echo
    canceller's reference in replay mode (:meth:`read`), on the input clock.

    Args:
        clock: The input clock.
    """

    def __init__(self, clock: InputClock) -> None:
        self.clock = clock
        self.rate = SAMPLE_RATE
        self._buffer = np.zeros(SAMPLE_RATE * 10, dtype=np.int16)
        self._written = 0
        self._tail = 0
        self._generation = 0
        self._placed: list[_Placed] = []
        self._held: list[tuple[QueuedClip, Int16Array, int]] | None = None
        """While held: each clip still to play, its samples not yet heard and how many were,
        in order."""
        self._playbacks: list[Playback] = []
        """Every playback begun that is not yet done (closed, with each clip out or cut)."""
        self._spans: list[tuple[int, int]] = []
        """[start, end) of the latest clips placed (cut short where they were cut)."""
        self._lock = threading.Lock()

    @property
    def idle(self) -> bool:
        """Whether nothing plays, is held, or is still to come from a playback begun."""
        with self._lock:
            self._playbacks = [p for p in self._playbacks if not p.done]
            return not self._playbacks and not self._placed and self._held is None

    def begin(self) -> Playback:
        """Start the playback of one reply."""
        generation = self._generation
        playback = Playback(lambda item: self._enqueue(item, generation))
        with self._lock:
            self._playbacks.append(playback)
        return playback

    def stop(self) -> None:
        """Cut what is playing at the clock's present; drop what is queued."""
        with self._lock:
            self._generation += 1
            now = self.clock.now()
            for placed in self._placed:
                placed.handle.cancel()
                self._buffer[max(placed.start, now) : placed.end] = 0
                heard = placed.heard(now)
                _settle_cut(
                    placed.item, placed.before + heard, placed.before + placed.end - placed.start
                )
            self._placed.clear()
            for item, rest, before in self._held or []:
                _settle_cut(item, before, before + rest.size)
            self._held = None
            self._tail = min(self._tail, now)
            self._written = min(self._written, max(now, 0))
            self._trim_spans(now)

    def hold(self) -> None:
        """Silence at the clock's present; keep what was not heard for ``release()``."""
        with self._lock:
            if self._held is not None:
                return
            now = self.clock.now()
            held: list[tuple[QueuedClip, Int16Array, int]] = []
            for placed in self._placed:
                placed.handle.cancel()
                clip = self._buffer[placed.start : placed.end]
                heard = resume_point(clip, placed.heard(now), SAMPLE_RATE)  # say it again
                rest = clip[heard:].copy()
                self._buffer[max(placed.start, now) : placed.end] = 0
                held.append((placed.item, rest, placed.before + heard))
            self._placed.clear()
            self._held = held
            self._tail = min(self._tail, now)
            self._written = min(self._written, max(now, 0))
            self._trim_spans(now)

    def release(self) -> None:
        """Place what ``hold()`` kept (and what came since) from the clock's present."""
        with self._lock:
            held, self._held = self._held, None
        for item, rest, before in held or []:
            self._place(item, rest, before)

    def segment(self, at: int, count: int) -> Int16Array:
        """The ``count`` samples played from input-clock position ``at`` (silence outside
        the output)."""
        out: Int16Array = np.zeros(count, dtype=np.int16)
        with self._lock:
            lo, hi = max(at, 0), min(at + count, self._written)
            if lo < hi:
                out[lo - at : hi - at] = self._buffer[lo:hi]
        return out

    def read(self, at: int, count: int) -> Int16Array | None:
        """The echo canceller's reference: like ``segment``, or None when nothing played
        within ``TAIL_S`` before these samples or during them."""
        with self._lock:
            if not spans_overlap(self._spans, at, count):
                return None
        return self.segment(at, count)

    def _trim_spans(self, now: int) -> None:
        self._spans = [(s, min(e, now)) for s, e in self._spans if s < now]

    def samples(self, until: int = 0) -> Int16Array:
        """The output so far, at least ``until`` samples long (silence after the last clip)."""
        with self._lock:
            length = max(self._written, until)
            self._grow(length)
            return self._buffer[:length].copy()

    def save(self, path: Path, until: int = 0) -> None:
        """Write the output as a 16 kHz mono WAV file.

        Raises:
            InputError: The file cannot be written.
        """
        data = encode_wav(self.samples(until), SAMPLE_RATE)
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise InputError(f"{path}: cannot write the output: {exc.strerror}") from exc

    def _enqueue(self, item: QueuedClip, generation: int) -> bool:
        samples = _resample(item.clip.samples, item.clip.rate)
        with self._lock:
            if generation != self._generation:
                return False
            if self._held is not None:
                self._held.append((item, samples, 0))
                return True
        self._place(item, samples)
        return True

    def _place(self, item: QueuedClip, samples: Int16Array, before: int = 0) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            start = max(self.clock.now(), self._tail)
            end = start + samples.size
            self._grow(end)
            self._buffer[start:end] = samples
            self._written = max(self._written, end)
            self._tail = end
            delay = (end - self.clock.now()) / SAMPLE_RATE
            handle = loop.call_later(max(0.0, delay), self._done, item)
            placed = _Placed(item, start, end, handle, before)
            self._placed.append(placed)
            self._spans = [*self._spans[-63:], (start, end)]

    def _done(self, item: QueuedClip) -> None:
        with self._lock:
            self._placed = [p for p in self._placed if p.item is not item]
        item.playback.settle(item.index, item.clip.samples.size)

    def _grow(self, length: int) -> None:
        if length > self._buffer.size:
            bigger = np.zeros(max(length, self._buffer.size * 2), dtype=np.int16)
            bigger[: self._buffer.size] = self._buffer
            self._buffer = bigger


def _settle_cut(item: QueuedClip, heard: int, length: int) -> None:
    """Tell the clip's Playback that ``heard`` of its ``length`` samples (at 16 kHz) played."""
    total = item.clip.samples.size
    item.playback.settle(item.index, heard * total // max(1, length), cut=True)


def _resample(samples: Int16Array, rate: int) -> Int16Array:
    if rate == SAMPLE_RATE:
        return samples
    floats = soxr.resample(samples.astype(np.float32) / 32768.0, rate, SAMPLE_RATE)
    out: Int16Array = np.clip(np.rint(floats * 32768.0), -32768, 32767).astype(np.int16)
    return out


class RoomSource:
    """The replayed file as a microphone in a room: voiced's own output is echoed into it
    (when there is a room) and cancelled again (when there is a canceller), on the loop.

    Args:
        source: The replayed file.
        room: What echoes the output into it, or None.
        echo: Takes the output out again (its reference is on the input clock), or None.
    """

    def __init__(
        self, source: FrameSource, room: SimulatedRoom | None, echo: EchoCanceller | None
    ) -> None:
        self.source, self.room, self.echo = source, room, echo

    async def frames(self) -> AsyncIterator[Frame]:
        """The file's frames, echoed and cleaned."""
        async for frame in self.source.frames():
            heard = self.room.mix(frame) if self.room is not None else frame
            if self.echo is None:
                yield heard
                continue
            for cleaned in self.echo.process([heard], heard.start):
                yield cleaned

    def wait_below(self, level_db: float | None) -> None:
        """Passed on to the file."""
        self.source.wait_below(level_db)

    def listen_closely(self, on: bool) -> None:
        """Passed on to the file."""
        self.source.listen_closely(on)

    async def aclose(self) -> None:
        """Close the file."""
        await self.source.aclose()


class EventsFile:
    """Writes every event as a JSON line with ``t``, the input clock in seconds.

    Args:
        path: The file to write (replaced).
        clock: The input clock.

    Raises:
        InputError: The file cannot be created.
    """

    def __init__(self, path: Path, clock: InputClock) -> None:
        self.path, self.clock = path, clock
        try:
            self._file: IO[bytes] | None = path.open("wb")
        except OSError as exc:
            raise InputError(f"{path}: cannot write the events: {exc.strerror}") from exc

    def __call__(self, event: Event) -> None:
        """Write one event (a bus listener); each line is flushed, so a crash keeps it."""
        if self._file is not None:
            self._file.write(encode(event, t=round(self.clock.seconds(), 4)))
            self._file.flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
