"""Class 9, memory and growth: transcribing a long file costs the same memory at any length."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.groqsim import GroqSim, Segment, Transcript
from tests.hostile.longwav import write_long_wav
from tests.hostile.peakrss import Run, transcribe_peak

pytestmark = pytest.mark.subprocess

SHORT_MIN, LONG_MIN = 10, 40
RATIO = 1.2
"""The longer file may cost at most this much more memory (the bench's target)."""
CEILING_MB = 300.0
CONFIG = "[stt]\nchunk_max_s = 120\n"
"""Pieces of 2 minutes: both files are cut in several, so both have uploads overlapping the
cutting of the next piece, and only growth with the length is left to see."""


def _cue_starts(srt: str) -> list[float]:
    stamps = re.findall(r"(\d\d):(\d\d):(\d\d),(\d\d\d) -->", srt)
    return [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms in stamps]


def _transcribe(groqsim: GroqSim, path: Path) -> Run:
    groqsim.api_key = TEST_KEY
    groqsim.enqueue(
        "transcriptions", *[Transcript("words", segments=(Segment(0.5, 1.5, "w"),))] * 20
    )
    before = len(groqsim.requests_for("transcriptions"))
    run = transcribe_peak(path, groqsim.base_url, "--format", "srt", config=CONFIG, timeout=180)
    assert run.returncode == 0, run.stderr
    assert run.peak_rss_mb > 0, "the process did not report its peak"
    assert "Traceback" not in run.stderr
    pieces = len(groqsim.requests_for("transcriptions")) - before
    starts = _cue_starts(run.stdout)
    assert len(starts) == pieces and starts == sorted(starts)
    return run


@pytest.mark.timeout(300)
def test_peak_memory_of_transcribe_does_not_grow_with_the_files_length(
    groqsim: GroqSim, tmp_path: Path
) -> None:
    short = write_long_wav(tmp_path / "short.wav", SHORT_MIN)
    first = _transcribe(groqsim, short)
    short.unlink()
    long = write_long_wav(tmp_path / "long.wav", LONG_MIN)
    second = _transcribe(groqsim, long)

    # 40 minutes of 48 kHz stereo is 460 MB of PCM: holding it whole would show at once.
    uploads = groqsim.requests_for("transcriptions")
    assert len(uploads) >= (SHORT_MIN + LONG_MIN) * 60 // 120
    ratio = second.peak_rss_mb / first.peak_rss_mb
    assert ratio <= RATIO, (
        f"peak RSS {first.peak_rss_mb:.0f} MB for {SHORT_MIN} min, "
        f"{second.peak_rss_mb:.0f} MB for {LONG_MIN} min (x{ratio:.2f})"
    )
    assert second.peak_rss_mb < CEILING_MB
