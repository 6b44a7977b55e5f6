"""The PulseAudio fixture: audio played into the mic is captured; audio played is recorded."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import sounddevice as sd

from tests.audio.pulse import PulseServer
from tests.audio.signals import best_alignment, sweep, to_int16, write_wav


def test_wav_played_into_the_mic_is_captured_on_default(
    pulse: PulseServer,
    tmp_path: Path,
) -> None:
    reference = to_int16(sweep(1.5, 16000))
    wav = write_wav(tmp_path / "sweep.wav", reference, 16000)
    blocks: list[np.ndarray] = []
    first_block = threading.Event()

    def callback(indata: np.ndarray, frames: int, time: object, status: object) -> None:
        blocks.append(indata[:, 0].copy())
        first_block.set()

    with sd.InputStream(
        device="default", samplerate=16000, channels=1, dtype="int16", callback=callback
    ):
        assert first_block.wait(5), "the input stream delivered no audio"
        player = pulse.play_to_mic(wav)
        assert player.wait(timeout=10) == 0
        sd.sleep(300)
    recorded = np.concatenate(blocks)

    lag, correlation = best_alignment(recorded, reference)
    assert correlation > 0.98, f"correlation {correlation:.4f} at lag {lag}"


def test_audio_played_to_default_shows_up_in_the_speaker_recording(
    pulse: PulseServer,
) -> None:
    reference = to_int16(sweep(1.0, 22050, seed=1))
    recording = pulse.record_speaker()
    try:
        sd.play(reference, samplerate=22050, device="default", blocking=False)
        sd.wait()
        sd.sleep(300)
    finally:
        recorded = recording.stop()

    lag, correlation = best_alignment(recorded, reference)
    assert correlation > 0.98, f"correlation {correlation:.4f} at lag {lag}"


def test_the_speaker_recording_can_be_read_while_it_runs(
    pulse: PulseServer,
) -> None:
    recording = pulse.record_speaker()
    try:
        sd.sleep(300)
        so_far = recording.samples().size
        sd.sleep(300)
        later = recording.samples().size
    finally:
        total = recording.stop().size
    assert 0 < so_far < later <= total
