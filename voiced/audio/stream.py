"""One open PortAudio input stream, and a way to run blocking PortAudio calls off the loop."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from voiced.audio import devices
from voiced.audio.devices import DeviceInfo
from voiced.audio.echo import EchoCanceller
from voiced.audio.farend import REANCHOR_S, StreamClock, position
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, Framer, Int16Array
from voiced.audio.wav import StreamResampler
from voiced.errors import AudioDeviceError

logger = logging.getLogger(__name__)

T = TypeVar("T")

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
"""One frame's duration; a callback brings a whole number of them."""


class LiveStream:
    """A started sounddevice RawInputStream whose callback turns blocks into frames.

    The callback (PortAudio's thread) downmixes, resamples and frames each block, then calls
    ``deliver`` once with the whole frames; ``on_fault(stream, reason)`` hears that the stream
    stopped by itself. The raw stream hands over PortAudio's buffer as it is, which saves the
    numpy array sounddevice's InputStream would build per callback; the callback reads it with
    ``np.frombuffer`` and the Framer copies what it keeps (the buffer is reused after the call).

    With an ``echo`` canceller the frames go through it in the callback, placed on the
    reference's timeline by PortAudio's ``inputBufferAdcTime`` (when the block's first sample
    left the microphone): this thread owns the canceller while the stream runs.
    """

    def __init__(
        self,
        device: DeviceInfo,
        rate: int,
        channels: int,
        start: int,
        deliver: Callable[[list[Frame]], None],
        on_fault: Callable[[LiveStream, str], None],
        echo: EchoCanceller | None = None,
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
        self._echo = echo
        self._clock = StreamClock()
        self._offset: int | None = None
        """Reference position minus input-clock index, fixed while they keep in step."""

    @classmethod
    def open(
        cls,
        device: DeviceInfo,
        fmt: tuple[int, int, int, str],
        start: int,
        deliver: Callable[[list[Frame]], None],
        on_fault: Callable[[LiveStream, str], None],
        echo: EchoCanceller | None = None,
    ) -> LiveStream:
        """Open and start a stream on ``device`` (blocking: call it off the loop).

        Args:
            device: The microphone.
            fmt: (rate, channels, frames per callback, latency) to open it with.
            start: Input-clock index of the first frame.
            deliver: Receives each callback's whole frames (in PortAudio's thread).
            on_fault: Hears that the stream stopped by itself.
            echo: Cleans the frames of voiced's own voice, or None.

        Raises:
            AudioDeviceError: PortAudio refused to open or start the stream.
        """
        sd = devices.sounddevice()
        rate, channels, block_frames, latency = fmt
        live = cls(device, rate, channels, start, deliver, on_fault, echo)
        try:
            live._stream = sd.RawInputStream(
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
        if status and status.input_overflow:
            self.overflows += 1
        block: Int16Array = np.frombuffer(indata, dtype=np.int16)
        if self.channels != 1:
            block = block.reshape(-1, self.channels).mean(axis=1).astype(np.int16)
        if self._echo is None:
            ready = self._framer.push(self._resample(block))
        else:
            self._clock.observe(time_info.currentTime)
            first = self._framer.next_start + self._framer.pending
            resampled = self._resample(block)
            ready = self._framer.push(resampled)
            if ready:
                at = self._place(time_info, first, resampled.size)
                ready = self._echo.process(ready, ready[0].start + at)
        if ready:
            self._deliver(ready)

    def _place(self, time_info: Any, first: int, count: int) -> int:
        """Reference position minus input-clock index: the block's first sample left the
        microphone at ``inputBufferAdcTime``; kept while it stays within REANCHOR_S."""
        if time_info.currentTime > 0:
            measured = position(self._clock.monotonic(time_info.inputBufferAdcTime)) - first
        else:  # a host API without timestamps: the block's end arrived now
            measured = position(time.monotonic()) - (first + count)
        if self._offset is None or abs(measured - self._offset) > REANCHOR_S * SAMPLE_RATE:
            if self._offset is not None:
                logger.debug(
                    "microphone placed afresh: %+.1f ms off", (measured - self._offset) / 16
                )
            self._offset = measured
        return self._offset

    def _finished(self) -> None:
        if not self._closing:
            self._on_fault(self, "the stream stopped")

    def close(self) -> None:
        """Stop and close the stream (blocking; may hang on a stalled device)."""
        self._closing = True
        if self._stream is not None:
            self._stream.close(ignore_errors=True)


class FrameHandoff:
    """Carries each callback's frames from PortAudio's thread to the event loop.

    The callback appends its frames to a deque and bumps an eventfd the loop watches; the loop
    drains the deque into ``receive``. One wake-up of the loop per callback is most of what
    capture costs while it listens to silence, and this way of waking it costs about a quarter
    less than ``call_soon_threadsafe`` (whose self-pipe read ends in an exception every time).

    Quiet frames may also wait: while ``quiet_power`` is set, frames whose mean square stays
    below it are queued without a wake-up, until ``max_waiting`` frames wait or a louder frame
    comes; that frame wakes the loop for all of them, in order. The consumer sets it when it
    has no use for prompt quiet frames (a segmenter with nothing open, whose energy gate they
    stay under); they then reach it in batches, which costs the loop one wake-up a batch.
    Create and close it on the loop; ``send`` is safe from any thread, also after ``close``.

    Args:
        receive: Called on the loop with each callback's frames, in order.
        max_waiting: The most frames that wait for a wake-up (1 or less: none waits).
    """

    def __init__(self, receive: Callable[[list[Frame]], None], max_waiting: int = 1) -> None:
        self._loop = asyncio.get_running_loop()
        self._receive = receive
        self._waiting: deque[list[Frame]] = deque()
        self._lock = threading.Lock()
        """Keeps ``close`` from freeing the descriptor while a callback writes to it."""
        self._fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._loop.add_reader(self._fd, self._drain)
        self.max_waiting = max_waiting
        self.quiet_power = 0.0
        """Mean square (in int16 units squared) below which a frame may wait; 0: none waits.
        Set on the loop, read by the callback."""
        self._unsent = 0
        """Frames queued since the last wake-up (the callback's own count)."""

    def send(self, frames: list[Frame]) -> None:
        """Queue ``frames`` for the loop and wake it unless they may wait (PortAudio's thread)."""
        self._waiting.append(frames)
        self._unsent += len(frames)
        if self._unsent < self.max_waiting and _all_below(frames, self.quiet_power):
            return
        self._unsent = 0
        with self._lock:
            if self._fd >= 0:
                os.eventfd_write(self._fd, 1)

    def close(self) -> None:
        """Stop watching and free the eventfd; frames sent later are dropped."""
        with self._lock:
            fd, self._fd = self._fd, -1
        if fd >= 0:
            self._loop.remove_reader(fd)
            os.close(fd)
        self._waiting.clear()

    def _drain(self) -> None:
        try:
            os.eventfd_read(self._fd)
        except BlockingIOError:  # a send between our last read and its wake-up
            pass
        while self._waiting:
            self._receive(self._waiting.popleft())


def _all_below(frames: list[Frame], power: float) -> bool:
    """Whether every frame's mean square is below ``power`` (int16 units squared)."""
    if power <= 0:
        return False
    limit = power * FRAME_SAMPLES
    for frame in frames:
        x = frame.samples.astype(np.float32)
        if float(np.dot(x, x)) >= limit:
            return False
    return True


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
