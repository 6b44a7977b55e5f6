"""The turn model in the segmenter: each pause is judged once, and the verdict sets its end."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from tests.audio.speech import RATE, Scene
from tests.listen.harness import ended, frames, run
from tests.listen.realscenes import espeak_halves, prompt_scene, with_pause
from tests.listen.scenes import speech_scenes
from voiced.audio.frames import FRAME_SAMPLES
from voiced.config import ListenSettings
from voiced.errors import ConfigError
from voiced.listen import Level, Segmenter, SpeechEnded, SpeechResumed, TentativeEnd

DEFAULTS = ListenSettings()
MS = RATE // 1000
SILERO_LAG = 150 * MS
"""Silero hears speech for up to about 100 ms after it stops (and a frame more)."""


class Scripted:
    """A turn model that gives one probability, and counts the audio it was asked about."""

    def __init__(self, probability: float) -> None:
        self.p = probability
        self.judged: list[int] = []

    def probability(self, audio: np.ndarray) -> float:
        self.judged.append(audio.size)
        return self.p


def story(scene: Scene, p: float, settings: ListenSettings = DEFAULTS) -> list[object]:
    return [
        e
        for e in run(Segmenter(settings, turn_model=Scripted(p)), scene.audio)
        if not isinstance(e, Level)
    ]


def test_a_turn_that_sounds_finished_is_sent_at_once_and_ends_after_turn_complete_ms() -> None:
    scene = speech_scenes()["us_160"]
    events = story(scene, 0.9)
    tentative = [e for e in events if isinstance(e, TentativeEnd)]
    finished = [e for e in events if isinstance(e, SpeechEnded)]

    assert len(tentative) == len(finished) == 2
    for early, done, (onset, offset) in zip(tentative, finished, scene.utterances, strict=True):
        assert early.turn is not None and early.turn.verdict == "complete"
        # At the first short silence (turn_check_ms once Silero hears no speech either).
        assert offset < early.at <= offset + SILERO_LAG + DEFAULTS.turn_check_ms * MS
        wait = DEFAULTS.turn_complete_ms * MS
        assert done.offset + wait <= done.at <= offset + wait + SILERO_LAG
        np.testing.assert_array_equal(done.audio, early.audio)
        assert done.turn == early.turn
        held = scene.held(done.start, done.end, onset, offset)
        assert held >= 0.999 * scene.speech_energy(onset, offset)


def test_an_unfinished_turn_waits_through_a_thinking_pause_up_to_turn_incomplete_ms() -> None:
    first, rest = espeak_halves()[0]
    scene = prompt_scene("thinking", [with_pause(first, rest, 1.2)], "clean")
    # Sent only on a "finished" verdict: the thinking pause is the one pause announced.
    events = story(scene, 0.01, replace(DEFAULTS, turn_send_at_check=False))
    (done,) = [e for e in events if isinstance(e, SpeechEnded)]
    (onset, offset) = scene.utterances[0]

    assert done.start <= onset and done.end >= offset, "the pause did not split it"
    assert done.turn is not None and done.turn.verdict == "incomplete"
    wait = DEFAULTS.turn_incomplete_ms * MS
    assert done.offset + wait <= done.at <= offset + wait + SILERO_LAG
    assert [type(e) for e in events].count(SpeechResumed) == 1


def test_sent_at_every_judged_pause_an_unfinished_turn_is_withdrawn_each_time_and_stays_one() -> (
    None
):
    first, rest = espeak_halves()[0]
    scene = prompt_scene("thinking", [with_pause(first, rest, 1.2)], "clean")
    model = Scripted(0.01)
    events = [
        e
        for e in run(Segmenter(DEFAULTS, turn_model=model), scene.audio)
        if not isinstance(e, Level)
    ]
    (done,) = [e for e in events if isinstance(e, SpeechEnded)]
    (onset, offset) = scene.utterances[0]
    kinds = [type(e) for e in events]

    assert done.start <= onset and done.end >= offset, "the pause did not split it"
    assert kinds.count(TentativeEnd) == len(model.judged), "sent at every judged pause"
    assert kinds.count(SpeechResumed) == len(model.judged) - 1, "withdrawn but the last"
    last = [e for e in events if isinstance(e, TentativeEnd)][-1]
    np.testing.assert_array_equal(done.audio, last.audio)


@pytest.mark.parametrize("p", [0.7, 0.55])
def test_a_finished_turn_the_model_is_less_sure_of_waits_longer_up_to_the_hangover(
    p: float,
) -> None:
    scene = speech_scenes()["us_160"]
    finished = [e for e in story(scene, p) if isinstance(e, SpeechEnded)]
    doubt = (DEFAULTS.turn_sure - p) / (DEFAULTS.turn_sure - DEFAULTS.turn_complete)
    extra = doubt * (DEFAULTS.hangover_ms - DEFAULTS.turn_complete_ms)
    wait = round((DEFAULTS.turn_complete_ms + extra) * MS)

    assert len(finished) == 2
    assert DEFAULTS.turn_complete_ms * MS < wait < DEFAULTS.hangover_ms * MS
    for done, (_, offset) in zip(finished, scene.utterances, strict=True):
        assert done.turn is not None and done.turn.verdict == "complete"
        assert done.offset + wait <= done.at <= offset + wait + SILERO_LAG


def test_an_unsure_turn_ends_after_the_hangover() -> None:
    scene = speech_scenes()["gb_120"]
    finished = [e for e in story(scene, 0.35) if isinstance(e, SpeechEnded)]

    assert len(finished) == 2
    for done, (_, offset) in zip(finished, scene.utterances, strict=True):
        assert done.turn is not None and done.turn.verdict == "unsure"
        wait = DEFAULTS.hangover_ms * MS
        assert done.offset + wait <= done.at <= offset + wait + SILERO_LAG


def test_a_finished_sounding_half_that_goes_on_is_withdrawn_and_stays_one_utterance() -> None:
    first, rest = espeak_halves()[1]
    scene = prompt_scene("goes_on", [with_pause(first, rest, 0.3)], "clean")
    names = [type(e).__name__ for e in story(scene, 0.9)]

    assert names == [
        "SpeechStarted",
        "TentativeEnd",
        "SpeechResumed",
        "TentativeEnd",
        "SpeechEnded",
    ]


def test_the_model_judges_each_pause_once_and_never_while_silero_hears_speech() -> None:
    scene = speech_scenes()["pauses_gb"]  # one sentence with two 300 ms pauses
    model = Scripted(0.35)
    run(Segmenter(DEFAULTS, turn_model=model), scene.audio)

    assert len(model.judged) == 3, "two inner pauses and the end"


def test_without_the_turn_model_every_utterance_ends_after_the_fixed_hangover() -> None:
    scene = speech_scenes()["us_160"]
    model = Scripted(0.9)
    fixed = replace(DEFAULTS, turn_model=False)
    finished = ended(run(Segmenter(fixed, turn_model=model), scene.audio))

    assert model.judged == [], "the model is not consulted"
    for done, (_, offset) in zip(finished, scene.utterances, strict=True):
        assert done.turn is None
        hangover = DEFAULTS.hangover_ms * MS
        assert done.offset + hangover <= done.at <= offset + hangover + SILERO_LAG


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"turn_incomplete": 0.6, "turn_complete": 0.5}, "turn_incomplete must not exceed"),
        ({"turn_check_ms": 500, "turn_complete_ms": 400}, "turn_check_ms < turn_complete_ms"),
        ({"turn_incomplete_ms": 300}, "turn_complete_ms <= turn_incomplete_ms"),
        ({"turn_sure": 0.4, "turn_complete": 0.5}, "turn_sure must not be below"),
    ],
    ids=["thresholds", "check-after-complete", "incomplete-shorter", "sure-below-complete"],
)
def test_turn_settings_that_contradict_each_other_are_refused(
    change: dict[str, float], words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        replace(DEFAULTS, **change)


class Gated(Scripted):
    """A scripted turn model that answers only once its gate is opened."""

    def __init__(self, probability: float) -> None:
        super().__init__(probability)
        self.gate = threading.Event()
        self.answered = threading.Event()

    def probability(self, audio: np.ndarray) -> float:
        self.judged.append(audio.size)
        assert self.gate.wait(10)
        self.answered.set()
        return self.p


def test_in_the_background_the_model_never_holds_up_the_input_and_its_verdict_ends_the_turn() -> (
    None
):
    scene = speech_scenes()["us_160"]
    onset, offset = scene.utterances[0]
    model = Gated(0.9)
    segmenter = Segmenter(DEFAULTS, turn_model=model, turn_in_background=True)
    split = (offset + 300 * MS) // FRAME_SAMPLES * FRAME_SAMPLES
    before: list[object] = []
    for frame in frames(scene.audio[:split]):
        before += segmenter.feed(frame)  # the model is still judging: feed does not wait

    assert len(model.judged) == 1, "judged once, at the first short silence"
    assert not [e for e in before if isinstance(e, SpeechEnded)]
    model.gate.set()
    assert model.answered.wait(10)
    time.sleep(0.05)  # the worker thread hands the verdict over
    after = [e for f in frames(scene.audio[split:], split) for e in segmenter.feed(f)]
    (done, *_) = [e for e in after if isinstance(e, SpeechEnded)]

    assert done.turn is not None and done.turn.verdict == "complete"
    wait = DEFAULTS.turn_complete_ms * MS
    assert done.offset + wait <= done.at <= offset + wait + SILERO_LAG
    assert done.start <= onset and done.end >= offset


def while_unanswered(
    model: Gated, audio: np.ndarray, settings: ListenSettings = DEFAULTS
) -> list[object]:
    """Feed ``audio`` through a segmenter judging in the background while ``model`` holds back
    its verdict (let go at the end, so its worker thread finishes); return the events."""
    segmenter = Segmenter(settings, turn_model=model, turn_in_background=True)
    try:
        return [e for f in frames(audio) for e in segmenter.feed(f)]
    finally:
        model.gate.set()


def test_a_turn_model_too_slow_to_answer_leaves_the_fixed_hangover_in_force() -> None:
    scene = speech_scenes()["us_160"]
    onset, offset = scene.utterances[0]
    model = Gated(0.01)  # it would say "unfinished", but never answers in time
    events = while_unanswered(model, scene.audio[: offset + 1500 * MS])
    (done,) = [e for e in events if isinstance(e, SpeechEnded)]

    assert done.turn is None, "no verdict came"
    hangover = DEFAULTS.hangover_ms * MS
    assert done.offset + hangover <= done.at <= offset + hangover + SILERO_LAG
    assert done.start <= onset and done.end >= offset


def test_the_utterance_is_sent_at_the_first_short_silence_while_the_model_still_judges() -> None:
    scene = speech_scenes()["us_160"]
    onset, offset = scene.utterances[0]
    model = Gated(0.9)  # judging, and it will not answer before the test lets it
    events = while_unanswered(model, scene.audio[: offset + 150 * MS])
    (early,) = [e for e in events if isinstance(e, TentativeEnd)]

    assert len(model.judged) == 1 and early.turn is None, "sent before the verdict came"
    assert offset < early.at <= offset + DEFAULTS.turn_check_ms * MS + 2 * FRAME_SAMPLES
    assert early.audio.size == model.judged[0], "the audio the model judges is the audio sent"
    assert early.start <= onset


def test_without_sending_at_the_check_nothing_is_sent_before_the_verdict_or_tentative_end() -> None:
    scene = speech_scenes()["us_160"]
    _, offset = scene.utterances[0]
    model = Gated(0.9)
    settings = replace(DEFAULTS, turn_send_at_check=False)
    events = while_unanswered(model, scene.audio[: offset + 150 * MS], settings)

    assert len(model.judged) == 1
    assert not [e for e in events if isinstance(e, TentativeEnd)]
