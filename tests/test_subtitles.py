"""srt and vtt rendering from segments."""

from __future__ import annotations

from voiced.groq.models import TranscriptionSegment
from voiced.subtitles import to_srt, to_vtt


def seg(i: int, start: float, end: float, text: str) -> TranscriptionSegment:
    return TranscriptionSegment(i, start, end, text, -0.1, 0.01, 1.2)


SEGMENTS = [seg(0, 0.0, 2.5, " Hello there."), seg(1, 2.5, 3661.0049, " Bye."), seg(2, 5, 6, " ")]


def test_srt_numbers_cues_and_uses_commas() -> None:
    assert to_srt(SEGMENTS) == (
        "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n2\n00:00:02,500 --> 01:01:01,005\nBye.\n"
    )


def test_vtt_has_header_and_dots() -> None:
    assert to_vtt(SEGMENTS) == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello there.\n\n"
        "00:00:02.500 --> 01:01:01.005\nBye.\n"
    )
