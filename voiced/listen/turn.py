"""When a pause ends the turn: the turn model's verdict, and the silence each verdict waits for."""

from __future__ import annotations

import numpy as np

from voiced.config import ListenSettings
from voiced.listen.candidate import samples_in
from voiced.listen.events import TurnVerdict
from voiced.listen.turnmodel import SmartTurn, TurnModel


class TurnJudge:
    """Judges pauses with the turn model and says how much silence then ends the utterance.

    Args:
        settings: turn_complete, turn_incomplete and the silences of ``[listen]``.
        model: The turn model; defaults to Smart Turn v3.2 (loaded here, about 200 ms).
    """

    def __init__(self, settings: ListenSettings, model: TurnModel | None = None) -> None:
        self._model = model if model is not None else SmartTurn()
        self._complete = settings.turn_complete
        self._incomplete = settings.turn_incomplete
        self._waits = {
            "complete": samples_in(settings.turn_complete_ms),
            "unsure": samples_in(settings.hangover_ms),
            "incomplete": samples_in(settings.turn_incomplete_ms),
        }
        self.check = samples_in(settings.turn_check_ms)
        """Silence after which a pause is first judged, in samples."""

    def judge(self, audio: np.ndarray) -> TurnVerdict:
        """The verdict on an utterance's int16 audio so far (ending in the pause)."""
        p = self._model.probability(audio)
        if p >= self._complete:
            return TurnVerdict("complete", p)
        if p < self._incomplete:
            return TurnVerdict("incomplete", p)
        return TurnVerdict("unsure", p)

    def wait(self, verdict: TurnVerdict) -> int:
        """Silence (samples) after which an utterance with this verdict ends."""
        return self._waits[verdict.verdict]
