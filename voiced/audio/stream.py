"""One open PortAudio input stream, and a way to run blocking PortAudio calls off the loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from voiced.audio import devices
from voiced.audio.devices import DeviceInfo
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, Framer
from voiced.audio.wav import StreamResampler
from voiced.errors import AudioDeviceError

T = TypeVar("T")

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
"""One frame's duration; a callback brings a whole number of them."""


class LiveStream:
    """A started sounddevice InputStream whose callback turns blocks into frames.

    The callback (PortAudio's thread) downmixes, resamples and frames each block, then calls
    ``deliver`` with the whole frames; ``on_fault(stream, reason)`` hears that the stream stopped
    by itself.
    """

    def __init__(
        self,
        device: DeviceInfo,
        rate: int,
        channels: int,
        start: int,
        deliver: Callable[[list[Frame]], None],
        on_fault: Callable[[LiveStream, str], None],
    ) -> None:
        self.device = device
        self.rate = rate
        self.channels = channels
        self.overflows = 0
        """Callbacks in which PortAudio reported input lost (read from any thread)."""
        self.last_callback = time.monotonic()
        """time.monotonic() of the latest callback (or of the open)."""
        self._framer = Framer(start)
        self._resample = StreamResampler(rate)
        self._deliver = deliver
        self._on_fault = on_fault
        self._closing = False
        self._stream: Any = None

    @classmethod
    def open(
        cls,
        device: DeviceInfo,
        fmt: tuple[int, int, int, str],
        start: int,
        deliver: Callable[[list[Frame]], None],
        on_fault: Callable[[LiveStream, str], None],
    ) -> LiveStream:
        """Open and start a stream on ``device`` (blocking: call it off the loop).

        Args:
            device: The microphone.
            fmt: (rate, channels, frames per callback, latency) to open it with.
            start: Input-clock index of the first frame.
            deliver: Receives each callback's whole frames (in PortAudio's thread).
            on_fault: Hears that the stream stopped by itself.

        Raises:
            AudioDeviceError: PortAudio refused to open or start the stream.
        """
        sd = devices.sounddevice()
        rate, channels, block_frames, latency = fmt
        live = cls(device, rate, channels, start, deliver, on_fault)
        try:
            live._stream = sd.InputStream(
                device=device.index,
                samplerate=rate,
                channels=channels,
                dtype="int16",
                blocksize=round(rate * FRAME_SECONDS * block_frames),
                latency=latency,
                callback=live._callback,
                finished_callback=live._finished,
            )
            live._stream.start()
        except sd.PortAudioError as exc:
            live.close()
            raise AudioDeviceError(
                f"cannot open microphone {device.name!r}: {exc}", devices.CHECK_DEVICES
            ) from exc
        return live

    @property
    def next_start(self) -> int:
        """Input-clock index of the next frame this stream would produce."""
        return self._framer.next_start

    def describe(self) -> str:
        """Say what is open, e.g. "'default' at 48000 Hz, 2 channels, resampled to 16 kHz"."""
        text = f"{self.device.name!r} at {self.rate} Hz"
        if self.channels != 1:
            text += f", {self.channels} channels mixed to mono"
        return text + (", resampled to 16 kHz" if self.rate != SAMPLE_RATE else "")

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        self.last_callback = time.monotonic()
        if status.input_overflow:
            self.overflows += 1
        if self.channels == 1:
            block = indata[:, 0]
        else:
            block = indata.mean(axis=1).astype(np.int16)
        ready = self._framer.push(self._resample(block))
        if ready:
            self._deliver(ready)

    def _finished(self) -> None:
        if not self._closing:
            self._on_fault(self, "the stream stopped")

    def close(self) -> None:
        """Stop and close the stream (blocking; may hang on a stalled device)."""
        self._closing = True
        if self._stream is not None:
            self._stream.close(ignore_errors=True)


async def in_daemon_thread(
    work: Callable[[], T], limit: float, on_late: Callable[[T], Any] | None = None
) -> T:
    """Run blocking ``work`` in a daemon thread, so a hung PortAudio call never blocks exit.

    Args:
        work: The blocking call.
        limit: Seconds to wait for it.
        on_late: Called (in a thread) with a result that arrives after the wait gave up, to
            release it (e.g. close a stream that opened too late).

    Raises:
        TimeoutError: ``work`` did not finish in time (it is abandoned, still running).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result, error = work(), None
        except BaseException as exc:  # handed to the awaiting task
            result, error = None, exc

        def release() -> None:
            if error is None and on_late is not None:
                on_late(result)  # type: ignore[arg-type]

        def settle() -> None:
            if future.done():
                threading.Thread(target=release, daemon=True).start()
            elif error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]

        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop is closed
            release()

    threading.Thread(target=run, daemon=True, name=getattr(work, "__name__", "audio")).start()
    return await asyncio.wait_for(future, limit)
