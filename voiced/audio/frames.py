"""The unit of audio every stage passes on: 30 ms of 16 kHz mono int16 with its position."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16000
"""Samples per second of every frame."""

FRAME_SAMPLES = 480
"""Samples in one frame (30 ms at 16 kHz)."""

Int16Array = npt.NDArray[np.int16]
"""A 1-D array of int16 samples."""


@dataclass(frozen=True, slots=True)
class Frame:
    """30 ms of audio: ``samples`` is int16 mono at 16 kHz, exactly ``FRAME_SAMPLES`` long."""

    samples: Int16Array
    """The audio, int16, shape (FRAME_SAMPLES,)."""
    start: int
    """Index of the first sample on the input's clock (samples since the source started)."""

    @property
    def end(self) -> int:
        """Index just past the last sample: the next contiguous frame starts here."""
        return self.start + FRAME_SAMPLES

    @property
    def seconds(self) -> float:
        """When the frame starts, in seconds on the input's clock."""
        return self.start / SAMPLE_RATE


class FrameSource(Protocol):
    """Where frames come from: the microphone, or a file standing in for it.

    ``frames()`` is an async generator: ``async for frame in source.frames(): …``. It ends when
    the source is exhausted (a file) or closed; a microphone keeps going until ``aclose()``.
    """

    def frames(self) -> AsyncIterator[Frame]:
        """Yield frames in order; starts are non-decreasing and frame-contiguous unless audio
        was lost (then the next start jumps by what was lost)."""
        ...

    def wait_below(self, level_db: float | None) -> None:
        """A hint from the consumer: frames quieter than ``level_db`` (dBFS) may reach it
        late, in batches, when that costs the source less; None (the start) asks for every
        frame as soon as it is heard."""
        ...

    def listen_closely(self, on: bool) -> None:
        """A hint from the consumer: while ``on`` (voiced is answering), speech must reach it
        as soon as it is heard, even at more cost (a microphone reads smaller blocks)."""
        ...

    async def aclose(self) -> None:
        """Stop the source and release its device or file; safe to call twice."""
        ...


_EMPTY: Int16Array = np.zeros(0, dtype=np.int16)
_EMPTY.flags.writeable = False


class Framer:
    """Cuts a stream of int16 blocks of any length into whole frames, counting samples.

    Args:
        start: Input-clock index of the first sample that will be pushed.
    """

    def __init__(self, start: int = 0) -> None:
        self.next_start = start
        """Index on the input clock of the next frame to come out."""
        self._pending = _EMPTY

    def push(self, block: Int16Array) -> list[Frame]:
        """Add samples; return every frame they complete (possibly none).

        The frames never share memory with ``block`` (a PortAudio buffer is reused after its
        callback). The frames of one push share one copy: the microphone's blocks of whole
        frames then cost one copy and no concatenation, as that runs on every callback.
        """
        if not self._pending.size and not block.size % FRAME_SAMPLES:  # a microphone's block
            return self._cut(block.copy())
        data = np.concatenate((self._pending, block)) if self._pending.size else block
        whole = data.size // FRAME_SAMPLES * FRAME_SAMPLES
        # concatenate made a fresh array; a block pushed as it is must be copied
        owned = np.array(data[:whole], np.int16, copy=True if data is block else None)
        self._pending = np.array(data[whole:], np.int16) if whole != data.size else _EMPTY
        return self._cut(owned)

    def _cut(self, owned: Int16Array) -> list[Frame]:
        """Frames over ``owned``, whole frames the caller owns; the clock moves past them."""
        start = self.next_start
        self.next_start += owned.size
        return [
            Frame(owned[offset : offset + FRAME_SAMPLES], start + offset)
            for offset in range(0, owned.size, FRAME_SAMPLES)
        ]

    def flush(self) -> list[Frame]:
        """Return the last partial frame padded with silence, or nothing if none is pending."""
        if not self._pending.size:
            return []
        padded = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        padded[: self._pending.size] = self._pending
        self._pending = _EMPTY
        frame = Frame(padded, self.next_start)
        self.next_start += FRAME_SAMPLES
        return [frame]

    @property
    def pending(self) -> int:
        """Samples waiting for the rest of their frame."""
        return int(self._pending.size)
