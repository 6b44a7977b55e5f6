"""An output that keeps rendered speech instead of playing it, for ``voiced say --output``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from voiced.audio.frames import Int16Array
from voiced.audio.playback import Playback, QueuedClip
from voiced.audio.wav import encode_wav
from voiced.errors import InputError


class WavFileOutput:
    """Collects every clip, back to back, to be written as one WAV file.

    Args:
        rate: The rate of the clips (espeak-ng renders at 22050 Hz).
    """

    def __init__(self, rate: int = 22050) -> None:
        self.rate = rate
        self._parts: list[Int16Array] = []

    def begin(self) -> Playback:
        """Start collecting one reply."""
        return Playback(self._take)

    def stop(self) -> None:
        """Nothing plays, so there is nothing to silence."""

    def hold(self) -> None:
        """Nothing plays, so there is nothing to pause."""

    def release(self) -> None:
        """Nothing was paused."""

    def samples(self) -> Int16Array:
        """Everything collected so far, as one array."""
        return np.concatenate(self._parts) if self._parts else np.zeros(0, np.int16)

    def save(self, path: str) -> None:
        """Write the audio as a 16-bit mono WAV file; "-" writes it to stdout.

        Raises:
            InputError: The file cannot be written.
        """
        data = encode_wav(self.samples(), self.rate)
        if path == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        try:
            Path(path).write_bytes(data)
        except OSError as exc:
            raise InputError(
                f"{path}: cannot write: {exc.strerror}",
                "check that the directory exists and is writable",
            ) from exc

    def _take(self, item: QueuedClip) -> bool:
        if item.clip.rate != self.rate:
            raise InputError(f"a clip at {item.clip.rate} Hz cannot join {self.rate} Hz audio")
        self._parts.append(item.clip.samples)
        item.playback.settle(item.index, item.clip.samples.size)
        return True
