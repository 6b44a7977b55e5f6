"""Framer: blocks of any length become whole 30 ms frames with sample-counted starts."""

from __future__ import annotations

import numpy as np

from voiced.audio.frames import FRAME_SAMPLES, Frame, Framer


def test_blocks_of_any_length_become_contiguous_whole_frames() -> None:
    rng = np.random.default_rng(0)
    audio = rng.integers(-32768, 32767, size=20_000, dtype=np.int16)
    framer = Framer(start=960)
    cuts = np.cumsum(rng.integers(1, 1500, size=100))
    frames: list[Frame] = []
    for block in np.split(audio, cuts[cuts < audio.size]):
        frames += framer.push(block)

    assert [f.start for f in frames] == [960 + i * FRAME_SAMPLES for i in range(len(frames))]
    assert len(frames) == audio.size // FRAME_SAMPLES
    assert framer.pending == audio.size % FRAME_SAMPLES
    assert np.array_equal(np.concatenate([f.samples for f in frames]), audio[: len(frames) * 480])


def test_frames_do_not_share_memory_with_the_blocks_pushed() -> None:
    block = np.ones(FRAME_SAMPLES, dtype=np.int16)
    framer = Framer()
    (frame,) = framer.push(block)
    block[:] = 7
    assert (frame.samples == 1).all()


def test_flush_pads_the_remainder_with_silence() -> None:
    framer = Framer()
    assert framer.push(np.full(100, 5, dtype=np.int16)) == []
    (last,) = framer.flush()
    assert last.start == 0 and last.end == FRAME_SAMPLES
    assert (last.samples[:100] == 5).all() and not last.samples[100:].any()
    assert framer.flush() == [] and framer.next_start == FRAME_SAMPLES


def test_a_block_of_whole_frames_is_copied_once_not_referenced() -> None:
    buffer = np.arange(3 * FRAME_SAMPLES, dtype=np.int16)
    expected = buffer.copy()
    framer = Framer(start=480)
    frames = framer.push(buffer)
    buffer[:] = -1  # PortAudio reuses its buffer after the callback
    assert [f.start for f in frames] == [480, 960, 1440] and framer.pending == 0
    assert np.array_equal(np.concatenate([f.samples for f in frames]), expected)
    assert all(f.samples.shape == (FRAME_SAMPLES,) for f in frames)
