"""The Speaker: a streamed reply cleaned, cut into chunks, rendered and played as it arrives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from voiced.audio.playback import Clip, Playback
from voiced.speak.chunker import Chunker
from voiced.speak.cleaner import SpeechCleaner
from voiced.speak.earcons import EarconName, Earcons
from voiced.speak.tts import TextToSpeech, reply_voice

AUDIBLE = 200
"""int16 level above which a rendered sample counts as speech (for trailing-silence checks)."""


class AudioOutput(Protocol):
    """Where rendered speech goes: the speaker (Player) or a file."""

    def begin(self) -> Playback:
        """Start the playback of one reply."""
        ...

    def stop(self) -> None:
        """Silence at once and drop everything queued."""
        ...

    def hold(self) -> None:
        """Silence at once but keep what is queued (the cut word is said again on release)."""
        ...

    def release(self) -> None:
        """Play on after ``hold()``."""
        ...


@dataclass(frozen=True)
class SpokenChunk:
    """One chunk of a reply and how much of it was heard."""

    text: str
    samples: int
    """Length of its audio in samples (0 when it was never rendered)."""
    speech_end: int
    """Sample just after its last audible one (the rest is trailing silence)."""
    played: int
    """Samples of it that reached the speaker."""

    @property
    def status(self) -> Literal["played", "partial", "skipped"]:
        """Heard in full, cut off part way, or never heard."""
        if self.samples and self.played >= self.speech_end:
            return "played"
        return "partial" if self.played > 0 else "skipped"

    @property
    def spoken_text(self) -> str:
        """The words heard: all, none, or (when cut) the share of words the audio played."""
        if self.status != "partial":
            return self.text if self.status == "played" else ""
        share = int(len(self.text) * self.played / max(1, self.speech_end))
        head = self.text[:share]
        if not self.text[share : share + 1].isspace():  # the last word was cut off: drop it
            head = head[: head.rfind(" ") + 1]
        return head.strip()


@dataclass(frozen=True)
class SpokenResult:
    """What a reply was to say, and what of it was actually said."""

    chunks: tuple[SpokenChunk, ...]
    interrupted: bool
    """True when stop() cut the reply short."""

    @property
    def text(self) -> str:
        """Everything the reply was cut into (the cleaned text)."""
        return " ".join(chunk.text for chunk in self.chunks)

    @property
    def spoken_text(self) -> str:
        """The part that was heard, for the history (partial chunks cut at a word)."""
        return " ".join(t for chunk in self.chunks if (t := chunk.spoken_text))


class SpokenReply:
    """One reply being spoken: feed it deltas as they stream, then ``await finish()``.

    Chunks are rendered one after another while earlier ones play. Use ``Speaker.reply()``.
    """

    def __init__(self, tts: TextToSpeech, playback: Playback, cleaner: SpeechCleaner) -> None:
        self._tts = tts
        self._playback = playback
        self._cleaner = cleaner
        self._chunker = Chunker()
        self._texts: list[str] = []
        self._rendered: dict[int, tuple[int, int, int]] = {}  # chunk: playback index, len, end
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._ended = False
        self._pump = asyncio.create_task(self._render_all())
        self.first_chunk_queued: asyncio.Event = asyncio.Event()
        """Set when the first chunk's audio has been handed to the output."""
        self.before_first: Callable[[], Awaitable[None]] | None = None
        """Awaited, once the first chunk is rendered, before its audio goes to the output
        (the pipeline holds a reply to a question that sounds unfinished); None: at once."""

    @property
    def interrupted(self) -> bool:
        """True once stop() cut this reply short (further deltas are ignored)."""
        return self._playback.cancelled

    def feed(self, delta: str) -> None:
        """Add the next piece of the reply's text (returns at once)."""
        if self._ended or self.interrupted:
            return
        self._push(self._chunker.feed(self._cleaner.feed(delta)))

    async def finish(self) -> SpokenResult:
        """End the text; wait until it has been spoken (or stopped); report what was heard.

        Raises:
            SpeechSynthesisError: A chunk could not be rendered.
        """
        if not self._ended:
            self._ended = True
            if not self.interrupted:
                tail = self._cleaner.flush()
                self._push(self._chunker.feed(tail) + self._chunker.flush())
            self._queue.put_nowait(None)
        try:
            await self._pump
        finally:
            self._playback.close()
        await self._playback.finished()
        return self.result()

    def cancel(self) -> None:
        """Abandon the reply without waiting (its queued audio still plays unless stopped)."""
        self._ended = True
        self._pump.cancel()
        self._playback.close()

    def result(self) -> SpokenResult:
        """What has been said so far."""
        reports = self._playback.reports()
        chunks = []
        for number, text in enumerate(self._texts):
            index, length, end = self._rendered.get(number, (-1, 0, 0))
            played = reports[index].played if index >= 0 else 0
            chunks.append(SpokenChunk(text, length, end, played))
        return SpokenResult(tuple(chunks), self.interrupted)

    def _push(self, chunks: list[str]) -> None:
        for chunk in chunks:
            self._texts.append(chunk)
            self._queue.put_nowait(chunk)

    async def _render_all(self) -> None:
        number = -1
        while (text := await self._queue.get()) is not None:
            number += 1
            if self.interrupted:
                continue
            clip = await self._tts.render(text)
            if not self.first_chunk_queued.is_set() and self.before_first is not None:
                await self.before_first()  # rendered already: it plays the moment it may
                if self.interrupted:
                    continue
            index = self._playback.add(clip)
            self._rendered[number] = (index, clip.samples.size, _speech_end(clip))
            self.first_chunk_queued.set()


