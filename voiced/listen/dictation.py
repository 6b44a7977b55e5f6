"""Dictation: frames → utterances → transcripts judged by the filter, emitted in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from voiced.audio.frames import SAMPLE_RATE, Frame, FrameSource
from voiced.config import SttSettings
from voiced.groq.models import Transcription, TranscriptionRequest
from voiced.listen.events import Dropped, Event, SpeechEnded, SpeechResumed, TentativeEnd
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

    @property
    def quiet_below_db(self) -> float | None:
        """Frames quieter than this (dBFS) may come late, in batches; None: none may."""
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
    utterances were spoken. With ``early``, an utterance is sent at its tentative end, while
    the speaker is still silent; the transcript is used when the utterance ends there, and
    thrown away when speech resumes.

    Args:
        source: The microphone or a file standing in for it; closed when the run ends.
        segmenter: Cuts the frames into utterances.
        client: Transcribes the utterances.
        judge: Rejects transcripts that are not user speech.
        stt: Model, language and vocabulary prompt sent with every request.
        max_in_flight: Transcription requests sent at once.
        early: Transcribe at the tentative end. Worth it only when the source runs in real
            time: from a file read as fast as possible the end follows at once.
    """

    def __init__(
        self,
        source: FrameSource,
        segmenter: EventSegmenter,
        client: Transcriber,
        judge: Judge,
        stt: SttSettings,
        max_in_flight: int = MAX_IN_FLIGHT,
        early: bool = False,
    ) -> None:
        self._source = source
        self._segmenter = segmenter
        self._client = client
        self._judge = judge
        self._stt = stt
        self._slots = asyncio.Semaphore(max_in_flight)
        self._early = early
        self._pending: tuple[TentativeEnd, asyncio.Task[Transcription]] | None = None
        self.early_used = 0
        """Utterances whose transcript came from the request sent at their tentative end."""
        self.early_discarded = 0
        """Requests sent at a tentative end and thrown away because speech resumed."""

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

        def begin(ended: SpeechEnded, early: asyncio.Task[Transcription] | None) -> None:
            work = self._transcribe(ended, early)
            task = asyncio.create_task(work, name="dictation-transcribe")
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
        begin: Callable[[SpeechEnded, asyncio.Task[Transcription] | None], None],
        order: asyncio.Queue[asyncio.Task[Dictated] | None],
    ) -> None:
        try:
            async for frame in self._source.frames():
                for event in self._segmenter.feed(frame):
                    self._on(event, begin)
                self._source.wait_below(self._segmenter.quiet_below_db)
            for event in self._segmenter.flush():
                self._on(event, begin)
        finally:
            self._discard_early()
            order.put_nowait(None)

    def _on(
        self,
        event: Event,
        begin: Callable[[SpeechEnded, asyncio.Task[Transcription] | None], None],
    ) -> None:
        if isinstance(event, SpeechEnded):
            begin(event, self._take_early(event))
        elif isinstance(event, TentativeEnd) and self._early:
            self._discard_early()
            task = asyncio.create_task(self._send(event), name="dictation-early")
            self._pending = (event, task)
        elif isinstance(event, SpeechResumed | Dropped):
            self._discard_early()

    def _take_early(self, ended: SpeechEnded) -> asyncio.Task[Transcription] | None:
        """The request sent at this utterance's tentative end, if it heard the same audio."""
        pending, self._pending = self._pending, None
        if pending is None:
            return None
        tentative, task = pending
        if tentative.start == ended.start and tentative.audio.size == ended.audio.size:
            self.early_used += 1
            return task
        _abandon(task)
        self.early_discarded += 1
        return None

    def _discard_early(self) -> None:
        if self._pending is not None:
            _abandon(self._pending[1])
            self._pending = None
            self.early_discarded += 1

    async def _transcribe(
        self, ended: SpeechEnded, early: asyncio.Task[Transcription] | None
    ) -> Dictated:
        transcription = await (early if early is not None else self._send(ended))
        verdict = self._judge.judge_utterance(transcription, ended)
        start, end = ended.onset / SAMPLE_RATE, ended.offset / SAMPLE_RATE
        if isinstance(verdict, Accepted):
            return Dictated(start, end, verdict.text)
        return Dictated(start, end, verdict.text, verdict.reason)

    async def _send(self, heard: SpeechEnded | TentativeEnd) -> Transcription:
        filename, audio = await asyncio.to_thread(heard.encode, "flac")
        async with self._slots:
            return await self._client.transcribe(
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


def _abandon(task: asyncio.Task[Transcription]) -> None:
    """Cancel a request nobody will wait for; a failure it already had is of no interest."""
    task.cancel()
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
