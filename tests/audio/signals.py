"""Test signals and the measurements audio tests make on them."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt


def sweep(seconds: float, rate: int, seed: int = 0, noise: float = 0.05) -> npt.NDArray[np.float64]:
    """A logarithmic 200–3000 Hz sweep plus a little noise, in [-0.6, 0.6]; never periodic.

    With ``noise=0`` the same sweep at two rates is the same signal, sampled differently.
    """
    t = np.arange(int(seconds * rate)) / rate
    f0, f1 = 200.0, 3000.0
    k = np.log(f1 / f0) / seconds
    phase = 2 * np.pi * f0 * (np.exp(k * t) - 1) / k
    hiss = np.random.default_rng(seed).standard_normal(t.size) * noise
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)
    return np.clip((0.5 * np.sin(phase) + hiss) * fade, -0.6, 0.6)


def to_int16(signal: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    """Scale [-1, 1] floats to int16."""
    return np.round(np.clip(signal, -1, 1) * 32767).astype(np.int16)


def write_wav(path: Path, samples: npt.NDArray[np.int16], rate: int) -> Path:
    """Write int16 samples, shape (n,) or (n, channels), as a PCM WAV file."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return path


def best_alignment(
    recorded: npt.NDArray[np.generic], reference: npt.NDArray[np.generic]
) -> tuple[int, float]:
    """Find where ``reference`` sits inside ``recorded``.

    Returns:
        (lag in samples, Pearson correlation of ``reference`` with the recording at that lag);
        the correlation is 0.0 when the recording is too short to hold the reference.
    """
    rec = recorded.astype(np.float64)
    ref = reference.astype(np.float64)
    if rec.size < ref.size:
        return 0, 0.0
    size = 1 << int(np.ceil(np.log2(rec.size + ref.size)))
    xcorr = np.fft.irfft(np.fft.rfft(rec, size) * np.conj(np.fft.rfft(ref, size)), size)
    lag = int(np.argmax(xcorr[: rec.size - ref.size + 1]))
    window = rec[lag : lag + ref.size]
    if window.std() == 0 or ref.std() == 0:
        return lag, 0.0
    return lag, float(np.corrcoef(window, ref)[0, 1])
