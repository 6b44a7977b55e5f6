"""Long 48 kHz stereo recordings of phrases and silences, written block by block."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import soxr

from tests.audio.speech import RATE, ROOM_DB, speak
from tests.listen.scenes import LIGHTS, PLAY, REMIND, WEATHER

NOISE_S = 7
"""Length of the room noise that repeats under the whole recording."""


def write_long_wav(path: Path, minutes: float, rate: int = 48000, seed: int = 9) -> Path:
    """Write ``minutes`` of espeak-ng phrases in room noise, 1.2–3.5 s apart, as 16-bit stereo.

    Only one phrase and its silence are in memory at a time, so a 60-minute file costs what a
    10-minute one does (here as in the code under test).
    """
    phrases = [
        np.asarray(soxr.resample(speak(text), RATE, rate), dtype=np.float32)
        for text in (LIGHTS, WEATHER, REMIND, PLAY)
    ]
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((NOISE_S * rate, 2)).astype(np.float32)
    noise *= np.float32(10 ** (ROOM_DB / 20))
    total = int(minutes * 60 * rate)
    written = count = 0
    with soundfile.SoundFile(path, "w", rate, 2, "PCM_16", format="WAV") as out:
        while written < total:
            gap = np.zeros(int(rng.uniform(1.2, 3.5) * rate), dtype=np.float32)
            mono = np.concatenate((gap, phrases[count % len(phrases)]))[: total - written]
            stereo = np.stack((mono, mono * np.float32(0.8)), axis=1)
            where = np.arange(written, written + len(mono)) % len(noise)
            out.write(stereo + noise[where])
            written += len(mono)
            count += 1
    return path
