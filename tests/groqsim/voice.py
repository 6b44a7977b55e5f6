"""The simulator's voices: espeak-ng (the program, not the library) saying the text as WAV."""

from __future__ import annotations

import functools
import io
import re
import subprocess
import wave

import numpy as np
import soxr

ESPEAK_VOICES: dict[str, str] = {
    "autumn": "en-us+f3",
    "diana": "en-us+f2",
    "hannah": "en-us+f4",
    "austin": "en-us+m1",
    "daniel": "en-us+m2",
    "troy": "en-us+m3",
    "abdullah": "ar+m1",
    "fahad": "ar+m2",
    "sultan": "ar+m3",
    "lulwa": "ar+f2",
    "noura": "ar+f3",
    "aisha": "ar+f4",
}
"""Each Orpheus voice as an espeak-ng voice and variant, so the voices sound apart."""

_DIRECTIONS = re.compile(r"\[[^\]]*\]")


@functools.lru_cache(maxsize=256)
def speech_wav(text: str, voice: str, rate: int) -> bytes:
    """``text`` said in ``voice`` as a 16-bit mono WAV file at ``rate`` Hz.

    Vocal directions in brackets ("[cheerful]") steer Orpheus and are not said.
    """
    spoken = _DIRECTIONS.sub(" ", text).strip() or "."
    result = subprocess.run(
        ["espeak-ng", "-v", ESPEAK_VOICES.get(voice, "en-us"), "--stdout", spoken],
        capture_output=True,
        check=True,
        timeout=30,
    )
    with wave.open(io.BytesIO(result.stdout), "rb") as wav:
        source = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    if source != rate:
        floats = soxr.resample(samples.astype(np.float32) / 32768.0, source, rate)
        samples = np.clip(np.rint(floats * 32768.0), -32768, 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return out.getvalue()
