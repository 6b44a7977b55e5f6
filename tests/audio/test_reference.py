"""The echo canceller's reference through the real sound server: what the speaker plays is in
it before it is heard, so a capture block read the moment it is heard finds it whole."""

from __future__ import annotations

import time

import numpy as np

from tests.audio.pulse import PulseServer
from voiced.audio.farend import FarEnd, position
from voiced.audio.playback import Clip
from voiced.audio.player import PLAYER_RATE, Player

BLOCK = 480
"""A 30 ms capture block at 16 kHz."""


def test_a_capture_block_read_as_it_is_heard_finds_the_whole_reference(
    pulse: PulseServer,
) -> None:
    """A loud tone plays for 1.5 s; every 5 ms, the 30 ms that have just been heard are read
    from the far end, as the capture reads them. Each such block must be the tone throughout:
    a stretch of it not yet written reads as silence, and AEC3, told that nothing was played
    there, keeps that silence in its history and lets the echo through (a resampler over the
    player's blocks wrote them up to 40 ms late)."""
    seconds = np.arange(round(1.5 * PLAYER_RATE)) / PLAYER_RATE
    tone = np.rint(8000 * np.sin(2 * np.pi * 440.0 * seconds)).astype(np.int16)
    far = FarEnd()
    player = Player(far_end=far)
    player.open()
    whole, reads = 0, 0
    try:
        player.play(Clip(tone, PLAYER_RATE))
        began = time.monotonic()
        while far.read(position(time.monotonic()) - BLOCK, BLOCK) is None:
            assert time.monotonic() - began < 2.0, "the tone never reached the reference"
            time.sleep(0.001)
        time.sleep(0.1)  # well inside the tone
        until = time.monotonic() + 1.0
        while time.monotonic() < until:
            block = far.read(position(time.monotonic()) - BLOCK, BLOCK)
            assert block is not None
            reads += 1
            whole += int(longest_silence(block) <= 2)  # the tone's zero crossings: 1-2 samples
            time.sleep(0.005)
    finally:
        player.close()
    assert reads > 100
    assert whole >= 0.95 * reads, f"{reads - whole} of {reads} blocks had a stretch not written"


def longest_silence(block: np.ndarray) -> int:
    """The longest run of zero samples in ``block``."""
    zero = np.concatenate(([0], (block == 0).astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(zero))
    return int((edges[1::2] - edges[::2]).max()) if edges.size else 0
