"""When a pause ends the turn: the turn model's verdict, and the silence each verdict waits for."""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from voiced.config import ListenSettings
from voiced.listen.candidate import samples_in
from voiced.listen.events import TurnVerdict
from voiced.listen.turnmodel import SmartTurn, TurnModel


class TurnJudge:
    """Judges pauses with the turn model and says how much silence then ends the utterance.

    Args:
        settings: turn_complete, turn_incomplete and the silences of ``[listen]``.
        model: The turn model; defaults to Smart Turn v3.2 (loaded here, about 400 ms).
        background: Judge on a worker thread (``start`` returns at once and the verdict is
            collected later), so that a live input is never held up by the model (12 ms a
            judgement on a modern CPU, over 100 ms on a busy small one). Off, ``start``
            judges at once: a file or a test gets the same verdicts at the same samples
            however fast it is fed.
    """

    def __init__(
        self, settings: ListenSettings, model: TurnModel | None = None, background: bool = False
    ) -> None:
        self._model = model if model is not None else SmartTurn()
        self._worker = (
            ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="voiced-turn", initializer=_yield_cpu
            )
            if background
            else None
        )
        self._complete = settings.turn_complete
        self._sure = settings.turn_sure
        self._incomplete = settings.turn_incomplete
        self._waits = {
            "complete": samples_in(settings.turn_complete_ms),
            "unsure": samples_in(settings.hangover_ms),
            "incomplete": samples_in(settings.turn_incomplete_ms),
        }
        self.check = samples_in(settings.turn_check_ms)
        """Silence after which a pause is first judged, in samples."""
        self.send_at_check = settings.turn_send_at_check
        """Whether the utterance so far is sent (a tentative end) when the judgement starts."""
        self.text = settings.turn_text
        """Whether an early transcript ending in "?" ends a pause the model held open."""
        self.finished = self._waits["complete"]
        """Silence (samples) after which a turn sure to be finished ends."""

    def start(self, audio: np.ndarray) -> Future[TurnVerdict]:
        """Judge int16 ``audio`` (the utterance so far), at once or on the worker thread."""
        if self._worker is not None:
            return self._worker.submit(self.judge, audio)
        done: Future[TurnVerdict] = Future()
        done.set_result(self.judge(audio))
        return done

    def judge(self, audio: np.ndarray) -> TurnVerdict:
        """The verdict on an utterance's int16 audio so far (ending in the pause)."""
        p = self._model.probability(audio)
        if p >= self._complete:
            return TurnVerdict("complete", p)
        if p < self._incomplete:
            return TurnVerdict("incomplete", p)
        return TurnVerdict("unsure", p)

    def wait(self, verdict: TurnVerdict) -> int:
        """Silence (samples) after which an utterance with this verdict ends.

        A finished turn waits turn_complete_ms once the model is sure of it (turn_sure), and
        longer the less sure it is, up to the hangover at turn_complete."""
        wait = self._waits[verdict.verdict]
        if verdict.verdict != "complete" or verdict.probability >= self._sure:
            return wait
        doubt = (self._sure - verdict.probability) / (self._sure - self._complete)
        return wait + round(doubt * max(self._waits["unsure"] - wait, 0))


WORKER_NICE = 10
"""How much lower the worker thread's CPU priority is than the rest of voiced's."""


def _yield_cpu() -> None:
    """Lower the calling (worker) thread's priority: on a busy machine the input and the
    reply must not wait for the turn model (Linux threads have their own nice value)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)


QUOTES = "\"'»«“”‘’"
"""Closing quotes a transcript may put after its last punctuation."""
DANGLING = frozenset("a an the my your our their his its and or but nor because whether".split())
"""English words no formed question ends on (articles, possessives, conjunctions): before a
question mark they say Whisper punctuated half a sentence ("Can you tell me about the?").
Prepositions are not here: "Who did you talk to?" is a question."""
OPEN_ENDED = DANGLING | frozenset(
    "to of at for with from by about into onto than as if unless although though whereas"
    " which whose whom very every will would can could should shall might must".split()
)
"""Words a sentence seldom ends on: ``DANGLING``, and the prepositions, modals and the like
that a formed one may end on now and then ("Which folder should I save the message to?").
The reply to a transcript ending on one waits for the thinking pause to be over
(``[daemon] rejoin_hold``): a question that did end there costs only that wait. Particles
that end commands ("turn it on", "off", "up", "in") and the verbs that end indirect
questions ("what time it is", "have") are not here."""
FINAL_MARKS = (".", "?", "!", "。", "？", "！")
"""Marks that end a sentence (an ellipsis is not one: the speaker trailed off)."""


def asks(text: str) -> bool:
    """Whether a transcript is a formed question: it ends in a question mark ("?", or the
    full-width one of Chinese and Japanese), before closing quotes and space, and not on a
    word no question ends on (``DANGLING``). Conservative: the mark only, never a question
    guessed from the words."""
    text = text.rstrip().rstrip(QUOTES).rstrip()
    if not text.endswith(("?", "？")):
        return False
    words = text[:-1].split()
    return bool(words) and words[-1].strip(QUOTES + ",.;:!?-–—…").lower() not in DANGLING


def sounds_unfinished(text: str) -> str | None:
    """Why a transcript sounds like half a sentence, or None when it sounds whole.

    The word it ends on says it (``OPEN_ENDED``, whatever mark Whisper put after it), and so
    does no final mark at all, or an ellipsis: Whisper ends what it hears as a sentence with
    one, but it often ends half a sentence with one too, so the mark alone never says the
    sentence is whole.

    Returns:
        A few words for the log ('ends in "to"', 'has no final mark', 'trails off'), or None.
    """
    text = text.rstrip().rstrip(QUOTES).rstrip()
    words = text.split()
    if not words:
        return None
    last = words[-1].strip(QUOTES + ",.;:!?-–—…").lower()
    if last in OPEN_ENDED:
        return f'ends in "{last}"'
    if text.endswith(("...", "…")):
        return "trails off"
    if not text.endswith(FINAL_MARKS):
        return "has no final mark"
    return None
