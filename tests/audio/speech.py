"""Speech, noise, click and music fixtures with known speech bounds, made with espeak-ng."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soxr

from tests.audio.signals import write_wav

RATE = 16000
Floats = npt.NDArray[np.float64]
CACHE = Path(__file__).resolve().parents[1] / ".cache" / "speech"
"""Rendered espeak-ng phrases (git-ignored); delete it to render them again."""

SPEECH_DB = -20.0
"""RMS level of a normal speaker's phrase, dBFS."""
ROOM_DB = -70.0
"""Level of the faint noise every scene has, as a real microphone never gives digital zero."""


@dataclass(frozen=True)
class Scene:
    """A test recording and the speech it truly holds.

    Attributes:
        name: Short identifier, used as the test id and the WAV name.
        audio: 16 kHz mono int16.
        utterances: (onset, offset) sample bounds of each utterance, speech starting exactly
            at the onset and ending exactly at the offset.
        speech: The speech alone (floats, same length as ``audio``), to measure how much of
            it a piece of the recording holds.
    """

    name: str
    audio: npt.NDArray[np.int16]
    utterances: tuple[tuple[int, int], ...]
    speech: Floats

    def speech_energy(self, start: int, end: int) -> float:
        """Energy of the speech alone between samples ``start`` and ``end``."""
        part = self.speech[max(start, 0) : max(end, 0)]
        return float(np.dot(part, part))

    def held(self, start: int, end: int, onset: int, offset: int) -> float:
        """Energy of the utterance ``onset``…``offset`` that the audio ``start``…``end`` holds."""
        return self.speech_energy(max(start, onset), min(end, offset))

    def wav(self, directory: Path) -> Path:
        """Write the scene as ``<directory>/<name>.wav`` and return the path."""
        return write_wav(directory / f"{self.name}.wav", self.audio, RATE)


def speak(text: str, voice: str = "en-us", speed: int = 160) -> Floats:
    """Render ``text`` with espeak-ng at 16 kHz, trimmed to its true speech bounds.

    espeak-ng pads its output with silence; the bounds are where the amplitude first and last
    exceeds 50 dB below the peak. The result is scaled to ``SPEECH_DB`` RMS.
    """
    raw = _espeak(text, voice, speed)
    peak = float(np.abs(raw).max())
    loud = np.flatnonzero(np.abs(raw) > peak * 10 ** (-50 / 20))
    speech = raw[loud[0] : loud[-1] + 1]
    return _scale(speech, SPEECH_DB)


