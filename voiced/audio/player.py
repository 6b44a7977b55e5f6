"""Speaker output: clips played back to back through one sounddevice stream, stoppable at once."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

import numpy as np
import soxr  # type: ignore[import-untyped, unused-ignore]

from voiced.audio import devices
from voiced.audio.farend import FarEnd, Piece, PlayerTap, reference_of
from voiced.audio.frames import Int16Array
from voiced.audio.playback import Clip, Playback, QueuedClip, resume_point
from voiced.config.audio import OUTPUT_LATENCY_MS
from voiced.errors import AudioDeviceError

logger = logging.getLogger(__name__)

PLAYER_RATE = 22050
"""Rate the stream is opened at when the device takes it (espeak-ng renders at 22050 Hz)."""


class Player:
    """Plays clips to a speaker through a callback-based sounddevice ``OutputStream``.

    Clips of every open Playback wait in one queue and play back to back. ``stop()`` bumps a
    generation counter: everything queued or playing is discarded, the stream is aborted so
    PortAudio drops what it buffered (silence within a few ms), and clips added later to a
    Playback begun before the stop are never played. If the stream ends by itself (the device
    is gone, the sound server restarted), everything queued is cut the same way, ``fault``
    says why, and clips are refused until ``open()`` succeeds again. ``hold()`` silences it the
    same way but keeps what is queued; ``release()`` plays on from shortly before where it was
    cut (the start of the word).

    With a ``far_end``, every block handed to PortAudio (earcons too) is also written there,
    at the time PortAudio says it reaches the speaker: the echo canceller's reference.

    Args:
        device: Index or part of the name of the output device; None for the default.
        latency: PortAudio output latency, in seconds (or "low", "high"): how far ahead of
            the speaker PortAudio is fed; [audio] output_latency_ms.
        far_end: Where what is played goes for the echo canceller, or None.
    """

    def __init__(
        self,
        device: int | str | None = None,
        latency: str | float = OUTPUT_LATENCY_MS / 1000,
        far_end: FarEnd | None = None,
    ) -> None:
        self.device = device
        self.latency = latency
        self.far_end = far_end
        self._tap: PlayerTap | None = None
        self.rate = PLAYER_RATE
        self.fault: str | None = None
        """Why the stream ended by itself, or None while it runs (or before it opened)."""
        self._lock = threading.Lock()  # queue, generation, fault; taken by the audio callback
        self._control = threading.Lock()  # opening, aborting, restarting and closing the stream
        self._restarting = False
        self._held = False
        self._generation = 0
        self._queue: deque[QueuedClip] = deque()
        self._current: QueuedClip | None = None
        self._recent: deque[QueuedClip] = deque(maxlen=8)  # handed out, maybe still buffered
        self._clock = 0.0  # the stream time of the latest callback
        self._stream: Any = None

    def open(self) -> None:
        """Open and start the output stream, or reopen one that ended (blocking).

        Raises:
            AudioDeviceError: No such device, or PortAudio refused to open it.
        """
        with self._control:
            if self._stream is not None:
                if self._stream.active:
                    return
                self._stream.close(ignore_errors=True)
                self._stream = None
            self._stream = self._start_stream()
            with self._lock:
                self.fault = None

    def _start_stream(self) -> Any:
        sd = devices.sounddevice()
        info = devices.find_device(self.device, "output")
        error: Exception | None = None
        for rate in dict.fromkeys((PLAYER_RATE, round(info.default_rate))):
            try:
                stream = sd.OutputStream(
                    device=info.index,
                    samplerate=rate,
                    channels=1,
                    dtype="int16",
                    latency=self.latency,
                    callback=self._callback,
                    finished_callback=self._ended,
                )
                stream.start()
            except sd.PortAudioError as exc:
                error = exc
                continue
            self.rate = rate
            with self._lock:
                self._tap = PlayerTap(self.far_end, rate) if self.far_end is not None else None
            return stream
        raise AudioDeviceError(
            f"cannot open speaker {info.name!r}: {error}", devices.CHECK_DEVICES
        ) from error

    def close(self) -> None:
        """Discard what is queued and close the stream."""
        self.stop()
        with self._control:
            stream, self._stream = self._stream, None
            self._restarting = True  # closing is not a fault
            if stream is not None:
                stream.close(ignore_errors=True)
            self._restarting = False

    def begin(self) -> Playback:
        """Start a Playback (one reply); its clips queue behind those already waiting."""
        with self._lock:
            generation = self._generation
        return Playback(lambda item: self._enqueue(item, generation))

    def play(self, clip: Clip) -> Playback:
        """Queue one clip on its own Playback (earcons, announcements)."""
        playback = self.begin()
        playback.add(clip)
        playback.close()
        return playback

    def stop(self) -> None:
        """Silence the speaker now and discard every queued clip of every open Playback."""
        stream = self._stream
        self._cut_everything(stream.time if stream is not None and stream.active else None)
        self._flush_stream()

    def hold(self) -> None:
        """Silence the speaker now but keep what is queued, to play on after ``release()``.

        The clip that was playing is wound back to the start of the word it was cut in.
        """
        stream = self._stream
        now = stream.time if stream is not None and stream.active else None
        with self._lock:
            self._held = True
            if self._tap is not None:
                self._tap.cut(now)
            item = self._current
            if item is not None and now is not None:
                heard = item.heard_at(now, self.rate)
                item.position = resume_point(item.samples, heard, self.rate)
                item.start_time = None  # it starts again when it is handed out again
        self._flush_stream()

    def release(self) -> None:
        """Play on after ``hold()``."""
        with self._lock:
            self._held = False

    def _flush_stream(self) -> None:
        """Abort and restart the stream: PortAudio and the server drop what they buffered."""
        with self._control:  # not under _lock: abort waits for a callback, which takes it
            stream = self._stream
            if stream is not None and stream.active:
                self._restarting = True
                stream.abort(ignore_errors=True)
                stream.start()
                self._restarting = False

    def _cut_everything(self, now: float | None) -> None:
        """Cut what plays and drop what waits; ``now`` (stream time) tells how much was heard."""
        with self._lock:
            if self._tap is not None:
                self._tap.cut(now)
            self._generation += 1
            self._held = False
            cut = [*self._recent, *([self._current] if self._current else []), *self._queue]
            self._queue.clear()
            self._recent.clear()
            self._current = None
            for item in cut:
                item.cut(now, self.rate)

    def _ended(self) -> None:
        """PortAudio's finished callback: after our own abort, or because the stream died."""
        if self._restarting:
            return
        with self._lock:
            self.fault = "the speaker stopped playing (device gone or sound server restarted)"
            heard_until = self._clock or None
        logger.warning("%s; queued speech was dropped", self.fault)
        self._cut_everything(heard_until)

    def _enqueue(self, item: QueuedClip, generation: int) -> bool:
        if item.clip.rate != self.rate:
            item.samples = _resample(item.clip, self.rate)
        if self.far_end is not None:
            item.reference = reference_of(item.clip.samples, item.clip.rate)
        with self._lock:
            if generation != self._generation or self.fault is not None or self._stream is None:
                return False  # stopped since the Playback began, broken, or never opened
            self._queue.append(item)
            return True

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        out = outdata[:, 0]
        filled = 0
        pieces: list[Piece] = []
        with self._lock:
            dac, now = time_info.outputBufferDacTime, time_info.currentTime
            self._clock = now
            while filled < frames and not self._held:
                item = self._current
                if item is None:
                    if not self._queue:
                        break
                    item = self._current = self._queue.popleft()
                begun = item.position
                count = item.hand_out(out[filled:], dac + filled / self.rate, now, self.rate)
                if item.reference is not None and count:
                    pieces.append(Piece(filled, item.reference, begun, count))
                filled += count
                if item.handed_all:
                    self._recent.append(item)
                    self._current = None
            out[filled:] = 0
            if self._tap is not None:
                underflow = bool(status and status.output_underflow)
                self._tap.played(out, pieces, dac, now, underflow)


def _resample(clip: Clip, rate: int) -> Int16Array:
    floats = soxr.resample(clip.samples.astype(np.float32) / 32768.0, clip.rate, rate)
    resampled: Int16Array = np.clip(np.rint(floats * 32768.0), -32768, 32767).astype(np.int16)
    return resampled
