"""A ready Speaker built from the settings: engine, voice, rate, volume, speaker device, earcons."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from voiced.audio import devices
from voiced.audio.player import Player
from voiced.audio.stream import in_daemon_thread
from voiced.config import Settings
from voiced.errors import AudioDeviceError
from voiced.speak.fallback import FallbackNotice, FallbackTTS
from voiced.speak.speaker import Speaker
from voiced.speak.tts import EspeakTTS

if TYPE_CHECKING:
    from voiced.groq.client import GroqClient

OPEN_TIMEOUT = 10.0
"""Seconds the speaker may take to open before voiced gives up on it."""

Voice = EspeakTTS | FallbackTTS
"""What speaks: espeak-ng, or Groq's voice with espeak-ng behind it."""


def tts_from_settings(
    settings: Settings,
    client: GroqClient | None = None,
    on_fallback: Callable[[FallbackNotice], None] | None = None,
) -> Voice:
    """The text-to-speech engine [speech] describes.

    Args:
        settings: [speech] engine, voice, rate, volume and the groq_* settings.
        client: The client Groq's voice speaks through (engine = "groq"); it is not closed
            here. Without one, ``engine = "groq"`` is a ValueError.
        on_fallback: Told when espeak-ng takes over from Groq's voice (engine = "groq").
    """
    speech = settings.speech
    espeak = EspeakTTS(speech.voice, speech.rate, speech.volume)
    if speech.engine == "espeak":
        return espeak
    if client is None:
        raise ValueError("the groq engine needs a client")
    from voiced.speak.groqtts import GroqTTS

    groq = GroqTTS(
        client, speech.groq_model, speech.groq_voice, speech.groq_first_byte_s, speech.volume
    )
    return FallbackTTS(groq, espeak, speech.groq_model, speech.groq_first_byte_s, on_fallback)


def groq_client(settings: Settings) -> GroqClient:
    """A client for Groq's voice, built from the settings (close it when done)."""
    from voiced.groq.client import GroqClient, options_from_settings

    return GroqClient(options_from_settings(settings))


@asynccontextmanager
async def open_speaker(settings: Settings, tts: Voice | None = None) -> AsyncIterator[Speaker]:
    """Open the configured speaker and warm up speech; close the speaker on exit.

    Use it as ``async with open_speaker(settings) as speaker: await speaker.speak_stream(d)``.

    Args:
        settings: [speech] and [audio] output_device and output_latency_ms are used.
        tts: The engine to use instead of one built from [speech].

    Raises:
        AudioDeviceError: The speaker ([audio] output_device) is missing or fails to open.
        SpeechSynthesisError: espeak-ng is missing or [speech] voice does not exist.
    """
    async with AsyncExitStack() as stack:
        if tts is None:
            client = None
            if settings.speech.engine == "groq":
                client = await stack.enter_async_context(groq_client(settings))
            tts = tts_from_settings(settings, client)
        player = Player(settings.audio.output_device, settings.audio.output_latency_ms / 1000)
        await tts.warm_up()
        try:
            await in_daemon_thread(player.open, OPEN_TIMEOUT, on_late=lambda _: player.close())
        except TimeoutError:
            raise AudioDeviceError(
                f"the speaker did not open within {OPEN_TIMEOUT:.0f} s", devices.CHECK_DEVICES
            ) from None
        try:
            yield Speaker(tts, player, earcons=settings.speech.earcons)
        finally:
            await in_daemon_thread(player.close, OPEN_TIMEOUT)
