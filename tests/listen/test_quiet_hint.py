"""The segmenter's hint to the capture: which frames may reach it late, in batches.

The microphone lets frames quieter than ``Segmenter.quiet_below_db`` wait for one wake-up of
the loop (tests/audio/test_quiet_wait.py). That is only safe if such frames cannot start
speech and if the hint is withdrawn while anything is open.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.audio.speech import Scene
from tests.listen.harness import frames
from tests.listen.scenes import non_speech_scenes, speech_scenes
from voiced.config import ListenSettings
from voiced.listen import Dropped, Segmenter, SpeechEnded, SpeechStarted
from voiced.listen.vad import EnergyGatedVad

DEFAULTS = ListenSettings()


def scenes() -> dict[str, Scene]:
    return {**speech_scenes(), **non_speech_scenes()}


@pytest.mark.parametrize(
    "name", ["us_160", "pause_pink_5db", "distant_fan", "music", "keyboard", "fan_starts"]
)
def test_a_frame_below_the_gates_last_threshold_is_never_voiced(name: str) -> None:
    gate = EnergyGatedVad(DEFAULTS)
    previous = None
    below = 0
    for frame in frames(scenes()[name].audio):
        judged = gate.classify(frame.samples)
        if previous is not None and judged.level_db < previous.threshold_db:
            below += 1
            assert not judged.voiced, f"frame at {frame.start} is voiced below the threshold"
        previous = judged
    assert below > 0, "the scene has no quiet frames to check"


@pytest.mark.parametrize("name", ["us_160", "pause_us", "pause_pink_5db"])
def test_the_hint_is_the_gates_threshold_while_idle_and_withdrawn_while_speech_is_open(
    name: str,
) -> None:
    scene = scenes()[name]
    # Fixed timing: an espeak sentence the turn model hears as unfinished waits 2 s, longer
    # than the scene's trailing silence.
    segmenter = Segmenter(replace(DEFAULTS, turn_model=False))
    speaking = False
    hints_while_idle: list[float] = []
    for frame in frames(scene.audio):
        events = segmenter.feed(frame)
        speaking = any(isinstance(e, SpeechStarted) for e in events) or (
            speaking and not any(isinstance(e, SpeechEnded | Dropped) for e in events)
        )
        hint = segmenter.quiet_below_db
        if speaking:
            assert hint is None, f"frames may wait at {frame.start}, inside an utterance"
        elif frame.end < scene.utterances[0][0]:
            assert hint is not None, "nothing is open before the speech"
            hints_while_idle.append(hint)
    assert speaking is False, "the utterance did not end"
    assert hints_while_idle and min(hints_while_idle) >= DEFAULTS.min_level_db
