"""One open PortAudio input stream, and a way to run blocking PortAudio calls off the loop."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, TypeVar

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
WAITING_CALLBACKS = 4
"""Callbacks a stream opened to take over from another runs first: its clock (the least
lateness of a callback seen) is then about as true as the older stream's."""
WAITING_SECONDS = 0.5
"""Audio a stream waiting to take over keeps."""

SEAM_TAIL = 240
"""Samples of the predecessor's last block the successor looks for in what it heard (15 ms)."""
SEAM_REACH = 160
"""How far (samples) from where the timestamps put the seam the successor looks (10 ms)."""

Phase = Literal["live", "passing", "waiting", "resuming", "retired"]


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

    A stream can hand over to another on the same device (another block size), with no sample
    lost or repeated: the successor opens ``waiting`` and keeps its blocks with when they left
    the microphone; ``pass_to`` makes this stream, after a callback, give the successor its
    Framer, its last samples and the moment they ended, and retire. The successor's next
    callback finds those samples in what it kept (``seam``) and hands on what follows them (a
    gap, which two streams of one source should not show, is filled with silence so the clock
    keeps real time).
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
        self.block_frames = 0
        """Frames per callback (set when opened)."""
        self._phase: Phase = "live"
        self._lock = threading.Lock()
        """Held by a successor's callback, and by its predecessor handing over to it."""
        self._kept: deque[tuple[float, Int16Array]] = deque()
        """While waiting: the blocks heard (16 kHz), each with when its first sample left the
        microphone (monotonic)."""
        self._callbacks = 0
        self._heard = self._made = 0
        """Samples the device gave, and 16 kHz samples made of them, since the stream began."""
        self._successor: LiveStream | None = None
        self._on_passed: Callable[[], None] = lambda: None
        self._resume_at = 0.0
        """When it took over: when the first sample it hands on left the microphone."""
        self._tail: Int16Array = np.zeros(0, np.int16)
        """When it took over: the predecessor's last samples, to find the seam by."""

    @classmethod
    def open(
        cls,
        device: DeviceInfo,
        fmt: tuple[int, int, int, str],
        start: int,
        deliver: Callable[[list[Frame]], None],
        on_fault: Callable[[LiveStream, str], None],
        echo: EchoCanceller | None = None,
        waiting: bool = False,
    ) -> LiveStream:
        """Open and start a stream on ``device`` (blocking: call it off the loop).

        Args:
            device: The microphone.
            fmt: (rate, channels, frames per callback, latency) to open it with.
            start: Input-clock index of the first frame.
            deliver: Receives each callback's whole frames (in PortAudio's thread).
            on_fault: Hears that the stream stopped by itself.
            echo: Cleans the frames of voiced's own voice, or None.
            waiting: Deliver nothing until a stream passes it on (``pass_to``).

        Raises:
            AudioDeviceError: PortAudio refused to open or start the stream.
        """
        sd = devices.sounddevice()
        rate, channels, block_frames, latency = fmt
        live = cls(device, rate, channels, start, deliver, on_fault, echo)
        live.block_frames = block_frames
        if waiting:
            live._phase = "waiting"
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
    def block_ms(self) -> int:
        """Audio per callback, in ms."""
        return round(self.block_frames * FRAME_SECONDS * 1000)

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
        if self._phase != "live":
            self._handing_over(block, frames, time_info)
            return
        started = self._started(time_info) if self._echo is not None else None
        ready = self._push(self._resampled(block), started)
        if ready:
            self._deliver(ready)

    def _resampled(self, block: Int16Array) -> Int16Array:
        """``block`` at 16 kHz, counted."""
        resampled = self._resample(block)
        self._heard += block.size
        self._made += resampled.size
        return resampled

    def _started(self, time_info: Any) -> float | None:
        """When the block's first sample left the microphone (monotonic), or None when the
        host API gives no timestamps."""
        if time_info.currentTime <= 0:
            return None
        self._clock.observe(time_info.currentTime)
        return self._clock.monotonic(time_info.inputBufferAdcTime)

    def _push(self, resampled: Int16Array, started: float | None) -> list[Frame]:
        """Frame ``resampled`` (its first sample left the microphone at ``started``), cleaned
        of voiced's voice when there is a canceller."""
        first = self._framer.next_start + self._framer.pending
        ready = self._framer.push(resampled)
        if ready and self._echo is not None:
            at = self._place(started, first, resampled.size)
            ready = self._echo.process(ready, ready[0].start + at)
        return ready

    def _place(self, started: float | None, first: int, count: int) -> int:
        """Reference position minus input-clock index: the block's first sample left the
        microphone at ``started``; kept while it stays within REANCHOR_S."""
        if started is not None:
            measured = position(started) - first
        else:  # a host API without timestamps: the block's end arrived now
            measured = position(time.monotonic()) - (first + count)
        if self._offset is None or abs(measured - self._offset) > REANCHOR_S * SAMPLE_RATE:
            if self._offset is not None:
                logger.debug(
                    "microphone placed afresh: %+.1f ms off", (measured - self._offset) / 16
                )
            self._offset = measured
        return self._offset

    # -- handing over to another stream ---------------------------------------------------------

    def pass_to(self, successor: LiveStream, on_passed: Callable[[], None]) -> None:
        """Hand over to ``successor`` (opened ``waiting``) after a coming callback, once it
        has run its first few; ``on_passed`` is then called in this stream's thread."""
        self._successor, self._on_passed = successor, on_passed
        self._phase = "passing"

    def keep(self) -> bool:
        """Stop passing on; False when it has already passed on (the successor is live)."""
        successor = self._successor
        if successor is None:
            return self._phase != "retired"
        with successor._lock:
            if self._phase == "retired":
                return False
            self._phase, self._successor = "live", None
        return True

    def _handing_over(self, block: Int16Array, frames: int, time_info: Any) -> None:
        started = self._started(time_info)
        if started is None:  # no timestamps: the block's end arrived now
            started = time.monotonic() - frames / self.rate
        # The resampler keeps sample k of its output where sample k * rate / 16000 of its input
        # was, though it hands some of it over only later.
        first = started - self._heard / self.rate + self._made / SAMPLE_RATE
        resampled = self._resampled(block)
        if self._phase == "passing":
            ready = self._push(resampled, started)
            if ready:
                self._deliver(ready)
            successor = self._successor  # None once ``keep`` has called the hand-over off
            if successor is not None:
                ended = first + resampled.size / SAMPLE_RATE
                self._pass_on(successor, ended, resampled[-SEAM_TAIL:])
            return
        with self._lock:
            if self._phase == "waiting":
                self._keep(first, resampled)
            elif self._phase == "resuming":
                self._resume(first, resampled)

    def _keep(self, first: float, resampled: Int16Array) -> None:
        self._callbacks += 1
        self._kept.append((first, resampled.copy()))
        while self._kept and self._kept[0][0] < first - WAITING_SECONDS:
            self._kept.popleft()

    def _pass_on(self, successor: LiveStream, ended: float, tail: Int16Array) -> None:
        """Give ``successor`` the stream from the sample after ``tail``, the last ones, which
        left the microphone just before ``ended`` (unless ``keep`` called it off)."""
        with successor._lock:
            if self._successor is not successor or successor._callbacks < WAITING_CALLBACKS:
                return
            successor._framer, successor._resume_at = self._framer, ended
            successor._tail = tail.copy()
            successor._offset = self._offset  # one clock on each side of the seam
            successor._phase = "resuming"
            self._phase = "retired"
        self._on_passed()

    def _resume(self, first: float, resampled: Int16Array) -> None:
        """The first callbacks after taking over: hand on what was heard after the
        predecessor's last sample, then go live."""
        self._kept.append((first, resampled.copy()))
        began = self._kept[0][0]
        heard = np.concatenate([samples for _, samples in self._kept])
        at = seam(heard, self._tail, round((self._resume_at - began) * SAMPLE_RATE))
        if at >= heard.size:  # all of it was before the predecessor's end: wait for more
            return
        if at < 0:  # not heard by either: silence keeps the clock on real time
            heard, at = np.concatenate((np.zeros(-at, np.int16), heard)), 0
        self._kept.clear()
        self._phase = "live"
        ready = self._push(heard[at:], began + at / SAMPLE_RATE)
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


def seam(heard: Int16Array, tail: Int16Array, guess: int) -> int:
    """Where in ``heard`` the audio after ``tail`` begins.

    Two streams of one source hear the same samples, so the predecessor's ``tail`` is found
    in the successor's audio within ``SEAM_REACH`` of ``guess`` (where the streams' timestamps
    put it, to about a millisecond); nearest ``guess`` among matches as good (a steady tone),
    and ``guess`` itself over silence or when nothing matches.
    """
    n = tail.size
    lo, hi = max(n, guess - SEAM_REACH), min(heard.size, guess + SEAM_REACH)
    t = tail.astype(np.float64)
    energy = float(t @ t)
    if hi < lo or energy < n * 16.0:  # under 4 LSB RMS: nothing to match
        return guess
    windows = np.lib.stride_tricks.sliding_window_view(heard[lo - n : hi], n).astype(np.float64)
    power = np.einsum("ij,ij->i", windows, windows)
    match = (windows @ t) / np.sqrt(np.maximum(power * energy, 1e-9))
    best = float(match.max())
    if best < 0.98:
        return guess
    candidates = np.flatnonzero(match >= best - 0.002) + lo
    return int(candidates[np.argmin(np.abs(candidates - guess))])


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
