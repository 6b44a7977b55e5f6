"""Smart Turn v3.2: does the speech so far sound like a finished turn? (ONNX, one thread)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voiced.audio.frames import SAMPLE_RATE
from voiced.errors import ConfigError

MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
"""The model, shipped in ``voiced/listen/models/`` with its licence (see README there)."""
MODEL_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
"""The file as it ships inside the ``pipecat-ai`` 1.14.0 wheel."""
WINDOW_S = 8
"""The model hears the last 8 s of the utterance; shorter audio is padded with silence before."""
N_FFT = 400
HOP = 160
N_MELS = 80
FRAMES = WINDOW_S * SAMPLE_RATE // HOP
"""Feature frames the model takes (800)."""


class TurnModel(Protocol):
    """Judges whether an utterance sounds finished."""

    def probability(self, audio: np.ndarray) -> float:
        """The probability (0–1) that int16 ``audio`` at 16 kHz is a complete turn."""
        ...


def model_path() -> Path:
    """Where the shipped model file is."""
    return Path(str(resources.files("voiced.listen").joinpath("models", MODEL_FILE)))


class SmartTurn:
    """Pipecat's Smart Turn v3.2 (BSD-2) run with onnxruntime on one thread, without pipecat.

    About 12 ms a prediction on a modern CPU (45 ms on a busy 2-core test machine); loading
    takes about 200 ms (onnxruntime's import included).

    Args:
        path: The ``.onnx`` file; defaults to the one shipped with voiced.

    Raises:
        ConfigError: onnxruntime is missing, or the model does not load.
    """

    def __init__(self, path: Path | None = None) -> None:
        path = path or model_path()
        # Official onnxruntime builds since 1.2x upload usage telemetry to Microsoft from
        # Linux too, and leave a session file in $TMPDIR; this turns both off, and must be
        # set before onnxruntime is first imported. voiced sends nothing anywhere unasked.
        os.environ["ORT_DISABLE_TELEMETRY"] = "1"
        try:
            import onnxruntime as ort  # type: ignore[import-untyped, unused-ignore]
        except ImportError as exc:
            raise ConfigError(
                "onnxruntime is not installed, so the turn model cannot run",
                "reinstall voiced, or set [listen] turn_model = false",
            ) from exc
        options = ort.SessionOptions()
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session: Any = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types, or OSError
            raise ConfigError(
                f"the turn model {path} did not load: {exc}",
                "reinstall voiced, or set [listen] turn_model = false",
            ) from exc
        # The first run costs several times a later one (onnxruntime plans its memory then):
        # paid here, at start-up, not at the first pause, where it would stall the input.
        self.probability(np.zeros(SAMPLE_RATE, dtype=np.int16))

    def probability(self, audio: np.ndarray) -> float:
        """The probability (0–1) that int16 ``audio`` at 16 kHz is a complete turn."""
        features = log_mel(window(audio), padding=WINDOW_S * SAMPLE_RATE - audio.size)
        outputs = self._session.run(None, {"input_features": features[np.newaxis]})
        return float(np.asarray(outputs[0]).reshape(-1)[0])


def window(audio: np.ndarray) -> np.ndarray:
    """The last ``WINDOW_S`` of int16 ``audio`` as float32 in [-1, 1], padded with zeros
    before it to exactly that length."""
    size = WINDOW_S * SAMPLE_RATE
    tail = audio[-size:].astype(np.float32) / 32768.0
    return np.pad(tail, (size - tail.size, 0))


def log_mel(x: np.ndarray, padding: int = 0) -> np.ndarray:
    """Whisper's log-mel features of 8 s of float audio, as Smart Turn was trained on them.

    The same computation as pipecat's ``_whisper_features.py`` (itself Hugging Face's
    ``WhisperFeatureExtractor`` with ``do_normalize=True``): the waveform normalised to zero
    mean and unit variance, a centred (reflect-padded) 400-point STFT with a periodic Hann
    window every 160 samples, power through 80 Slaney mel filters, log10 floored at 1e-10,
    the last frame dropped, clamped to 8 below the maximum, then ``(x + 4) / 4``.

    Args:
        x: 8 s of float audio.
        padding: How many of its first samples are the zeros ``window`` put before a
            shorter utterance: the frames wholly inside them are all alike, and are
            computed once (a 2 s utterance costs a quarter of the work).

    Returns:
        float32 features, shape (80, 800).
    """
    x = x.astype(np.float32)
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    alike = max(0, padding - N_FFT // 2) // HOP
    """Frames that hold only the padding (its reflection included)."""
    mel = _mel_power(frames[alike:])
    if alike:
        mel = np.concatenate([np.repeat(_mel_power(frames[:1]), alike, axis=0), mel])
    mel = np.log10(np.maximum(mel, 1e-10)).T[:, :-1]
    mel = np.maximum(mel, mel.max() - 8.0)
    out: np.ndarray = ((mel + 4.0) / 4.0).astype(np.float32)
    return out


def _mel_power(frames: np.ndarray) -> np.ndarray:
    """The mel-filtered power of each frame, shape (frames, N_MELS).

    Each filter spans a few neighbouring FFT bins (391 weights in all, not 201 × 80): summed
    over them directly this costs a millisecond, where a dense matrix product goes to the
    BLAS library's threads and took 5–11 ms on a busy 2-core machine.
    """
    power = np.abs(np.fft.rfft(frames * _HANN, axis=-1)) ** 2
    summed: np.ndarray = np.add.reduceat(power[:, _BINS] * _WEIGHTS, _STARTS, axis=1)
    return summed


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    mel = 3.0 * hz / 200.0
    high = hz >= 1000.0
    mel[high] = 15.0 + np.log(hz[high] / 1000.0) * 27.0 / np.log(6.4)
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    hz = 200.0 * mel / 3.0
    high = mel >= 15.0
    hz[high] = 1000.0 * np.exp(np.log(6.4) / 27.0 * (mel[high] - 15.0))
    return hz


def _mel_filters() -> np.ndarray:
    """Slaney-normalised triangular filters, shape (N_FFT // 2 + 1, N_MELS)."""
    low, high = _hz_to_mel(np.array([0.0, SAMPLE_RATE / 2]))
    edges = _mel_to_hz(np.linspace(low, high, N_MELS + 2))
    bins = np.linspace(0, SAMPLE_RATE // 2, N_FFT // 2 + 1)
    slopes = edges[np.newaxis, :] - bins[:, np.newaxis]
    widths = np.diff(edges)
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    filters *= 2.0 / (edges[2:] - edges[:-2])
    return filters


def _sparse(filters: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each filter's bins and weights, one filter after another, and where each one begins.

    Every Slaney filter is one triangle: its non-zero weights are contiguous bins."""
    bins: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    starts: list[int] = []
    for m in range(filters.shape[1]):
        (used,) = np.nonzero(filters[:, m])
        starts.append(sum(b.size for b in bins))
        bins.append(np.arange(used[0], used[-1] + 1))
        weights.append(filters[used[0] : used[-1] + 1, m])
    return np.concatenate(bins), np.concatenate(weights), np.array(starts)


_HANN = np.hanning(N_FFT + 1)[:-1]
"""Periodic Hann window (as torch.hann_window)."""
_MEL = _mel_filters()
_BINS, _WEIGHTS, _STARTS = _sparse(_MEL)
