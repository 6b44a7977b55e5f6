"""The pipeline's stages as Protocols, and the speech-to-text stage over Groq."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from voiced.audio.frames import SAMPLE_RATE, Int16Array
from voiced.audio.wav import encode_flac
from voiced.config import SttSettings
from voiced.converse.conversation import PreparedTurn, TurnResult
from voiced.converse.turn import ReplySink
from voiced.groq.client import GroqClient
from voiced.groq.models import Transcription, TranscriptionRequest
from voiced.pipeline.costs import Meter
from voiced.speak.speaker import SpokenReply


class Transcriber(Protocol):
    """Speech to text for one utterance."""

    model: str

    async def transcribe(self, audio: Int16Array) -> Transcription:
        """Return the transcript of 16 kHz mono int16 ``audio``.

        Raises:
            ApiError: The request failed.
        """


class Answerer(Protocol):
    """The conversation: answers a question through the tool loop, remembering it."""

    @property
    def acted(self) -> bool:
        """Whether the latest turn's model asked for a tool."""

    async def ask(self, text: str, sink: ReplySink, *, at: datetime | None = None) -> TurnResult:
        """Answer ``text``, streaming the reply to ``sink``; ``at`` is the moment its
        speculation prepared the request with (None: now)."""

    async def mark_heard(self, heard: str) -> None:
        """Store what of the latest turn's replies was heard (speech was cut short)."""

    async def withdraw(self) -> None:
        """Forget the latest turn (stopped: its question is asked again, whole)."""


class Prefetcher(Protocol):
    """Starts the chat request of a speculative turn before the turn is confirmed."""

    async def prepare(self, text: str) -> PreparedTurn:
        """Build and start the request the conversation would send for ``text``; return
        the turn it was prepared as."""

    def discard(self) -> None:
        """Drop the prepared request (speech resumed)."""


class Mouth(Protocol):
    """Speech out: a reply spoken as it streams, stoppable at once."""

    def reply(self) -> SpokenReply:
        """Start speaking a reply."""

    async def say(self, text: str) -> object:
        """Say a short message (errors, announcements)."""

    def stop(self) -> None:
        """Silence now."""

    def hold(self) -> None:
        """Pause what is being said, keeping the rest."""

    def release(self) -> None:
        """Say on what ``hold()`` paused."""


class GroqTranscriber:
    """Transcribes with Groq (verbose_json, so the filter can judge every segment, with word
    timestamps, so the wake word can be taken off what was said after it).

    Args:
        client: The Groq client.
        settings: ``[stt]``: model, language, prompt.
        meter: Counts each request's billed seconds.
    """

    def __init__(self, client: GroqClient, settings: SttSettings, meter: Meter) -> None:
        self.client, self.settings, self.meter = client, settings, meter
        self.model = settings.model

    async def transcribe(self, audio: Int16Array) -> Transcription:
        """Send the audio as FLAC and return the transcript (segments included)."""
        request = TranscriptionRequest(
            audio=encode_flac(audio, SAMPLE_RATE),
            filename="utterance.flac",
            model=self.model,
            language=self.settings.language,
            prompt=self.settings.prompt,
            response_format="verbose_json",
            timestamp_granularities=("segment", "word"),
        )
        transcription = await self.client.transcribe(request)
        self.meter.transcription(self.model, audio.size / SAMPLE_RATE)
        self.meter.ratelimit(self.client.ratelimit)
        return transcription
