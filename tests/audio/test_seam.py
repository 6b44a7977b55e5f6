"""Where a stream that takes the microphone over goes on: the seam between two streams."""

from __future__ import annotations

import numpy as np

from tests.audio.signals import sweep, to_int16
from voiced.audio.stream import SEAM_TAIL, seam

RATE = 16000


def test_the_seam_is_found_in_the_audio_when_the_timestamps_are_off_by_8_ms() -> None:
    heard = to_int16(sweep(0.5, RATE, seed=4))
    ended = 4000  # the predecessor's last sample was heard[3999]
    tail = heard[ended - SEAM_TAIL : ended]
    assert seam(heard, tail, ended + 128) == ended
    assert seam(heard, tail, ended - 128) == ended


def test_over_silence_the_timestamps_place_the_seam() -> None:
    heard = np.zeros(8000, np.int16)
    heard[::97] = 1  # a sample here and there, well under 4 LSB RMS
    assert seam(heard, heard[3760:4000], 4003) == 4003


def test_in_a_steady_tone_the_match_nearest_the_timestamps_wins() -> None:
    t = np.arange(8000) / RATE
    heard = to_int16(0.5 * np.sin(2 * np.pi * 500 * t))  # a period of 32 samples
    tail = heard[4000 - SEAM_TAIL : 4000]
    assert seam(heard, tail, 4005) == 4000
    assert seam(heard, tail, 4027) == 4032  # one period on is as good a match, and nearer


def test_audio_unlike_the_tail_leaves_the_timestamps_place() -> None:
    heard = to_int16(sweep(0.5, RATE, seed=5))
    other = to_int16(sweep(0.5, RATE, seed=6))
    assert seam(heard, other[1000 : 1000 + SEAM_TAIL], 4000) == 4000
