"""SubRip (srt) and WebVTT text from transcription segments."""

from __future__ import annotations

from collections.abc import Iterable

from voiced.groq.models import TranscriptionSegment


def _stamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(segments: Iterable[TranscriptionSegment]) -> str:
    """Render segments as SubRip: numbered cues, ``HH:MM:SS,mmm`` times, blank-line separated."""
    cues = []
    for number, seg in enumerate((s for s in segments if s.text.strip()), start=1):
        cues.append(
            f"{number}\n{_stamp(seg.start, ',')} --> {_stamp(seg.end, ',')}\n{seg.text.strip()}\n"
        )
    return "\n".join(cues)


def to_vtt(segments: Iterable[TranscriptionSegment]) -> str:
    """Render segments as WebVTT: a ``WEBVTT`` header, ``HH:MM:SS.mmm`` times."""
    cues = [
        f"{_stamp(seg.start, '.')} --> {_stamp(seg.end, '.')}\n{seg.text.strip()}\n"
        for seg in segments
        if seg.text.strip()
    ]
    return "WEBVTT\n\n" + "\n".join(cues)
