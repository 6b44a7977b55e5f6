"""``--input FILE``: an audio file of any rate and channel count standing in for the microphone."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, Protocol

import numpy as np
import soundfile  # type: ignore[import-untyped, unused-ignore]

from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, Framer, Int16Array
from voiced.audio.wav import StreamResampler, as_float_mono, check_readable, float_to_int16
from voiced.errors import InputError

BLOCK_SECONDS = 1.0
"""Audio decoded per read (in a worker thread, so the loop never waits on the disk)."""


class BlockReader(Protocol):
    """Decodes a file into 16 kHz mono int16 blocks."""

    duration: float | None
    """Length in seconds, when known before decoding."""

    def read(self) -> Int16Array | None:
        """Return the next block, or None at the end of the file."""
        ...

    def close(self) -> None:
        """Release the file or decoder process."""
        ...


class SndfileReader:
    """WAV, FLAC, OGG and the other formats libsndfile reads, resampled with soxr."""

    def __init__(self, path: Path) -> None:
        self._file = soundfile.SoundFile(str(path))
        self._resample = StreamResampler(int(self._file.samplerate))
        self._block = int(self._file.samplerate * BLOCK_SECONDS)
        self._done = False
        self.duration: float | None = self._file.frames / self._file.samplerate

    def read(self) -> Int16Array | None:
        """Return the next block, or None at the end of the file."""
        if self._done:
            return None
        data = self._file.read(self._block, dtype="float32", always_2d=True)
        last = len(data) < self._block
        self._done = last
        return self._resample(float_to_int16(as_float_mono(data)), last=last)

    def close(self) -> None:
        """Close the file."""
        self._file.close()


class FfmpegReader:
    """Anything ffmpeg decodes, converted to 16 kHz mono by ffmpeg itself."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.duration: float | None = None
        self._errors: IO[bytes] = tempfile.TemporaryFile()
        command = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-vn", "-ac", "1"]
        command += ["-ar", str(SAMPLE_RATE), "-f", "s16le", "-"]
        self._proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._errors
        )

    def read(self) -> Int16Array | None:
        """Return the next block, or None at the end of the file.

        Raises:
            InputError: ffmpeg could not decode the file.
        """
        assert self._proc.stdout is not None
        data = self._proc.stdout.read(int(SAMPLE_RATE * BLOCK_SECONDS) * 2)
        if data:
            return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)
        if self._proc.wait() != 0:
            self._errors.seek(0)
            lines = self._errors.read().decode(errors="replace").strip().splitlines()
            raise InputError(
                f"{self.path}: not audio that can be decoded "
                f"({lines[-1] if lines else 'ffmpeg failed'})",
                f"check that the file plays, or convert it: "
                f"ffmpeg -i {self.path.name} -ar 16000 -ac 1 {self.path.stem}.flac",
            )
        return None

    def close(self) -> None:
        """Stop ffmpeg and release its pipes."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._errors.close()


def open_reader(path: Path) -> BlockReader:
    """Open ``path`` with libsndfile, or with ffmpeg when libsndfile cannot read it.

    Raises:
        InputError: The file is missing or unreadable, or it is not audio and ffmpeg is absent.
    """
    check_readable(path)
    try:
        return SndfileReader(path)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        why = str(exc)
    if not shutil.which("ffmpeg"):
        raise InputError(
            f"{path}: cannot decode ({why})",
            "WAV, FLAC and OGG are read directly; for other formats install ffmpeg",
        )
    return FfmpegReader(path)


def check_decodable(path: Path) -> None:
    """Open ``path`` and decode its first block, so a bad file is refused before anything starts.

    Raises:
        InputError: The file is missing, unreadable, a directory, not audio, truncated
            before its first sample, or holds no audio.
    """
    reader = open_reader(path)
    try:
        first = reader.read()
    finally:
        reader.close()
    if first is None or first.size == 0:
        raise InputError(f"{path}: the file holds no audio", "check that it plays")


class FileSource:
    """Frames from a file, paced like a microphone (each frame when its audio has 'arrived').

    Args:
        path: Any WAV/FLAC/OGG, or anything ffmpeg reads; any rate and channel count.
        fast: Yield frames as fast as they decode instead of in real time.
        clock: Monotonic seconds, for pacing.
        sleep: Awaitable sleep, for pacing.
        hurry: Asked before each frame: while it answers True the frame is not waited for,
            and pacing goes on from there (the next frame comes a frame's length after it)
            once it answers False again.
    """

    def __init__(
        self,
        path: Path,
        fast: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        hurry: Callable[[], bool] | None = None,
    ) -> None:
        self.path = Path(path)
        self.fast = fast
        self._clock = clock
        self._sleep = sleep
        self._hurry = hurry
        self._began = 0.0
        """When sample 0 would have arrived, had every frame come in real time from it."""
        self._reader: BlockReader | None = None
        self._closed = False

    @property
    def duration(self) -> float | None:
        """Length of the file in seconds once started, when the decoder knows it."""
        return self._reader.duration if self._reader else None

    async def start(self) -> None:
        """Open the file (``frames()`` calls this when needed).

        Raises:
            InputError: The file is missing, unreadable or not audio.
        """
        if self._reader is None and not self._closed:
            self._reader = await asyncio.to_thread(open_reader, self.path)

    async def frames(self) -> AsyncIterator[Frame]:
        """Yield the file's frames; the last is padded with silence to a whole frame.

        Raises:
            InputError: The file cannot be opened or stops decoding part-way.
        """
        await self.start()
        reader = self._reader
        if reader is None:
            return
        self._began = self._clock()
        framer = Framer()
        try:
            while not self._closed:
                block = await asyncio.to_thread(reader.read)
                ready = framer.flush() if block is None else framer.push(block)
                for frame in ready:
                    await self._pace(frame)
                    if self._closed:
                        return
                    yield frame
                if block is None:
                    return
        finally:
            await self.aclose()

    def wait_below(self, level_db: float | None) -> None:
        """A file has no wake-ups to spare: its frames come as they are paced."""

    def listen_closely(self, on: bool) -> None:
        """A file's frames come as they are paced, in frames."""

    async def _pace(self, frame: Frame) -> None:
        if self.fast:
            if frame.start % (64 * FRAME_SAMPLES) == 0:
                await asyncio.sleep(0)  # let other tasks run between bursts
            return
        if self._hurry is not None:
            await asyncio.sleep(0)  # what the last frame started runs before the question
            if self._hurry():
                # Not waited for: from now on the file runs as if this frame had just arrived.
                self._began = min(self._began, self._clock() - frame.end / SAMPLE_RATE)
                return
        delay = self._began + frame.end / SAMPLE_RATE - self._clock()
        if delay > 0:
            await self._sleep(delay)

    async def aclose(self) -> None:
        """Stop and release the file; safe to call twice."""
        self._closed = True
        reader, self._reader = self._reader, None
        if reader is not None:
            await asyncio.to_thread(reader.close)
