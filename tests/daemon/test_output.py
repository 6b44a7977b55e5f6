"""Replay mode's output: clips land on the input's clock, and a stop cuts them there."""

from __future__ import annotations

import asyncio

import numpy as np

from voiced.audio.frames import FRAME_SAMPLES, Frame
from voiced.audio.playback import Clip
from voiced.pipeline.clock import InputClock
from voiced.pipeline.replay import ClockedOutput


class Manual:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def frame_at(start: int) -> Frame:
    return Frame(np.zeros(FRAME_SAMPLES, dtype=np.int16), start)


def tone(seconds: float, rate: int = 16000) -> Clip:
    return Clip(np.full(int(seconds * rate), 1000, dtype=np.int16), rate)


def test_the_clock_follows_frames_and_runs_on_between_them() -> None:
    time = Manual()
    clock = InputClock(time)
    assert clock.now() == 0
    clock.observe(frame_at(0))
    assert clock.now() == FRAME_SAMPLES
    time.now += 0.5
    assert clock.now() == FRAME_SAMPLES + 8000
    clock.observe(frame_at(FRAME_SAMPLES))  # delivered late: it does not pull the clock back
    assert clock.now() == FRAME_SAMPLES + 8000
    clock.observe(frame_at(9600))  # more prompt than the first: the clock was behind
    assert clock.now() == 9600 + FRAME_SAMPLES


async def test_a_clip_is_written_where_the_clock_stood_and_back_to_back() -> None:
    time = Manual()
    clock = InputClock(time)
    clock.observe(frame_at(16000 - FRAME_SAMPLES))  # the clock reads 1.0 s
    output = ClockedOutput(clock)
    playback = output.begin()
    playback.add(tone(0.25))
    playback.add(tone(0.25, rate=22050))  # resampled to the input's rate
    playback.close()
    audio = output.samples(until=32000)
    loud = np.flatnonzero(audio)
    assert loud[0] == 16000 and abs(loud[-1] - 24000) <= 2
    assert audio.size == 32000


async def test_stop_cuts_the_clip_at_the_present_and_reports_what_was_heard() -> None:
    time = Manual()
    clock = InputClock(time)
    clock.observe(frame_at(0))
    start = clock.now()
    output = ClockedOutput(clock)
    playback = output.begin()
    playback.add(tone(1.0))
    playback.close()
    time.now += 0.4
    output.stop()
    await asyncio.wait_for(playback.finished(), 1)
    report = playback.reports()[0]
    assert report.status == "partial" and abs(report.played - 6400) <= 16
    audio = output.samples(until=start + 16000)
    assert np.all(audio[start : start + 6000] == 1000)
    assert not np.any(audio[start + 6410 :])
    playback.add(tone(0.1))  # begun before the stop: never played
    assert playback.reports()[1].status == "skipped"
    assert not np.any(output.samples(until=start + 16000)[start + 6410 :])
