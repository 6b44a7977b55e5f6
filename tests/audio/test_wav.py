"""Encoding utterances for upload, decoding files, and converting to 16 kHz mono."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr

from tests.audio.signals import best_alignment, sweep, to_int16, write_wav
from voiced.audio.wav import (
    StreamResampler,
    decode,
    encode_flac,
    encode_for_upload,
    encode_wav,
    to_mono_16k,
)
from voiced.errors import InputError


def speechlike(seconds: float = 1.0, rate: int = 16000) -> np.ndarray:
    return to_int16(sweep(seconds, rate, seed=3))


@pytest.mark.parametrize(
    ("encode", "magic", "fmt"), [(encode_wav, b"RIFF", "WAV"), (encode_flac, b"fLaC", "FLAC")]
)
def test_utterances_encode_losslessly_as_16k_mono(
    encode: Callable[[np.ndarray, int], bytes], magic: bytes, fmt: str
) -> None:
    samples = speechlike()
    data = encode(samples, 16000)

    assert data.startswith(magic)
    info = soundfile.info(io.BytesIO(data))
    assert (info.format, info.samplerate, info.channels, info.subtype) == (fmt, 16000, 1, "PCM_16")
    decoded, _ = soundfile.read(io.BytesIO(data), dtype="int16")
    assert np.array_equal(decoded, samples)


def test_flac_is_smaller_than_wav_for_the_same_audio() -> None:
    tone = to_int16(sweep(2.0, 16000, noise=0.0))
    samples = np.concatenate([np.zeros(16000, dtype=np.int16), tone])
    assert len(encode_flac(samples)) < 0.7 * len(encode_wav(samples))


def test_decode_keeps_the_files_rate_and_channels(tmp_path: Path) -> None:
    stereo = to_int16(np.stack([sweep(0.5, 22050), sweep(0.5, 22050, seed=1)], axis=1))
    samples, rate = decode(write_wav(tmp_path / "s.wav", stereo, 22050))

    assert rate == 22050 and samples.shape == (stereo.shape[0], 2)
    assert samples.dtype == np.float32
    assert np.allclose(samples * 32768, stereo, atol=1)


def test_decode_falls_back_to_ffmpeg_at_16k_mono(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "s.wav", to_int16(sweep(1.0, 44100, noise=0.0)), 44100)
    m4a = tmp_path / "s.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), str(m4a)], check=True, timeout=30)

    samples, rate = decode(m4a)

    assert rate == 16000 and samples.shape[1] == 1
    reference = sweep(1.0, 16000, noise=0.0)[400:-400]
    assert best_alignment(samples[:, 0], reference)[1] > 0.98


def test_decode_of_garbage_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.wav"
    path.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(InputError, match="not audio that can be decoded"):
        decode(path)


def test_to_mono_16k_mixes_channels_and_resamples_any_rate() -> None:
    left = sweep(1.0, 48000, noise=0.0)
    stereo = to_int16(np.stack([left, left * 0.5], axis=1))

    mono = to_mono_16k(stereo, 48000)

    assert mono.dtype == np.int16 and abs(mono.size - 16000) <= 1
    lag, correlation = best_alignment(mono, sweep(1.0, 16000, noise=0.0)[100:-100])
    assert lag == 100 and correlation > 0.999
    assert np.array_equal(to_mono_16k(speechlike(), 16000), speechlike())


def test_resampling_block_by_block_equals_resampling_all_at_once() -> None:
    signal = to_int16(sweep(2.0, 44100, noise=0.0))
    whole = soxr.resample(signal, 44100, 16000, quality="HQ")
    resample = StreamResampler(44100)
    cuts = np.cumsum(np.random.default_rng(1).integers(50, 3000, size=200))
    blocks = np.split(signal, cuts[cuts < signal.size])

    pieces = [resample(b, last=i == len(blocks) - 1) for i, b in enumerate(blocks)]
    joined = np.concatenate(pieces)

    assert joined.size == whole.size
    difference = np.abs(joined.astype(int) - whole.astype(int))
    assert difference.max() <= 4, "clicks at block joins (a click is hundreds of steps)"


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_uploads_are_named_with_the_extension_of_their_format(fmt: str) -> None:
    name, data = encode_for_upload(speechlike(0.5), fmt)  # type: ignore[arg-type]
    assert name == f"utterance.{fmt}"
    assert soundfile.info(io.BytesIO(data)).format == fmt.upper()
