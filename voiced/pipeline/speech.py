"""The reply on its way out: deltas to clients and speaker, the first clause rendered early."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from voiced.audio.playback import Clip
from voiced.groq.models import ChatDelta
from voiced.pipeline.timeline import TurnTimeline
from voiced.protocol.events import AssistantDelta, Event, Reasoning
from voiced.speak.chunker import Chunker
from voiced.speak.cleaner import SpeechCleaner
from voiced.speak.speaker import SpokenReply
from voiced.speak.tts import TextToSpeech, reply_voice

FORESIGHT_CHUNKS = 2
"""Chunks of a speculative reply rendered before the turn is confirmed."""


class CachingTTS:
    """Text to speech that can render a chunk ahead of time and hand it over when asked.

    Args:
        inner: The real engine.
        on_render: Called (with the text) each time a chunk is asked for, for the timeline.
    """

    def __init__(self, inner: TextToSpeech) -> None:
        self.inner = inner
        self.on_render: Callable[[str], None] | None = None
        self.unsay: Callable[[str], str] = lambda text: text
        """Rewrites a chunk before it is rendered (so voiced never says its wake word)."""
        self._ahead: dict[str, asyncio.Task[Clip]] = {}
        self._voice: TextToSpeech | None = None  # the next reply's voice, once used ahead

    def prerender(self, text: str) -> None:
        """Start rendering ``text`` now; a later :meth:`render` of it takes the result.

        The renders ahead use the voice the next :meth:`for_reply` hands out, so a reply
        whose first chunk fell back to espeak-ng goes on with it.
        """
        if self._voice is None:
            self._voice = reply_voice(self.inner)
        if text not in self._ahead:
            self._ahead[text] = asyncio.create_task(self._voice.render(self.unsay(text)))

    def forget(self) -> None:
        """Drop whatever was rendered ahead (the speculation was wrong)."""
        for task in self._ahead.values():
            task.cancel()
        self._ahead.clear()
        self._voice = None

    def for_reply(self) -> TextToSpeech:
        """What renders one reply's chunks: the renders ahead, then that reply's voice."""
        voice, self._voice = self._voice or reply_voice(self.inner), None
        return _CachedReply(self, voice)

    async def render(self, text: str) -> Clip:
        """Return the audio for ``text``, from the renders made ahead when there is one."""
        return await self.render_with(self.inner, text)

    async def render_with(self, voice: TextToSpeech, text: str) -> Clip:
        """:meth:`render`, with ``voice`` rendering what was not rendered ahead."""
        if self.on_render is not None:
            self.on_render(text)
        ahead = self._ahead.pop(text, None)
        if ahead is not None:
            with contextlib.suppress(asyncio.CancelledError):
                return await ahead
        return await voice.render(self.unsay(text))


class _CachedReply:
    """One reply's chunks through the cache, with the reply's own voice."""

    def __init__(self, cache: CachingTTS, voice: TextToSpeech) -> None:
        self.cache, self.voice = cache, voice

    async def render(self, text: str) -> Clip:
        return await self.cache.render_with(self.voice, text)


async def foresee(deltas: AsyncIterator[ChatDelta], tts: CachingTTS) -> None:
    """Cut a speculative reply into chunks exactly as the speaker will, and render the first.

    Args:
        deltas: The prefetched reply.
        tts: Where the first :data:`FORESIGHT_CHUNKS` chunks are rendered ahead.
    """
    cleaner, chunker, started = SpeechCleaner(), Chunker(), 0
    try:
        async for delta in deltas:
            if delta.content:
                for chunk in chunker.feed(cleaner.feed(delta.content)):
                    tts.prerender(chunk)
                    started += 1
                    if started >= FORESIGHT_CHUNKS:
                        return
    except Exception:  # the request failed: the turn will meet (and report) the failure
        return
    for chunk in chunker.feed(cleaner.flush()) + chunker.flush():
        if started < FORESIGHT_CHUNKS:
            tts.prerender(chunk)
            started += 1


class TurnSink:
    """The conversation's ReplySink for one turn: clients see it, the speaker says it.

    Args:
        turn: The turn's number.
        publish: Where the events go (the bus).
        reply: The spoken reply the content is fed to; None answers in text only.
        timeline: Marks the first token.
    """

    def __init__(
        self,
        turn: int,
        publish: Callable[[Event], None],
        reply: SpokenReply | None,
        timeline: TurnTimeline,
    ) -> None:
        self.turn, self.publish, self.reply, self.timeline = turn, publish, reply, timeline
        self.text: list[str] = []

    async def content(self, text: str) -> None:
        """Words of the answer: shown and spoken."""
        self.timeline.mark("first_token")
        self.text.append(text)
        self.publish(AssistantDelta(turn=self.turn, text=text))
        if self.reply is not None:
            self.reply.feed(text)

    async def reasoning(self, text: str) -> None:
        """The model's reasoning: shown, never spoken."""
        self.timeline.mark("first_token")
        self.publish(Reasoning(turn=self.turn, text=text))
