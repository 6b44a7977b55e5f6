"""A ready Speaker built from the settings: voice, rate, volume, speaker device, earcons."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from voiced.audio import devices
from voiced.audio.player import Player
from voiced.audio.stream import in_daemon_thread
from voiced.config import Settings
from voiced.errors import AudioDeviceError
from voiced.speak.speaker import Speaker
from voiced.speak.tts import EspeakTTS

OPEN_TIMEOUT = 10.0
"""Seconds the speaker may take to open before voiced gives up on it."""


def tts_from_settings(settings: Settings) -> EspeakTTS:
    """The text-to-speech engine with [speech] voice, rate and volume."""
    speech = settings.speech
    return EspeakTTS(speech.voice, speech.rate, speech.volume)


@asynccontextmanager
async def open_speaker(settings: Settings, tts: EspeakTTS | None = None) -> AsyncIterator[Speaker]:
    """Open the configured speaker and warm up speech; close the speaker on exit.

    Use it as ``async with open_speaker(settings) as speaker: await speaker.speak_stream(d)``.

    Args:
        settings: [speech] and [audio] output_device are used.
        tts: The engine to use instead of one built from [speech].

    Raises:
        AudioDeviceError: The speaker ([audio] output_device) is missing or fails to open.
        SpeechSynthesisError: espeak-ng is missing or [speech] voice does not exist.
    """
    tts = tts or tts_from_settings(settings)
    player = Player(settings.audio.output_device)
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
