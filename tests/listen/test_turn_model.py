"""Smart Turn v3.2 as voiced ships and runs it (voiced/listen/turnmodel.py)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.audio.recordings import sentences
from tests.audio.speech import RATE
from tests.listen.realscenes import espeak_halves
from voiced.errors import ConfigError
from voiced.listen.turnmodel import (
    _MEL,
    FRAMES,
    MODEL_SHA256,
    N_MELS,
    SmartTurn,
    log_mel,
    model_path,
    window,
)


@pytest.fixture(scope="module")
def model() -> SmartTurn:
    return SmartTurn()


def int16(audio: np.ndarray, silence_s: float = 0.2) -> np.ndarray:
    """Speech as the segmenter hands it over: a little lead, the words, a short silence."""
    padded = np.concatenate([np.zeros(RATE // 2), audio, np.zeros(int(silence_s * RATE))])
    return np.asarray(np.clip(padded * 32767, -32768, 32767), dtype=np.int16)


def test_the_shipped_model_is_pipecats_file_unchanged() -> None:
    digest = hashlib.sha256(model_path().read_bytes()).hexdigest()

    assert digest == MODEL_SHA256
    assert (model_path().parent / "LICENSE-smart-turn").read_text().startswith("BSD 2-Clause")


def test_features_are_eight_seconds_of_whisper_log_mels_with_the_audio_at_the_end() -> None:
    short = np.full(RATE, 1000, dtype=np.int16)
    padded = window(short)
    features = log_mel(padded)

    assert padded.size == 8 * RATE and not padded[: 7 * RATE].any() and padded[-1] != 0
    assert features.shape == (N_MELS, FRAMES) and features.dtype == np.float32
    assert window(np.zeros(9 * RATE, dtype=np.int16)).size == 8 * RATE


def _dense_log_mel(x: np.ndarray) -> np.ndarray:
    """The features as first written: every frame, a dense 201 × 80 mel matrix product."""
    x = x.astype(np.float32)
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), 200, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, 400)[::160]
    power = np.abs(np.fft.rfft(frames * np.hanning(401)[:-1], axis=-1)) ** 2
    mel = np.log10(np.maximum(power @ _MEL, 1e-10)).T[:, :-1]
    mel = np.maximum(mel, mel.max() - 8.0)
    return ((mel + 4.0) / 4.0).astype(np.float32)


@pytest.mark.parametrize("seconds", [0.005, 0.05, 1.0, 2.5, 7.98, 8.0, 12.0])
def test_features_that_skip_the_padding_equal_those_of_every_frame(seconds: float) -> None:
    rng = np.random.default_rng(7)
    audio = (rng.standard_normal(int(seconds * RATE)) * 3000).astype(np.int16)
    padding = 8 * RATE - audio.size

    quick = log_mel(window(audio), padding=padding)
    np.testing.assert_allclose(quick, _dense_log_mel(window(audio)), atol=1e-5)
    np.testing.assert_array_equal(quick, log_mel(window(audio)))


def test_a_model_file_that_does_not_load_gives_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not a model")

    with pytest.raises(ConfigError, match="did not load") as caught:
        SmartTurn(broken)
    assert "turn_model = false" in caught.value.hint


@pytest.mark.slow
def test_finished_real_sentences_sound_finished_and_half_sentences_do_not(
    model: SmartTurn,
) -> None:
    finished = [model.probability(int16(p.audio)) for p in sentences(60)[:20]]
    halves = [model.probability(int16(first)) for first, _ in espeak_halves()]

    assert float(np.median(finished)) >= 0.8
    assert sum(p >= 0.5 for p in finished) >= 17
    assert max(halves) < 0.5


@pytest.mark.subprocess
def test_loading_the_model_turns_onnxruntimes_telemetry_off_and_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    # Official onnxruntime builds upload usage telemetry to Microsoft from Linux too, and
    # leave a session file (.ses) in $TMPDIR, unless ORT_DISABLE_TELEMETRY is set first.
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env["TMPDIR"] = str(tmp_path)
    code = (
        "import os\n"
        "from voiced.listen.turnmodel import SmartTurn\n"
        "SmartTurn()\n"
        "print(os.environ['ORT_DISABLE_TELEMETRY'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == []
