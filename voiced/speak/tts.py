"""Text to speech: the engine protocol, and espeak-ng (through pyttsx3) in the worker thread."""

from __future__ import annotations

import asyncio
from typing import Protocol, runtime_checkable

from voiced.audio.playback import Clip
from voiced.errors import SpeechSynthesisError
from voiced.speak.worker import Engine, SynthWorker, VoiceInfo, shared_worker

DEFAULT_RATE = 175
"""espeak-ng's own default speaking rate, in words per minute."""
RATE_RANGE = (80, 450)
"""Rates espeak-ng accepts, in words per minute."""


class TextToSpeech(Protocol):
    """Renders one chunk of text to audio."""

    async def render(self, text: str) -> Clip:
        """Return the audio for ``text``."""
        ...


@runtime_checkable
class VoicePerReply(Protocol):
    """An engine whose state lasts one reply (a voice that, once it failed, is replaced by
    another for the rest of the reply): each reply renders through its own ``for_reply()``."""

    def for_reply(self) -> TextToSpeech:
        """The engine for one reply's chunks."""
        ...


def reply_voice(tts: TextToSpeech) -> TextToSpeech:
    """What renders one reply's chunks: ``tts.for_reply()`` when it has one, else ``tts``."""
    return tts.for_reply() if isinstance(tts, VoicePerReply) else tts


class EspeakTTS:
    """pyttsx3 (espeak-ng) speech in the process's one synthesis thread.

    Args:
        voice: Voice id, name or language code (see ``voiced voices``); None for the default.
        rate: Words per minute.
        volume: 0.0 (silent) to 1.0 (full).
        worker: The synthesis thread; the process's shared one by default.
    """

    def __init__(
        self,
        voice: str | None = None,
        rate: int = DEFAULT_RATE,
        volume: float = 1.0,
        worker: SynthWorker | None = None,
    ) -> None:
        if not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
            raise SpeechSynthesisError(
                f"speaking rate {rate} is out of range",
                f"use {RATE_RANGE[0]}–{RATE_RANGE[1]} words per minute",
            )
        if not 0.0 <= volume <= 1.0:
            raise SpeechSynthesisError(f"volume {volume} is out of range", "use 0.0–1.0")
        self.voice = voice
        self.rate = rate
        self.volume = volume
        self._worker = worker or shared_worker()
        self._voice_id: str | None = None

    async def warm_up(self) -> None:
        """Wait until the engine has started and rendered once; check the voice exists.

        Raises:
            SpeechSynthesisError: espeak-ng is missing or the voice is unknown.
        """
        await asyncio.wrap_future(self._worker.ready)
        await asyncio.wrap_future(self._worker.submit(self._resolve))

    async def render(self, text: str) -> Clip:
        """Render ``text`` in the synthesis thread without blocking the event loop.

        Raises:
            SpeechSynthesisError: The engine failed or the voice is unknown.
        """
        return await asyncio.wrap_future(self._worker.submit(lambda e: self._render(e, text)))

    def render_blocking(self, text: str, timeout: float = 60.0) -> Clip:
        """Render ``text`` from a thread that is not running an event loop."""
        return self._worker.submit(lambda e: self._render(e, text)).result(timeout)

    def voices(self, timeout: float = 30.0) -> list[VoiceInfo]:
        """Every voice espeak-ng offers (blocking)."""
        return self._worker.ready.result(timeout).voices

    def _render(self, engine: Engine, text: str) -> Clip:
        return engine.render(text, self._resolve(engine), self.rate, self.volume)

    def _resolve(self, engine: Engine) -> str | None:
        if self.voice is None or self._voice_id is not None:
            return self._voice_id
        self._voice_id = find_voice(engine.voices, self.voice).id
        return self._voice_id


def find_voice(voices: list[VoiceInfo], wanted: str) -> VoiceInfo:
    """Pick a voice by id ("gmw/en-us"), name ("English (America)") or language ("en-us").

    Raises:
        SpeechSynthesisError: No voice matches.
    """
    key = wanted.strip().casefold()
    for matches in (
        lambda v: v.id.casefold() == key,
        lambda v: v.name.casefold() == key,
        lambda v: v.id.casefold().rsplit("/", 1)[-1] == key,
        lambda v: key in (lang.casefold() for lang in v.languages),
    ):
        for voice in voices:
            if matches(voice):
                return voice
    raise SpeechSynthesisError(
        f"there is no voice {wanted!r}",
        "run `voiced voices` to list them and set [speech] voice to an id such as gmw/en-us",
    )
