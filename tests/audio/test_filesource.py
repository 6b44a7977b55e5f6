"""``--input FILE``: files of any format, rate and channel count become paced 16 kHz frames."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.audio.signals import best_alignment, sweep, to_int16, write_wav
from voiced.audio.filesource import FileSource
from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame
from voiced.errors import InputError

SECONDS = 1.5


def stereo_44k(path: Path) -> Path:
    """A 44.1 kHz stereo WAV: the sweep on the left, the same at half level on the right."""
    left = sweep(SECONDS, 44100, noise=0.0)
    return write_wav(path, to_int16(np.stack([left, left * 0.5], axis=1)), 44100)


def expected_16k() -> np.ndarray:
    """What the stereo file should become: the same sweep sampled at 16 kHz, mixed to 0.75."""
    return sweep(SECONDS, SAMPLE_RATE, noise=0.0) * 0.75 * 32767


async def read_all(source: FileSource) -> list[Frame]:
    async with asyncio.timeout(30):
        return [frame async for frame in source.frames()]


def assert_contiguous_from_zero(frames: list[Frame]) -> None:
    assert [f.start for f in frames] == [i * FRAME_SAMPLES for i in range(len(frames))]
    assert all(f.samples.shape == (FRAME_SAMPLES,) and f.samples.dtype == np.int16 for f in frames)


async def test_a_44k_stereo_wav_becomes_16k_mono_frames(tmp_path: Path) -> None:
    frames = await read_all(FileSource(stereo_44k(tmp_path / "in.wav"), fast=True))

    assert_contiguous_from_zero(frames)
    assert len(frames) == int(np.ceil(SECONDS * SAMPLE_RATE / FRAME_SAMPLES))
    heard = np.concatenate([f.samples for f in frames]).astype(np.float64)
    reference = expected_16k()
    lag, correlation = best_alignment(heard, reference)
    assert lag == 0 and correlation > 0.999
    level = np.sqrt(np.mean(heard[: reference.size] ** 2) / np.mean(reference**2))
    assert 0.98 < level < 1.02, "the channels should be averaged"


@pytest.mark.parametrize("fmt", ["FLAC", "OGG"])
async def test_flac_and_ogg_are_read_like_wav(tmp_path: Path, fmt: str) -> None:
    samples, rate = soundfile.read(stereo_44k(tmp_path / "in.wav"), dtype="int16")
    path = tmp_path / f"in.{fmt.lower()}"
    soundfile.write(path, samples, rate, format=fmt)

    frames = await read_all(FileSource(path, fast=True))

    assert_contiguous_from_zero(frames)
    heard = np.concatenate([f.samples for f in frames])
    assert best_alignment(heard, expected_16k())[1] > (0.999 if fmt == "FLAC" else 0.98)


async def test_formats_libsndfile_cannot_read_are_decoded_through_ffmpeg(tmp_path: Path) -> None:
    mp4 = tmp_path / "in.m4a"
    command = ["ffmpeg", "-v", "error", "-i", str(stereo_44k(tmp_path / "in.wav")), str(mp4)]
    await asyncio.to_thread(subprocess.run, command, check=True, timeout=30)

    frames = await read_all(FileSource(mp4, fast=True))

    assert_contiguous_from_zero(frames)
    heard = np.concatenate([f.samples for f in frames])
    assert best_alignment(heard, expected_16k()[400:-400])[1] > 0.98


async def test_the_last_partial_frame_is_padded_with_silence(tmp_path: Path) -> None:
    samples = np.arange(1, 2 * FRAME_SAMPLES + 41, dtype=np.int16)
    frames = await read_all(FileSource(write_wav(tmp_path / "short.wav", samples, 16000), True))

    assert len(frames) == 3
    joined = np.concatenate([f.samples for f in frames])
    assert np.array_equal(joined[: samples.size], samples)
    assert not joined[samples.size :].any()


async def test_each_frame_is_released_when_its_audio_would_have_arrived(tmp_path: Path) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    path = write_wav(tmp_path / "in.wav", to_int16(sweep(1.0, 16000)), 16000)
    source = FileSource(path, clock=lambda: 100.0, sleep=record)
    frames = await read_all(source)

    assert waits == pytest.approx([f.end / SAMPLE_RATE for f in frames])


async def test_frames_asked_to_hurry_are_not_waited_for_and_pacing_goes_on_from_them(
    tmp_path: Path,
) -> None:
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    frames: list[Frame] = []
    path = write_wav(tmp_path / "in.wav", to_int16(sweep(1.0, 16000)), 16000)
    source = FileSource(
        path, clock=lambda: now[0], sleep=sleep, hurry=lambda: 10 <= len(frames) < 20
    )
    async with asyncio.timeout(10):
        async for frame in source.frames():
            frames.append(frame)

    # Ten frames in real time, ten at once, then real time again from where the file was.
    frame_s = FRAME_SAMPLES / SAMPLE_RATE
    assert len(waits) == len(frames) - 10
    assert waits == pytest.approx([frame_s] * len(waits))
    assert now[0] == pytest.approx(100.0 + (len(frames) - 10) * frame_s)


@pytest.mark.realtime
async def test_real_time_pacing_takes_as_long_as_the_audio(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "in.wav", to_int16(sweep(SECONDS, 16000)), 16000)
    began = time.monotonic()
    arrivals: list[tuple[Frame, float]] = []
    async with asyncio.timeout(10):
        async for frame in FileSource(path).frames():
            arrivals.append((frame, time.monotonic() - began))

    assert all(at >= frame.end / SAMPLE_RATE - 0.005 for frame, at in arrivals), "early frame"
    assert SECONDS - 0.05 < arrivals[-1][1] < SECONDS + 1.0


async def test_fast_mode_runs_far_faster_than_real_time(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "long.wav", to_int16(sweep(30.0, 16000)), 16000)
    began = time.monotonic()
    frames = await read_all(FileSource(path, fast=True))
    assert len(frames) == 1000
    assert time.monotonic() - began < 3.0, "30 s of audio should take well under 3 s"


async def test_closing_the_source_ends_its_frames(tmp_path: Path) -> None:
    source = FileSource(write_wav(tmp_path / "in.wav", to_int16(sweep(5.0, 16000)), 16000), True)
    got = []
    async with asyncio.timeout(10):
        async for frame in source.frames():
            got.append(frame)
            if len(got) == 3:
                await source.aclose()
    assert len(got) == 3


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("noise.wav", np.random.default_rng(0).bytes(4000), "not audio that can be decoded"),
        ("notes.flac", b"shopping list: milk, eggs\n", "not audio that can be decoded"),
        ("missing.wav", None, "no such file"),
    ],
)
async def test_a_corrupt_or_missing_file_is_an_input_error(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        await read_all(FileSource(path))
    assert caught.value.hint
