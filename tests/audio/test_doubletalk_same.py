"""The double-talk detector, made cheaper per call (issue 13: the canceller's CPU at 30 ms
capture blocks), judges every block as main's did: the same verdicts, the same echo delay,
the same onsets dated, over a real voice talking over voiced in a dry and a reverberant room,
at every capture block size and over a gap; and a 30 ms block costs it much less."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Protocol

import numpy as np
import pytest

from tests.audio import doubletalk_main
from tests.audio.recordings import prompt
from tests.audio.speech import speak
from voiced.audio import doubletalk
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Int16Array

REPLY = (
    "Here is a long answer, so that there is time to talk over it. It goes on for a while, "
    "sentence after sentence, about nothing much at all."
)
USER = (("auth-thankyou", 3.0), ("vm-goodbye", 6.4))
"""A real voice (Asterisk's recorded prompts) over the reply: prompt, seconds into it."""
GAP_S = 5.0
"""Where the capture loses 90 ms (the detector starts afresh)."""


class Detector(Protocol):
    delay: int | None
    _judged: deque[tuple[int, bool]]

    def feed(self, heard: Int16Array, far: Int16Array, at: int) -> None: ...

    def onset(self, seen: int) -> int: ...


def room(name: str) -> np.ndarray:
    """The impulse response: the live loopback's echo (full level, 45 ms late), or a
    reverberant room (RT60 0.5 s, as much reverberation as direct sound, 80 ms late)."""
    if name == "dry":
        return np.concatenate((np.zeros(720), [1.0]))
    rng = np.random.default_rng(3)
    tail = rng.normal(0, 1, 8000) * np.exp(-6.9 * np.arange(8000) / 8000)
    return np.concatenate((np.zeros(1280), [0.5], tail * 0.03))


def scene(name: str) -> tuple[Int16Array, Int16Array]:
    """What voiced played and what the microphone heard: its echo, the user, light noise."""
    far = np.clip(np.rint(speak(REPLY) * 0.7 * 32767), -32768, 32767).astype(np.int16)
    mic = np.convolve(far.astype(np.float64), room(name))[: far.size]
    mic += np.random.default_rng(5).normal(0, 30, far.size)
    for which, at_s in USER:
        voice = prompt(which).audio * 32767
        begins = round(at_s * SAMPLE_RATE)
        mic[begins : begins + voice.size] += voice[: far.size - begins]
    return far, np.clip(np.rint(mic), -32768, 32767).astype(np.int16)


Models = list[tuple[bool, list[float | None] | None]]
Decided = tuple[int, int | None, list[tuple[int, bool]], Models]


def models(detector: Detector) -> Models:
    """Each model of the room: whether it fits, and the ERL per band it judges by (None:
    none yet; a band's None: not that band)."""
    if isinstance(detector, doubletalk_main.NearEnd):
        rooms = detector._rooms
        return [(r.fits(), None if r._erl_now is None else _bands(r._erl_now)) for r in rooms]
    assert isinstance(detector, doubletalk.NearEnd)
    rooms_now = detector._rooms
    return [
        (verdicts.fits(), _bands(erl) if reckoned else None)
        for verdicts, erl, reckoned in zip(
            rooms_now._verdicts, rooms_now._erl_now, rooms_now._reckoned, strict=True
        )
    ]


def _bands(erl: np.ndarray) -> list[float | None]:
    return [None if math.isnan(x) else x for x in erl.tolist()]


def feed(
    detector: Detector, far: Int16Array, mic: Int16Array, blocks_ms: tuple[int, ...]
) -> list[Decided]:
    """Feed the capture's blocks (of ``blocks_ms`` in turn), as the canceller does; after
    each, what the detector decided: the echo's delay, its verdict on each block judged so far
    (kept ones), and where each of its models of the room stands."""
    gap = round(GAP_S * SAMPLE_RATE)
    seen: list[Decided] = []
    at, turn = 0, 0
    while at + max(blocks_ms) * SAMPLE_RATE // 1000 <= mic.size:
        step = blocks_ms[turn % len(blocks_ms)] * SAMPLE_RATE // 1000
        turn += 1
        if at >= gap:  # the capture lost 90 ms here
            at, gap = at + 3 * FRAME_SAMPLES, mic.size
        detector.feed(mic[at : at + step], far[at : at + step], at)
        seen.append((at, detector.delay, list(detector._judged), models(detector)))
        at += step
    return seen


@pytest.mark.parametrize(
    "blocks_ms",
    [(30,), (60,), (90,), (300,), (30, 60, 30, 90), (10,), (20,)],
    ids=["30ms", "60ms", "90ms", "300ms", "uneven", "10ms", "20ms"],
)
@pytest.mark.parametrize("name", ["dry", "reverberant"])
def test_every_block_is_judged_as_mains_detector_judged_it(
    name: str, blocks_ms: tuple[int, ...]
) -> None:
    """The capture hands over whole 30 ms frames, 1 to 10 of them at a time (callbacks need
    not line up with frames: uneven runs); the detector takes any whole 10 ms blocks."""
    far, mic = scene(name)
    before, after = doubletalk_main.NearEnd(), doubletalk.NearEnd()
    expected = feed(before, far, mic, blocks_ms)
    assert feed(after, far, mic, blocks_ms) == expected
    # the comparison means something: the user was heard over the reply, often
    judged = {start: near for _, _, kept, _ in expected for start, near in kept}
    assert 20 <= sum(judged.values()) <= len(judged) / 2
    assert before.delay is not None
    for seen in range(0, mic.size, FRAME_SAMPLES):
        assert after.onset(seen) == before.onset(seen)


def test_a_30_ms_block_costs_the_detector_well_under_what_it_did_on_main() -> None:
    """Thread time, the least of several interleaved runs of each (the machine is shared)."""
    far, mic = scene("reverberant")
    step = FRAME_SAMPLES

    def cost(detector: Detector) -> float:
        began = time.thread_time()
        for at in range(0, mic.size - step + 1, step):
            detector.feed(mic[at : at + step], far[at : at + step], at)
        return time.thread_time() - began

    main, now = [], []
    for _ in range(5):
        main.append(cost(doubletalk_main.NearEnd()))
        now.append(cost(doubletalk.NearEnd()))
    assert min(now) <= 0.7 * min(main), (min(now), min(main))
