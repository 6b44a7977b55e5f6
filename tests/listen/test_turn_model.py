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


def test_a_model_file_that_does_not_load_gives_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not a model")

    with pytest.raises(ConfigError, match="did not load") as caught:
        SmartTurn(broken)
    assert "turn_model = false" in caught.value.hint


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
