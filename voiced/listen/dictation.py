"""Dictation: frames → utterances → transcripts judged by the filter, emitted in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from voiced.audio.frames import SAMPLE_RATE, Frame, FrameSource
from voiced.config import SttSettings
from voiced.groq.models import Transcription, TranscriptionRequest
from voiced.listen.events import Event, SpeechEnded
from voiced.listen.filter import Accepted, Verdict

MAX_IN_FLIGHT = 4
"""Transcription requests sent at once; later utterances wait for a free slot."""


@dataclass(frozen=True)
class Dictated:
    """One utterance's outcome: what was said, or why its transcript was rejected."""

    start: float
    """Where the speech began, seconds on the input's clock."""
    end: float
    """Where the speech stopped, seconds on the input's clock."""
    text: str
    """The accepted text, or what Whisper wrote for a rejected utterance."""
    rejected: str | None = None
    """Why the transcript is not user speech, or None when it was accepted."""

    def as_json(self) -> dict[str, Any]:
        """The record as ``{"start", "end", "text", "rejected"}``, times rounded to 10 ms."""
        return {
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "text": self.text,
            "rejected": self.rejected,
        }


class EventSegmenter(Protocol):
    """Frames in, events out (``voiced.listen.Segmenter``)."""

    def feed(self, frame: Frame) -> list[Event]:
        """Judge one frame and return the events it caused."""
        ...

    def flush(self) -> list[Event]:
        """End of input: close what is open and return the events."""
        ...


class Transcriber(Protocol):
    """Speech to text (``voiced.groq.GroqClient``)."""

    async def transcribe(self, request: TranscriptionRequest) -> Transcription:
        """Transcribe one upload."""
        ...


class Judge(Protocol):
    """Tells user speech from Whisper's inventions (``voiced.listen.TranscriptFilter``)."""

    def judge_utterance(self, transcription: Transcription, utterance: SpeechEnded) -> Verdict:
        """Judge the transcript of one utterance."""
        ...


class Dictation:
    """Runs a frame source through the segmenter and transcribes each utterance.

    Up to ``max_in_flight`` transcriptions run at once, but records come out in the order the
    utterances were spoken.

    Args:
        source: The microphone or a file standing in for it; closed when the run ends.
        segmenter: Cuts the frames into utterances.
        client: Transcribes the utterances.
        judge: Rejects transcripts that are not user speech.
        stt: Model, language and vocabulary prompt sent with every request.
        max_in_flight: Transcription requests sent at once.
    """

    def __init__(
        self,
        source: FrameSource,
        segmenter: EventSegmenter,
        client: Transcriber,
        judge: Judge,
        stt: SttSettings,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self._source = source
        self._segmenter = segmenter
        self._client = client
        self._judge = judge
        self._stt = stt
        self._slots = asyncio.Semaphore(max_in_flight)

    async def run(self, emit: Callable[[Dictated], object]) -> None:
        """Listen until the source ends, calling ``emit`` with each utterance's record in order.

        Args:
            emit: Called on the loop with every record, rejected ones included.

        Raises:
            VoicedError: The source failed (InputError, AudioDeviceError) or a transcription
                failed (ApiError); the remaining work is cancelled and the source closed.
        """
        order: asyncio.Queue[asyncio.Task[Dictated] | None] = asyncio.Queue()
        started: list[asyncio.Task[Dictated]] = []

        def begin(ended: SpeechEnded) -> None:
            task = asyncio.create_task(self._transcribe(ended), name="dictation-transcribe")
            started.append(task)
            order.put_nowait(task)

        producer = asyncio.create_task(self._segment(begin, order), name="dictation-segment")
        try:
            while (task := await order.get()) is not None:
                emit(await task)
            await producer  # raises what ended the source, if it failed
        finally:
            producer.cancel()
            for task in started:
                task.cancel()
            try:
                await asyncio.gather(producer, *started, return_exceptions=True)
            finally:
                await self._source.aclose()

    async def _segment(
        self,
        begin: Callable[[SpeechEnded], None],
        order: asyncio.Queue[asyncio.Task[Dictated] | None],
    ) -> None:
        try:
            async for frame in self._source.frames():
                for event in self._segmenter.feed(frame):
                    if isinstance(event, SpeechEnded):
                        begin(event)
            for event in self._segmenter.flush():
                if isinstance(event, SpeechEnded):
                    begin(event)
        finally:
            order.put_nowait(None)

    async def _transcribe(self, ended: SpeechEnded) -> Dictated:
        async with self._slots:
            filename, audio = await asyncio.to_thread(ended.encode, "flac")
            transcription = await self._client.transcribe(
                TranscriptionRequest(
                    audio=audio,
                    filename=filename,
                    model=self._stt.model,
                    language=self._stt.language,
                    prompt=self._stt.prompt,
                    response_format="verbose_json",
                    timestamp_granularities=("segment",),
                )
            )
        verdict = self._judge.judge_utterance(transcription, ended)
        start, end = ended.onset / SAMPLE_RATE, ended.offset / SAMPLE_RATE
        if isinstance(verdict, Accepted):
            return Dictated(start, end, verdict.text)
        return Dictated(start, end, verdict.text, verdict.reason)
