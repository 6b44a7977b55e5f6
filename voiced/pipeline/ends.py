"""The pipeline's ends: the microphone (or a file), the speaker, the voice, echo cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from voiced.audio.echo import EchoCanceller
from voiced.audio.farend import FarEnd
from voiced.audio.frames import FrameSource
from voiced.audio.soundserver import (
    SoundServer,
    input_is_echo_cancelled,
    output_is_headset,
    sound_server,
)
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
    echo: EchoCanceller | None = None,
    wrap: Callable[[FrameSource], FrameSource] | None = None,
) -> Callable[[], FrameSource]:
    """What makes a new frame source: the replayed file (not waited for while ``hurry()``,
    passed through ``wrap``: replay mode's room and echo canceller), or the configured
    microphone (cleaned by ``echo``) whose losses and recoveries are reported on the daemon's
    bus."""
    if replay is not None:
        from voiced.audio.filesource import FileSource

        if wrap is not None:
            return lambda: wrap(FileSource(replay, hurry=hurry))
        return lambda: FileSource(replay, hurry=hurry)
    from voiced.audio.capture import CaptureOptions, MicrophoneCapture

    options = CaptureOptions.from_settings(settings.audio)
    return lambda: MicrophoneCapture(
        options, on_event=lambda e: _capture_event(daemon, e), echo=echo
    )


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


async def open_player(
    stack: AsyncExitStack, settings: Settings, daemon: Daemon, far_end: FarEnd | None = None
) -> AudioOutput:
    """Open the speaker (closed with ``stack``); without one, replies are shown, not heard.
    What it plays also goes to ``far_end``, the echo canceller's reference."""
    from voiced.audio.player import Player
    from voiced.audio.stream import in_daemon_thread
    from voiced.speak.fileout import WavFileOutput

    audio = settings.audio
    player = Player(audio.output_device, audio.output_latency_ms / 1000, far_end=far_end)
    try:
        await in_daemon_thread(player.open, OPEN_S, on_late=lambda _: player.close())
    except (VoicedError, TimeoutError) as exc:
        message = getattr(exc, "message", f"the speaker did not open within {OPEN_S:g} s")
        daemon.publish(ErrorReport(code="speaker", message=message, hint=getattr(exc, "hint", "")))
        return WavFileOutput()
    stack.push_async_callback(in_daemon_thread, player.close, OPEN_S)
    return player


@dataclass(frozen=True)
class EchoChoice:
    """How voiced keeps from hearing itself, decided once at the start."""

    aec: bool
    """The in-process echo canceller runs."""
    external: bool
    """The microphone cannot hear voiced anyway: an echo-cancelled source, or a replayed file
    with no simulated room."""
    why: str
    """Why, in a few words."""

    def describe(self) -> str:
        """One line for the log, the TUI and ``voiced doctor``."""
        if self.aec:
            return f"in-process echo cancellation (WebRTC AEC3): {self.why}"
        return f"in-process echo cancellation off: {self.why}"


def choose_echo(
    settings: Settings,
    server: SoundServer | None,
    speaker_name: str = "",
    replay: bool = False,
    room: bool = False,
) -> EchoChoice:
    """Decide from ``[audio] echo_cancel`` and what the sound server says.

    Args:
        settings: The settings.
        server: What pactl found (None: no sound server to ask).
        speaker_name: PortAudio's name of the output device ("" when unknown).
        replay: The microphone is a replayed file.
        room: Replay mode echoes voiced's output into it (``--echo-gain``).
    """
    configured, mode = settings.daemon.echo_cancelled, settings.audio.echo_cancel
    if replay:
        external = configured if configured is not None else not room
        source = "the replayed file hears voiced in its room" if room else "a replayed file"
    else:
        found = input_is_echo_cancelled(settings.audio.input_device, server)
        external = configured if configured is not None else found
        source = server.default_source if server and found else "the microphone"
    if mode != "auto":
        return EchoChoice(mode == "on", external, f"[audio] echo_cancel = {mode}")
    if replay and not room:
        return EchoChoice(False, external, "a replayed file hears no room (no --echo-gain)")
    if external:
        why = "[daemon] echo_cancelled = true" if configured else f"{source} is echo-cancelled"
        return EchoChoice(False, True, why + " already")
    if not replay:
        headset = output_is_headset(settings.audio.output_device, server, speaker_name)
        if headset is not None:
            return EchoChoice(False, False, headset + ": it cannot echo")
    why = "the speaker can reach the microphone" if not replay else source
    return EchoChoice(True, False, why)


async def echo_choice(settings: Settings, replay: bool, room: bool) -> EchoChoice:
    """``choose_echo`` with the sound server and the speaker's name asked for (in threads)."""
    server: SoundServer | None = None
    speaker = ""
    if not replay:
        from voiced.audio import devices

        with contextlib.suppress(Exception):
            server = await asyncio.to_thread(sound_server)
        with contextlib.suppress(Exception):
            device = settings.audio.output_device
            speaker = (await asyncio.to_thread(devices.find_device, device, "output")).name
    return choose_echo(settings, server, speaker, replay, room)
