"""Long files: cut a recording into pieces at the silences between utterances, as a stream.

The recording is decoded block by block (``filesource.open_reader``) and fed to a
:class:`Cutter`, which holds one piece's audio plus a short look-ahead: memory stays the same
for a 10-minute file and a 3-hour one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from voiced.audio.filesource import open_reader
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, Int16Array
from voiced.audio.wav import encode_flac
from voiced.config import ListenSettings
from voiced.errors import InputError
from voiced.listen.events import Dropped, Event, SpeechEnded, SpeechStarted
from voiced.listen.segmenter import Segmenter

FLAC_BYTES_PER_SECOND = SAMPLE_RATE * 2 * 1.02
"""Worst case for 16-bit mono FLAC: uncompressed PCM plus frame headers."""
MIN_PART = 0.5
"""A cut is looked for first in the later part of the window, past this share of it, so
pieces stay long."""
LOOKAHEAD_S = 8.0
"""Audio heard past a window's end before its cut is chosen: the segmenter decides an
utterance's end this long after it at most (hangover), so the silences in the window are known."""
UNDECIDED_S = 30.0
"""Further look-ahead allowed while the segmenter still weighs a candidate at the window's end."""


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


class Cutter:
    """Cuts 16 kHz mono blocks into FLAC pieces at silences, as soon as each cut is decided.

    It keeps the audio from the last cut on, at most ``max_samples`` plus the look-ahead
    (``LOOKAHEAD_S``, ``UNDECIDED_S``): about 19 MB for the default 600 s pieces, whatever the
    recording's length. Builds a segmenter (loads Silero, about 80 ms) and costs tens of
    microseconds per 30 ms frame: use it in a worker thread.

    Args:
        max_samples: Longest piece (see ``max_chunk_samples``).
        settings: The ``[listen]`` settings the segmenter uses to find speech.
    """

    def __init__(self, max_samples: int, settings: ListenSettings | None = None) -> None:
        self.max_samples = max_samples
        self._lookahead = int(LOOKAHEAD_S * SAMPLE_RATE)
        self._undecided = int(UNDECIDED_S * SAMPLE_RATE)
        capacity = max_samples + self._lookahead + self._undecided + FRAME_SAMPLES
        self._buffer: Int16Array = np.zeros(capacity, dtype=np.int16)
        # A file is cut at silences, not at turns: the turn model would only cost time.
        self._segmenter = Segmenter(replace(settings or ListenSettings(), turn_model=False))
        self._position = 0
        """Where the current piece starts: the buffer's first sample."""
        self._received = 0
        self._fed = 0
        """Samples given to the segmenter, whole frames only."""
        self._spans: list[tuple[int, int]] = []
        """Speech that ends after the current piece's start."""
        self._before = 0
        """Where the last speech before ``_spans`` ended."""
        self._open: int | None = None
        """Start of the utterance still open, if any."""
        self._index = 0

    def push(self, block: Int16Array) -> list[Chunk]:
        """Add samples; return the pieces whose end they decided (possibly none)."""
        pieces: list[Chunk] = []
        done = 0
        while done < block.size:
            held = self._received - self._position
            take = min(block.size - done, self._buffer.size - held)
            self._buffer[held : held + take] = block[done : done + take]
            self._received += take
            done += take
            self._feed()
            pieces += self._cut(final=False)
        return pieces

    def finish(self) -> list[Chunk]:
        """End of the recording: return the pieces left, the last one included."""
        self._note(self._segmenter.flush())
        pieces = self._cut(final=True)
        if self._received > self._position:
            pieces.append(self._piece(self._received))
        return pieces

    @property
    def total(self) -> int:
        """Samples received so far."""
        return self._received

    def _feed(self) -> None:
        whole = (self._received - self._fed) // FRAME_SAMPLES * FRAME_SAMPLES
        if not whole:
            return
        at = self._fed - self._position
        # The segmenter keeps frames after feed returns: give it its own copy.
        owned = self._buffer[at : at + whole].copy()
        for offset in range(0, whole, FRAME_SAMPLES):
            frame = Frame(owned[offset : offset + FRAME_SAMPLES], self._fed + offset)
            self._note(self._segmenter.feed(frame))
        self._fed += whole

    def _note(self, events: Iterable[Event]) -> None:
        for event in events:
            if isinstance(event, SpeechStarted):
                self._open = event.start
            elif isinstance(event, SpeechEnded) or (isinstance(event, Dropped) and event.started):
                self._spans.append((event.start, event.end))
                self._open = None

    def _cut(self, final: bool) -> list[Chunk]:
        pieces = []
        while self._received - self._position > self.max_samples:
            seen = self._fed - (self._position + self.max_samples)
            undecided = self._open is None and self._segmenter.quiet_below_db is None
            if not final and (
                seen < self._lookahead or (undecided and seen < self._lookahead + self._undecided)
            ):
                break
            pieces.append(self._piece(self._choose(final)))
        return pieces

    def _choose(self, final: bool) -> int:
        """Where to cut the window that starts at ``_position`` (see :func:`cut_points`)."""
        low, limit = self._position, self._position + self.max_samples
        edge = self._received if final else self._fed
        spans = [*self._spans, (self._open, edge)] if self._open is not None else self._spans
        gaps = _silences(spans, edge, self._before)
        cut = _in_silence(gaps, low + int(self.max_samples * MIN_PART), limit)
        if cut is None:
            cut = _in_silence(gaps, low + FRAME_SAMPLES, limit)
        if cut is None:
            cut = _quietest(self._buffer, low, low + self.max_samples // 2, limit)
        return cut

    def _piece(self, cut: int) -> Chunk:
        length = cut - self._position
        chunk = Chunk(self._index, self._position, cut, encode_flac(self._buffer[:length]))
        held = self._received - cut
        self._buffer[:held] = self._buffer[length : length + held]
        self._index += 1
        self._position = cut
        for span in self._spans:
            if span[1] <= cut:
                self._before = max(self._before, span[1])
        self._spans = [span for span in self._spans if span[1] > cut]
        return chunk


def file_chunks(
    path: Path, max_samples: int, settings: ListenSettings | None = None
) -> Iterator[Chunk]:
    """Decode ``path`` block by block and yield its pieces as each is decided (blocking).

    Peak memory is one piece plus the look-ahead, whatever the file's length.

    Raises:
        InputError: The file is missing, unreadable, not audio, or holds no audio.
    """
    reader = open_reader(path)
    try:
        cutter = Cutter(max_samples, settings)
        while (block := reader.read()) is not None:
            yield from cutter.push(block)
        if cutter.total == 0:
            raise InputError(f"{path}: the file holds no audio", "check that it plays")
        yield from cutter.finish()
    finally:
        reader.close()


def plan_chunks(
    audio: Int16Array, max_samples: int, settings: ListenSettings | None = None
) -> list[Chunk]:
    """Cut ``audio`` at silences and encode each piece as FLAC (blocking: use a thread).

    The same :class:`Cutter` as for files, fed one second at a time.

    Args:
        audio: The whole recording, 16 kHz mono int16.
        max_samples: Longest piece (see ``max_chunk_samples``).
        settings: The ``[listen]`` settings the segmenter uses to find speech.
    """
    cutter = Cutter(max_samples, settings)
    chunks: list[Chunk] = []
    for start in range(0, len(audio), SAMPLE_RATE):
        chunks += cutter.push(audio[start : start + SAMPLE_RATE])
    return chunks + cutter.finish()


def cut_points(audio: Int16Array, spans: list[range], max_samples: int) -> list[int]:
    """Choose where to cut, knowing all the speech: in the middle of a silence, each piece at
    most ``max_samples``.

    A window with no silence between utterances is cut at its quietest 30 ms frame (in the
    later half of the window). :class:`Cutter` makes the same choice with what it has heard.
    """
    total = len(audio)
    gaps = _silences([(s.start, s.stop) for s in spans], total)
    cuts: list[int] = []
    position = 0
    while total - position > max_samples:
        limit = position + max_samples
        cut = _in_silence(gaps, position + int(max_samples * MIN_PART), limit)
        if cut is None:
            cut = _in_silence(gaps, position + FRAME_SAMPLES, limit)
        if cut is None:
            cut = _quietest(audio, 0, position + max_samples // 2, limit)
        cuts.append(cut)
        position = cut
    return cuts


def _silences(spans: list[tuple[int, int]], total: int, position: int = 0) -> list[tuple[int, int]]:
    gaps = []
    for start, stop in sorted(spans):
        if start > position:
            gaps.append((position, start))
        position = max(position, stop)
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


def _quietest(audio: Int16Array, offset: int, low: int, high: int) -> int:
    """The middle of the quietest 30 ms frame in [low, high); ``audio[0]`` is sample ``offset``."""
    first = max(low // FRAME_SAMPLES, -(-offset // FRAME_SAMPLES))
    last = max(first + 1, high // FRAME_SAMPLES)
    frames = audio[first * FRAME_SAMPLES - offset : last * FRAME_SAMPLES - offset]
    energy = (frames.astype(np.float64).reshape(-1, FRAME_SAMPLES) ** 2).mean(axis=1)
    return (first + int(np.argmin(energy))) * FRAME_SAMPLES + FRAME_SAMPLES // 2
