"""The pipeline's ends: the microphone (or a file), the speaker, the voice, echo cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from voiced.audio.frames import FrameSource
from voiced.audio.soundserver import input_is_echo_cancelled, sound_server
from voiced.config import Settings
from voiced.errors import VoicedError
from voiced.pipeline.speech import CachingTTS
from voiced.pipeline.states import PipelineState
from voiced.protocol.reports import ErrorReport, LogRecord
from voiced.speak.fallback import FallbackNotice, FallbackTTS
from voiced.speak.speaker import AudioOutput
from voiced.speak.tts import EspeakTTS

if TYPE_CHECKING:
    from voiced.audio.capture import CaptureEvent
    from voiced.groq.client import GroqClient
    from voiced.pipeline.host import Host as Daemon
    from voiced.speak.factory import Voice

OPEN_S = 10.0
"""How long the speaker may take to open."""


def sources(
    settings: Settings,
    replay: Path | None,
    daemon: Daemon,
    hurry: Callable[[], bool] | None = None,
) -> Callable[[], FrameSource]:
    """What makes a new frame source: the replayed file (not waited for while ``hurry()``),
    or the configured microphone whose losses and recoveries are reported on the daemon's
    bus."""
    if replay is not None:
        from voiced.audio.filesource import FileSource

        return lambda: FileSource(replay, hurry=hurry)
    from voiced.audio.capture import CaptureOptions, MicrophoneCapture

    options = CaptureOptions.from_settings(settings.audio)
    return lambda: MicrophoneCapture(options, on_event=lambda e: _capture_event(daemon, e))


def _capture_event(daemon: Daemon, event: CaptureEvent) -> None:
    if event.kind == "lost":
        daemon.publish(ErrorReport(code="microphone", message=event.message))
        PipelineState(daemon).microphone_lost()
    else:
        level: Literal["info", "warning"] = "info" if event.kind == "opened" else "warning"
        daemon.publish(LogRecord(level=level, message=event.message))


def tts_for(settings: Settings, client: GroqClient, daemon: Daemon) -> Voice:
    """The voice from ``[speech]``; Groq's speaks through ``client``, and when espeak-ng takes
    over from it the TUI is told (an ``error`` event, code ``voice_fallback``)."""
    from voiced.speak.factory import tts_from_settings

    def told(notice: FallbackNotice) -> None:
        daemon.publish(ErrorReport(code="voice_fallback", message=notice.message, hint=notice.hint))

    return tts_from_settings(settings, client, told)


def espeak_of(cache: CachingTTS) -> EspeakTTS:
    """The espeak-ng engine behind the cache (Groq's voice falls back to it)."""
    inner = cache.inner
    if isinstance(inner, FallbackTTS):
        return inner.fallback
    if not isinstance(inner, EspeakTTS):
        raise TypeError("the pipeline speaks with espeak-ng")
    return inner


async def open_player(stack: AsyncExitStack, settings: Settings, daemon: Daemon) -> AudioOutput:
    """Open the speaker (closed with ``stack``); without one, replies are shown, not heard."""
    from voiced.audio.player import Player
    from voiced.audio.stream import in_daemon_thread
    from voiced.speak.fileout import WavFileOutput

    player = Player(settings.audio.output_device)
    try:
        await in_daemon_thread(player.open, OPEN_S, on_late=lambda _: player.close())
    except (VoicedError, TimeoutError) as exc:
        message = getattr(exc, "message", f"the speaker did not open within {OPEN_S:g} s")
        daemon.publish(ErrorReport(code="speaker", message=message, hint=getattr(exc, "hint", "")))
        return WavFileOutput()
    stack.push_async_callback(in_daemon_thread, player.close, OPEN_S)
    return player


async def echo_cancelled(settings: Settings, replay: bool) -> bool:
    """Whether the microphone cannot hear voiced: configured, a file, or asked of pactl."""
    if settings.daemon.echo_cancelled is not None:
        return settings.daemon.echo_cancelled
    if replay:
        return True
    with contextlib.suppress(Exception):
        server = await asyncio.to_thread(sound_server)
        return input_is_echo_cancelled(settings.audio.input_device, server)
    return False
