"""Is the microphone echo-cancelled? Asked of PulseAudio/PipeWire with ``pactl``."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

LOAD_COMMAND = (
    "pactl load-module module-echo-cancel aec_method=webrtc "
    "source_name=echocancel sink_name=echocancel_sink"
)
"""Loads WebRTC echo cancellation until the sound server restarts."""

PULSE_PERSIST = (
    "~/.config/pulse/default.pa:\n"
    "    .include /etc/pulse/default.pa\n"
    "    load-module module-echo-cancel aec_method=webrtc source_name=echocancel"
    " sink_name=echocancel_sink\n"
    "    set-default-source echocancel\n"
    "    set-default-sink echocancel_sink"
)

PIPEWIRE_PERSIST = """\
~/.config/pipewire/pipewire.conf.d/60-echo-cancel.conf:
    context.modules = [
      { name = libpipewire-module-echo-cancel
        args = { library.name = aec/libspa-aec-webrtc
                 source.props = { node.name = "echocancel" }
                 sink.props = { node.name = "echocancel_sink" } } }
    ]
  then: systemctl --user restart pipewire pipewire-pulse"""


@dataclass(frozen=True)
class SoundServer:
    """What ``pactl`` says about the sound server."""

    name: str
    """"PulseAudio", "PulseAudio (on PipeWire 1.0.5)", … or "" when pactl could not say."""
    default_source: str
    sources: tuple[str, ...]
    echo_modules: int
    """How many echo-cancel modules are loaded."""

    @property
    def pipewire(self) -> bool:
        """Whether the server is PipeWire's PulseAudio emulation."""
        return "PipeWire" in self.name

    @property
    def echo_sources(self) -> tuple[str, ...]:
        """Sources that look echo-cancelled (module-echo-cancel names them so)."""
        return tuple(s for s in self.sources if "echo" in s.casefold())

    def persist_hint(self) -> str:
        """How to load echo cancellation at every start, for this server."""
        return PIPEWIRE_PERSIST if self.pipewire else PULSE_PERSIST


def _pactl(*args: str) -> str | None:
    program = shutil.which("pactl")
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, *args], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def sound_server() -> SoundServer | None:
    """Ask ``pactl`` (blocking, at most a few seconds); None when there is no server to ask."""
    info = _pactl("info")
    if info is None:
        return None
    fields = dict(
        line.split(":", 1) for line in info.splitlines() if ":" in line and not line[0].isspace()
    )
    sources = _pactl("list", "short", "sources") or ""
    modules = _pactl("list", "short", "modules") or ""
    return SoundServer(
        name=fields.get("Server Name", "").strip(),
        default_source=fields.get("Default Source", "").strip(),
        sources=tuple(line.split("\t")[1] for line in sources.splitlines() if "\t" in line),
        echo_modules=sum("echo-cancel" in line for line in modules.splitlines()),
    )


def input_is_echo_cancelled(input_device: int | str | None, server: SoundServer | None) -> bool:
    """Guess whether the configured microphone hears through echo cancellation.

    Args:
        input_device: ``[audio] input_device``.
        server: What :func:`sound_server` found, or None.
    """
    if isinstance(input_device, str) and "echo" in input_device.casefold():
        return True
    through_server = input_device is None or (
        isinstance(input_device, str) and input_device.casefold() in ("default", "pulse")
    )
    return bool(server and through_server and "echo" in server.default_source.casefold())
