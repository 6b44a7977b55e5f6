"""Earcons: made by voiced's own generator, kept in assets/, short, clean and switchable off."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from voiced.speak.earcons import (
    ASSETS,
    EARCONS,
    EarconName,
    Earcons,
    load,
    synthesize,
    write_assets,
)
from voiced.speak.fileout import WavFileOutput


@pytest.mark.parametrize("name", EARCONS)
def test_the_committed_asset_is_what_the_generator_makes(name: EarconName) -> None:
    with wave.open(str(ASSETS / f"{name}.wav"), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (22050, 1, 2)
    committed, generated = read(ASSETS / f"{name}.wav"), synthesize(name)
    assert committed.size == generated.size
    # sin() may differ in its last bit between CPUs; nothing else may differ
    assert np.abs(committed - generated).max() <= 1


@pytest.mark.parametrize("name", EARCONS)
def test_an_earcon_is_short_unclipped_and_fades_in_and_out(name: EarconName) -> None:
    samples = synthesize(name).astype(np.int32)
    assert 0.1 < samples.size / 22050 <= 0.4
    assert 0.15 * 32767 < np.abs(samples).max() < 0.5 * 32767  # audible, far from clipping
    assert abs(samples[0]) < 200 and abs(samples[-1]) < 200  # no click at either end


def test_the_three_earcons_sound_different() -> None:
    spectra = {}
    for name in EARCONS:
        samples = synthesize(name).astype(np.float64)
        half = samples.size // 2
        spectra[name] = [
            np.argmax(np.abs(np.fft.rfft(part))) / part.size * 22050
            for part in (samples[:half], samples[half:])
        ]
    listening, stopped, error = (spectra[n] for n in ("listening", "stopped", "error"))
    assert listening[1] > listening[0]  # rises
    assert stopped[1] < stopped[0]  # falls
    assert max(error) < min(listening)  # lower than the others


def read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.int32)


def test_write_assets_renders_every_earcon(tmp_path: Path) -> None:
    paths = write_assets(tmp_path)
    assert [p.name for p in paths] == [f"{n}.wav" for n in EARCONS]
    for path, name in zip(paths, EARCONS, strict=True):
        assert np.array_equal(read(path), synthesize(name))


def test_earcons_switched_off_play_nothing() -> None:
    output = WavFileOutput()
    assert Earcons(output, enabled=False).play("listening") is None
    assert output.samples().size == 0
    playback = Earcons(output).play("error")
    assert playback is not None and [r.status for r in playback.reports()] == ["played"]
    assert np.array_equal(output.samples(), load("error").samples)
