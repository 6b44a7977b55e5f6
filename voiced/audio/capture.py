"""The microphone as a FrameSource: 30 ms frames on the event loop, reopened after a loss."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

from voiced.audio import devices
from voiced.audio.capture_types import CaptureEvent, CaptureOptions, CaptureStats, EventKind
from voiced.audio.echo import EchoCanceller
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame
from voiced.audio.stream import FrameHandoff, LiveStream, in_daemon_thread
from voiced.errors import AudioDeviceError

log = logging.getLogger("voiced.audio.capture")

__all__ = ["CaptureEvent", "CaptureOptions", "CaptureStats", "MicrophoneCapture"]

FULL_SCALE = 32768.0
"""int16 full scale, 0 dBFS."""
OVERFLOW_REPORT_SECONDS = 2.0
"""Overflows are reported at most this often (the counts add up in between)."""
MIN_STALL_CHECK = 0.05
"""Shortest wait between two checks for a stalled device, in seconds."""
HANDOVER_LIMIT = 2.0
"""Seconds a stream opened in another block size gets to take over, after opening."""


class MicrophoneCapture:
    """Records a microphone as 16 kHz mono 30 ms frames, timestamped by counting samples.

    The PortAudio callback resamples and frames in its own thread and hands each callback's
    whole frames to the loop at once (FrameHandoff); they wait in a bounded deque, and the
    consumer is woken once per callback, not once per frame (each wake-up of the loop is most
    of what capture costs while it listens to silence). A device that errors, stops or
    goes silent is closed and reopened with backoff; the outage advances the input clock by the
    time that was lost.

    With an ``echo`` canceller, voiced's own voice is taken out of the frames in PortAudio's
    thread, before they are handed over (see :mod:`voiced.audio.echo`).

    While the consumer listens closely (``listen_closely``: voiced speaks, and speech over it
    must stop it soon) the device is read in smaller blocks: a second stream opens beside the
    first and takes over from the first's last sample (``LiveStream.pass_to``), so the switch
    loses and repeats nothing; back to the usual size the same way. A device that cannot be
    opened twice stays in its usual size.

    Args:
        options: Which device and how to open it.
        on_event: Called on the loop with each CaptureEvent (they are also logged).
        echo: Cleans the frames of what voiced plays, or None.
    """

    def __init__(
        self,
        options: CaptureOptions | None = None,
        on_event: Callable[[CaptureEvent], None] | None = None,
        echo: EchoCanceller | None = None,
    ) -> None:
        self.options = options or CaptureOptions()
        self.echo = echo
        self.stats = CaptureStats()
        self._on_event = on_event
        self._pending: deque[Frame] = deque()
        self._arrived = asyncio.Event()
        self._handoff: FrameHandoff | None = None
        self._quiet_power = 0.0
        self._failure: BaseException | None = None
        self._starting = asyncio.Lock()
        self._stream: LiveStream | None = None
        self._fault = asyncio.Event()
        self._fault_reason = ""
        self._supervisor: asyncio.Task[None] | None = None
        self._closed = False
        self._next_start = 0
        self._device_name = ""
        self._seen_stream_overflows = 0
        self._reported = (0, 0)
        self._last_report = float("-inf")
        self._block_frames = self.options.block_frames
        """Frames per callback wanted now."""
        self._resizer: asyncio.Task[None] | None = None
        self._resize_refused = False
        self._loop: asyncio.AbstractEventLoop

    @property
    def device_name(self) -> str:
        """Name of the device opened last, or "" before the first open."""
        return self._device_name

    @property
    def block_ms(self) -> int:
        """Audio per callback of the stream open now, in ms (0 while none is open)."""
        return self._stream.block_ms if self._stream is not None else 0

    async def start(self) -> None:
        """Open the device and start listening (``frames()`` calls this when needed).

        Raises:
            AudioDeviceError: There is no usable input device, or it cannot be opened.
        """
        async with self._starting:
            if self._supervisor is not None or self._closed:
                return
            self._loop = asyncio.get_running_loop()
            if self._handoff is None:
                self._handoff = FrameHandoff(self._accept, self.options.quiet_wait_frames)
                self._handoff.quiet_power = self._quiet_power
            try:
                await self._open()
            except BaseException:
                self._handoff.close()
                self._handoff = None
                raise
            if self._closed:  # aclose() came while the device was opening
                await self._close_stream()
                return
            self._supervisor = asyncio.create_task(self._supervise(), name="capture-supervisor")
            self._supervisor.add_done_callback(self._supervisor_done)

    async def frames(self) -> AsyncIterator[Frame]:
        """Yield frames until ``aclose()``; they keep coming across device losses.

        One consumer at a time: frames go to whichever iteration asks first.

        Raises:
            AudioDeviceError: The device could not be opened at the start.
        """
        await self.start()
        pending = self._pending
        while True:
            while pending:
                yield pending.popleft()
            if self._failure is not None:
                raise self._failure
            if self._closed:
                return
            self._arrived.clear()
            await self._arrived.wait()

    def wait_below(self, level_db: float | None) -> None:
        """Let frames quieter than ``level_db`` (dBFS) wait to be handed over in batches of up
        to ``options.quiet_wait_frames``, sparing the loop a wake-up each; None hands each
        one over at once.

        A louder frame brings the ones waiting with it, so a consumer that passes the level
        below which a frame cannot matter to it loses no time on the frames that do.
        """
        power = 0.0 if level_db is None else 10.0 ** (level_db / 10.0) * FULL_SCALE**2
        if power != self._quiet_power:
            self._quiet_power = power
            if self._handoff is not None:
                self._handoff.quiet_power = power

    def listen_closely(self, on: bool) -> None:
        """Read the device in ``options.close_block_frames`` blocks while ``on``, else in
        ``options.block_frames``: smaller blocks bring speech sooner, at more CPU."""
        wanted = self.options.close_block_frames if on else self.options.block_frames
        if wanted == self._block_frames or self._resize_refused:
            return
        self._block_frames = wanted
        if self._resizer is None or self._resizer.done():
            self._resizer = asyncio.create_task(self._resize(), name="capture-resize")

    async def aclose(self) -> None:
        """Stop listening and close the device; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._supervisor is not None:
            self._supervisor.cancel()
        if self._resizer is not None:
            self._resizer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resizer
        await self._close_stream()
        if self._handoff is not None:
            self._handoff.close()
        self._arrived.set()

    async def _open(self, reopening: bool = False) -> None:
        options = self.options
        start = self._next_start
        handoff = self._handoff
        assert handoff is not None
        hop = self._hop
        block_frames = self._block_frames

        def open_blocking() -> LiveStream:
            try:
                device = devices.find_device(options.device, "input")
            except AudioDeviceError:
                if not (reopening and options.rescan_devices):
                    raise
                devices.rescan()
                device = devices.find_device(options.device, "input")
            rate, channels = devices.input_format(device, options.rate)
            return LiveStream.open(
                device,
                (rate, channels, block_frames, options.latency),
                start,
                deliver=handoff.send,
                on_fault=lambda stream, reason: hop(self._note_fault, stream, reason),
                echo=self.echo,
            )

        stream = await in_daemon_thread(open_blocking, limit=10.0, on_late=LiveStream.close)
        self._fault.clear()
        self._resize_refused = False  # another device may take a second stream
        self._stream = stream
        self._device_name = stream.device.name
        self._seen_stream_overflows = 0
        self._emit("opened", f"listening on {stream.describe()}")

    def _hop(self, callback: Callable[..., None], *args: object) -> None:
        """Call ``callback(*args)`` on the loop, from any thread."""
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop closed under a late callback
            pass

    async def _resize(self) -> None:
        """Hand the device over to streams of the wanted block size until the open one has it
        (an unforeseen error keeps the stream open now, and says why)."""
        try:
            while not self._closed and (stream := self._stream) is not None:
                if stream.block_frames == self._block_frames:
                    return
                if not await self._hand_over(stream, self._block_frames):
                    return
        except Exception as exc:  # the stream open now goes on; capture must not stop
            self._resize_refused = True
            if self._stream is not None:
                self._block_frames = self._stream.block_frames
            log.warning("cannot change the microphone's block size: %r", exc)

    async def _hand_over(self, stream: LiveStream, block_frames: int) -> bool:
        """Open a stream of ``block_frames`` beside ``stream`` and let it take over."""
        handoff, echo, hop = self._handoff, self.echo, self._hop
        assert handoff is not None
        fmt = (stream.rate, stream.channels, block_frames, self.options.latency)

        def open_blocking() -> LiveStream:
            return LiveStream.open(
                stream.device,
                fmt,
                0,
                deliver=handoff.send,
                on_fault=lambda s, reason: hop(self._note_fault, s, reason),
                echo=echo,
                waiting=True,
            )

        try:
            successor = await in_daemon_thread(open_blocking, limit=5.0, on_late=LiveStream.close)
        except (AudioDeviceError, TimeoutError) as exc:
            self._resize_refused = True
            self._block_frames = stream.block_frames
            log.info("the microphone stays in %d ms blocks: %s", stream.block_ms, exc)
            return False
        passed = asyncio.Event()
        stream.pass_to(successor, lambda: hop(passed.set))
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HANDOVER_LIMIT):
                    await passed.wait()
        finally:
            took_over = not stream.keep()
            if took_over and self._stream is stream:
                self._report_overflows(stream, now=True)
                self._stream, self._seen_stream_overflows = successor, 0
                self.stats.handovers += 1
                log.debug("the microphone is read in %d ms blocks", successor.block_ms)
                retired = stream
            else:
                retired = successor
            await self._close(retired)
        if not took_over:
            log.warning("a %d ms stream did not take over the microphone", successor.block_ms)
        return took_over and retired is stream

    def _note_fault(self, stream: LiveStream, reason: str) -> None:
        if stream is self._stream:
            self._fault_reason = reason
            self._fault.set()

    def _accept(self, frames: list[Frame]) -> None:
        if self._closed:
            return
        pending = self._pending
        pending.extend(frames)
        self.stats.frames += len(frames)
        excess = len(pending) - self.options.queue_frames
        for _ in range(excess):
            pending.popleft()
        if excess > 0:
            self.stats.dropped += excess
        self._arrived.set()

    async def _supervise(self) -> None:
        while not self._closed:
            reason = await self._wait_for_fault()
            lost = self._stream
            assert lost is not None
            self._next_start = lost.next_start
            self._emit("lost", f"microphone {lost.device.name!r} lost: {reason}; reopening")
            await self._close_stream()
            delay = self.options.backoff_first
            while not self._closed:
                await asyncio.sleep(delay)
                outage = time.monotonic() - lost.last_callback
                skipped = round(outage * SAMPLE_RATE / FRAME_SAMPLES) * FRAME_SAMPLES
                self._next_start = lost.next_start + skipped
                try:
                    await self._open(reopening=True)
                except (AudioDeviceError, TimeoutError) as exc:
                    delay = min(delay * 2, self.options.backoff_max)
                    why = str(exc) or "opening it timed out"
                    self._emit("reopen_failed", f"cannot reopen the microphone yet: {why}")
                    continue
                self.stats.reopens += 1
                self.stats.lost_samples.append(skipped)
                break

    async def _wait_for_fault(self) -> str:
        """Return why the open stream failed: a fault it reported, or silence (a stall).

        Between faults it wakes only when a stall could first be true, ``stall_timeout`` after
        the latest callback (about once per ``stall_timeout``, not on a fixed tick: each
        wake-up of the loop costs more CPU than the check), and reports overflows then.
        """
        stall = self.options.stall_timeout
        while True:
            stream = self._stream  # another block size may have taken over
            assert stream is not None
            wait = max(stream.last_callback + stall - time.monotonic(), MIN_STALL_CHECK)
            try:
                async with asyncio.timeout(wait):
                    await self._fault.wait()
                return self._fault_reason
            except TimeoutError:
                pass
            self._report_overflows(stream)
            silent_for = time.monotonic() - stream.last_callback
            if silent_for > stall:
                return f"no audio for {silent_for:.1f} s"

    def _report_overflows(self, stream: LiveStream, now: bool = False) -> None:
        self.stats.device_overflows += stream.overflows - self._seen_stream_overflows
        self._seen_stream_overflows = stream.overflows
        dropped = self.stats.dropped - self._reported[0]
        device = self.stats.device_overflows - self._reported[1]
        if not (dropped or device):
            return
        if not now and time.monotonic() - self._last_report < OVERFLOW_REPORT_SECONDS:
            return
        self._reported = (self.stats.dropped, self.stats.device_overflows)
        self._last_report = time.monotonic()
        self._emit(
            "overflow",
            f"audio lost: {dropped} frames dropped for a slow consumer, "
            f"{device} overflows in the device",
        )

    async def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        self._report_overflows(stream, now=True)
        await self._close(stream)

    async def _close(self, stream: LiveStream) -> None:
        try:
            await in_daemon_thread(stream.close, limit=3.0)
        except TimeoutError:
            log.warning("closing %r hung; abandoned it", stream.device.name)

    def _emit(self, kind: EventKind, message: str) -> None:
        event = CaptureEvent(kind, message, self._device_name, self._next_start)
        log.log(logging.INFO if kind == "opened" else logging.WARNING, "%s", message)
        if self._on_event is not None:
            self._on_event(event)

    def _supervisor_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("capture supervisor failed: %r", exc)
            self._failure = exc
            self._arrived.set()
