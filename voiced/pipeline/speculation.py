"""Speculative turns: at the tentative end, transcribe and ask at once; undone if speech goes on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from voiced.audio.frames import Int16Array
from voiced.converse.conversation import Conversation, PreparedTurn
from voiced.groq.models import Transcription
from voiced.pipeline.clock import InputClock
from voiced.pipeline.metered import PipelineClient
from voiced.pipeline.speech import CachingTTS, foresee
from voiced.pipeline.stages import Prefetcher, Transcriber

log = logging.getLogger(__name__)


class ConversationPrefetcher:
    """Builds the very request the conversation will send for a text, and starts it.

    Args:
        conversation: Builds the request (history, prompt, tools) as it will for the turn.
        client: Streams the reply into its prefetch buffer.
        tts: Renders the reply's first chunks ahead, when given.
    """

    def __init__(
        self, conversation: Conversation, client: PipelineClient, tts: CachingTTS | None
    ) -> None:
        self.conversation, self.client, self.tts = conversation, client, tts
        self._foresight: asyncio.Task[None] | None = None

    async def prepare(self, text: str) -> PreparedTurn:
        """Start the request for ``text``; return the turn it was prepared as."""
        prepared = await self.conversation.prepare(text)
        prefetch = self.client.prefetch(self.conversation.request(prepared.messages))
        if self.tts is not None:
            self._foresight = asyncio.create_task(foresee(prefetch.replay(), self.tts))
        return prepared

    def discard(self) -> None:
        """Drop the prefetched reply and anything rendered from it."""
        self.client.discard_prefetch()
        if self._foresight is not None:
            self._foresight.cancel()
            self._foresight = None
        if self.tts is not None:
            self.tts.forget()


class Speculation:
    """The work started for one utterance at its tentative end.

    Args:
        audio: The utterance as it stood at the tentative end.
        transcriber: Speech to text.
        admit: Turns a transcript into the text a turn would answer, or None (rejected,
            not addressed to voiced): only then is the reply requested.
        prefetcher: Starts the reply's request; None transcribes only.
        clock: The input clock, for when the transcript was ready.
    """

    def __init__(
        self,
        audio: Int16Array,
        transcriber: Transcriber,
        admit: Callable[[Transcription], str | None],
        prefetcher: Prefetcher | None,
        clock: InputClock,
    ) -> None:
        self.size = audio.size
        self.transcriber, self.admit, self.prefetcher, self.clock = (
            transcriber,
            admit,
            prefetcher,
            clock,
        )
        self.ready_at: int | None = None
        """Input-clock sample when the transcript arrived."""
        self.text: str | None = None
        """The transcript's text once it arrived (before it is admitted): the segmenter may
        end a question the turn model held open on it."""
        self.asked: PreparedTurn | None = None
        """The turn whose reply was requested, if any."""
        self._task = asyncio.create_task(self._run(audio), name="voiced-speculation")

    def matches(self, audio: Int16Array) -> bool:
        """Whether the confirmed utterance is the audio this speculation heard."""
        return audio.size == self.size

    async def transcript(self) -> Transcription:
        """The speculative transcript (waiting for it if needed).

        Raises:
            ApiError: The speculative request failed.
        """
        return await asyncio.shield(self._task)

    def cancel(self) -> None:
        """Discard everything: speech resumed, or the utterance was dropped."""
        self._task.cancel()
        if self.prefetcher is not None:
            self.prefetcher.discard()

    async def _run(self, audio: Int16Array) -> Transcription:
        transcription = await self.transcriber.transcribe(audio)
        self.ready_at = self.clock.now()
        self.text = transcription.text
        text = self.admit(transcription)
        if text and self.prefetcher is not None:
            try:
                self.asked = await self.prefetcher.prepare(text)
            except Exception as exc:  # the turn will simply ask again
                log.info("speculative request not started: %s", exc)
        return transcription

    async def aclose(self) -> None:
        """Cancel and wait for the task (at shutdown)."""
        self.cancel()
        with contextlib.suppress(BaseException):
            await self._task
