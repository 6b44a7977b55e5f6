"""Long files: cut a recording into pieces at the silences between utterances."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, Int16Array
from voiced.audio.wav import decode, encode_flac, to_mono_16k
from voiced.config import ListenSettings
from voiced.errors import InputError
from voiced.listen.events import Dropped, Event, SpeechEnded
from voiced.listen.segmenter import Segmenter

FLAC_BYTES_PER_SECOND = SAMPLE_RATE * 2 * 1.02
"""Worst case for 16-bit mono FLAC: uncompressed PCM plus frame headers."""
MIN_PART = 0.5
"""A cut is looked for first in the later part of the window, past this share of it, so
pieces stay long."""


@dataclass(frozen=True)
class Chunk:
    """One piece of a long recording, ready to upload."""

    index: int
    start: int
    """First sample, 16 kHz, on the whole file's clock."""
    end: int
    """One past the last sample."""
    flac: bytes = b""
    """The piece as 16 kHz mono FLAC."""

    @property
    def start_s(self) -> float:
        """Where the piece starts in the file, in seconds."""
        return self.start / SAMPLE_RATE

    @property
    def duration(self) -> float:
        """Length of the piece in seconds."""
        return (self.end - self.start) / SAMPLE_RATE


def max_chunk_samples(chunk_max_s: float, upload_limit_mb: float) -> int:
    """Longest piece allowed by the length setting and by the upload limit, in samples."""
    by_size = upload_limit_mb * 1_000_000 * 0.98 / FLAC_BYTES_PER_SECOND
    seconds = min(chunk_max_s, by_size)
    return max(FRAME_SAMPLES, int(seconds * SAMPLE_RATE) // FRAME_SAMPLES * FRAME_SAMPLES)


def load_16k(path: Path) -> Int16Array:
    """Decode any audio file (libsndfile, else ffmpeg) to 16 kHz mono int16.

    Raises:
        InputError: The file is missing, unreadable, not audio, or silent-empty.
    """
    samples, rate = decode(path)
    audio = to_mono_16k(samples, rate)
    if audio.size == 0:
        raise InputError(f"{path}: the file holds no audio", "check that it plays")
    return audio


def speech_spans(audio: Int16Array, settings: ListenSettings | None = None) -> list[range]:
    """Run the segmenter over the whole recording and return where speech is, in samples.

    Builds a segmenter (loads Silero, about 80 ms) and costs tens of microseconds per 30 ms
    frame: call it in a worker thread.
    """
    segmenter = Segmenter(settings)
    spans: list[range] = []
    whole = len(audio) // FRAME_SAMPLES * FRAME_SAMPLES
    frames = audio[:whole].reshape(-1, FRAME_SAMPLES)
    for number, samples in enumerate(frames):
        spans += _spans(segmenter.feed(Frame(samples, number * FRAME_SAMPLES)))
    spans += _spans(segmenter.flush())
    return spans


def _spans(events: Iterable[Event]) -> list[range]:
    found = []
    for event in events:
        if isinstance(event, SpeechEnded) or (isinstance(event, Dropped) and event.started):
            found.append(range(event.start, event.end))
    return found


def cut_points(audio: Int16Array, spans: list[range], max_samples: int) -> list[int]:
    """Choose where to cut: in the middle of a silence, each piece at most ``max_samples``.

    A window with no silence between utterances is cut at its quietest 30 ms frame (in the
    later half of the window).
    """
    total = len(audio)
    gaps = _silences(spans, total)
    cuts: list[int] = []
    position = 0
    while total - position > max_samples:
        limit = position + max_samples
        cut = _in_silence(gaps, position + int(max_samples * MIN_PART), limit)
        if cut is None:
            cut = _in_silence(gaps, position + FRAME_SAMPLES, limit)
        if cut is None:
            cut = _quietest(audio, position + max_samples // 2, limit)
        cuts.append(cut)
        position = cut
    return cuts


def _silences(spans: list[range], total: int) -> list[tuple[int, int]]:
    gaps = []
    position = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start > position:
            gaps.append((position, span.start))
        position = max(position, span.stop)
    if position < total:
        gaps.append((position, total))
    return gaps


def _in_silence(gaps: list[tuple[int, int]], low: int, high: int) -> int | None:
    """The middle of the latest silence reaching into (low, high], kept inside the window."""
    for start, end in reversed(gaps):
        if end > low and start < high:
            middle = (start + end) // 2
            return min(max(middle, low + 1, start + 1), high, end - 1)
    return None


def _quietest(audio: Int16Array, low: int, high: int) -> int:
    first = low // FRAME_SAMPLES
    last = max(first + 1, high // FRAME_SAMPLES)
    frames = audio[first * FRAME_SAMPLES : last * FRAME_SAMPLES].astype(np.float64)
    energy = (frames.reshape(-1, FRAME_SAMPLES) ** 2).mean(axis=1)
    return (first + int(np.argmin(energy))) * FRAME_SAMPLES + FRAME_SAMPLES // 2


def plan_chunks(
    audio: Int16Array, max_samples: int, settings: ListenSettings | None = None
) -> list[Chunk]:
    """Cut ``audio`` at silences and encode each piece as FLAC (blocking: use a thread).

    Args:
        audio: The whole recording, 16 kHz mono int16.
        max_samples: Longest piece (see ``max_chunk_samples``).
        settings: The ``[listen]`` settings the segmenter uses to find speech.
    """
    cuts = cut_points(audio, speech_spans(audio, settings), max_samples)
    bounds = [0, *cuts, len(audio)]
    return [
        Chunk(i, start, end, encode_flac(audio[start:end]))
        for i, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]
