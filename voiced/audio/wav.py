"""Audio files and buffers: decode any format, convert to 16 kHz mono, encode WAV or FLAC.

Resampling uses soxr (libsoxr): band-limited, so nothing aliases into the speech band, and
streaming, so blocks resampled one after another join without clicks. numpy's ``interp`` aliases
and scipy's ``resample_poly`` is neither streaming nor a small dependency.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import soundfile  # type: ignore[import-untyped, unused-ignore]
import soxr  # type: ignore[import-untyped, unused-ignore]

from voiced.audio.frames import SAMPLE_RATE, Int16Array
from voiced.errors import InputError

Float32Array = npt.NDArray[np.float32]


def encode_wav(samples: Int16Array, rate: int = SAMPLE_RATE) -> bytes:
    """Encode mono int16 samples as a 16-bit PCM WAV file (upload with extension ``.wav``)."""
    return _encode(samples, rate, "WAV")


def encode_flac(samples: Int16Array, rate: int = SAMPLE_RATE) -> bytes:
    """Encode mono int16 samples as 16-bit FLAC (upload with extension ``.flac``)."""
    return _encode(samples, rate, "FLAC")


def encode_for_upload(
    samples: Int16Array, fmt: Literal["wav", "flac"] = "flac", stem: str = "utterance"
) -> tuple[str, bytes]:
    """Encode 16 kHz mono int16 for the speech-to-text API.

    Returns:
        (file name with the extension that matches the format, encoded bytes).
    """
    data = encode_flac(samples) if fmt == "flac" else encode_wav(samples)
    return f"{stem}.{fmt}", data


def _encode(samples: Int16Array, rate: int, fmt: str) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(samples, dtype=np.int16), rate, format=fmt, subtype="PCM_16")
    return buffer.getvalue()


def decode(path: Path) -> tuple[Float32Array, int]:
    """Read a whole audio file: WAV, FLAC, OGG, … with libsndfile, anything else with ffmpeg.

    Returns:
        (samples, rate): float32 in [-1, 1], shape (frames, channels).

    Raises:
        InputError: The file is missing, unreadable or not audio any decoder understands.
    """
    check_readable(path)
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        return data, int(rate)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        sndfile_error = str(exc)
    return ffmpeg_decode(path, sndfile_error), SAMPLE_RATE


def check_readable(path: Path) -> None:
    """Raise InputError unless ``path`` is a regular file this process can read."""
    try:
        if not path.is_file():
            if path.exists():
                raise InputError(f"{path}: not a regular file", "give the path of an audio file")
            raise InputError(f"{path}: no such file", "check the path")
        with path.open("rb"):
            pass
    except PermissionError:
        raise InputError(f"{path}: permission denied", "check the file's permissions") from None


def ffmpeg_decode(path: Path, why_not_sndfile: str = "") -> Float32Array:
    """Decode any file ffmpeg reads to 16 kHz mono float32, shape (frames, 1).

    Raises:
        InputError: ffmpeg is not installed or cannot decode the file.
    """
    if not shutil.which("ffmpeg"):
        raise InputError(
            f"{path}: cannot decode ({why_not_sndfile or 'unknown format'})",
            "WAV, FLAC and OGG are read directly; for other formats install ffmpeg",
        )
    command = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path)]
    command += ["-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip().splitlines()
        raise InputError(
            f"{path}: not audio that can be decoded ({reason[-1] if reason else 'ffmpeg failed'})",
            f"check the file plays (ffprobe {path.name}), or convert it: "
            f"ffmpeg -i {path.name} -ar 16000 -ac 1 {path.stem}.flac",
        )
    samples = np.frombuffer(result.stdout, dtype="<f4").astype(np.float32)
    return samples.reshape(-1, 1)


def to_mono_16k(samples: npt.NDArray[np.generic], rate: int) -> Int16Array:
    """Convert audio of any rate and channel count to 16 kHz mono int16.

    Args:
        samples: float in [-1, 1] or int16; shape (frames,) or (frames, channels).
        rate: Their sample rate in Hz.

    Returns:
        1-D int16 samples at 16 kHz (channels averaged, resampled with soxr).
    """
    mono = as_float_mono(samples)
    if rate != SAMPLE_RATE and mono.size:
        mono = soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ")
    return float_to_int16(mono)


def as_float_mono(samples: npt.NDArray[np.generic]) -> Float32Array:
    """Average the channels of (frames, channels) audio; int16 is scaled to [-1, 1]."""
    data = np.asarray(samples)
    floats = (
        data.astype(np.float32) / 32768.0
        if data.dtype == np.int16
        else data.astype(np.float32, copy=False)
    )
    if floats.ndim == 2:
        floats = floats[:, 0] if floats.shape[1] == 1 else floats.mean(axis=1, dtype=np.float32)
    return floats


def float_to_int16(samples: Float32Array) -> Int16Array:
    """Scale float audio in [-1, 1] to int16, clipping what lies outside."""
    scaled: Int16Array = np.clip(np.rint(samples * 32768.0), -32768, 32767).astype(np.int16)
    return scaled


class StreamResampler:
    """Resamples mono int16 blocks to 16 kHz one after another, keeping the filter's state.

    Args:
        rate: The input rate in Hz; 16000 passes blocks through untouched.
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._soxr = (
            None
            if rate == SAMPLE_RATE
            else soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="int16", quality="HQ")
        )

    def __call__(self, block: Int16Array, last: bool = False) -> Int16Array:
        """Return the 16 kHz samples ``block`` completes (``last`` flushes the filter)."""
        if self._soxr is None:
            return block
        out: Int16Array = self._soxr.resample_chunk(np.ascontiguousarray(block), last=last)
        return out