def _espeak(text: str, voice: str, speed: int) -> Floats:
    key = hashlib.sha256(f"{voice}|{speed}|{text}".encode()).hexdigest()[:16]
    path = CACHE / f"{key}.wav"
    if not path.exists():
        if not shutil.which("espeak-ng"):
            raise RuntimeError("espeak-ng is not installed: run ./scripts/setup.sh test")
        out = subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
            check=True,
            capture_output=True,
            timeout=30,
        ).stdout
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.part")
        tmp.write_bytes(out)
        tmp.replace(path)
    data = path.read_bytes()
    with _header(data) as header:
        rate = header.getframerate()
    samples = np.frombuffer(data[44 : 44 + (len(data) - 44) // 2 * 2], dtype="<i2")
    resampled = soxr.resample(samples.astype(np.float64) / 32768, rate, RATE, quality="HQ")
    return np.asarray(resampled, dtype=np.float64)


def _header(data: bytes) -> wave.Wave_read:
    # espeak-ng --stdout leaves the length fields as placeholders: read only the format.
    return wave.open(io.BytesIO(data[:44] + b"\0\0"))


def rms_db(x: Floats) -> float:
    """RMS level of float audio in dBFS."""
    return float(10 * np.log10(np.mean(np.square(x)) + 1e-20))


def _scale(x: Floats, level_db: float) -> Floats:
    return x * 10 ** ((level_db - rms_db(x)) / 20)


def white(seconds: float, seed: int) -> Floats:
    """White noise at 0 dBFS RMS."""
    return np.random.default_rng(seed).standard_normal(int(seconds * RATE))


def pink(seconds: float, seed: int) -> Floats:
    """Pink (1/f) noise at 0 dBFS RMS, shaped in the frequency domain."""
    n = int(seconds * RATE)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    return _scale(np.fft.irfft(spectrum, n), 0.0)


def fan(seconds: float, seed: int) -> Floats:
    """A fan: mains hum at 50 Hz with harmonics plus low-passed rushing air, 0 dBFS RMS."""
    t = np.arange(int(seconds * RATE)) / RATE
    hum = sum(np.sin(2 * np.pi * 50 * k * t + k) / k for k in (1, 2, 3, 4, 6))
    air = _lowpass(white(seconds, seed), 800.0)
    return _scale(_scale(hum, 0.0) + 2 * _scale(air, 0.0), 0.0)


def _lowpass(x: Floats, cutoff: float) -> Floats:
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1 / RATE)
    spectrum /= np.sqrt(1 + (freqs / cutoff) ** 8)
    return np.fft.irfft(spectrum, x.size)


def clicks(seconds: float, seed: int) -> Floats:
    """Keyboard typing: 5–15 ms broadband bursts with a sharp attack at irregular intervals.

    Peaks vary from -26 to -8 dBFS; some keys click twice (press and release).
    """
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * RATE))
    at = 0.2
    while at < seconds - 0.05:
        for offset in (0.0, rng.uniform(0.04, 0.09)) if rng.random() < 0.4 else (0.0,):
            length = int(rng.uniform(0.005, 0.015) * RATE)
            decay = np.exp(-np.arange(length) / (rng.uniform(0.0015, 0.004) * RATE))
            t = np.arange(length) / RATE
            body = rng.standard_normal(length) + np.sin(2 * np.pi * rng.uniform(2e3, 5e3) * t)
            burst = body * decay / np.abs(body * decay).max()
            start = int((at + offset) * RATE)
            end = min(start + length, out.size)
            out[start:end] += burst[: end - start] * 10 ** (rng.uniform(-26, -8) / 20)
        pause = rng.uniform(0.5, 1.2) if rng.random() < 0.1 else rng.uniform(0.06, 0.35)
        at += pause
    return out


def music(seconds: float, seed: int) -> Floats:
    """A synthesised band: chords and a melody with harmonics, kick and hi-hat, at 120 bpm."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    out = np.zeros(n)
    beat = 0.5
    chords = [(220.0, 277.2, 329.6), (246.9, 311.1, 370.0), (196.0, 246.9, 293.7)]
    scale = [440.0, 493.9, 554.4, 587.3, 659.3, 740.0, 830.6]
    for i in range(int(seconds / beat)):
        start = int(i * beat * RATE)
        chord = chords[(i // 4) % len(chords)]
        for f in chord:
            _add_note(out, start, beat * 0.95, f, 0.25)
        for half in (0, 1):
            _add_note(out, start + half * int(beat / 2 * RATE), beat / 2, rng.choice(scale), 0.3)
        _add_kick(out, start)
        _add_hat(out, start + int(beat / 2 * RATE), rng)
    return _scale(out, -20.0)


def _add_note(out: Floats, start: int, seconds: float, freq: float, gain: float) -> None:
    t = np.arange(min(int(seconds * RATE), out.size - start)) / RATE
    tone = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 9) if freq * k < RATE / 2)
    envelope = np.minimum(t / 0.01, 1.0) * np.exp(-t / (seconds / 2))
    out[start : start + t.size] += gain * tone * envelope


def _add_kick(out: Floats, start: int) -> None:
    t = np.arange(min(int(0.15 * RATE), out.size - start)) / RATE
    out[start : start + t.size] += 0.8 * np.sin(2 * np.pi * (120 - 200 * t) * t) * np.exp(-t / 0.05)


def _add_hat(out: Floats, start: int, rng: np.random.Generator) -> None:
    length = min(int(0.04 * RATE), out.size - start)
    noise = np.diff(rng.standard_normal(length + 1))
    out[start : start + length] += 0.1 * noise * np.exp(-np.arange(length) / (0.008 * RATE))


def distant(speech: Floats, seed: int) -> Floats:
    """A speaker across the room: 30 dB quieter, low-passed at 2.5 kHz and reverberated."""
    rng = np.random.default_rng(seed)
    ir_t = np.arange(int(0.4 * RATE)) / RATE
    ir = rng.standard_normal(ir_t.size) * np.exp(-ir_t / 0.08) * 0.3
    ir[0] = 1.0
    wet = np.convolve(_lowpass(speech, 2500.0), ir)[: speech.size]
    return _scale(wet, SPEECH_DB - 30)
