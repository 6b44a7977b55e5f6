"""Speech test helpers: a real TTS that keeps what it rendered and can hold renders back."""

from __future__ import annotations

import asyncio

from voiced.audio.playback import Clip
from voiced.speak.tts import EspeakTTS, TextToSpeech


class KeepingTTS:
    """A real engine (espeak-ng by default) that remembers every clip it rendered (the exact
    audio that was played).

    Args:
        tts: The real engine.
        hold_after: Renders after this many wait for ``release`` before returning (None: never).
    """

    def __init__(self, tts: TextToSpeech | None = None, hold_after: int | None = None) -> None:
        self.tts: TextToSpeech = tts or EspeakTTS()
        self.clips: list[Clip] = []
        self.texts: list[str] = []
        self.hold_after = hold_after
        self.release = asyncio.Event()
        self.holding = asyncio.Event()
        """Set when a render has finished and is waiting for ``release``."""

    async def render(self, text: str) -> Clip:
        clip = await self.tts.render(text)
        if self.hold_after is not None and len(self.clips) >= self.hold_after:
            self.holding.set()
            await self.release.wait()
        self.clips.append(clip)
        self.texts.append(text)
        return clip
