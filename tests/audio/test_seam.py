"""Where a stream that takes the microphone over goes on: the seam between two streams."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from tests.audio.signals import sweep, to_int16
from voiced.audio.devices import DeviceInfo
from voiced.audio.frames import Frame
from voiced.audio.stream import SEAM_TAIL, LiveStream, seam

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


def test_a_hand_over_called_off_mid_callback_leaves_the_stream_live() -> None:
    """``keep`` (the capture closing, or a successor too slow) may clear the successor
    between a callback's look at its phase and at its successor: the callback then goes on
    as a live stream (it raised in PortAudio's thread before)."""
    delivered: list[Frame] = []
    device = DeviceInfo(0, "mic", "ALSA", 1, 0, 16000.0)
    stream = LiveStream(device, RATE, 1, 0, delivered.extend, lambda s, why: None)
    waiting = LiveStream(device, RATE, 1, 0, delivered.extend, lambda s, why: None)
    stream.pass_to(waiting, lambda: None)
    stream._successor = None  # what keep() leaves, seen after the phase was read
    block = to_int16(sweep(0.06, RATE, seed=7))
    stream._callback(block.tobytes(), block.size, SimpleNamespace(currentTime=0.0), None)

    assert [f.start for f in delivered] == [0, 480]
    assert np.array_equal(np.concatenate([f.samples for f in delivered]), block)
