"""The first stage: webrtcvad behind an energy gate over an adaptive noise floor."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import webrtcvad

from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE
from voiced.config import ListenSettings

SILENCE_DB = -100.0
"""Level reported for digital silence, dBFS."""

_FULL_SCALE_SQ = 32768.0**2
_BLOCKS = 10
"""Sub-blocks a frame is split into to place an onset or offset inside it (3 ms each)."""


def level_db(samples: np.ndarray) -> float:
    """RMS level of int16 samples in dBFS (``SILENCE_DB`` for digital silence)."""
    x = samples.astype(np.float32)
    mean_square = float(np.dot(x, x)) / max(x.size, 1) / _FULL_SCALE_SQ
    return 10.0 * float(np.log10(mean_square)) if mean_square > 1e-10 else SILENCE_DB


def mean_level_db(levels: Sequence[float]) -> float:
    """Level of consecutive frames together (their mean power), dBFS, from their levels."""
    if not levels:
        return SILENCE_DB
    power = sum(10.0 ** (level / 10.0) for level in levels) / len(levels)
    return 10.0 * math.log10(power) if power > 1e-10 else SILENCE_DB


def loudest_span(levels: Sequence[float], frames: int) -> float:
    """The highest ``mean_level_db`` of any ``frames`` consecutive frames among ``levels``
    (of all of them when there are fewer), dBFS."""
    if len(levels) <= frames:
        return mean_level_db(levels)
    power = np.power(10.0, np.asarray(levels, dtype=np.float64) / 10.0)
    sums = np.convolve(power, np.ones(frames), mode="valid") / frames
    top = float(sums.max())
    return 10.0 * math.log10(top) if top > 1e-10 else SILENCE_DB


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the first stage made of one frame."""

    level_db: float
    floor_db: float
    threshold_db: float
    """Level the energy gate asked for: the floor plus the margin, or the absolute minimum."""
    voiced: bool


class FrameClassifier(Protocol):
    """Judges one 30 ms frame at a time, in order (it may keep state)."""

    def classify(self, samples: np.ndarray) -> Judgement:
        """Judge ``FRAME_SAMPLES`` int16 samples."""
        ...


class NoiseFloor:
    """The quietest frame level of a sliding window (minimum statistics), in O(1) a frame.

    Speech always has quiet moments within a few seconds, so the minimum stays at the
    background; a steady noise that starts becomes the floor once it fills the window.

    Args:
        window_frames: Frames the minimum is taken over.
    """

    def __init__(self, window_frames: int) -> None:
        self._window = max(1, window_frames)
        self._index = 0
        self._minima: deque[tuple[int, float]] = deque()

    def update(self, level: float) -> float:
        """Add one frame's level and return the floor, dBFS."""
        while self._minima and self._minima[-1][1] >= level:
            self._minima.pop()
        self._minima.append((self._index, level))
        if self._minima[0][0] <= self._index - self._window:
            self._minima.popleft()
        self._index += 1
        return self._minima[0][1]


class EnergyGatedVad:
    """A frame is voiced when webrtcvad says speech and it stands out of the noise floor.

    Args:
        settings: vad_aggressiveness, energy_margin_db, min_level_db and noise_window_s.
    """

    def __init__(self, settings: ListenSettings) -> None:
        self._vad = webrtcvad.Vad(settings.vad_aggressiveness)
        self._margin = settings.energy_margin_db
        self._min_level = settings.min_level_db
        frame_s = FRAME_SAMPLES / SAMPLE_RATE
        self._floor = NoiseFloor(round(settings.noise_window_s / frame_s))

    def classify(self, samples: np.ndarray) -> Judgement:
        """Judge one frame of int16 samples."""
        level = level_db(samples)
        floor = self._floor.update(level)
        threshold = max(floor + self._margin, self._min_level)
        speech = bool(self._vad.is_speech(samples.tobytes(), SAMPLE_RATE))
        return Judgement(level, floor, threshold, speech and level >= threshold)


def first_loud(samples: np.ndarray, threshold_db: float) -> int:
    """Index inside a frame where its first 3 ms block at or above ``threshold_db`` begins."""
    loud = np.flatnonzero(_block_levels(samples) >= threshold_db)
    return int(loud[0]) * (samples.size // _BLOCKS) if loud.size else 0


def last_loud(samples: np.ndarray, threshold_db: float) -> int:
    """Index inside a frame just past its last 3 ms block at or above ``threshold_db``."""
    loud = np.flatnonzero(_block_levels(samples) >= threshold_db)
    return (int(loud[-1]) + 1) * (samples.size // _BLOCKS) if loud.size else samples.size


def _block_levels(samples: np.ndarray) -> np.ndarray:
    blocks = samples.astype(np.float32).reshape(_BLOCKS, -1)
    mean_square = np.einsum("ij,ij->i", blocks, blocks) / blocks.shape[1] / _FULL_SCALE_SQ
    levels: np.ndarray = 10.0 * np.log10(np.maximum(mean_square, 1e-10))
    return levels
