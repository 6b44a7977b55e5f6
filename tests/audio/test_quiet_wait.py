"""Quiet frames may wait for one wake-up of the loop; a louder frame brings them at once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from tests.audio.pulse import PulseServer
from tests.audio.signals import sweep, to_int16, write_wav
from voiced.audio.capture import CaptureOptions, MicrophoneCapture
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame
from voiced.audio.stream import FrameHandoff

QUIET_DB = -60.0
"""The level below which the tests let frames wait (the energy gate's least threshold)."""
QUIET_POWER = 10 ** (QUIET_DB / 10) * 32768.0**2


def frame(index: int, amplitude: int) -> Frame:
    """Frame ``index`` of a square wave of ``amplitude`` (its RMS is the amplitude)."""
    samples = np.full(FRAME_SAMPLES, amplitude, np.int16)
    samples[::2] = -amplitude
    return Frame(samples, index * FRAME_SAMPLES)


QUIET, LOUD = 10, 1000
"""-70 and -30 dBFS: below and above QUIET_DB."""


class Received:
    """Collects what a handoff delivers, and lets a test wait for a number of frames."""

    def __init__(self) -> None:
        self.batches: list[list[Frame]] = []
        self._changed = asyncio.Event()

    def __call__(self, frames: list[Frame]) -> None:
        self.batches.append(frames)
        self._changed.set()

    @property
    def frames(self) -> list[Frame]:
        return [f for batch in self.batches for f in batch]

    async def until(self, count: int) -> None:
        async with asyncio.timeout(2):
            while len(self.frames) < count:
                self._changed.clear()
                await self._changed.wait()


async def send(handoff: FrameHandoff, batches: list[list[Frame]]) -> None:
    """Send ``batches`` from another thread, as PortAudio's callback does."""

    def run() -> None:
        for batch in batches:
            handoff.send(batch)

    await asyncio.to_thread(run)


async def test_quiet_frames_wait_until_a_loud_one_brings_them_all_in_order() -> None:
    received = Received()
    handoff = FrameHandoff(received, max_waiting=10)
    handoff.quiet_power = QUIET_POWER
    quiet = [[frame(0, QUIET), frame(1, QUIET)], [frame(2, QUIET), frame(3, QUIET)]]

    await send(handoff, quiet)
    await asyncio.sleep(0.1)
    assert received.frames == [], "quiet frames were handed over without waiting"

    await send(handoff, [[frame(4, QUIET), frame(5, LOUD)]])
    await received.until(6)
    handoff.close()
    assert [f.start // FRAME_SAMPLES for f in received.frames] == [0, 1, 2, 3, 4, 5]


async def test_quiet_frames_wait_no_longer_than_max_waiting_frames() -> None:
    received = Received()
    handoff = FrameHandoff(received, max_waiting=4)
    handoff.quiet_power = QUIET_POWER

    await send(handoff, [[frame(0, QUIET), frame(1, QUIET)], [frame(2, QUIET)]])
    await asyncio.sleep(0.1)
    assert received.frames == []
    await send(handoff, [[frame(3, QUIET)]])
    await received.until(4)
    await send(handoff, [[frame(4, QUIET)]])
    await asyncio.sleep(0.1)
    handoff.close()
    assert [f.start // FRAME_SAMPLES for f in received.frames] == [0, 1, 2, 3], (
        "the fourth frame should wake the loop, and the count start again after it"
    )


@pytest.mark.parametrize("power", [0.0, QUIET_POWER], ids=["no quiet level", "one at a time"])
async def test_frames_are_handed_over_at_once_unless_quiet_ones_may_wait(power: float) -> None:
    received = Received()
    handoff = FrameHandoff(received, max_waiting=1 if power else 10)
    handoff.quiet_power = power

    await send(handoff, [[frame(0, QUIET)]])
    await received.until(1)
    handoff.close()


async def test_on_a_silent_microphone_frames_come_in_batches_and_a_burst_at_once(
    pulse: PulseServer,
    tmp_path: Path,
) -> None:
    """Through the private PulseAudio server: while the consumer lets frames quieter than
    -60 dBFS wait, silence arrives 300 ms at a time; the frame where a burst begins arrives
    within about a block of being heard, bringing the frames that waited, in order."""
    lead = np.zeros(int(1.5 * SAMPLE_RATE), np.int16)
    burst = to_int16(sweep(0.3, SAMPLE_RATE, seed=3))
    wav = write_wav(tmp_path / "burst.wav", np.concatenate([lead, burst, lead]), SAMPLE_RATE)
    mic = MicrophoneCapture(CaptureOptions(quiet_wait_frames=10))
    mic.wait_below(QUIET_DB)
    arrivals: list[tuple[Frame, float]] = []

    async def consume() -> None:
        async for f in mic.frames():
            arrivals.append((f, time.monotonic()))

    task = asyncio.create_task(consume())
    try:
        player = pulse.play_to_mic(wav)
        async with asyncio.timeout(15):
            assert await asyncio.to_thread(player.wait) == 0
        await asyncio.sleep(0.8)
    finally:
        await mic.aclose()
        async with asyncio.timeout(5):
            await task

    starts = [f.start for f, _ in arrivals]
    assert starts == list(range(0, len(starts) * FRAME_SAMPLES, FRAME_SAMPLES)), "a frame was lost"
    # how late each frame came, against the promptest frame (the input clock runs in real time)
    late = np.array([at - f.end / SAMPLE_RATE for f, at in arrivals])
    late -= late.min()
    loud = [i for i, (f, _) in enumerate(arrivals) if np.abs(f.samples).max() > 3000]
    assert loud, "the burst was not heard"
    first_loud = loud[0]
    quiet_before = late[:first_loud]
    wake_ups = np.unique(np.round([at for _, at in arrivals[:first_loud]], 4)).size
    assert wake_ups <= first_loud / 4, f"{wake_ups} wake-ups for {first_loud} quiet frames"
    assert quiet_before.max() >= 0.2, "quiet frames did not wait"
    assert late[first_loud] <= 0.15, f"the burst came {late[first_loud] * 1000:.0f} ms late"
