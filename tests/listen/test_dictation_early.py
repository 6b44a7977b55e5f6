"""Early transcription in dictation: an utterance is sent at its tentative end, while the
speaker is still silent, and that request is thrown away when speech resumes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.audio.speech import speak
from tests.conftest import make_client
from tests.groqsim import GroqSim, Segment, Transcript
from tests.listen.scenes import LIGHTS, lay_out
from voiced.audio.filesource import FileSource
from voiced.audio.frames import Frame
from voiced.config import ListenSettings, SttSettings
from voiced.listen import Segmenter, TranscriptFilter
from voiced.listen.dictation import Dictated, Dictation
from voiced.listen.events import Event, SpeechEnded

pytestmark = pytest.mark.realtime


def said(text: str, delay: float = 0.0) -> Transcript:
    return Transcript(text=f" {text}", segments=[Segment(0.0, 2.0, f" {text}")], delay=delay)


class TimedSegmenter:
    """The real segmenter, noting when (time.monotonic) each utterance's end was decided."""

    def __init__(self, settings: ListenSettings) -> None:
        self.inner = Segmenter(settings)
        self.ended_at: list[float] = []

    def feed(self, frame: Frame) -> list[Event]:
        return self._note(self.inner.feed(frame))

    def flush(self) -> list[Event]:
        return self._note(self.inner.flush())

    @property
    def quiet_below_db(self) -> float | None:
        return self.inner.quiet_below_db

    def _note(self, events: list[Event]) -> list[Event]:
        self.ended_at += [time.monotonic() for e in events if isinstance(e, SpeechEnded)]
        return events


async def dictate(
    groqsim: GroqSim, wav: Path, early: bool
) -> tuple[list[Dictated], Dictation, TimedSegmenter]:
    # Fixed timing, ended on the level: the tentative end after 250 ms of silence, the end
    # after 700 ms.
    settings = ListenSettings(turn_model=False, confirm_end=False)
    segmenter = await asyncio.to_thread(TimedSegmenter, settings)
    heard: list[Dictated] = []
    async with make_client(groqsim) as client, asyncio.timeout(30):
        dictation = Dictation(
            FileSource(wav, fast=False),  # paced in real time, like a microphone
            segmenter,
            client,
            TranscriptFilter(settings),
            SttSettings(),
            early=early,
        )
        await dictation.run(heard.append)
    return heard, dictation, segmenter


async def test_the_request_leaves_at_the_tentative_end_before_the_end_is_confirmed(
    groqsim: GroqSim, tmp_path: Path
) -> None:
    scene = lay_out("early", [0.4, [speak(LIGHTS)], 1.2])
    groqsim.enqueue("transcriptions", said(LIGHTS, delay=0.3))
    heard, dictation, segmenter = await dictate(groqsim, scene.wav(tmp_path), early=True)
    assert [(r.text, r.rejected) for r in heard] == [(LIGHTS, None)]
    (request,) = groqsim.requests_for("transcriptions")
    # Sent at the tentative end (250 ms of silence), the end is confirmed at 700 ms.
    assert request.received_at < segmenter.ended_at[0] - 0.3
    assert (dictation.early_used, dictation.early_discarded) == (1, 0)


async def test_without_early_transcription_the_request_follows_the_confirmed_end(
    groqsim: GroqSim, tmp_path: Path
) -> None:
    scene = lay_out("late", [0.4, [speak(LIGHTS)], 1.2])
    groqsim.enqueue("transcriptions", said(LIGHTS))
    heard, dictation, segmenter = await dictate(groqsim, scene.wav(tmp_path), early=False)
    assert [r.text for r in heard] == [LIGHTS]
    (request,) = groqsim.requests_for("transcriptions")
    assert request.received_at >= segmenter.ended_at[0]
    assert (dictation.early_used, dictation.early_discarded) == (0, 0)


async def test_speech_that_resumes_throws_the_early_request_away(
    groqsim: GroqSim, tmp_path: Path
) -> None:
    first, rest = "Set a timer", "for ten minutes, please."
    scene = lay_out("resumes", [0.4, [speak(first), 0.45, speak(rest)], 1.2])
    full = f"{first} {rest}"
    groqsim.enqueue("transcriptions", said(first, delay=0.5))  # still in flight when cancelled
    groqsim.enqueue("transcriptions", said(full))
    heard, dictation, _ = await dictate(groqsim, scene.wav(tmp_path), early=True)
    assert [r.text for r in heard] == [full]
    assert len(groqsim.requests_for("transcriptions")) == 2
    assert (dictation.early_used, dictation.early_discarded) == (1, 1)