def _speech_end(clip: Clip) -> int:
    loud = np.flatnonzero(np.abs(clip.samples.astype(np.int32)) > AUDIBLE)
    return int(loud[-1]) + 1 if loud.size else clip.samples.size


class Speaker:
    """Speaks text and streamed replies; ``stop()`` silences it at once.

    Args:
        tts: Renders chunks to audio (EspeakTTS, or Groq's voice with espeak-ng behind it);
            an engine with ``for_reply()`` gets a fresh one for each reply.
        output: Plays the audio (Player) or stores it (WavFileOutput).
        cleaner: Builds the speech cleaner for each reply.
        earcons: Whether ``earcon()`` plays anything ([speech] earcons).
    """

    def __init__(
        self,
        tts: TextToSpeech,
        output: AudioOutput,
        cleaner: Callable[[], SpeechCleaner] = SpeechCleaner,
        earcons: bool = True,
    ) -> None:
        self.tts = tts
        self.output = output
        self._cleaner = cleaner
        self.earcons = Earcons(output, earcons)

    def earcon(self, name: EarconName) -> None:
        """Play an earcon (listening, stopped, error) unless earcons are switched off."""
        self.earcons.play(name)

    def reply(self) -> SpokenReply:
        """Start speaking a reply whose text will be fed piece by piece."""
        return SpokenReply(reply_voice(self.tts), self.output.begin(), self._cleaner())

    async def speak_stream(self, deltas: AsyncIterable[str]) -> SpokenResult:
        """Speak a reply as its text streams in; the first clause plays before the rest arrives.

        Stops reading ``deltas`` once ``stop()`` is called. If reading them fails or is
        cancelled, speech stops and the error propagates.

        Raises:
            SpeechSynthesisError: A chunk could not be rendered.
        """
        reply = self.reply()
        try:
            async for delta in deltas:
                reply.feed(delta)
                if reply.interrupted:
                    break
        except BaseException:
            self.stop()
            reply.cancel()
            raise
        return await reply.finish()

    async def say(self, text: str) -> SpokenResult:
        """Speak ``text`` and wait until it has been said (or stopped)."""
        reply = self.reply()
        reply.feed(text)
        return await reply.finish()

    def stop(self) -> None:
        """Silence now; every chunk still queued or rendering for any reply is dropped."""
        self.output.stop()

    def hold(self) -> None:
        """Pause what is being said (speech over it may be voiced's own echo)."""
        self.output.hold()

    def release(self) -> None:
        """Say on what ``hold()`` paused, from the start of the word it cut."""
        self.output.release()
